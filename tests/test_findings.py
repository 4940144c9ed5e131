"""The experiment chapters (fcnbook.report.chapters: baseline ... transfer) on small hand-made results, through
their own ``study(settings)`` and ``sentences(study)``: the sentences say what the numbers say, every verdict word
comes from its rule, and every single run is set against the one prediction interval."""

import numpy as np
import pandas as pd
import pytest

from fcnbook.report import experiments, paper
from fcnbook.report.chapters import (
    baseline,
    batch_norm,
    evidence,
    initialization,
    optimizers,
    regularization,
    summary,
    transfer,
    tuned,
)
from fcnbook.stats import prediction
from fcnbook.store.frames import Results

N_IMAGES = 100
S0 = experiments.settings("quick", epochs=3)
BASE = experiments.baseline(S0)


def predictions(test: float) -> list[int]:
    """Predictions of :data:`N_IMAGES` images of class 0: the first ``round(test * N)`` right."""
    k = int(round(test * N_IMAGES))
    return [0] * k + [1] * (N_IMAGES - k)


def run(config, seed, test, train, val, diverged_epoch=None, predictions=None):
    """One run: ``train`` and ``val`` are its per-epoch eval-mode accuracies (cut short if it diverged)."""
    return {"config": config, "seed": seed, "test": test, "train": list(train), "val": list(val),
            "diverged_epoch": diverged_epoch, "predictions": predictions}


def make_results(spec: list[dict]) -> Results:
    """A :class:`Results` with the columns the sections read, from :func:`run` dicts."""
    rows, hist, records = [], [], []
    for r in spec:
        c, train, val = r["config"], r["train"], r["val"]
        base = {"key": c.key(), "label": c.label(), "seed": r["seed"]}
        rows.append({**base, "test_accuracy": r["test"], "diverged": r["diverged_epoch"] is not None,
                     "diverged_epoch": r["diverged_epoch"], "final_train_accuracy": train[-1] if train else np.nan,
                     "final_val_accuracy": val[-1] if val else np.nan})
        for metric, values in (("train_accuracy", train), ("val_accuracy", val),
                               ("train_loss", [1 - v for v in train]), ("val_loss", [1 - v for v in val])):
            hist += [{**base, "epoch": e, "metric": metric, "value": v} for e, v in enumerate(values, start=1)]
        preds = r["predictions"] if r["predictions"] is not None else predictions(r["test"])
        records.append({"key": c.key(), "seed": r["seed"], "test_predictions": preds})
    history = pd.DataFrame(hist, columns=["key", "label", "seed", "epoch", "metric", "value"])
    return Results(runs=pd.DataFrame(rows), history=history, records=records)


class FakeLab:
    """A lab that hands a chapter the hand-made results of the configurations it asks for."""

    def __init__(self, res: Results):
        self.res = res

    def results(self, configs, seeds):
        keys = {c.key() for c in configs}
        r = self.res
        return Results(r.runs[r.runs["key"].isin(keys)], r.history[r.history["key"].isin(keys)],
                       [x for x in r.records if x["key"] in keys])


@pytest.fixture(autouse=True)
def test_labels(monkeypatch):
    """Every image is of class 0, and the test set is :data:`N_IMAGES` blank images."""
    monkeypatch.setattr("fcnbook.data.indices.labels", lambda dataset, train: np.zeros(N_IMAGES, dtype=int))
    monkeypatch.setattr(evidence, "load_test_set", lambda dataset: (
        np.zeros((N_IMAGES, 784)), np.zeros(N_IMAGES, dtype=int), tuple("abcdefghij")))


def settings(spec, **changes):
    return experiments.settings("quick", epochs=3, lab=FakeLab(make_results(spec)), **changes)


# ------------------------------------------------------------------------------------------------ 02 baseline

