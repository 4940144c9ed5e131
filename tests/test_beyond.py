"""The "Beyond the report" chapter's computations, on a real quick study and real stored runs."""

from __future__ import annotations

import dataclasses
import math

import pytest

from fcnbook.config import RunConfig
from fcnbook.lab import Lab
from fcnbook.report import beyond_figures, experiments, selection
from fcnbook.report.chapters import beyond
from fcnbook.store import runner
from fcnbook.tuning import show
from fcnbook.tuning import space as search_space
from fcnbook.tuning import study as tune


@pytest.fixture(scope="module")
def study_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("beyond")
    S = experiments.settings("quick", lab=Lab("cpu", root=root))  # the lab runs the quick profile's tiny study
    study = beyond.study_for(S, root=root)
    return S, study, root, beyond.outcome(S, study)  # ... and its selection and the recipe's test seeds


def test_quick_profile_runs_a_tiny_study_and_full_reads_only_a_stored_one(study_root, tmp_path):
    S, study, root, out = study_root
    assert sum(show.counts(study).get(k, 0) for k in ("COMPLETE", "PRUNED")) == beyond.QUICK_TRIALS
    full = experiments.settings("full", lab=Lab("cpu", root=tmp_path))
    assert beyond.study_for(full, root=tmp_path) is None  # never starts the full study, even with a lab that trains
    assert selection.recipes(experiments.settings("full"), root=tmp_path) == []
    assert selection.recipes(S, root=root) == [out.recipe, out.mnist_recipe]
    assert [c.dataset for c in selection.recipes(S, root=root)] == ["fashion", "mnist"]


def test_the_recipe_is_the_best_mean_over_the_selection_seeds_and_mnist_drops_flips(study_root):
    S, study, root, out = study_root
    means = {}
    for t in selection.finalists(study):
        config = selection.config_of(t)
        vals = [runner.run([config], [s], root=root, progress=False, evaluate_test=False)[0]["history"]
                ["val_accuracy"][-1] for s in selection.SELECTION_SEEDS]  # the stored records, read back
        means[t.number] = sum(vals) / len(vals)
    assert out.scores["mean"].to_dict() == pytest.approx(means)
    assert out.number == max(means, key=lambda n: (means[n], -n))
    assert out.recipe == selection.config_of(study.trials[out.number])
    flip = out.recipe.replace(augment="shift_flip").to_dict()
    trial = type("T", (), {"user_attrs": {"config": flip}})()
    assert selection.config_of(trial, "mnist").augment == "shift"
    assert out.mnist_recipe.dataset == "mnist" and out.mnist_recipe.augment != "shift_flip"


def test_space_table_lists_every_parameter():
    table = beyond.space_table("full")
    assert list(table.index) == [p.name for p in search_space.space("full")]
    assert table.loc["width_0", "values"] == "50 to 2048 (log scale)"


def test_comparison_table_drops_and_sentence_from_real_runs(study_root):
    S, study, root, out = study_root
    seeds = list(selection.test_seeds(S))
    flip = out.recipe.replace(augment="shift_flip")  # a recipe trained on mirrored images gets flip-averaged rows
    out = dataclasses.replace(out, recipe=flip, res=runner.run([flip, out.mnist_recipe, out.tuned], seeds, root=root,
                                                                progress=False))
    table = beyond.comparison_table(out)
    one = table.loc["recipe, one network"]
    runs = out.res.runs
    assert one["test acc."] == pytest.approx(runs.loc[runs["key"] == flip.key(), "test_accuracy"].mean())
    assert one["n"] == len(seeds)
    ens = next(r for r in out.res.records if r["key"] == flip.key())["extra"]["ensemble"]
    assert table.loc["recipe, ensemble of 2", "test acc."] == ens["test_accuracy"]
    assert "recipe, one network, flip avg." in table.index and "recipe, ensemble of 2, flip avg." in table.index
    assert table.loc["report's single run", "test acc."] == 0.9011
    assert math.isnan(table.loc["best public FCN (1024-256, as reported)", "train s"])
    mine, tuned = (runs[runs["key"] == k].set_index("seed") for k in (flip.key(), out.tuned.key()))
    diff = (mine["test_accuracy"] - tuned["test_accuracy"]).mean()  # paired by seed
    assert beyond.gain_over_tuned(out)["mean"] == pytest.approx(diff)
    drops = beyond.drop_table(out)
    assert drops.loc["recipe", "val. - test"] == pytest.approx(mine["final_val_accuracy"].mean()
                                                               - mine["test_accuracy"].mean())
    assert drops.loc["recipe", "val. mean, seeds 1-3 (selection)"] == out.scores.loc[out.number, "mean"]
    text = beyond.sentence(out, table, shortened=True)
    assert text.startswith("**Quick profile:**") and f"{one['test acc.']:.4f}" in text and f"{diff:+.4f}" in text
    assert f"the recipe is trial {out.number}" in beyond.study_sentence(out)


