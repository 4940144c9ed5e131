"""Named recipes that warm-start a study: known good configurations, tried first, each once per study.

A recipe is a point of the search space (:mod:`fcnbook.tuning.space`), given by its parameters. :func:`enqueue`
puts each recipe that the study's space contains into the study as a waiting trial with the user attribute
``recipe`` (its name), so that the first workers train them before the sampler proposes anything, and TPE starts
from their results. It is idempotent: a recipe that any trial of the study already carries (waiting, running,
finished or failed) is not enqueued again, and the check and the enqueueing run under a lock shared by every worker
(the journal's folder for a journal file, a PostgreSQL advisory lock for a server), so that workers starting
together do not enqueue a recipe twice. A recipe is never pruned (:func:`fcnbook.tuning.sampling.may_prune`).

What a recipe cannot say in the space's terms is written in its ``differs``: the space has no initialiser
(every trial uses PyTorch's default) and its weight decay is log-scaled from 1e-6, so "no weight decay" becomes
1e-6, an L2 term too small to matter here. The full widths were extended down to 50 for the report's last layer.
The quick profile's tiny space contains none of them, so quick studies are not warm-started. Every recipe holds the
options added to the space later (:data:`fcnbook.tuning.space.ADDED`: EMA, erasing) at their defaults, off.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from fcnbook.tuning import space as search_space


@dataclass(frozen=True)
class Recipe:
    """A named configuration in the space's parameters, where it comes from, and how it differs from its source."""

    params: dict = field(hash=False)
    source: str
    differs: str = ""


NO_DECAY = 1e-6  # the floor of the space's log-scaled weight decay: the nearest it comes to none

OFF = search_space.added_defaults()  # the options added to the space later, all off

#: The recipes every full-profile study starts from, by name.
RECIPES: dict[str, Recipe] = {
    "report-tuned": Recipe(
        {"depth": 3, "width_0": 700, "width_1": 200, "width_2": 50, "batch_norm": False, "dropout": 0.15,
         "optimizer": "rmsprop", "lr_adaptive": 1e-4, "weight_decay": NO_DECAY, "schedule": "constant",
         "label_smoothing": 0.0, "batch_size": 512, "augment": "none", "epochs": 70, **OFF},
        source="the report's tuned network, Table 1 row 16 (fcnbook.report.paper.TUNED, experiments.tuned)",
        differs="PyTorch's default initialisation, not kaiming_normal_ weights with default biases; weight decay "
                "1e-6, not none"),
    "public-peer": Recipe(
        {"depth": 2, "width_0": 1024, "width_1": 256, "batch_norm": True, "dropout": 0.5, "optimizer": "adam",
         "lr_adaptive": 1e-3, "weight_decay": NO_DECAY, "schedule": "constant", "label_smoothing": 0.0,
         "batch_size": 512, "augment": "none", "epochs": 50, **OFF},
        source="the best public course FCN (hunter-lybbert/uw-central, data_analysis/hw_04: 1024-256, batch norm, "
               "dropout 0.5, Adam lr 1e-3, batch 512, 50 epochs; 0.9030 +- 0.0021 over 5 trials)",
        differs="PyTorch's default initialisation, not kaiming_uniform_ weights with zero biases; weight decay "
                "1e-6, not none"),
    "study-fashion-27": Recipe(  # copied from results/tune/fashion.journal (tests check that they still agree)
        {"depth": 2, "width_0": 697, "width_1": 833, "batch_norm": True, "dropout": 0.06626903237603862,
         "optimizer": "adam", "lr_adaptive": 0.0003383854880734363, "weight_decay": 4.7501953469138534e-05,
         "schedule": "constant", "label_smoothing": 0.0397034396306727, "batch_size": 512, "augment": "none",
         "epochs": 40, **OFF},
        source="the recipe the shipped study 'fashion' chose in its first session (trial 27, validation accuracy "
               "0.9078: its best trial whose five-seed retrain fitted 30 minutes)"),
    "ladder-label-smoothing": Recipe(
        {"depth": 3, "width_0": 700, "width_1": 200, "width_2": 50, "batch_norm": True, "dropout": 0.15,
         "optimizer": "adamw", "lr_adaptive": 2e-3, "weight_decay": 0.05, "schedule": "onecycle", "warmup": 0.25,
         "label_smoothing": 0.1, "batch_size": 512, "augment": "none", "epochs": 70, **OFF},
        source="the frontier ladder's best rung by validation mean on seeds 5-9 (fcnbook.report.ladder, rung 3: "
               "the report's network with AdamW and one-cycle, batch norm and label smoothing; ladder.TEACHER_RUNG)",
        differs="PyTorch's default initialisation, not kaiming_normal_ weights with default biases"),
}


def applicable(profile: str = "full", dataset: str = "fashion",
               recipes: dict[str, Recipe] | None = None) -> dict[str, Recipe]:
    """The recipes (default :data:`RECIPES`) that are points of the space of ``profile`` and ``dataset``."""
    recipes = RECIPES if recipes is None else recipes
    return {name: r for name, r in recipes.items() if not search_space.outside(r.params, profile, dataset)}


@contextlib.contextmanager
def lock(study: str, url: str | None = None, root: Path | None = None):
    """Hold the study's warm-start lock: one worker at a time checks and enqueues its recipes."""
    if url is None:
        from optuna.storages.journal import JournalFileOpenLock

        from fcnbook.tuning.study import journal_path

        held = JournalFileOpenLock(str(journal_path(study, root)) + ".recipes")  # <journal>.recipes.lock
        held.acquire()
        try:
            yield
        finally:
            held.release()
        return
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    try:
        if engine.dialect.name != "postgresql":  # other servers: no lock (two workers starting together may
            yield  # each enqueue a recipe; the store then trains it once per machine at most)
            return
        key = int.from_bytes(hashlib.sha256(f"fcnbook-recipes:{study}".encode()).digest()[:8], "big", signed=True)
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": key})
            try:
                yield
            finally:
                conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    finally:
        engine.dispose()


def enqueue(study, recipes: dict[str, Recipe]) -> list[str]:
    """Enqueue every recipe of ``recipes`` that no trial of ``study`` carries yet; the names enqueued now.

    Call it under :func:`lock`. Recipes are expected to be points of the study's space (:func:`applicable`).
    """
    present = {t.user_attrs.get("recipe") for t in study.get_trials(deepcopy=False)}
    fresh = [name for name in recipes if name not in present]
    for name in fresh:
        study.enqueue_trial(dict(recipes[name].params), user_attrs={"recipe": name})
    return fresh


def trials(study) -> list[dict]:
    """The recipe trials of ``study`` in order: name, trial number, state, validation accuracy (when complete)."""
    return [{"recipe": t.user_attrs["recipe"], "trial": t.number, "state": t.state.name, "val_accuracy": t.value}
            for t in study.get_trials(deepcopy=False) if "recipe" in t.user_attrs]