def test_baseline_sets_the_report_runs_against_the_prediction_interval(monkeypatch):
    calls = []
    real = prediction.single_run
    monkeypatch.setattr(evidence, "single_run", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    spec = [run(BASE, s, 0.87 + s / 1000, [0.80, 0.95], [0.80, 0.90]) for s in range(3)]
    text = baseline.sentences(baseline.study(settings(spec)))
    assert calls == [0.8764, 0.8507], "both report figures go through the one prediction interval"
    assert "0.8710" in text["accuracy"] and "0.8764 and 0.8507 for two runs" in text["report"]
    assert "0.8764 (row 1) lies inside our 95 % prediction interval" in text["report"]
    assert "0.8507 (row 2) lies outside" in text["report"] and "Holm" in text["report"]
    assert "range" not in text["report"]
    assert "gap of +0.0500" in text["fit"] and "above the over-fitting threshold of 0.02" in text["fit"]


@pytest.mark.parametrize("train, word", [(0.92, "within the over-fitting threshold of 0.02"),
                                         (0.9201, "above the over-fitting threshold of 0.02")])
def test_baseline_gap_at_the_threshold(train, word):
    spec = [run(BASE, s, 0.87, [0.80, train], [0.80, 0.90]) for s in range(3)]
    assert word in baseline.sentences(baseline.study(settings(spec)))["fit"]


# ---------------------------------------------------------------------------------------------- 03 optimizers

def grid_spec(cells):
    return {(opt, lr): BASE.replace(optimizer=opt, lr=lr) for opt, lr in cells}


def test_optimizers_choose_by_validation_never_by_test():
    grid = grid_spec([("sgd", 0.1), ("adam", 0.001), ("adam", 0.1)])
    spec = []
    for s in range(2):
        spec += [run(grid["sgd", 0.1], s, 0.90, [0.8, 0.9], [0.80, 0.85]),  # best on test
                 run(grid["adam", 0.001], s, 0.86, [0.8, 0.9], [0.80, 0.88]),  # best on validation
                 run(grid["adam", 0.1], s, 0.95, [0.9, 0.99], [0.90, 0.99], diverged_epoch=3 if s else None)]
    text = optimizers.sentences(optimizers.study(settings(spec), ["sgd", "adam"], [0.1, 0.001]))
    assert "the best cell is **adam lr=0.001** (0.8800 on the validation split)" in text["choice"]
    assert "test accuracy, looked at only after the choice, is 0.8600" in text["choice"]
    assert "adam lr=0.1 (n=1 of 2, 1 diverged at epoch 3)" in text["cells"]
    assert "highest cell (chosen by its test accuracy, one run each) was adam lr=0.001, with 0.8878" in text["report"]


def test_optimizers_near_chance_behind_and_nothing_to_choose():
    grid = grid_spec([("sgd", 0.1), ("rmsprop", 0.1), ("sgd", 0.01)])
    spec = [run(grid["sgd", 0.1], 0, 0.88, [0.9], [0.88]), run(grid["rmsprop", 0.1], 0, 0.1, [0.1], [0.11]),
            run(grid["sgd", 0.01], 0, 0.8, [0.8], [0.80])]
    text = optimizers.sentences(optimizers.study(settings(spec), ["sgd", "rmsprop"], [0.1, 0.01]))
    assert "Near chance on validation (below 0.2; guessing gives 0.1): rmsprop lr=0.1." in text["cells"]
    assert "More than 0.05 below the chosen cell on validation after 3 epochs: sgd lr=0.01." in text["cells"]
    lone = grid_spec([("adam", 0.1)])
    text = optimizers.sentences(optimizers.study(settings([run(lone["adam", 0.1], 0, 0.1, [], [], diverged_epoch=1)]),
                                                 ["adam"], [0.1]))
    assert "Every cell had a diverged run, so none is chosen." in text["choice"]


@pytest.mark.parametrize("vals, rise, want", [
    ([0.88, 0.82, 0.70], 0.05, "still rising in the last epoch (+0.0500)"),
    ([0.88, 0.82, 0.70], -0.01, "did not rise in the last epoch (-0.0100)"),
    ([0.88, 0.89, 0.70], 0.05, ""),
])
def test_sgd_sentence_appears_only_when_monotone(vals, rise, want):
    grid = grid_spec([("sgd", lr) for lr in (0.1, 0.01, 0.001)])
    spec = [run(grid["sgd", lr], 0, 0.8, [0.5, v], [v - rise, v]) for lr, v in zip((0.1, 0.01, 0.001), vals,
                                                                                  strict=True)]
    text = optimizers.sentences(optimizers.study(settings(spec), ["sgd"], [0.1, 0.01, 0.001]))["sgd"]
    assert (want in text and "For SGD, validation accuracy falls" in text) if want else text == ""


# ------------------------------------------------------------------------------------------------- 04 dropout

def dropout_spec(train_drop, tests, seeds=5):
    grid = experiments.dropout_grid(S0, [0.0, 0.1, 0.5])
    spec = []
    for s in range(seeds):
        spec += [run(grid[0.0], s, 0.86 + s / 100, [0.8, 0.90 + s / 1000], [0.8, 0.86]),
                 run(grid[0.5], s, tests[0.5] + s / 100 + s * s / 10_000, [0.8, train_drop + s / 500], [0.8, 0.87]),
                 run(grid[0.1], s, tests[0.1] + s / 100, [0.8, 0.9], [0.8, 0.865])]
    return spec


def test_dropout_narrows_the_gap_and_a_holm_detectable_gain():
    text = regularization.sentences(regularization.study(settings(dropout_spec(0.88, {0.5: 0.88, 0.1: 0.86})),
                                                         [0.0, 0.1, 0.5]))
    assert "exceeds validation accuracy by +0.0420" in text["gap"]
    assert "narrows the train-validation gap, as a regulariser should" in text["rate"]
    assert "Holm-adjusted over two comparisons, the two dropout rates against no dropout: p" in text["rate"]
    assert "a detectable gain" in text["rate"] and "McNemar seed by seed" in text["rate"]
    assert "pooled" not in text["rate"]
    assert "none changes test accuracy detectably" in text["others"]
    assert "0.8666 (dropout 0.5, row 11) lies" in text["report"] and "(no dropout, row 1)" in text["report"]
    assert "the best setting is **dropout 0.5** (0.8700 on the validation split)" in text["choice"]


def test_dropout_widens_the_gap_without_a_detectable_change():
    text = regularization.sentences(regularization.study(settings(dropout_spec(0.99, {0.5: 0.86, 0.1: 0.86})),
                                                         [0.0, 0.1, 0.5]))
    assert "widens the train-validation gap" in text["rate"]
    assert "not detectable at this number of seeds" in text["rate"]


# ------------------------------------------------------------------------------------------ 05 initialisation

def test_initializers_one_family_of_five_two_groups_from_table1():
    inits = experiments.initializers(S0)
    default = inits["default (PyTorch)"]
    assert [list(g) for g in initialization.groups(inits).values()] == [
        ["default (PyTorch)", "random normal (report's code)", "Xavier normal (report's code)",
         "He (report's code)"],
        ["default (PyTorch)", "random normal, std 0.1 (report's text)", "Kaiming uniform (report's text)"]]
    # random normal: paired p about 0.02 alone, not detectable after Holm over five comparisons
    shifts = [-0.010, -0.001, -0.008, -0.004, -0.007]
    spec = []
    for s, d in enumerate(shifts):
        spec += [run(default, s, 0.86 + s / 200, [0.8], [0.5])]
        spec += [run(c, s, 0.86 + s / 200 + (d if "random normal (" in n else 0.01 * (-1) ** s), [0.8], [0.6])
                 for n, c in inits.items() if c is not default]
    study = initialization.study(settings(spec))
    rn = study.family.loc["random normal (report's code)"]
    assert rn["p"] < 0.05 and rn["p_holm"] >= 0.05 and rn["effect"] == "no detectable change"
    text = initialization.sentences(study)
    assert "Holm-adjusted over five comparisons, the five initialisers against the default" in text["effects"]
    assert "the variants of the report's code" in text["effects"] and "the variants of the report's text" in text[
        "effects"]
    assert "None of them changes test accuracy detectably" in text["verdict"]
    assert "ranges from 0.5000 (default (PyTorch)) to 0.6000" in text["start"]


# ---------------------------------------------------------------------------------------------- 06 batch norm

def test_batch_norm_names_the_seed_that_stands_apart():
    variants = experiments.batch_norm(S0)
    base, bn = variants["baseline"], variants["baseline + batch norm"]
    tests = [0.8652, 0.8801, 0.7952, 0.8760, 0.8570]
    spec = []
    for s, t in enumerate(tests):
        spec += [run(base, s, 0.86, [0.80, 0.85, 0.90, 0.91], [0.8, 0.84, 0.85, 0.86]),
                 run(bn, s, t, [0.8, 0.9, 0.9, 0.92], [0.8, 0.86, 0.83, 0.87])]
    study = batch_norm.study(settings(spec, seeds=list(range(5))))
    assert list(study.outliers["seed"]) == [2]
    text = batch_norm.sentences(study)
    assert "One seed stands apart" in text["seeds"] and "seed 2 of *baseline + batch norm* ends at 0.7952" in text[
        "seeds"] and "0.8570-0.8801" in text["seeds"]
    assert "one comparison (batch norm against the baseline), so no adjustment" in text["effect"]
    assert "The seed report's single runs: 0.8600 (baseline + batch norm, row 15)" in text["report"]
    assert "gap (training in evaluation mode) is +0.0500 with batch norm and +0.0500 without" in text["gap"]
    assert "moves by 0.0400 per epoch on average with batch norm against 0.0100 without: the curve is more jumpy" \
        in text["steadiness"]


def test_batch_norm_without_outliers_or_steadiness():
    variants = experiments.batch_norm(S0)
    spec = [run(c, s, 0.86 + s / 1000, [0.8, 0.9], [0.8, 0.85]) for c in variants.values() for s in range(2)]
    text = batch_norm.sentences(batch_norm.study(settings(spec)))
    assert text["steadiness"] == "" and "With two seeds, no seed can be tested for standing apart" in text["seeds"]
    spec = [run(c, s, 0.86 + s / 1000, [0.8, 0.9], [0.8, 0.85]) for c in variants.values() for s in range(4)]
    assert "No seed stands apart" in batch_norm.sentences(batch_norm.study(settings(spec, seeds=[0, 1, 2, 3])))[
        "seeds"]


# ------------------------------------------------------------------------------------ 07 tuned and 08 MNIST

def test_tuned_sets_both_report_figures_against_the_interval_and_states_the_threshold():
    config = experiments.tuned(S0)
    spec = [run(config, s, 0.89 + s / 500, [0.8, 0.99], [0.8, 0.90]) for s in range(3)]
    text = tuned.sentences(tuned.study(settings(spec)))
    assert "**0.8920**" in text["accuracy"] and "0.9011 and 0.8967" in text["report"]
    assert "0.9011 (row 16, the PDF) lies" in text["report"] and "0.8967 (the report's notebook output) lies" in text[
        "report"]
    assert "a gap of +0.0900" in text["fit"] and "above the over-fitting threshold of 0.02" in text["fit"]
    assert "two points" not in text["fit"]
    assert "hardest class is *a*" in text["classes"]


def test_mnist_transfer_is_unpaired_and_uses_the_interval():
    variants = experiments.mnist_transfer(S0)
    spec = [run(variants["baseline on MNIST"], s, 0.97 + s / 1000, [0.9], [0.9]) for s in range(3)]
    spec += [run(variants["tuned on MNIST"], s, 0.98 + s / 500, [0.9], [0.9]) for s in range(3)]
    text = transfer.sentences(transfer.study(settings(spec)))
    assert "difference of +0.0110" in text["difference"] and "Welch" in text["difference"]
    assert "seeds do not pair" in text["difference"] and "a detectable gain" in text["difference"]
    assert "0.9818 (the report's single run) lies inside our 95 % prediction interval" in text["report"]


def test_every_single_run_goes_through_the_one_prediction_interval(monkeypatch):
    """The summary and the experiment chapters call :func:`fcnbook.stats.prediction.single_run` for each figure."""
    calls = []
    real = prediction.single_run
    spy = lambda values, y, *a, **k: calls.append(y) or real(values, y, *a, **k)  # noqa: E731
    monkeypatch.setattr(evidence, "single_run", spy)
    monkeypatch.setattr(summary, "single_run", spy)
    pairs = experiments.table1(S0)
    spec = [run(c, s, r.accuracy + s / 1000, [0.9], [0.88]) for r, c in pairs[1:] for s in range(3)]
    spec += [run(experiments.tuned(S0, "mnist"), s, 0.98, [0.99], [0.98]) for s in range(3)]
    summary.sentences(summary.study(settings(spec)))
    assert sorted(calls) == sorted([r.accuracy for r in paper.ROWS]
                                   + [paper.MNIST_TUNED_ACCURACY, paper.TUNED_NOTEBOOK_ACCURACY])
