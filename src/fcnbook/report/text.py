"""How numbers and verdicts are written in the book's sentences (one place, so that every chapter writes them alike).

Chapters compute (:mod:`fcnbook.report.chapters`), the rules decide (:mod:`fcnbook.stats.verdicts`), and the
functions here only write: an accuracy with its spread, an interval, a p-value that never rounds across the 0.05
line, a paired comparison with its family, a single run against the prediction interval, the seeds that stand apart.
"""

from __future__ import annotations

import math

import pandas as pd

from fcnbook.stats import verdicts as v
from fcnbook.stats.prediction import LEVEL, N_TEST


def p_value(p: float, relation: bool = False) -> str:
    """``0.032``, ``< 0.0001`` (never a bare 0 from underflow) or ``n/a``; with ``relation``, ``= 0.032``.

    Two significant digits, more where two would round across :data:`fcnbook.stats.verdicts.ALPHA` (0.0496 is
    ``0.0496``, not ``0.05``), so the figure never contradicts the verdict beside it.

    >>> p_value(0.0321), p_value(3e-7), p_value(float("nan")), p_value(0.0496)
    ('0.032', '< 0.0001', 'n/a', '0.0496')
    >>> f"McNemar's test: p {p_value(0.0321, relation=True)}, p {p_value(3e-7, relation=True)}"
    "McNemar's test: p = 0.032, p < 0.0001"
    """
    if p is None or not math.isfinite(p):
        return "n/a"
    if p < 1e-4:
        return "< 0.0001"
    for digits in (2, 3, 4):
        s = f"{p:.{digits}g}"
        if (float(s) < v.ALPHA) == (p < v.ALPHA):
            break
    return f"= {s}" if relation else s


def pct(level: float) -> str:
    """``95 %``."""
    return f"{level * 100:g} %"


