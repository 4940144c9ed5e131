"""Paired comparisons of two classifiers: per-seed differences (paired t) and per-image agreement (McNemar).

Runs of the same seed share their mini-batch order and dropout masks, and their initial weights too when the
architecture and initialiser match, so two configurations are compared seed by seed (:func:`paired_t`) and, on
the same test images, prediction by prediction (:func:`mcnemar`). Numpy and scipy only; matching runs by seed is
:func:`fcnbook.store.frames.paired_differences`'s job.
"""

from __future__ import annotations

import math

from fcnbook.stats.intervals import t_interval

__all__ = ["paired_t"]


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
