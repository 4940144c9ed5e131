"""Choosing the study's recipe so that one lucky seed does not choose it: the finalists re-scored on fresh seeds.

A study scores each trial by one validation accuracy (seed 0). Near the top, trials differ by about one standard
error of an accuracy on 6 000 validation images, so the best of them is partly the luckiest, and its own score
overstates it (the winner's curse). The rule here, in three steps, never looks at the test set:

1. the finalists are the :data:`FINALISTS` best complete trials by their seed-0 validation accuracy, and every
   complete trial of a named recipe (:mod:`fcnbook.tuning.recipes`), so that the recipe chosen is at least as good on
   validation as each known one, by construction;
2. each finalist is retrained on :data:`SELECTION_SEEDS`, seeds the study never used, without the test set, and
   scored by its mean validation accuracy after the last epoch;
3. the recipe is the finalist with the best mean (ties: the earlier trial).

Only then is the recipe evaluated on the test set, once, on :func:`test_seeds` (the frontier's seeds 5-9, which
played no part in any choice). :func:`study_pick` is the study's own pick (the best by one seed), kept to show how
far re-scoring moves the choice.
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd

from fcnbook.config import RunConfig
from fcnbook.report import ladder
from fcnbook.report.budget import run_gflop
from fcnbook.report.settings import Settings, Stored
from fcnbook.store.frames import MissingRuns

#: The study each profile's "Beyond the report" chapter reads: the shipped one, and the quick profile's tiny one.
STUDY = {"full": "fashion", "quick": "quick-fashion"}
FINALISTS = 5
SELECTION_SEEDS = (1, 2, 3)
COLUMNS = ["trial", "recipe", "seed 0", "mean", "sd", "n", "label", "epochs", "gflop", "key"]


def _ranked(study) -> list:
    """The complete trials by seed-0 validation accuracy, best first (ties: the earlier trial); a configuration
    tried twice (a recipe whose stored run the study reused) counts once, as its best-scored trial."""
    done = [t for t in (study.trials if study is not None else []) if t.state.name == "COMPLETE"]
    unique = {}
    for t in sorted(done, key=lambda t: (-t.value, t.number)):
        unique.setdefault(t.user_attrs.get("key", t.number), t)
    return list(unique.values())


def finalists(study, n: int = FINALISTS) -> list:
    """The ``n`` best complete trials, then every complete recipe trial not among them, best first (:func:`_ranked`)."""
    ranked = _ranked(study)
    return ranked[:n] + [t for t in ranked[n:] if "recipe" in t.user_attrs]


def study_pick(study):
    """The study's own pick: its best complete trial by one seed's validation accuracy (or None)."""
    return next(iter(_ranked(study)), None)


def config_of(trial, dataset: str = "fashion") -> RunConfig:
    """``trial``'s configuration for ``dataset``: on MNIST without flips (a mirrored digit is another symbol)."""
    config = RunConfig.from_dict(trial.user_attrs["config"])
    if dataset == "mnist":
        config = config.replace(dataset="mnist", augment="shift" if config.augment == "shift_flip" else config.augment)
    return config


def test_seeds(S: Settings) -> tuple[int, ...]:
    """The seeds on which the recipe meets the test set: the frontier's (5-9) in full, the profile's otherwise."""
    return ladder.seeds(S)


def _validation(S: Settings, config: RunConfig, train: bool) -> list[float] | None:
    """Last-epoch validation accuracies of ``config`` on the selection seeds; None when not stored and not
    ``train``."""
    try:
        records = (S.lab.validation if train else Stored(getattr(S.lab, "root", None)).validation)(
            [config], list(SELECTION_SEEDS))
    except MissingRuns:
        return None
    return [float(r["history"]["val_accuracy"][-1]) if r["history"]["val_accuracy"] else 0.0 for r in records]


def scores(S: Settings, study, train: bool | None = None) -> pd.DataFrame:
    """Per finalist (best mean first, those not yet re-scored last): its recipe name, seed-0 validation accuracy,
    mean and SD over :data:`SELECTION_SEEDS`, configuration and cost (counted GFLOP per seed).

    ``train`` (default: every profile but the full one) lets ``S``'s lab train missing finalists, without the test
    set (:meth:`fcnbook.lab.Lab.validation`); otherwise only stored runs are read, and a finalist without them has
    no mean (the full profile's runs take hours: ``fcnbook tune --select`` trains them, the book never does).
    """
    train = S.profile != "full" if train is None else train
    rows = []
    for t in finalists(study):
        c = config_of(t)
        v = pd.Series(_validation(S, c, train) or [], dtype=float)
        rows.append({"trial": t.number, "recipe": t.user_attrs.get("recipe", ""), "seed 0": t.value,
                     "mean": v.mean() if len(v) else math.nan, "sd": v.std(ddof=1) if len(v) > 1 else math.nan,
                     "n": len(v), "label": c.label(), "epochs": c.epochs, "gflop": run_gflop(c), "key": c.key()})
    if not rows:
        return pd.DataFrame(columns=COLUMNS).set_index("trial")
    return pd.DataFrame(rows, columns=COLUMNS).set_index("trial").sort_values("mean", ascending=False,
                                                                               kind="stable", na_position="last")


def complete(table: pd.DataFrame) -> bool:
    """Whether every finalist of ``table`` (:func:`scores`) is re-scored on every selection seed."""
    return not table.empty and bool((table["n"] == len(SELECTION_SEEDS)).all())


def chosen_number(table: pd.DataFrame) -> int | None:
    """The recipe's trial number: the best mean validation accuracy over the selection seeds (ties: the earlier
    trial); None until every finalist is re-scored."""
    if not complete(table):
        return None
    best = table["mean"].max()
    return int(min(table.index[table["mean"] == best]))


def chosen(S: Settings, study, dataset: str = "fashion", train: bool | None = None) -> RunConfig | None:
    """The recipe (:func:`chosen_number` of :func:`scores`) for ``dataset``; None until the selection is complete."""
    number = chosen_number(scores(S, study, train)) if study is not None else None
    return None if number is None else config_of(study.trials[number], dataset)


def recipes(S: Settings, root=None) -> list[RunConfig]:
    """The recipe the stored study of ``S``'s profile chose, on FashionMNIST and on MNIST, read from the store only;
    none without a study or before every finalist is re-scored (``fcnbook tune --select`` trains them)."""
    from fcnbook.tuning import study as tune

    try:
        study = tune.load(STUDY[S.profile], root=root)
    except (KeyError, ImportError):
        return []
    number = chosen_number(scores(dataclasses.replace(S, lab=Stored(root)), study, train=False))
    return [] if number is None else [config_of(study.trials[number], ds) for ds in ("fashion", "mnist")]
