"""Predicting with a fitted estimator on both cores, and scoring an ``SVC`` on the images it was fitted on.

Every model of the SVD chapter predicts each image on its own, so :func:`predict` splits the images into
:data:`PREDICT_WORKERS` contiguous blocks and predicts them in as many threads (libsvm releases the GIL), each
still with single-threaded BLAS (:data:`fcnbook.svd.cache.THREADS`). The predictions are those of one
``est.predict`` call, element for element (tested); the wall-clock time of predicting with ``SVC`` halves on
two cores (7.9 s -> 4.1 s for 4000 images, measured). :func:`resubstitution_accuracy` classifies only the
training images that can be wrong.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["PREDICT_MIN_BLOCK", "PREDICT_WORKERS", "RESUBSTITUTION_CHECK", "predict", "resubstitution_accuracy"]

#: Threads that share one prediction (:func:`predict`): the CPUs this process may use.
PREDICT_WORKERS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
#: Training images that are no support vector, classified anyway as a check (:func:`resubstitution_accuracy`).
RESUBSTITUTION_CHECK = 1_000
#: Fewer images than this are predicted in one call: a thread pool would cost more than it saves.
PREDICT_MIN_BLOCK = 500


def predict(est, x: np.ndarray, workers: int | None = None) -> np.ndarray:
    """``est.predict(x)``, computed as contiguous blocks of rows in ``workers`` threads (default
    :data:`PREDICT_WORKERS`) and concatenated in order. Valid for estimators that predict each row on its own,
    as every model of this module does."""
    workers = PREDICT_WORKERS if workers is None else int(workers)
    blocks = min(workers, len(x) // PREDICT_MIN_BLOCK)
    if blocks <= 1:
        return est.predict(x)
    with ThreadPoolExecutor(blocks) as pool:
        return np.concatenate(list(pool.map(est.predict, np.array_split(x, blocks))))


def resubstitution_accuracy(est, x: np.ndarray, y: np.ndarray, check: int = RESUBSTITUTION_CHECK,
                            seed: int = 0) -> tuple[float, int]:
    """Accuracy of a fitted ``SVC`` on the images it was fitted on, classifying only those that can be wrong.

    libsvm trains one binary SVM per pair of classes. A training image that is a support vector of none of
    them has a zero coefficient in each of the k - 1 problems of its class, so (the optimality conditions libsvm
    stops on, to its tolerance of 1e-3) its label times the decision value is at least about 1 in each: its class
    wins all k - 1 of its votes, which no other class can match, and it is classified correctly. So only the
    support vectors (``est.support_``) need classifying. ``check`` images drawn from the others (with ``seed``)
    are classified as well, and if any of them comes out wrong (a fit stopped early, another estimator) every
    image is classified instead.

    Returns
    -------
    (accuracy, images classified)
        The accuracy equals ``mean(predict(est, x) == y)``; the count says how many images it took.
    """
    sv = np.asarray(est.support_)
    others = np.setdiff1d(np.arange(len(y)), sv)
    sample = np.random.default_rng(seed).choice(others, min(check, len(others)), replace=False)
    picked = np.concatenate([sv, sample])
    right = predict(est, x[picked]) == y[picked]
    if not right[len(sv):].all():  # the argument does not hold for this fit: classify everything
        return float(np.mean(predict(est, x) == y)), len(y)
    return float((int(right[:len(sv)].sum()) + len(others)) / len(y)), len(picked)
