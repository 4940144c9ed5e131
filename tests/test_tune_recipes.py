"""Warm start from named recipes: each a point of the space, enqueued once per study, even by racing workers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from fcnbook.report import experiments, ladder
from fcnbook.tuning import objective, recipes, show, worker
from fcnbook.tuning import space as search_space
from fcnbook.tuning import study as tune
from fcnbook.tuning.recipes import Recipe
from pg_server import postgres_fixture

postgres = pytest.fixture(scope="module")(postgres_fixture)

SHIPPED = Path(__file__).resolve().parents[1] / "results" / "tune" / "fashion.journal"
TINY = {"depth": 1, "width_0": 16, "batch_norm": False, "dropout": 0.0, "optimizer": "adam", "lr_adaptive": 1e-3,
        "weight_decay": 1e-4, "schedule": "constant", "label_smoothing": 0.0, "batch_size": 128, "augment": "none",
        "epochs": 2, **search_space.added_defaults()}
QUICK = {"tiny": Recipe(TINY, source="a test"), "tiny-sgd": Recipe(
    {**{k: v for k, v in TINY.items() if k != "lr_adaptive"}, "optimizer": "sgd", "lr_sgd": 0.05, "nesterov": True},
    source="a test")}


def test_every_named_recipe_is_a_point_of_the_full_space_and_none_of_the_quick_one():
    for name, recipe in recipes.RECIPES.items():
        assert search_space.outside(recipe.params, "full", "fashion") == [], name
        assert search_space.outside(recipe.params, "full", "mnist") == [], name
        assert search_space.outside(recipe.params, "quick") != [], name
    assert list(recipes.applicable("full")) == list(recipes.RECIPES) and recipes.applicable("quick") == {}
    assert list(recipes.applicable("quick", recipes=QUICK)) == ["tiny", "tiny-sgd"]


def test_outside_names_what_does_not_fit():
    bad = {**TINY, "width_0": 500, "epochs": 2.0, "nesterov": True}
    del bad["augment"]
    problems = search_space.outside(bad, "quick")
    assert problems == ["width_0=500 is outside the space (16 to 128 (log scale))",
                        "augment is missing (needed: none, shift, shift_flip)",
                        "epochs=2.0 is outside the space (1 to 2)",
                        "nesterov does not apply here (its condition does not hold)"]
    assert search_space.outside({}, "quick") == ["depth is missing (needed: 1 to 2)"]


def test_the_recipes_say_what_their_sources_said():
    S = experiments.settings("full")
    report = search_space.config_of(recipes.RECIPES["report-tuned"].params)
    tuned = experiments.tuned(S)
    for field in ("hidden", "dropout", "batch_norm", "optimizer", "lr", "momentum", "batch_size", "epochs"):
        assert getattr(report, field) == getattr(tuned, field), field
    assert (tuned.init, tuned.weight_decay, report.init, report.weight_decay) == ("kaiming_normal", 0, "default", 1e-6)
    peer = search_space.config_of(recipes.RECIPES["public-peer"].params)
    assert (peer.hidden, peer.batch_norm, peer.dropout, peer.optimizer, peer.lr, peer.epochs, peer.batch_size) == \
        ((1024, 256), True, 0.5, "adam", 1e-3, 50, 512)
    study = tune.load("fashion", root=SHIPPED.parents[1])
    # the rule the study's first session chose by: the best complete trial whose five-seed retrain fitted 30 min
    first = [t for t in study.trials[:32] if t.state.name == "COMPLETE" and t.user_attrs["seconds"] * 5 <= 1800]
    shipped = max(first, key=lambda t: t.value)
    assert shipped.number == 27
    assert recipes.RECIPES["study-fashion-27"].params == shipped.params | search_space.added_defaults()
    recipe_27 = search_space.config_of(recipes.RECIPES["study-fashion-27"].params, precision="bf16")
    assert recipe_27.key() == shipped.user_attrs["key"]  # so the study reuses trial 27's stored run


def test_the_ladder_recipe_is_the_ladders_chosen_rung_but_for_the_initialisation():
    S = experiments.settings("full")
    recipe = search_space.config_of(recipes.RECIPES["ladder-label-smoothing"].params)
    rung = ladder.rung(S, ladder.TEACHER_RUNG)
    assert recipe.replace(init=rung.init, default_bias=rung.default_bias) == rung
    assert (recipe.init, rung.init) == ("default", "kaiming_normal")


def test_the_shipped_study_holds_each_recipe_once_ran_them_to_the_end_and_says_why_it_stopped(tmp_path):
    """A copy of the shipped journal (its first session made under the median pruner and the narrower space, then
    continued with the recipes): it loads, each recipe is in it once, after the first session's 32 trials, run to
    its last epoch; enqueueing again adds nothing; the sampler sees the widened ranges; --show lists the recipes and
    every worker's stop."""
    (tmp_path / "tune").mkdir()
    shutil.copy(SHIPPED, tmp_path / "tune" / "fashion.journal")
    study = tune.create("fashion", root=tmp_path, profile="full", precision="bf16", seed=1)
    first = [t.state.name for t in study.trials[:32]]
    assert (first.count("COMPLETE"), first.count("PRUNED")) == (20, 12)
    before = [(t.number, t.state.name, t.value) for t in study.trials]
    for _ in range(2):  # a rerun, or another worker later: nothing more
        with recipes.lock("fashion", root=tmp_path):
            assert recipes.enqueue(study, recipes.applicable("full")) == []
    after = tune.load("fashion", root=tmp_path).trials
    assert [(t.number, t.state.name, t.value) for t in after] == before
    named = recipes.trials(study)
    assert [(r["recipe"], r["trial"], r["state"]) for r in named] == \
        [(n, 32 + i, "COMPLETE") for i, n in enumerate(recipes.RECIPES)]
    for r, recipe in zip(named, recipes.RECIPES.values(), strict=True):
        trial = after[r["trial"]]
        assert trial.system_attrs["fixed_params"] == recipe.params
        assert max(trial.intermediate_values) == recipe.params["epochs"]  # never pruned
    space = study.sampler.infer_relative_search_space(study, after[-1])
    assert space["epochs"].high == 300 and space["width_0"].low == 50
    env = dict(os.environ, FCNBOOK_RESULTS=str(tmp_path))
    out = subprocess.run([sys.executable, "-m", "fcnbook", "tune", "--show", "fashion", "--json"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    shown = json.loads(out.stdout)
    assert [(r["recipe"], r["trial"]) for r in shown["recipes"]] == [(n, 32 + i) for i, n in enumerate(recipes.RECIPES)]
    assert shown["stop_reasons"] and {s["reason"] for s in shown["stop_reasons"]} <= set(worker.REASONS)
    text = subprocess.run([sys.executable, "-m", "fcnbook", "tune", "--show", "fashion"], env=env,
                          capture_output=True, text=True, timeout=120).stdout
    assert "recipe study-fashion-27: trial 34, complete" in text


def test_recipes_run_first_once_and_to_their_end(tmp_path):
    study = objective.optimize("r", 3, root=tmp_path, profile="quick", progress=False, seed=0, recipes=QUICK)
    named = {t.user_attrs.get("recipe"): t for t in study.trials}
    assert [t.user_attrs.get("recipe") for t in study.trials[:2]] == ["tiny", "tiny-sgd"]
    assert all(named[n].state.name == "COMPLETE" and named[n].params == QUICK[n].params for n in QUICK)
    again = objective.optimize("r", 4, root=tmp_path, profile="quick", progress=False, recipes=QUICK)
    assert [r["recipe"] for r in recipes.trials(again)] == ["tiny", "tiny-sgd"] and len(again.trials) >= 4
    shown = show.show(again)
    assert "recipe tiny: trial 0, complete, validation accuracy" in shown and "[recipe " in shown


def race(study: str, url: str | None, root: Path | None, workers: int = 4) -> None:
    """``workers`` threads, each with its own storage, enqueue the recipes at the same moment."""
    studies = [tune.create(study, url, root, profile="quick") for _ in range(workers)]
    start = threading.Barrier(workers)
    errors = []

    def one(st):
        try:
            start.wait()
            with recipes.lock(study, url, root):
                recipes.enqueue(st, QUICK)
        except Exception as exc:  # shown by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(st,)) for st in studies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors


@pytest.mark.parametrize("where", ["journal", "postgresql"])
def test_workers_starting_together_enqueue_each_recipe_once(tmp_path, where, request):
    url = request.getfixturevalue("postgres").create_database("race") if where == "postgresql" else None
    for _ in range(2):
        race("race", url, tmp_path)
    names = [r["recipe"] for r in recipes.trials(tune.load("race", url, tmp_path))]
    assert sorted(names) == ["tiny", "tiny-sgd"]
    assert not list((tmp_path / "tune").glob("*.lock"))  # the warm-start lock is released


def test_a_recipe_is_not_pruned_where_the_same_trial_would_be(tmp_path):
    """A slow learner (SGD at the lowest rate, batch 512) trails the others at the first rung (epoch 1): enqueued
    plainly it is pruned there, as a recipe it runs to its last epoch."""
    slow = {"depth": 1, "width_0": 16, "batch_norm": False, "dropout": 0.0, "optimizer": "sgd", "lr_sgd": 1e-3,
            "nesterov": False, "weight_decay": 1e-6, "schedule": "constant", "label_smoothing": 0.0,
            "batch_size": 512, "augment": "none", "epochs": 2, **search_space.added_defaults()}
    good = {**TINY, "width_0": 128, "lr_adaptive": 1e-2, "batch_size": 128}
    study = tune.create("p", root=tmp_path, profile="quick")
    for _ in range(4):
        study.enqueue_trial(good)  # the first reuses nothing; the others reuse its record and report its curve
    study.enqueue_trial(slow)
    study = objective.optimize("p", 6, root=tmp_path, profile="quick", progress=False, recipes={"slow": Recipe(slow,
    "")})
    plain, recipe = study.trials[4], study.trials[5]
    assert plain.params == recipe.params == slow and recipe.user_attrs["recipe"] == "slow"
    assert plain.state.name == "PRUNED" and max(plain.intermediate_values) == 1
    assert recipe.state.name == "COMPLETE" and max(recipe.intermediate_values) == 2
