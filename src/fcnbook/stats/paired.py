"""Paired comparisons of two classifiers: per-seed differences (paired t) and per-image agreement (McNemar).

Runs of the same seed share their mini-batch order and dropout masks, and their initial weights too when the
architecture and initialiser match, so two configurations are compared seed by seed (:func:`paired_t`) and, on
the same test images, prediction by prediction (:func:`mcnemar`). Numpy and scipy only; matching runs by seed is
:func:`fcnbook.store.frames.paired_differences`'s job.
"""

from __future__ import annotations

import math

import numpy as np

from fcnbook.stats.intervals import t_interval

__all__ = ["mcnemar", "paired_t"]


def paired_t(d) -> dict:
    """The differences ``d_i`` of paired values summarised: :func:`t_interval` and the paired t-test's p-value.

    Parameters
    ----------
    d : array-like of float, shape (n,)
        One difference per seed present in both configurations.

    Returns
    -------
    dict
        ``mean``, ``sd``, ``n``, ``ci_low``, ``ci_high`` (:func:`~fcnbook.stats.intervals.t_interval`) and ``p``,
        the two-sided p-value of ``mean = 0`` (the same numbers as :func:`scipy.stats.ttest_rel`); NaN where
        undefined (one seed, or differences without spread).
    """
    from scipy import stats

    out = t_interval(d)
    mean, sd, n = out["mean"], out["sd"], out["n"]
    p = float(2 * stats.t.sf(abs(mean) / (sd / math.sqrt(n)), n - 1)) if n > 1 and sd > 0 else float("nan")
    return {**out, "p": p}


def mcnemar(pred_a, pred_b, y) -> dict:
    """Exact McNemar test of two classifiers on the same test images, pooled over seeds.

    Parameters
    ----------
    pred_a, pred_b : array-like, shape (N,) or (seeds, N)
        Predicted classes; row ``i`` of ``pred_a`` is paired with row ``i`` of ``pred_b`` (the same seed).
    y : array-like, shape (N,)
        True classes.

    Returns
    -------
    dict
        ``only_a`` (a right, b wrong) and ``only_b`` (b right, a wrong), summed over seeds; ``n`` (pairs of
        predictions, seeds x N); ``p``: exact two-sided binomial test of ``only_a`` out of ``only_a + only_b``
        discordant pairs at 1/2 (:func:`scipy.stats.binomtest`; 1.0 without discordant pairs); ``p_per_seed``:
        the same test on each seed's own pair of networks.

    The pooled test treats every (seed, image) pair as independent. Each image recurs in every seed, so when two
    configurations disagree on the same images seed after seed the pooled ``p`` overstates the evidence; the
    per-seed p-values, each a textbook McNemar test, are returned beside it.
    """
    from scipy.stats import binomtest

    a, b = np.atleast_2d(np.asarray(pred_a)), np.atleast_2d(np.asarray(pred_b))
    y = np.asarray(y)
    if a.shape != b.shape or a.shape[1] != len(y):
        raise ValueError(f"predictions of shapes {a.shape} and {b.shape} do not pair up with {len(y)} labels")
    ra, rb = a == y, b == y
    only_a, only_b = (ra & ~rb).sum(axis=1), (rb & ~ra).sum(axis=1)

    def p(k, m):
        return float(binomtest(int(k), int(k + m), 0.5).pvalue) if k + m else 1.0

    return {"only_a": int(only_a.sum()), "only_b": int(only_b.sum()), "n": int(a.size),
            "p": p(only_a.sum(), only_b.sum()), "p_per_seed": [p(k, m) for k, m in zip(only_a, only_b, strict=True)]}
