"""The recipe's selection rule on a hand-made study: finalists, re-scoring on the selection seeds, the choice."""

from __future__ import annotations

import math

import optuna
import pytest

from fcnbook.config import RunConfig
from fcnbook.report import experiments, selection

BASE = RunConfig(hidden=(64,), optimizer="adam", lr=1e-3)


def make_study(trials: list[tuple]) -> optuna.Study:
    """``(seed-0 value or None for pruned, width, recipe name)`` per trial, in order."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    for value, width, recipe in trials:
        trial = study.ask()
        config = BASE.replace(hidden=(width,))
        trial.set_user_attr("config", config.to_dict())
        trial.set_user_attr("key", config.key())
        if recipe:
            trial.set_user_attr("recipe", recipe)
        study.tell(trial, value, state=optuna.trial.TrialState.PRUNED if value is None else None)
    return study


class ValidationLab:
    """Hands out validation records of a given mean per width; refuses anything that would evaluate the test set."""

    def __init__(self, val_by_width: dict[int, list[float]]):
        self.val_by_width, self.asked = val_by_width, []

    def validation(self, configs, seeds):
        self.asked.append((tuple(c.hidden[0] for c in configs), tuple(seeds)))
        return [{"key": c.key(), "seed": s, "history": {"val_accuracy": [0.1, self.val_by_width[c.hidden[0]][i]]}}
                for c in configs for i, s in enumerate(seeds)]

    def results(self, configs, seeds):
        raise AssertionError("the selection must never ask for test results")


def test_finalists_are_the_best_five_by_one_seed_plus_every_recipe_each_configuration_once():
    study = make_study([(0.90, 10, ""), (0.91, 11, ""), (None, 12, ""), (0.89, 13, "known"), (0.92, 14, ""),
                        (0.93, 15, ""), (0.91, 11, "again"), (0.88, 16, ""), (0.94, 17, ""), (0.80, 18, "weak")])
    numbers = [t.number for t in selection.finalists(study)]
    # best five: 8 (0.94), 5, 4, 1 (0.91; trial 6 is the same configuration, later), 0; then the recipes 3 and 9
    assert numbers == [8, 5, 4, 1, 0, 3, 9]
    assert selection.study_pick(study).number == 8


def test_the_recipe_is_the_best_mean_over_the_selection_seeds_not_the_best_seed_0():
    study = make_study([(0.95, 10, ""), (0.90, 11, ""), (0.89, 12, "known")])
    lab = ValidationLab({10: [0.88, 0.89, 0.90], 11: [0.91, 0.92, 0.90], 12: [0.91, 0.92, 0.90]})
    S = experiments.settings("full", lab=lab)
    table = selection.scores(S, study, train=True)
    assert lab.asked == [((10,), (1, 2, 3)), ((11,), (1, 2, 3)), ((12,), (1, 2, 3))]
    assert table["mean"].to_dict() == pytest.approx({1: 0.91, 2: 0.91, 0: 0.89})  # by trial number
    assert list(table.index) == [1, 2, 0] and table.loc[2, "recipe"] == "known"
    assert selection.chosen_number(table) == 1  # a tie at 0.91: the earlier trial
    assert selection.chosen(S, study, "mnist", train=True).dataset == "mnist"
    assert table.loc[0, "sd"] == pytest.approx(0.01)


def test_the_full_profile_reads_only_what_is_stored_and_chooses_nothing_until_every_finalist_is_scored(tmp_path):
    study = make_study([(0.95, 10, ""), (0.90, 11, "")])
    from fcnbook.report.settings import Stored

    S = experiments.settings("full", lab=Stored(tmp_path))  # an empty store
    table = selection.scores(S, study)
    assert list(table["n"]) == [0, 0] and all(math.isnan(m) for m in table["mean"])
    assert not selection.complete(table) and selection.chosen_number(table) is None
    assert selection.chosen(S, study) is None
    assert selection.test_seeds(S) == (5, 6, 7, 8, 9)


def test_an_empty_study_has_no_finalists():
    study = make_study([(None, 10, "")])
    S = experiments.settings("full", lab=ValidationLab({}))
    assert selection.finalists(study) == [] and selection.scores(S, study, train=True).empty
    assert selection.chosen(S, study) is None and selection.study_pick(study) is None


def test_select_on_the_command_line_rescores_without_the_test_set_then_tests_the_recipe_once(tmp_path):
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ, FCNBOOK_RESULTS=str(tmp_path))
    run = [sys.executable, "-m", "fcnbook", "tune"]
    made = subprocess.run([*run, "--study", "q", "--profile", "quick", "--trials", "4", "--seed", "0",
                           "--no-progress"], env=env, capture_output=True, text=True, timeout=600)
    assert made.returncode == 0, made.stderr[-2000:]
    out = subprocess.run([*run, "--select", "q", "--profile", "quick"], env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "recipe: trial " in out.stdout and "fashion, seeds" in out.stdout and "mnist, seeds" in out.stdout
    records = [json.loads(p.read_text()) for p in (tmp_path / "runs").glob("*/seed-*.json")]
    rescored = [r for r in records if r["seed"] in selection.SELECTION_SEEDS and r["config"]["subset"]]
    assert rescored and all(r["test_evaluated"] is False for r in rescored if r["seed"] == 3)
    tested = [r for r in records if r.get("test_evaluated") is not False]
    assert {r["config"]["dataset"] for r in tested} == {"fashion", "mnist"}
    bad = subprocess.run([*run, "--select", "nosuch"], env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "no study 'nosuch'" in bad.stderr


def test_the_shipped_selection_is_complete_and_beats_every_named_recipe_on_validation(monkeypatch):
    """The shipped study's finalists are all re-scored (seeds 1-3, without the test set); the recipe's mean is at
    least every named recipe's (by construction), and the recipe is stored on the test seeds, both datasets."""
    from pathlib import Path

    from fcnbook.tuning import study as tune

    root = Path(__file__).resolve().parents[1] / "results"
    monkeypatch.setenv("FCNBOOK_RESULTS", str(root))
    S = experiments.settings("full")
    study = tune.load(selection.STUDY["full"], root=root)
    table = selection.scores(S, study)
    assert selection.complete(table), table[["n"]]
    named = table[table["recipe"] != ""]
    assert set(named["recipe"]) == {"report-tuned", "public-peer", "study-fashion-27", "ladder-label-smoothing"}
    best = table.loc[selection.chosen_number(table), "mean"]
    assert (best >= named["mean"]).all() and best == table["mean"].max()
    recipe, mnist = selection.recipes(S, root)
    assert (recipe.dataset, mnist.dataset) == ("fashion", "mnist") and mnist.augment != "shift_flip"
    S.lab.results([recipe, mnist], list(selection.test_seeds(S)))  # stored, with their test figures
