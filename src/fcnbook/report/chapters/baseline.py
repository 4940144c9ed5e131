"""Section 02: the baseline's test accuracy over seeds, the report's two runs of it, and its over-fitting gap."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from fcnbook.report import experiments, text
from fcnbook.report.chapters import evidence
from fcnbook.report.settings import Settings
from fcnbook.store.frames import Results

FAMILY = "the report's runs of this configuration"


@dataclass(frozen=True)
class Baseline:
    """What section 02 shows: see :func:`study`."""

    S: Settings
    variants: dict
    res: Results
    summary: pd.Series
    fit: pd.DataFrame
    report: pd.DataFrame
    outliers: pd.DataFrame


def study(S: Settings, hidden=(500, 50), lr: float = 0.1) -> Baseline:
    """The baseline (``hidden``, SGD at ``lr``) on ``S``'s seeds, from ``S``'s lab."""
    config = experiments.baseline(S, hidden=tuple(hidden), lr=lr)
    variants = {"baseline": config}
    res = S.results(variants.values())
    acc = evidence.by_seed(res.runs, config)
    report = evidence.single_runs({f"row {r.number}": (acc, r.accuracy) for r in evidence.paper_rows(config)})
    return Baseline(S, variants, res, res.summary().loc[config.key()],
                    evidence.fits(res.runs, {config.key(): "baseline"}), report,
                    evidence.outliers(res.runs, variants))


def sentences(b: Baseline) -> dict[str, str]:
    """``accuracy``, ``report`` (empty when the report ran another configuration), ``fit`` and ``seeds``."""
    config = b.variants["baseline"]
    report = ""
    if len(b.report):
        runs = "its run" if len(b.report) == 1 else f"{text.number(len(b.report))} runs"
        report = (f"The seed report printed {text.and_(f'{y:.4f}' for y in b.report['y'])} for {runs} of this "
                  f"configuration ({text.and_(list(b.report.index))} of its Table 1): "
                  + text.single_runs(b.report, FAMILY))
    return {"accuracy": f"The baseline reaches a mean test accuracy of {text.accuracy(b.summary, True)} after "
                        f"{config.epochs} epochs.",
            "report": report, "fit": text.fit(b.fit.iloc[0]), "seeds": text.outliers(b.outliers, len(b.S.seeds))}
