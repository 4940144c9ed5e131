"""Section 08: the tuned network against the baseline on MNIST (unpaired: the architectures differ), the report's
single run, and the digits still confused."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fcnbook.report import experiments, paper, text
from fcnbook.report.chapters import evidence
from fcnbook.report.settings import Settings
from fcnbook.stats import verdicts as v
from fcnbook.stats.confusion import confusion_matrix, most_confused
from fcnbook.store.frames import Results, welch_difference

TUNED, BASE = "tuned on MNIST", "baseline on MNIST"


@dataclass(frozen=True)
class Transfer:
    """What section 08 shows: see :func:`study`. ``difference``: Welch's tuned - baseline (``mean``,
    ``ci_low``, ``ci_high``, ``p``) and its ``effect`` (one comparison)."""

    S: Settings
    variants: dict
    res: Results
    summary: pd.DataFrame
    difference: dict
    images: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    predictions: np.ndarray
    cm: np.ndarray
    pairs: pd.DataFrame
    report: pd.DataFrame
    outliers: pd.DataFrame


def study(S: Settings, top: int = 4) -> Transfer:
    """:func:`fcnbook.report.experiments.mnist_transfer` on ``S``'s seeds, from ``S``'s lab."""
    variants = experiments.mnist_transfer(S)
    res = S.results(variants.values())
    base, tuned = variants[BASE], variants[TUNED]
    d = welch_difference(evidence.by_seed(res.runs, tuned), evidence.by_seed(res.runs, base))
    d["effect"] = v.effect(d["mean"], d["p"])
    images, y, classes = evidence.load_test_set(tuned.dataset)
    predictions = res.predictions(tuned)
    cm = confusion_matrix(y, predictions, len(classes))
    figures = ({"the report's single run": (evidence.by_seed(res.runs, tuned), paper.MNIST_TUNED_ACCURACY)}
               if any(r.tuned for r in evidence.paper_rows(tuned.replace(dataset="fashion"))) else {})
    return Transfer(S, variants, res, res.summary(), d, images, y, classes, predictions, cm,
                    most_confused(cm, classes, top), evidence.single_runs(figures),
                    evidence.outliers(res.runs, variants))


def sentences(t: Transfer) -> dict[str, str]:
    """``difference``, ``report``, ``confusion`` and ``seeds``."""
    base, tuned, d, top = t.variants[BASE], t.variants[TUNED], t.difference, t.pairs.iloc[0]
    words = {v.GAIN: "a detectable gain", v.LOSS: "a detectable loss", v.NONE: "not detectable at this number of seeds"}
    difference = (f"On MNIST the tuned configuration reaches {text.accuracy(t.summary.loc[tuned.key()], True)} against "
                  f"{text.accuracy(t.summary.loc[base.key()])} for the baseline, a difference of {d['mean']:+.4f} "
                  f"({text.ci(d['ci_low'], d['ci_high'], True)}, Welch p {text.p_value(d['p'], True)}, one "
                  f"comparison; the two networks share no initial weights, so seeds do not pair): "
                  f"{words[d['effect']]}.")
    report = (f"The seed report's single run of the tuned network on MNIST: {text.single_runs(t.report, '')}"
              if len(t.report) else "")
    return {"difference": difference, "report": report,
            "confusion": f"The most frequent confusion left is {top['true']} read as {top['predicted']} "
                         f"({top['rate']:.1%} of the {top['true']}s).",
            "seeds": text.outliers(t.outliers, len(t.S.seeds))}
