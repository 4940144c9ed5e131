"""Section 06: batch norm against the baseline: test accuracy (paired by seed), the over-fitting gap, how steady
the validation curve is, and the seeds that stand apart."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from fcnbook.data import indices
from fcnbook.report import experiments, text
from fcnbook.report.chapters import evidence
from fcnbook.report.settings import Settings
from fcnbook.stats import verdicts as v
from fcnbook.store.frames import Results, display_names, paired_differences

FAMILY = "batch norm against the baseline"


@dataclass(frozen=True)
class BatchNorm:
    """What section 06 shows: see :func:`study`. ``gap``: paired differences (batch norm - baseline) of the
    train-validation gap; ``steadiness``: :func:`steadiness` per name."""

    S: Settings
    variants: dict
    res: Results
    family: pd.DataFrame
    summary: pd.DataFrame
    fits: pd.DataFrame
    gap: pd.Series
    steadiness: pd.Series
    report: pd.DataFrame
    outliers: pd.DataFrame


def steadiness(history: pd.DataFrame, key: str) -> float:
    """Mean absolute epoch-to-epoch change of validation accuracy over the second half of training, averaged over
    seeds (NaN with fewer than two epochs in that half)."""
    h = history[(history["key"] == key) & (history["metric"] == "val_accuracy")]
    h = h[h["epoch"] > h["epoch"].max() // 2]
    changes = h.sort_values("epoch").groupby("seed")["value"].apply(lambda x: x.diff().abs().mean())
    return float(changes.mean()) if changes.notna().any() else float("nan")


def study(S: Settings) -> BatchNorm:
    """:func:`fcnbook.report.experiments.batch_norm` on ``S``'s seeds, from ``S``'s lab."""
    variants = experiments.batch_norm(S)
    res = S.results(variants.values())
    (base_name, base), (bn_name, bn) = list(variants.items())[:2]
    family = evidence.family(res, base, variants, indices.labels(base.dataset, train=False))
    gap = paired_differences(evidence.with_gap(res.runs), base, [bn], value="gap").iloc[0]
    names = display_names(variants)
    report = evidence.single_runs({f"{names[c.key()]}, row {r.number}": (evidence.by_seed(res.runs, c), r.accuracy)
                                   for c in (bn, base) for r in evidence.paper_rows(c)[:1]})
    return BatchNorm(S, variants, res, family, res.summary(), evidence.fits(res.runs, names), gap,
                     pd.Series({n: steadiness(res.history, c.key()) for n, c in variants.items()}), report,
                     evidence.outliers(res.runs, variants))


def sentences(b: BatchNorm) -> dict[str, str]:
    """``effect``, ``report``, ``gap``, ``steadiness`` and ``seeds``."""
    (base_name, base), (bn_name, bn) = list(b.variants.items())[:2]
    e = text.comparison(b.family.loc[bn_name], bn_name, base_name, FAMILY, 1)
    effect = (f"Batch norm changes the test accuracy by {e}"
              f" (mean {text.accuracy(b.summary.loc[bn.key()])} against {text.accuracy(b.summary.loc[base.key()])}).")
    gap = (f"The final train-validation gap (training in evaluation mode) is {b.fits.loc[bn_name, 'gap']:+.4f} with "
           f"batch norm and {b.fits.loc[base_name, 'gap']:+.4f} without; paired by seed the difference is "
           f"{b.gap['mean']:+.4f} ({text.ci(b.gap['ci_low'], b.gap['ci_high'], True)}).")
    w = b.steadiness
    steady = ""
    if all(math.isfinite(x) for x in w):
        word = {v.MORE: "more jumpy", v.LESS: "less jumpy",
                v.EQUAL: "equally jumpy"}[v.compare(w[bn_name], w[base_name])]
        steady = (f"Over the second half of training validation accuracy moves by {w[bn_name]:.4f} per epoch on "
                  f"average with batch norm against {w[base_name]:.4f} without: the curve is {word}.")
    report = ("The seed report's single runs: " + text.single_runs(b.report, "the report's runs in this chapter")
              if len(b.report) else "")
    return {"effect": effect, "report": report, "gap": gap, "steadiness": steady,
            "seeds": text.outliers(b.outliers, len(b.S.seeds))}
