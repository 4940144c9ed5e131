"""The "Beyond the report" chapter's computations, on a real quick study and real stored runs."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from fcnbook.config import RunConfig
from fcnbook.lab import Lab
from fcnbook.report import beyond_figures, experiments
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
    return S, study, root


def test_quick_profile_runs_a_tiny_study_and_full_reads_only_a_stored_one(study_root, tmp_path):
    S, study, root = study_root
    assert sum(show.counts(study).get(k, 0) for k in ("COMPLETE", "PRUNED")) == beyond.QUICK_TRIALS
    full = experiments.settings("full", lab=Lab("cpu", root=tmp_path))
    assert beyond.study_for(full, root=tmp_path) is None  # never starts the full study, even with a lab that trains
    assert experiments.beyond(experiments.settings("full"), root=tmp_path) == []
    assert [c.dataset for c in experiments.beyond(S, root=root)] == ["fashion", "mnist"]


def test_chosen_is_the_best_validation_trial_and_mnist_drops_flips(study_root):
    _, study, _ = study_root
    best = max((t for t in study.trials if t.state.name == "COMPLETE"), key=lambda t: t.value)
    assert beyond.chosen(study).key() == RunConfig.from_dict(best.user_attrs["config"]).key()
    flip = search_space.config_of({**best.params, "augment": "shift_flip"}, "quick")
    study.trials  # noqa: B018 (a fresh list each time; nothing to patch)
    assert flip.replace(dataset="mnist", augment="shift").augment == "shift"
    mnist = beyond.chosen(study, "mnist")
    assert mnist.dataset == "mnist" and mnist.augment != "shift_flip"


def test_space_table_lists_every_parameter():
    table = beyond.space_table("full")
    assert list(table.index) == [p.name for p in search_space.space("full")]
    assert table.loc["width_0", "values"] == "50 to 2048 (log scale)"


def test_comparison_table_and_sentence_from_real_runs(study_root):
    S, study, root = study_root
    recipe = beyond.chosen(study).replace(augment="shift_flip")
    res = runner.run([recipe], S.seeds, root=root, progress=False)
    tuned = experiments.tuned(S).replace(epochs=1)
    tuned_res = runner.run([tuned], S.seeds, root=root, progress=False)
    table = beyond.comparison_table(res, recipe, tuned_res, tuned)
    one = table.loc["recipe, one network"]
    assert one["test acc."] == pytest.approx(res.runs["test_accuracy"].mean())
    assert one["n"] == len(S.seeds)
    ens = res.records[0]["extra"]["ensemble"]
    assert table.loc["recipe, ensemble of 2", "test acc."] == ens["test_accuracy"]
    assert "recipe, one network, flip avg." in table.index and "recipe, ensemble of 2, flip avg." in table.index
    assert table.loc["report's single run", "test acc."] == 0.9011
    assert math.isnan(table.loc["best public FCN", "train s"])
    text = beyond.sentence(table, beyond.study_facts(study), recipe, shortened=True)
    assert text.startswith("**Quick profile:**") and f"{one['test acc.']:.4f}" in text


def test_full_chapter_without_a_stored_study_says_how_to_run_one(tmp_path, monkeypatch):
    """``make book`` never starts a study: with none stored the chapter trains nothing and shows the command."""
    from fcnbook.book import sections

    monkeypatch.setenv("FCNBOOK_RESULTS", str(tmp_path / "results"))
    out = sections.run_section("07b_beyond", {"profile": "full"}, out=tmp_path / "b.ipynb")
    text = out.read_text()
    assert "No stored study" in text and "fcnbook tune --study fashion" in text
    assert not (tmp_path / "results" / "runs").exists() and not (tmp_path / "results" / "tune").exists()


def test_the_recipe_is_the_best_validation_trial_within_the_retrain_budget():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    base = RunConfig(hidden=(64,), optimizer="adam", lr=1e-3)
    for value, seconds, width in [(0.90, 100.0, 10), (0.91, 900.0, 20), (0.905, 300.0, 30), (0.95, 10.0, 40)]:
        trial = study.ask()
        trial.set_user_attr("seconds", seconds)
        trial.set_user_attr("config", base.replace(hidden=(width,)).to_dict())
        study.tell(trial, value if width != 40 else None, state=None if width != 40 else optuna.trial.TrialState.FAIL)
    assert beyond.chosen_trial(study).number == 2  # 0.905 in 300 s: 5 x 300 s fits 30 min, 5 x 900 s does not
    assert beyond.chosen_trial(study, budget_s=None).number == 1
    assert beyond.chosen(study).hidden == (30,)
    facts = beyond.study_facts(study)
    table = pd.DataFrame([{"test acc.": 0.9, "SD": 0.001, "n": 5}], index=["recipe, one network"])
    text = beyond.sentence(table, facts, beyond.chosen(study), shortened=False)
    assert "too long for five seeds to retrain within 30 minutes" in text and "0.0050 lower" in text


def test_a_study_shows_the_ranges_it_searched_even_after_they_widened():
    """The shipped study ran under widths 128-2048 and 10-50 epochs: its table says so, not today's declaration;
    after one trial from the widened space, the importances still cover the widths and the epoch budget."""
    import optuna

    from fcnbook.tuning import sampling as tune_sampling

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    shipped = tune.load("fashion", root=beyond_root())
    table = beyond.space_table("full", study=shipped)
    assert table.loc["width_0", "values"] == "128 to 2048 (log scale)"
    assert table.loc["epochs", "values"] == "10 to 50 in steps of 5"
    assert list(table.columns) == ["values", "sampled"]
    mixed = optuna.create_study(direction="maximize")
    mixed.add_trials([t for t in shipped.trials if t.state.name == "COMPLETE"])
    new = {**beyond.chosen_trial(shipped).params, "epochs": 120, "width_1": 60}
    declared = tune_sampling.declared("full")
    mixed.add_trial(optuna.trial.create_trial(params=new, distributions={n: declared[n] for n in new}, value=0.9))
    assert beyond.space_table("full", study=mixed).loc["epochs", "values"] == "10 to 300 in steps of 5"
    _, importances = beyond_figures.importance_figure(mixed)
    assert {"epochs", "width_0", "optimizer"} <= set(importances)


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
