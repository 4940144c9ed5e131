"""Section 04: dropout. The gap without dropout, the report's rate against the baseline, every rate's effect on test
accuracy as one family, and the best rate by validation."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from fcnbook.data import indices
from fcnbook.report import experiments, text
from fcnbook.report.chapters import evidence
from fcnbook.report.settings import Settings
from fcnbook.stats import verdicts as v
from fcnbook.store.frames import Results, display_names, paired_differences

REPORT_RATE = 0.5


@dataclass(frozen=True)
class Regularization:
    """What section 04 shows: see :func:`study`. ``family``: :func:`fcnbook.report.chapters.evidence.family` of the
    rates against no dropout; ``at_rate``: paired differences (rate - none) of the ``gap`` and of the eval-mode
    training accuracy ``train`` at :attr:`rate`, with the gap's category (one comparison)."""

    S: Settings
    grid: dict
    res: Results
    rate: float
    fits: pd.DataFrame
    family: pd.DataFrame
    family_name: str
    at_rate: pd.DataFrame
    best: str | None
    val: pd.Series
    summary: pd.DataFrame
    report: pd.DataFrame
    outliers: pd.DataFrame


def study(S: Settings, rates=experiments.DROPOUTS, report_rate: float = REPORT_RATE) -> Regularization:
    """Dropout at every rate of ``rates`` (0 added: the baseline) on ``S``'s seeds, from ``S``'s lab."""
    grid = experiments.dropout_grid(S, sorted({0.0, *map(float, rates)}))
    res = S.results(grid.values())
    names, base = display_names(grid), grid[0.0]
    rate = report_rate if report_rate in grid else max(grid)
    family = evidence.family(res, base, grid, indices.labels(base.dataset, train=False))
    others = len(grid) - 1
    runs = evidence.with_gap(res.runs)
    at_rate = pd.concat([paired_differences(runs, base, [grid[rate]], value=c).assign(value=c)
                         for c in ("gap", "final_train_accuracy")]).set_index("value")
    at_rate["category"] = [v.effect(m, p) for m, p in zip(at_rate["mean"], at_rate["p"], strict=True)]
    best, val = evidence.validation_choice(res.runs, names)
    figures = {f"{names[c.key()]}, row {r.number}": (evidence.by_seed(res.runs, c), r.accuracy)
               for c in (grid[rate], base) for r in evidence.paper_rows(c)[:1]} if rate > 0 else {}
    return Regularization(S, grid, res, rate, evidence.fits(res.runs, names), family,
                          f"the {text.number(others)} dropout rates against no dropout", at_rate,
                          names[best] if best else None, val.rename(index=names), res.summary(),
                          evidence.single_runs(figures), evidence.outliers(res.runs, grid))


def _at_rate(r: Regularization) -> str:
    if r.rate == 0:
        return ""
    name = display_names(r.grid)[r.grid[r.rate].key()]
    gap, train, e = r.at_rate.loc["gap"], r.at_rate.loc["final_train_accuracy"], r.family.loc[name]
    words = {v.GAIN: "widens the train-validation gap", v.LOSS: "narrows the train-validation gap, as a "
             "regulariser should", v.NONE: "changes the gap by no more than the seeds vary"}
    return (f"With $p = {r.rate:g}$ the gap is {r.fits.loc[name, 'gap']:+.4f}: paired by seed it changes by "
            f"{gap['mean']:+.4f} ({text.ci(gap['ci_low'], gap['ci_high'], True)}, paired t p "
            f"{text.p_value(gap['p'], True)}, one comparison), so dropout {words[gap['category']]}. Its eval-mode "
            f"training accuracy changes by {train['mean']:+.4f} ({text.ci(train['ci_low'], train['ci_high'], True)})"
            f" and its test accuracy by "
            + text.comparison(e, name, "no dropout", r.family_name, len(r.family)) + ".")


def _choice(r: Regularization) -> str:
    return evidence.choice_sentence(r.best, r.val[r.best] if r.best else float("nan"), r.grid, r.summary, "setting")

def sentences(r: Regularization) -> dict[str, str]:
    """``gap``, ``rate`` (the report's rate against none), ``others`` (the rest of the family), ``report``,
    ``choice`` and ``seeds``."""
    none = r.fits.iloc[0]
    rate_name = display_names(r.grid)[r.grid[r.rate].key()]
    rest = r.family.drop(index=rate_name, errors="ignore")
    found = [f"{n} ({e['mean']:+.4f}, adjusted p {text.p_value(e['p_holm'], True)})" for n, e in rest.iterrows()
             if e["effect"] != v.NONE]
    found = ("the effect on test accuracy is detectable for " + text.and_(found) if found
             else "none changes test accuracy detectably")
    others = (f"Of the other rates, {found} (paired t, {text.family_note(r.family_name, len(r.family))}; the "
              "table lists every rate)." if len(rest) else "")
    report = ("The seed report's single runs: " + text.single_runs(r.report, "the report's runs in this chapter")
              if len(r.report) else "")
    return {"gap": f"Without dropout, training accuracy (evaluation mode, fixed training sample) exceeds validation "
                   f"accuracy by {none['gap']:+.4f} at the last epoch.",
            "rate": _at_rate(r), "others": others, "report": report, "choice": _choice(r),
            "seeds": text.outliers(r.outliers, len(r.S.seeds))}
