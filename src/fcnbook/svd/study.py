"""The SVD-classifier section's computations, each cached on disk so that rebuilding the book never refits.

Three studies back ``notebooks/09_svd_classifier.py``:

- :func:`choose_rank` picks the rank of :class:`fcnbook.svd.classifier.SVDClassifier` from validation accuracy
  (training and validation splits only; the test split is never read).
- :func:`evaluate_models` fits the SVD classifier and the PCA pipelines on the training split and scores
  them on the test set, with fit and predict times.
- :func:`forensic_svc` refits the seed report's "SVD classifier", scikit-learn's default ``SVC()`` on raw
  pixels, and scores it both on the images it was fitted on (resubstitution, what the seed's notebook printed)
  and on the test set.

The chapter's figures, tables, extrapolation and sentences are in :mod:`fcnbook.report.chapters.svd`.

Pixels are used as they are, scaled to [0, 1] (``fcnbook.data.splits.load(..., normalization="none")``). The
subspace classifier's class subspaces pass through the origin, so a black background should stay at zero; the
RBF ``SVC`` with ``gamma="scale"`` and k-nearest neighbours give the same predictions under any scaling of all
pixels by one constant, and PCA centres the data anyway.

Each result is cached on disk (:mod:`fcnbook.svd.cache`, single-threaded BLAS); predictions use both cores
(:mod:`fcnbook.svd.predictions`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from fcnbook import machine
from fcnbook.data.indices import pixels
from fcnbook.svd.cache import cached, describe_estimator
from fcnbook.svd.classifier import SVDClassifier, rank_curve
from fcnbook.svd.pipelines import original_svc, projection_pipelines
from fcnbook.svd.predictions import predict, resubstitution_accuracy

__all__ = ["DEFAULT_RANKS", "PIXELS", "RAW_SVC_LABEL", "SVD_LABEL", "choose_rank", "evaluate_models", "forensic_svc"]

#: ``normalization`` passed to :func:`fcnbook.data.splits.load`: pixels in [0, 1].
PIXELS = "none"
#: Ranks tried by :func:`choose_rank` unless told otherwise.
DEFAULT_RANKS: tuple[int, ...] = (1, 2, 3, 5, 8, 10, 15, 20, 25, 30, 40, 50, 60, 80, 100, 150)
SVD_LABEL = "SVD subspaces (rank {rank})"
RAW_SVC_LABEL = "SVC() on raw pixels"


# ----------------------------------------------------------------------------------------------- helpers


def _numpy(t) -> np.ndarray:
    """A CPU numpy view of a torch tensor (or any array-like)."""
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def _timed(f):
    """``f()``, its wall-clock seconds and the CPU seconds of this process."""
    w, c = time.perf_counter(), time.process_time()
    out = f()
    return out, time.perf_counter() - w, time.process_time() - c


def _load(dataset: str, subset: int | None, split_seed: int, val_fraction: float):
    return pixels(dataset, subset=subset, split_seed=split_seed, val_fraction=val_fraction)


# ----------------------------------------------------------------------------------------------- studies


def choose_rank(splits, ranks: Sequence[int] | None = None, *, root: Path | None = None) -> dict:
    """Validation accuracy of :class:`SVDClassifier` for each rank, and the rank that maximises it.

    Only ``splits.x_train``, ``y_train``, ``x_val``, ``y_val``, ``dataset`` and ``checksum`` are read; the
    test split is never touched. Pixels should be as :data:`PIXELS` says (``load(..., normalization="none")``);
    the checksum records which scaling was used.

    Parameters
    ----------
    splits : fcnbook.data.splits.Splits
    ranks : sequence of int, optional
        Ranks to try; default :data:`DEFAULT_RANKS`.
    root : Path, optional
        Results root of the cache.

    Returns
    -------
    dict
        ``ranks``, ``val_accuracy`` (one per rank), ``best_rank`` (the highest validation accuracy; ties go
        to the smaller rank), ``best_val_accuracy``, ``n_train``, ``n_val``, ``seconds`` (wall, for the
        whole curve), ``dataset``, ``cached``.
    """
    ranks = [int(r) for r in (DEFAULT_RANKS if ranks is None else ranks)]
    key = {"dataset": splits.dataset, "checksum": splits.checksum, "ranks": ranks}

    def compute():
        x_tr, y_tr = _numpy(splits.x_train), _numpy(splits.y_train)
        x_va, y_va = _numpy(splits.x_val), _numpy(splits.y_val)
        acc, wall, _ = _timed(lambda: rank_curve(x_tr, y_tr, x_va, y_va, ranks))
        best = min(range(len(ranks)), key=lambda i: (-acc[i], ranks[i]))  # ties: the smaller rank
        return {"dataset": splits.dataset, "ranks": ranks, "val_accuracy": acc, "best_rank": ranks[best],
                "best_val_accuracy": acc[best], "n_train": len(y_tr), "n_val": len(y_va), "seconds": wall}

    return cached("rank", key, compute, root=root)


def _fit_and_score(est, x_tr, y_tr, x_te, y_te) -> dict:
    _, fit_s, fit_cpu = _timed(lambda: est.fit(x_tr, y_tr))
    pred, pred_s, pred_cpu = _timed(lambda: predict(est, x_te))
    out = {"n_train": len(y_tr), "n_test": len(y_te), "test_accuracy": float(np.mean(pred == y_te)),
           "fit_seconds": fit_s, "predict_seconds": pred_s, "fit_cpu_seconds": fit_cpu,
           "predict_cpu_seconds": pred_cpu}
    if hasattr(est, "named_steps") and "pca" in est.named_steps:
        out["pca_components"] = int(est.named_steps["pca"].n_components_)
    if hasattr(est, "n_components_") and isinstance(est, SVDClassifier):
        out["ranks"] = [int(r) for r in est.n_components_]
    head = est[-1] if hasattr(est, "steps") else est
    if hasattr(head, "n_support_"):
        out["n_support"] = int(np.sum(head.n_support_))
    return out


def _model_result(name, est, splits, *, root) -> dict:
    key = {"dataset": splits.dataset, "checksum": splits.checksum, "model": name,
           "estimator": describe_estimator(est), "n_train": len(splits.y_train)}

    def compute():
        res = _fit_and_score(est, _numpy(splits.x_train), _numpy(splits.y_train), _numpy(splits.x_test),
                             _numpy(splits.y_test))
        return {"model": name, **res}

    return cached("model", key, compute, root=root)


def evaluate_models(dataset: str, rank: int, subset: int | None = None, *, svc_subset: int | None = None,
                    energy: float = 0.85, split_seed: int = 0, val_fraction: float = 0.1,
                    root: Path | None = None) -> pd.DataFrame:
    """Test accuracy and cost of the SVD classifier and of each PCA pipeline.

    Every model is fitted on the training split (pixels in [0, 1]) and scored once on the whole test set.

    Parameters
    ----------
    dataset : {"fashion", "mnist"}
    rank : int
        Rank of :class:`SVDClassifier` (choose it with :func:`choose_rank`).
    subset : int, optional
        Stratified subset of the training split for every model; ``None`` = all of it.
    svc_subset : int, optional
        Smaller stratified subset for the pipelines whose head is an RBF SVC (its cost grows faster than
        linearly with the training set); ``None`` = the same as ``subset``.
    energy : float
        Fraction of variance PCA keeps in the pipelines (:func:`fcnbook.svd.pipelines.projection_pipelines`).
    split_seed, val_fraction
        As in :func:`fcnbook.data.splits.load`.
    root : Path, optional
        Results root of the cache.

    Returns
    -------
    DataFrame
        One row per model, indexed by ``model``: ``n_train``, ``n_test``, ``test_accuracy``, ``fit_seconds``,
        ``predict_seconds`` (wall clock, the whole test set), their CPU-time counterparts, ``pca_components``,
        ``n_support``, ``cached``.
    """
    splits = _load(dataset, subset, split_seed, val_fraction)
    if svc_subset is not None and svc_subset < len(splits.y_train):
        svc_splits = _load(dataset, svc_subset, split_seed, val_fraction)
    else:
        svc_splits = splits
    models = [(SVD_LABEL.format(rank=rank), SVDClassifier(n_components=rank), splits)]
    for name, pipe in projection_pipelines(energy).items():
        models.append((name, pipe, svc_splits if name.endswith("+SVC") else splits))
    rows = [_model_result(name, est, s, root=root) for name, est, s in models]
    return pd.DataFrame(rows).set_index("model")


def forensic_svc(dataset: str, n_train: int | None, *, resubstitution: bool = True, split_seed: int = 0,
                 val_fraction: float = 0.1, root: Path | None = None) -> dict:
    """The seed report's "SVD classifier" refitted: default ``SVC()`` on raw pixels scaled to [0, 1].

    It is fitted on a stratified subset of ``n_train`` images of the training split (``None``: all of it)
    and scored on the test set and, with ``resubstitution``, on exactly the images it was fitted on (what the
    seed's notebook printed). Scoring the training images needs only the support vectors classified (and a
    check sample of the rest, :func:`resubstitution_accuracy`); it can be left out where only the test accuracy
    is wanted.

    Returns
    -------
    dict
        ``dataset``, ``n_train``, ``n_test``, ``train_accuracy`` (resubstitution; ``None`` without it),
        ``test_accuracy``, ``fit_seconds``, ``predict_train_seconds`` (``None`` without it),
        ``predict_test_seconds`` (wall clock), ``train_images_classified`` (how many training images scoring
        them took; absent from entries made before, which classified all of them), ``n_support``, ``cached``.
    """
    splits = _load(dataset, n_train, split_seed, val_fraction)
    est = original_svc()
    key = {"dataset": dataset, "checksum": splits.checksum, "estimator": describe_estimator(est),
           "n_train": len(splits.y_train), "resubstitution": bool(resubstitution)}

    def compute():
        x_tr, y_tr = _numpy(splits.x_train), _numpy(splits.y_train)
        x_te, y_te = _numpy(splits.x_test), _numpy(splits.y_test)
        _, fit_s, _ = _timed(lambda: est.fit(x_tr, y_tr))
        p_te, te_s, _ = _timed(lambda: predict(est, x_te))
        train_acc = tr_s = classified = None
        if resubstitution:
            (train_acc, classified), tr_s, _ = _timed(lambda: resubstitution_accuracy(est, x_tr, y_tr))
        return {"dataset": dataset, "n_train": len(y_tr), "n_test": len(y_te), "train_accuracy": train_acc,
                "test_accuracy": float(np.mean(p_te == y_te)), "fit_seconds": fit_s,
                "predict_train_seconds": tr_s, "predict_test_seconds": te_s,
                "train_images_classified": classified,
                "n_support": int(np.sum(est.n_support_)), "machine": machine.cpu()}

    return cached("forensic", key, compute, root=root)
