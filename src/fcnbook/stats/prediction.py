"""The book's one yardstick for a single run: the prediction interval of one more run of our configuration.

Every statement that sets one run (a figure of the seed report, or one run of ours) against our ``n`` seeds uses
:func:`prediction_interval` and :func:`single_run`, nothing else. The construction, for test accuracies ``x_1 ..
x_n`` of our seeds with mean ``m`` and SD ``s`` (``ddof=1``):

- If the single run ``y`` were one more run of our configuration, ``(y - m) / (s sqrt(1 + 1/n))`` would follow
  Student's t with ``n - 1`` degrees of freedom: the plain t prediction interval ``m ± t(n-1) s sqrt(1 + 1/n)``.
- To that variance we add ``m (1 - m) / N``, the binomial sampling error of one accuracy measured on the ``N =
  10 000`` test images. Our seeds are scored on the same images, so the part of the test-set noise they share is
  missing from ``s``; a run scored under a protocol that differs in details need not share it.
- The degrees of freedom stay ``n - 1``. A larger variance with the same degrees of freedom gives a wider
  interval, so the added term can only widen the plain t interval: the test is conservative with respect to it.

``z = (m - y) / se`` with ``se = sqrt(s^2 (1 + 1/n) + m (1 - m) / N)``; ``p`` is its two-sided t probability with
``n - 1`` degrees of freedom; ``y`` lies inside the ``level`` interval exactly when ``p >= 1 - level``. With fewer
than two runs there is no spread, and every number is NaN.

Imports neither torch nor anything of fcnbook.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

LEVEL = 0.95
#: Images of the Fashion-MNIST (and MNIST) test set: the sampling error of one accuracy is ``sqrt(p(1-p)/N_TEST)``.
N_TEST = 10_000

NAN = float("nan")


@dataclass(frozen=True)
class PredictionInterval:
    """Where one more run of a configuration would land, from ``n`` runs of it (see the module docstring).

    ``low`` and ``high`` are clipped to [0, 1], where accuracies live; ``se`` is the standard error of one more
    run's difference from the mean; ``df = n - 1``.
    """

    mean: float
    sd: float
    n: int
    se: float
    df: float
    low: float
    high: float
    level: float = LEVEL

    @property
    def defined(self) -> bool:
        """False with fewer than two runs (or no variance at all): no interval, no test."""
        return math.isfinite(self.se) and self.se > 0


@dataclass(frozen=True)
class SingleRun:
    """A single run ``y`` against a :class:`PredictionInterval`: ``z`` (ours minus ``y``, in units of ``se``),
    ``p`` (two-sided), ``inside`` (``p >= 1 - level``; ``None`` when undefined)."""

    y: float
    interval: PredictionInterval
    z: float
    p: float

    @property
    def inside(self) -> bool | None:
        return None if not math.isfinite(self.p) else self.p >= 1 - self.interval.level


def prediction_interval(values: Iterable[float], level: float = LEVEL, n_test: int = N_TEST,
                        test_noise: bool = True) -> PredictionInterval:
    """The ``level`` prediction interval of one more run, from the runs ``values`` (test accuracies).

    ``test_noise=False`` leaves out ``m (1 - m) / n_test``: the plain t prediction interval.
    """
    x = np.asarray(list(values), dtype=float)
    n = len(x)
    mean = float(x.mean()) if n else NAN
    if n < 2:
        return PredictionInterval(mean, NAN, n, NAN, NAN, NAN, NAN, level)
    sd = float(x.std(ddof=1))
    var = sd * sd * (1 + 1 / n) + (mean * (1 - mean) / n_test if test_noise else 0.0)
    if not var > 0:
        return PredictionInterval(mean, sd, n, NAN, n - 1, NAN, NAN, level)
    from scipy import stats

    se = math.sqrt(var)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * se
    return PredictionInterval(mean, sd, n, se, n - 1, max(0.0, mean - half), min(1.0, mean + half), level)


def single_run(values: Iterable[float], y: float, level: float = LEVEL, n_test: int = N_TEST,
               test_noise: bool = True) -> SingleRun:
    """The single run ``y`` against :func:`prediction_interval` of ``values``."""
    pi = prediction_interval(values, level, n_test, test_noise)
    if not pi.defined:
        return SingleRun(float(y), pi, NAN, NAN)
    from scipy import stats

    z = (pi.mean - y) / pi.se
    return SingleRun(float(y), pi, z, float(2 * stats.t.sf(abs(z), pi.df)))