def test_full_chapter_without_a_stored_study_says_how_to_run_one(tmp_path, monkeypatch):
    """``make book`` never starts a study: with none stored the chapter trains nothing and shows the command."""
    from fcnbook.book import sections

    monkeypatch.setenv("FCNBOOK_RESULTS", str(tmp_path / "results"))
    out = sections.run_section("07b_beyond", {"profile": "full"}, out=tmp_path / "b.ipynb")
    text = out.read_text()
    assert "No stored study" in text and "fcnbook tune --study fashion" in text
    assert not (tmp_path / "results" / "runs").exists() and not (tmp_path / "results" / "tune").exists()


def test_a_study_shows_the_ranges_it_searched_even_after_they_widened():
    """The shipped study's first session ran under widths 128-2048 and 10-50 epochs: its table says so, not today's
    declaration; after one trial from the widened space, the importances still cover the widths and the epoch
    budget, and the parameters added later (EMA, erasing). The continued study (its recipes drawn from the widened
    space) shows the wider ranges."""
    import optuna

    from fcnbook.tuning import sampling as tune_sampling

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    shipped = tune.load("fashion", root=beyond_root())
    assert beyond.space_table("full", study=shipped).loc["width_0", "values"] == "50 to 2048 (log scale)"
    first_session = optuna.create_study(direction="maximize")
    first_session.add_trials(shipped.trials[:32])
    table = beyond.space_table("full", study=first_session)
    assert table.loc["width_0", "values"] == "128 to 2048 (log scale)"
    assert table.loc["epochs", "values"] == "10 to 50 in steps of 5"
    assert list(table.columns) == ["values", "sampled"]
    mixed = optuna.create_study(direction="maximize")
    mixed.add_trials([t for t in first_session.trials if t.state.name == "COMPLETE"])
    new = {**selection.study_pick(first_session).params, "epochs": 120, "width_1": 60, "ema": 0.999, "erase": 0.25}
    declared = tune_sampling.declared("full")
    mixed.add_trial(optuna.trial.create_trial(params=new, distributions={n: declared[n] for n in new}, value=0.9))
    assert beyond.space_table("full", study=mixed).loc["epochs", "values"] == "10 to 300 in steps of 5"
    _, importances = beyond_figures.importance_figure(mixed)
    assert {"epochs", "width_0", "optimizer"} <= set(importances)
    # the trials that predate EMA and erasing ran without them, and are weighed so: both parameters are shown
    assert {"ema", "erase"} <= set(importances)


def beyond_root():
    from pathlib import Path

    return Path(__file__).resolve().parents[1] / "results"


def test_the_trials_figure_shows_every_trial_however_far_below_the_best():
    import matplotlib

    matplotlib.use("Agg")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    base = RunConfig(hidden=(64,), optimizer="adam", lr=1e-3)
    for value, state in [(0.905, "COMPLETE"), (0.11, "COMPLETE"), (0.83, "PRUNED"), (0.9, "COMPLETE"),
                         (0.45, "PRUNED")]:
        trial = study.ask()
        trial.set_user_attr("seconds", 10.0)
        trial.set_user_attr("config", base.to_dict())
        trial.report(value, 5)
        if state == "PRUNED":
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, value)
    fig = beyond_figures.history_figure(study)
    low, high = fig.axes[0].get_ylim()
    assert low < 0.11 and high > 0.905  # the old zoom cut at the 10th percentile of complete trials minus 0.02
    ticks = beyond_figures.accuracy_ticks(low, high)
    assert list(fig.axes[0].get_yticks()) == pytest.approx(ticks) and 0.9 in ticks and 0.1 in ticks
    assert beyond_figures.accuracy_ticks(0.82, 0.915) == [0.82, 0.84, 0.86, 0.88, 0.9, 0.91]