def ci(lo: float, hi: float, signed: bool = False, level: float = LEVEL) -> str:
    """``95 % CI [0.8535, 0.8725]`` or ``no interval with one seed``."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "no interval with one seed"
    f = "+.4f" if signed else ".4f"
    return f"{pct(level)} CI [{lo:{f}}, {hi:{f}}]"


def interval(lo: float, hi: float, signed: bool = False) -> str:
    """``[0.8535, 0.8725]`` for a table cell, ``n/a`` when undefined."""
    f = "+.4f" if signed else ".4f"
    return f"[{lo:{f}}, {hi:{f}}]" if math.isfinite(lo) and math.isfinite(hi) else "n/a"


def difference(d) -> str:
    """A paired difference with its interval and p (``d``: mean, ci_low, ci_high, p):
    ``+0.0042 (95 % CI [+0.0010, +0.0074], p 0.012)``."""
    return f"{d['mean']:+.4f} ({ci(d['ci_low'], d['ci_high'], signed=True)}, p {p_value(d['p'])})"


def share_closed(share: float) -> str:
    """The share of a gap closed: ``"37%"``, ``"none (-16%)"`` when it is not positive, ``"n/a"`` when undefined."""
    return "n/a" if not math.isfinite(share) else f"{share:.0%}" if share > 0 else f"none ({share:.0%})"


def accuracy(s: pd.Series, bold: bool = False) -> str:
    """``0.8630 (SD 0.0077, 95 % CI [0.8535, 0.8725], n = 5)`` of a row of
    :func:`fcnbook.store.frames.summarize` (``mean``, ``sd``, ``n``, ``ci_low``, ``ci_high``)."""
    sd = f"SD {s['sd']:.4f}, " if math.isfinite(s["sd"]) else ""
    mean = f"**{s['mean']:.4f}**" if bold else f"{s['mean']:.4f}"
    return f"{mean} ({sd}{ci(s['ci_low'], s['ci_high'])}, n = {int(s['n'])})"


def and_(items) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = list(items)
    if not items:
        return ""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def number(n: int) -> str:
    """``one`` ... ``ten``, digits above."""
    words = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
    return words[n] if 0 <= n < len(words) else str(n)


def family_note(name: str, size: int) -> str:
    """``Holm-adjusted over the family of the four dropout rates against no dropout`` (one test: no adjustment)."""
    if size <= 1:
        return f"one comparison ({name}), so no adjustment"
    return f"Holm-adjusted over {number(size)} comparisons, {name}"


def seed_pairs(e: pd.Series, this: str, other: str) -> str:
    """``McNemar seed by seed: 3 of 5 pairs differ at the 0.05 level, 3 in favour of X`` from a row of
    :func:`fcnbook.report.chapters.evidence.family`."""
    up, down, n = int(e["favour_config"]), int(e["favour_baseline"]), int(e["pairs"])
    head = f"McNemar seed by seed: {up + down} of {n} pairs differ at the {v.ALPHA:g} level"
    if up + down == 0:
        return head
    parts = [f"{k} in favour of {who}" for k, who in ((up, this), (down, other)) if k]
    return head + ", " + " and ".join(parts)


def comparison(e: pd.Series, this: str, other: str, family: str | None = None, size: int = 1) -> str:
    """A paired comparison of test accuracy, its numbers and its category (:func:`fcnbook.stats.verdicts.effect`);
    the family is named here unless ``family`` is None (the sentence around it names it)."""
    words = {v.GAIN: "a detectable gain", v.LOSS: "a detectable loss",
             v.NONE: "not detectable at this number of seeds"}
    if family is not None and size <= 1:
        adjusted = family_note(family, size)
    else:
        head = "adjusted p " if family is None else f"{family_note(family, size)}: p "
        adjusted = head + p_value(e["p_holm"], True)
    return (f"{e['mean']:+.4f} ({ci(e['ci_low'], e['ci_high'], True)}, n = {int(e['n'])}; paired t p "
            f"{p_value(e['p'], True)}, {adjusted}; {seed_pairs(e, this, other)}): {words[e['effect']]}")


def member(e: pd.Series, this: str, other: str) -> str:
    """One member of a family in a list whose sentence names the family and whose table holds the intervals:
    ``-0.0068 (paired t p = 0.023, adjusted p = 0.11; McNemar seed by seed: ...)``."""
    return (f"{e['mean']:+.4f} (paired t p {p_value(e['p'], True)}, adjusted p {p_value(e['p_holm'], True)}; "
            f"{seed_pairs(e, this, other)})")


def single_run(r: pd.Series, what: str) -> str:
    """``0.8764 (the report's PDF) lies inside our 95 % prediction interval for one more run, [0.8377, 0.8883]
    (z = -1.47)`` from a row of :func:`fcnbook.report.chapters.evidence.single_runs`."""
    if r["verdict"] == v.NA:
        return f"{r['y']:.4f} ({what}) cannot be set against one seed"
    where = "inside" if r["verdict"] == v.CONSISTENT else "outside"
    text = (f"{r['y']:.4f} ({what}) lies {where} our {pct(LEVEL)} prediction interval for one more run, "
            f"{interval(r['low'], r['high'])} (z = {r['z']:+.2f})")
    if r["verdict"] == v.DIFFERS:
        text += f", and differs after Holm's adjustment (p {p_value(r['p_holm'], True)})"
    elif r["verdict"] == v.OUTSIDE:
        text += f", but not after Holm's adjustment (p {p_value(r['p_holm'], True)})"
    return text


def single_runs(table: pd.DataFrame, family: str) -> str:
    """Every row of :func:`fcnbook.report.chapters.evidence.single_runs` in one sentence, with the family."""
    items = [single_run(r, str(name)) for name, r in table.iterrows()]
    tested = len(table) > 1 and table["verdict"].isin([v.OUTSIDE, v.DIFFERS]).any()
    note = f" (Holm's adjustment over {number(len(table))} figures, {family})" if tested else ""
    return f"{and_(items)}{note}."


def outliers(table: pd.DataFrame, seeds: int) -> str:
    """The seeds that stand apart (:func:`fcnbook.stats.verdicts.outlying_seeds`), or that none does; with fewer
    than four ``seeds`` there is no spread of the others to measure against."""
    rule = (f"more than {v.OUTLIER_SD:g} SDs of the other seeds and more than {v.OUTLIER_FLOOR:g} from their mean")
    if seeds < 4:
        plural = "s" if seeds != 1 else ""
        return (f"With {number(seeds)} seed{plural}, no seed can be tested for standing apart ({rule}; at least "
                "four seeds are needed).")
    if table.empty:
        return f"No seed stands apart from the others in test accuracy ({rule})."
    items = [f"seed {int(r['seed'])} of *{r['configuration']}* ends at {r['value']:.4f} against "
             f"{r['low']:.4f}-{r['high']:.4f} for the other seeds, {abs(r['z']):.1f} of their SDs "
             f"{'below' if r['z'] < 0 else 'above'} their mean {r['mean']:.4f}" for _, r in table.iterrows()]
    head = "One seed stands apart" if len(items) == 1 else f"{number(len(items)).capitalize()} seeds stand apart"
    return (f"{head} ({rule}): {and_(items)}. The mean and SD above include "
            f"{'it' if len(items) == 1 else 'them'}; the per-seed figure shows every run.")


def fit(r: pd.Series) -> str:
    """The over-/under-fitting sentence of one configuration from a row of
    :func:`fcnbook.report.chapters.evidence.fits` (its ``category`` from :func:`fcnbook.stats.verdicts.fit`)."""
    spread = f" (SD {r['gap_sd']:.4f} over seeds)" if math.isfinite(r["gap_sd"]) else ""
    head = (f"At the last epoch, training accuracy measured in evaluation mode on a fixed sample of training images "
            f"is {r['train']:.4f} against {r['val']:.4f} on the validation split, a gap of {r['gap']:+.4f}{spread}: ")
    return head + {
        v.OVER: f"above the over-fitting threshold of {v.OVERFIT_GAP:g}, so the network fits its training images "
                "better than unseen ones, a sign of over-fitting.",
        v.UNDER: f"within {v.OVERFIT_GAP:g}, but training accuracy is at least {v.UNDERFIT:g} below the best of the "
                 f"configurations compared ({r['best_train']:.4f}): under-fitting.",
        v.NEITHER: f"within the over-fitting threshold of {v.OVERFIT_GAP:g}, so the network is not over-fitting at "
                   "this budget.",
        v.AT_CHANCE: f"training accuracy is below {v.CHANCE:g}, at chance: the network learned nothing.",
        v.NA: "no finished run to measure.",
    }[r["category"]]


def settings_note(S, shortened: bool, tuned: bool = True) -> str:
    """What a chapter's results were computed with (``tuned``: it trains the tuned network too), and a warning for
    shortened runs."""
    images = "all training images" if S.subset is None else f"a stratified subset of {S.subset} images"
    long = f" ({S.long_epochs} for the tuned network)" if tuned else ""
    return (f"Results below: profile **{S.profile}**: {S.epochs} epochs{long}, seeds "
            f"{', '.join(map(str, S.seeds))}, {images}."
            + (" This is a shortened run, so its numbers show that the chapter works, not what the methods can do; "
               "build the book with the full profile for the real comparison." if shortened else ""))


def prediction_interval_method(level: float = LEVEL, n: int = 5) -> str:
    """The construction of the prediction interval (:mod:`fcnbook.stats.prediction`) as one Markdown paragraph,
    with the numbers for ``n`` seeds: for the summary chapter and the methods page."""
    from scipy import stats

    t = float(stats.t.ppf(0.5 + level / 2, n - 1))
    plain = 2 * float(stats.t.cdf(2 / math.sqrt(1 + 1 / n), n - 1)) - 1
    math_n, text_n = f"{N_TEST:,}".replace(",", "\\,"), f"{N_TEST:,}".replace(",", " ")
    return (
        f"A single run, whether one of the seed report's figures or one of ours, is set against the spread of single "
        f"runs of our configuration, not against the much narrower interval of our mean. If it were one more run, "
        f"$(y - \\bar x)/(s\\sqrt{{1 + 1/n}})$ would follow Student's $t$ with $n - 1$ degrees of freedom, so the "
        f"{pct(level)} prediction interval is $\\bar x \\pm t_{{{0.5 + level / 2:g},\\,n-1}}\\, s\\sqrt{{1 + 1/n}}$, "
        f"which is $\\pm {t * math.sqrt(1 + 1 / n):.2f}\\,s$ for $n = {n}$ (the familiar $\\pm 2\\,s$ would hold only "
        f"about {plain * 100:.0f} % of new runs there). To the variance $s^2(1 + 1/n)$ we add "
        f"$\\bar x(1-\\bar x)/{math_n}$, the binomial sampling error of one accuracy on the {text_n} test images: "
        f"our seeds are all scored on the same images, so their SD leaves that part of the noise out, and a run "
        f"under a protocol that differs in details need not share it. The "
        f"degrees of freedom stay $n - 1$, so the added term can only widen the interval: it is conservative "
        f"against the plain $t$ interval. $z = (\\bar x - y)/\\mathrm{{se}}$ is the standardised difference and $p$ "
        f"its two-sided $t$ probability; $y$ lies inside the interval exactly when $p \\ge {1 - level:.2f}$. When a "
        f"chapter sets several single runs against ours, Holm's adjustment over those figures decides whether "
        f"one differs."
    )
