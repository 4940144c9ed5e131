"""The 95 % t interval of a mean: the summary of a configuration's seeds (numpy and scipy, no frames).

The interval covers seed-to-seed variation only, not the test set's own sampling error (see the methods page).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["t_interval"]


def t_interval(x) -> dict:
    """Mean, SD (ddof=1), ``n`` and the 95 % t interval ``mean +/- t(0.975, n-1) SD / sqrt(n)`` of the mean of ``x``.

    Parameters
    ----------
    x : array-like of float, shape (n,)
        One value per seed.

    Returns
    -------
    dict
        ``mean``, ``sd``, ``n``, ``ci_low``, ``ci_high``. With one value the SD and the interval are NaN (there is
        no spread to measure); with none, the mean is NaN too.
    """
    from scipy import stats

    x = np.asarray(x, dtype=float)
    n = len(x)
    mean = float(x.mean()) if n else float("nan")
    sd = float(x.std(ddof=1)) if n > 1 else float("nan")
    half = float(stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)) if n > 1 else float("nan")
    return {"mean": mean, "sd": sd, "n": n, "ci_low": mean - half, "ci_high": mean + half}
