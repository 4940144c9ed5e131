"""Every categorical word of the book's sentences, each from one rule with its threshold.

A chapter never decides "over-fitting", "detectable", "consistent" or "stands apart" by itself: it asks a function
here, which returns one of a few mutually exclusive categories, and the sentence says the threshold. Accuracies,
gaps and spreads are compared after rounding to :data:`DIGITS` decimals, the precision the tables show, so a
verdict can never contradict the number printed beside it (a gap shown as +0.0200 is not above 0.02). p-values
are compared as computed; :func:`fcnbook.report.text.p_value` never rounds one across :data:`ALPHA`.

The rules:

- :func:`effect`: a paired comparison is *detectable* when its Holm-adjusted p-value (within the chapter's named
  family) is below :data:`ALPHA`; then it is a gain or a loss by the sign of the mean difference.
- :func:`fit`: *at chance* when eval-mode training accuracy is below :data:`CHANCE`; else *over-fitting* when
  training minus validation accuracy exceeds :data:`OVERFIT_GAP`; else *under-fitting* when training accuracy is
  at least :data:`UNDERFIT` below the best of the configurations compared; else *neither*. The order makes the
  four exclusive.
- :func:`single_run`: a single run is *consistent* with ours when it lies inside our prediction interval
  (:mod:`fcnbook.stats.prediction`, ``p >= ALPHA``); *outside* when ``p < ALPHA`` but the Holm-adjusted p is not;
  it *differs* when the Holm-adjusted p is below :data:`ALPHA` too.
- :func:`table1`: the summary's column: *both at chance*, *n/a* with one seed, else *yes* (consistent) or *no*.
- :func:`outlying_seeds`: a seed *stands apart* when it lies more than :data:`OUTLIER_SD` SDs of the other seeds
  (at the one decimal the sentence shows) and more than :data:`OUTLIER_FLOOR` from their mean (at least three
  other seeds needed).
- :func:`pairing`: pairing by seed *removes part* of the spread when the paired differences' SD is below
  :data:`PAIRING_HELPS` times that of two unrelated runs, *little* below 1 times, *none* at or above it.
- :func:`shift`: a systematic shift is *negligible* when it stays below :data:`NEGLIGIBLE` of one run's SD.
- :func:`run_gap`: two runs' gap is *beyond* run-to-run variation when even the upper confidence limit of the SD
  gives ``p < ALPHA``, *unusual* when only the SD's estimate does, else *within*.
- :func:`cell`: an optimizer cell is *near chance* below :data:`CHANCE` on validation, *behind* when it is more
  than :data:`BEHIND` below the chosen cell, else *close*.
- :func:`loss_rose`: the validation loss *rose* when it ended more than :data:`LOSS_RISE` above its minimum.
- :func:`compare`: *more*, *less* or *equal*, of two rounded numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

#: Level of every test, and the family-wise level after Holm's adjustment.
ALPHA = 0.05
#: Decimals of the accuracies, gaps and SDs the tables show; every threshold is applied at this precision.
DIGITS = 4
#: Ten classes: guessing gives 0.1; below this a network (or its training fit) is at chance.
CHANCE = 0.2
#: Training (eval mode) minus validation accuracy above this is over-fitting: about three binomial standard errors
#: of the difference of two accuracies near 0.9, each measured on 6 000 images.
OVERFIT_GAP = 0.02
#: Training accuracy at least this far below the best of the configurations compared is under-fitting.
UNDERFIT = 0.05
#: A cell further than this below the chosen one on validation is behind it.
BEHIND = 0.05
#: A seed further than this many SDs of the other seeds from their mean, and further than :data:`OUTLIER_FLOOR`,
#: stands apart (with four other seeds their SD is itself uncertain, hence the floor in accuracy).
OUTLIER_SD = 3.0
OUTLIER_FLOOR = 0.02
#: Paired SD below this fraction of the unpaired one: pairing removes part of the spread.
PAIRING_HELPS = 0.7
#: A shift below this fraction of one run's SD is negligible.
NEGLIGIBLE = 0.25
#: A validation loss ending more than this above its minimum (at three decimals) rose: later epochs made it worse.
LOSS_RISE = 0.02

GAIN, LOSS, NONE = "gain", "loss", "no detectable change"
AT_CHANCE, OVER, UNDER, NEITHER, NA = "at chance", "over-fitting", "under-fitting", "neither", "n/a"
CONSISTENT, OUTSIDE, DIFFERS = "consistent", "outside", "differs"
YES, NO, BOTH_CHANCE, ONE_SEED = "yes", "no", "both at chance", "n/a (one seed)"
REMOVES_PART, REMOVES_LITTLE, REMOVES_NONE = "removes part", "removes little", "removes none"
NEGLIGIBLE_SHIFT, NOT_NEGLIGIBLE_SHIFT = "negligible", "not negligible"
BEYOND, UNUSUAL, WITHIN = "beyond", "unusual", "within"
NEAR_CHANCE, BEHIND_CELL, CLOSE = "near chance", "behind", "close"
MORE, LESS, EQUAL = "more", "less", "equal"


def _r(x: float) -> float:
    return round(float(x), DIGITS)


def _finite(*xs) -> bool:
    return all(x is not None and math.isfinite(float(x)) for x in xs)


def detectable(p_adjusted: float) -> bool:
    """True when the (Holm-adjusted) p-value is below :data:`ALPHA`; NaN is never detectable."""
    return _finite(p_adjusted) and p_adjusted < ALPHA


def effect(mean: float, p_adjusted: float) -> str:
    """:data:`GAIN` or :data:`LOSS` when :func:`detectable`, by the sign of ``mean``; else :data:`NONE`."""
    if not detectable(p_adjusted) or not _finite(mean) or mean == 0:
        return NONE
    return GAIN if mean > 0 else LOSS


def fit(train: float, val: float, best_train: float) -> str:
    """:data:`AT_CHANCE`, :data:`OVER`, :data:`UNDER` or :data:`NEITHER` (module docstring); :data:`NA` when
    training accuracy is unknown."""
    if not _finite(train, val):
        return NA
    train, gap = _r(train), _r(_r(train) - _r(val))
    if train < CHANCE:
        return AT_CHANCE
    if gap > OVERFIT_GAP:
        return OVER
    if _finite(best_train) and _r(_r(best_train) - train) >= UNDERFIT:
        return UNDER
    return NEITHER


def single_run(p: float, p_adjusted: float) -> str:
    """:data:`CONSISTENT` (``p >= ALPHA``), :data:`OUTSIDE` (``p < ALPHA``, adjusted not), :data:`DIFFERS`
    (adjusted ``p < ALPHA``); :data:`NA` when ``p`` is undefined (one seed)."""
    if not _finite(p):
        return NA
    if p >= ALPHA:
        return CONSISTENT
    return DIFFERS if detectable(p_adjusted) else OUTSIDE


def table1(ours_max: float, y: float, n: int, p: float) -> str:
    """The summary's verdict: :data:`BOTH_CHANCE` when every run of ours and the report's figure lie below
    :data:`CHANCE`; :data:`ONE_SEED` with fewer than two runs; else :data:`YES` (inside the prediction interval,
    ``p >= ALPHA``) or :data:`NO`."""
    if _r(ours_max) < CHANCE and _r(y) < CHANCE:
        return BOTH_CHANCE
    if n < 2 or not _finite(p):
        return ONE_SEED
    return YES if p >= ALPHA else NO


def outlying_seeds(values: Mapping[int, float]) -> list[dict]:
    """The seeds that stand apart: ``seed``, ``value``, the other seeds' ``mean``, ``low``, ``high`` and ``sd``, and
    ``z`` (the distance in those SDs, signed). Needs at least three other seeds; two seeds that both stand apart
    hide each other (each is in the other's rest)."""
    out = []
    seeds = [s for s, v in values.items() if _finite(v)]
    if len(seeds) < 4:
        return out
    for s in seeds:
        rest = np.array([values[o] for o in seeds if o != s], dtype=float)
        mean, sd = float(rest.mean()), float(rest.std(ddof=1))
        d = float(values[s]) - mean
        z = d / sd if sd > 0 else math.copysign(math.inf, d) if d else 0.0
        if abs(_r(d)) > OUTLIER_FLOOR and round(abs(z), 1) > OUTLIER_SD:
            out.append({"seed": s, "value": float(values[s]), "mean": mean, "low": float(rest.min()),
                        "high": float(rest.max()), "sd": sd, "z": z})
    return out


def pairing(paired_sd: float, unpaired_sd: float) -> str:
    """:data:`REMOVES_PART`, :data:`REMOVES_LITTLE` or :data:`REMOVES_NONE` of the spread (module docstring);
    :data:`NA` when either SD is undefined."""
    if not _finite(paired_sd, unpaired_sd) or _r(unpaired_sd) == 0:
        return NA
    ratio = _r(paired_sd) / _r(unpaired_sd)
    return REMOVES_PART if ratio < PAIRING_HELPS else REMOVES_LITTLE if ratio < 1 else REMOVES_NONE


def shift(largest: float, sd: float) -> str:
    """:data:`NEGLIGIBLE_SHIFT` when ``|largest| < NEGLIGIBLE * sd`` (rounded), else :data:`NOT_NEGLIGIBLE_SHIFT`."""
    return NEGLIGIBLE_SHIFT if abs(_r(largest)) < NEGLIGIBLE * _r(sd) else NOT_NEGLIGIBLE_SHIFT


def run_gap(p: float, p_high: float) -> str:
    """:data:`BEYOND` (``p_high < ALPHA``), :data:`UNUSUAL` (``p < ALPHA <= p_high``) or :data:`WITHIN`."""
    if p_high < ALPHA:
        return BEYOND
    return UNUSUAL if p < ALPHA else WITHIN


def cell(val: float, best_val: float) -> str:
    """An optimizer cell's validation accuracy against the chosen cell's: :data:`NEAR_CHANCE`, :data:`BEHIND_CELL`
    or :data:`CLOSE`; :data:`NA` when undefined."""
    if not _finite(val):
        return NA
    if _r(val) < CHANCE:
        return NEAR_CHANCE
    if _finite(best_val) and _r(_r(best_val) - _r(val)) > BEHIND:
        return BEHIND_CELL
    return CLOSE


def loss_rose(rise: float) -> bool:
    """True when the validation loss ended more than :data:`LOSS_RISE` above its minimum (the three decimals the
    sentence shows)."""
    return _finite(rise) and round(float(rise), 3) > LOSS_RISE


def compare(a: float, b: float) -> str:
    """:data:`MORE`, :data:`LESS` or :data:`EQUAL`: ``a`` against ``b`` at the tables' precision."""
    a, b = _r(a), _r(b)
    return MORE if a > b else LESS if a < b else EQUAL
