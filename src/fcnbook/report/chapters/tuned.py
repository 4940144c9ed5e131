"""Section 07: the tuned network's accuracy against the report's two figures, its classes and its over-fitting gap."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fcnbook.report import experiments, paper, text
from fcnbook.report.chapters import evidence
from fcnbook.report.settings import Settings
from fcnbook.stats.confusion import confusion_matrix, most_confused, per_class_accuracy
from fcnbook.store.frames import Results

NAME = "tuned 700-200-50"
FAMILY = "the report's two figures of this network"


@dataclass(frozen=True)
class Tuned:
    """What section 07 shows: see :func:`study`. ``predictions``: (seeds, test images); ``cm``: the confusion
    matrix pooled over seeds, normalised per true class; ``pairs``: its most frequent confusions."""

    S: Settings
    variants: dict
    res: Results
    summary: pd.Series
    images: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    predictions: np.ndarray
    cm: np.ndarray
    per_class: pd.DataFrame
    pairs: pd.DataFrame
    fit: pd.DataFrame
    report: pd.DataFrame
    outliers: pd.DataFrame


def study(S: Settings, dataset: str = "fashion", top: int = 4) -> Tuned:
    """The report's tuned configuration on ``dataset`` with ``S``'s long epoch count and seeds, from ``S``'s lab."""
    config = experiments.tuned(S, dataset)
    variants = {NAME: config}
    res = S.results(variants.values())
    images, y, classes = evidence.load_test_set(dataset)
    predictions = res.predictions(config)
    cm = confusion_matrix(y, predictions, len(classes))
    acc = evidence.by_seed(res.runs, config)
    figures = {f"row {r.number}, the PDF": (acc, r.accuracy) for r in evidence.paper_rows(config)}
    if figures and dataset == "fashion":
        figures["the report's notebook output"] = (acc, paper.TUNED_NOTEBOOK_ACCURACY)
    return Tuned(S, variants, res, res.summary().loc[config.key()], images, y, classes, predictions, cm,
                 per_class_accuracy(y, predictions, classes), most_confused(cm, classes, top),
                 evidence.fits(res.runs, {config.key(): NAME}), evidence.single_runs(figures),
                 evidence.outliers(res.runs, variants))


def sentences(t: Tuned) -> dict[str, str]:
    """``accuracy``, ``report``, ``classes``, ``fit`` and ``seeds``."""
    config, acc, top = t.variants[NAME], t.per_class["accuracy (mean)"], t.pairs.iloc[0]
    report = ("The seed report printed " + text.and_(f"{y:.4f}" for y in t.report["y"]) + " for this configuration: "
              + text.single_runs(t.report, FAMILY) if len(t.report) else "")
    return {"accuracy": f"The tuned configuration reaches a mean test accuracy of {text.accuracy(t.summary, True)} "
                        f"after {config.epochs} epochs.",
            "report": report,
            "classes": f"Its hardest class is *{acc.idxmin()}* ({acc.min():.4f}), its easiest *{acc.idxmax()}* "
                       f"({acc.max():.4f}); the most frequent confusion is *{top['true']}* taken for "
                       f"*{top['predicted']}* ({top['rate']:.1%} of that class).",
            "fit": text.fit(t.fit.iloc[0]), "seeds": text.outliers(t.outliers, len(t.S.seeds))}
