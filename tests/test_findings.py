"""Every branch of fcnbook.report.chapters.findings on small hand-made results: the sentences say what the numbers
say."""

import numpy as np
import pandas as pd
import pytest

from fcnbook.config import RunConfig
from fcnbook.report import paper
from fcnbook.report.chapters import findings
from fcnbook.store.frames import Results

BASE = paper.BASELINE.replace(epochs=3, subset=3000)


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
        records.append({"key": c.key(), "seed": r["seed"], "test_predictions": r["predictions"]})
    return Results(runs=pd.DataFrame(rows), history=pd.DataFrame(hist), records=records)


def effects(**rows) -> pd.DataFrame:
    """An effects table by hand: name=(mean, ci_low, ci_high)."""
    return pd.DataFrame([{"name": n, "mean": m, "sd": 0.001, "n": 3, "ci_low": lo, "ci_high": hi, "p": 0.04,
                          "only_config": 10, "only_baseline": 5, "p_mcnemar": 0.3, "p_seed_min": 0.2,
                          "p_seed_max": 0.6, "diverged": 0} for n, (m, lo, hi) in rows.items()]).set_index("name")


# ------------------------------------------------------------------------------------------------ 02 baseline

def test_baseline_over_fitting_only_when_the_eval_mode_gap_is_large():
    fit = make_results([run(BASE, s, 0.87 + s / 1000, [0.80, 0.95], [0.80, 0.90]) for s in range(3)])
    text = findings.baseline(fit, BASE)
    assert "0.8710" in text and "0.8764 and 0.8507" in text and "outside the range of our seeds" in text
    assert "gap of +0.0500" in text and "over-fitting." in text and "evaluation mode" in text
    close = make_results([run(BASE, s, 0.85 + s / 100, [0.80, 0.905], [0.80, 0.90]) for s in range(3)])
    text = findings.baseline(close, BASE)
    assert "not over-fitting" in text and "lie partly inside" in text


# ---------------------------------------------------------------------------------------------- 03 optimizers

def grid_of(cells):
    return {(opt, lr): BASE.replace(optimizer=opt, lr=lr) for opt, lr in cells}


def test_optimizers_choose_by_validation_never_by_test():
    grid = grid_of([("sgd", 0.1), ("adam", 0.001), ("adam", 0.1)])
    spec = []
    for s in range(2):
        spec += [run(grid["sgd", 0.1], s, 0.90, [0.8, 0.9], [0.80, 0.85]),  # best on test
                 run(grid["adam", 0.001], s, 0.86, [0.8, 0.9], [0.80, 0.88]),  # best on validation
                 run(grid["adam", 0.1], s, 0.95, [0.9, 0.99], [0.90, 0.99], diverged_epoch=3 if s else None)]
    text = findings.optimizers(make_results(spec), grid)
    assert "the best cell is **adam lr=0.001** (0.8800 on the validation split)" in text
    assert "test accuracy, looked at only after the choice, is 0.8600" in text
    assert "adam lr=0.1 (n=1 of 2, 1 diverged at epoch 3)" in text  # excluded from the choice, reported
    assert "highest cell (chosen by its test accuracy) was adam lr=0.001, with 0.8878" in text


def test_optimizers_near_chance_behind_and_nothing_to_choose():
    grid = grid_of([("sgd", 0.1), ("rmsprop", 0.1), ("sgd", 0.01)])
    spec = [run(grid["sgd", 0.1], 0, 0.88, [0.9], [0.88]), run(grid["rmsprop", 0.1], 0, 0.1, [0.1], [0.11]),
            run(grid["sgd", 0.01], 0, 0.8, [0.8], [0.80])]
    text = findings.optimizers(make_results(spec), grid)
    assert "Near chance on validation (below 0.2; guessing gives 0.1): rmsprop lr=0.1." in text
    assert "More than 5 points below the chosen cell on validation after 3 epochs: sgd lr=0.01." in text
    lone = grid_of([("adam", 0.1)])
    text = findings.optimizers(make_results([run(lone["adam", 0.1], 0, 0.1, [], [], diverged_epoch=1)]), lone)
    assert "Every cell had a diverged run, so none is chosen." in text


def sgd_results(vals, last_rise):
    grid = grid_of([("sgd", lr) for lr in (0.1, 0.01, 0.001)])
    spec = [run(grid["sgd", lr], 0, 0.8, [0.5, v], [v - last_rise, v])
            for lr, v in zip((0.1, 0.01, 0.001), vals, strict=True)]
    return findings.optimizers(make_results(spec), grid)


def test_sgd_sentence_appears_only_when_monotone():
    text = sgd_results([0.88, 0.82, 0.70], last_rise=0.05)
    assert "For SGD, validation accuracy falls with every step down in learning rate (lr 0.1: 0.8800, lr 0.01: " \
           "0.8200, lr 0.001: 0.7000): smaller steps" in text and "still rising in the last epoch (+0.0500)" in text
    assert "did not rise in the last epoch (-0.0100)" in sgd_results([0.88, 0.82, 0.70], last_rise=-0.01)
    assert "For SGD" not in sgd_results([0.88, 0.89, 0.70], last_rise=0.05)


# ------------------------------------------------------------------------------------------------- 04 dropout

def dropout_results(train_drop, test_drop):
    grid = {0.0: BASE, 0.5: BASE.replace(dropout=0.5), 0.1: BASE.replace(dropout=0.1)}
    spec = []
    for s in range(3):
        spec += [run(grid[0.0], s, 0.86, [0.8, 0.90 + s / 1000], [0.8, 0.86]),
                 run(grid[0.5], s, test_drop + s / 1000, [0.8, train_drop + s / 500], [0.8, 0.87]),
                 run(grid[0.1], s, 0.86, [0.8, 0.9], [0.8, 0.865])]
    return grid, make_results(spec)


def test_dropout_narrows_or_widens_the_eval_mode_gap():
    grid, res = dropout_results(train_drop=0.88, test_drop=0.87)
    eff = effects(**{"dropout 0.5": (0.0113, 0.005, 0.017), "dropout 0.1": (0.0, -0.001, 0.001)})
    text = findings.dropout(res, grid, eff)
    assert "Without dropout, training accuracy (evaluation mode, fixed training sample) exceeds validation " \
           "accuracy by +0.0410" in text
    assert "narrows the train-validation gap, as a regulariser should" in text
    assert "its test accuracy by +0.0113 (95 % CI [+0.0050, +0.0170], n = 3; McNemar p = 0.3 pooled over seeds): " \
           "a detectable gain" in text
    assert "The seed report found 0.8666 against 0.8764 without dropout." in text
    assert "the best setting is **dropout 0.5** (0.8700 on the validation split)" in text
    assert "Other rates" not in text
    grid, res = dropout_results(train_drop=0.99, test_drop=0.85)
    eff = effects(**{"dropout 0.5": (-0.01, -0.02, -0.001), "dropout 0.1": (0.004, 0.001, 0.007)})
    text = findings.dropout(res, grid, eff)
    assert "widens the train-validation gap" in text and "a detectable loss" in text
    assert "Other rates whose effect on test accuracy is detectable (interval excludes zero): dropout 0.1" in text


def test_dropout_without_a_detectable_change_and_without_the_baseline():
    grid, res = dropout_results(train_drop=0.909, test_drop=0.86)
    eff = effects(**{"dropout 0.5": (0.001, -0.01, 0.012), "dropout 0.1": (0.0, -0.001, 0.001)})
    text = findings.dropout(res, grid, eff)
    assert "changes the gap by no more than the seeds vary" in text
    assert "not distinguishable from no change at this number of seeds" in text
    with pytest.raises(ValueError, match="rate 0"):
        findings.dropout(res, {0.5: grid[0.5]}, eff)


# ------------------------------------------------------------------------------------------ 05 initialisation

def test_initializers_group_effects_by_the_report_code_and_text():
    inits = {"default (PyTorch)": BASE,
             "Xavier normal (report's code)": BASE.replace(init="xavier_normal", default_bias=True),
             "Kaiming uniform (report's text)": BASE.replace(init="kaiming_uniform")}
    spec = [run(c, s, 0.86, [0.8], [0.5 + i / 10]) for s in range(2) for i, c in enumerate(inits.values())]
    eff = effects(**{"Xavier normal (report's code)": (0.004, 0.001, 0.007),
                     "Kaiming uniform (report's text)": (-0.001, -0.01, 0.008)})
    text = findings.initializers(make_results(spec), inits, eff)
    assert "ranges from 0.5000 (default (PyTorch)) to 0.7000 (Kaiming uniform (report's text))" in text
    assert "the variants in the report's code change test accuracy by: Xavier normal +0.0040" in text
    assert "Detectable (interval excludes zero): Xavier normal (report's code)." in text
    assert "the variants in the report's text change test accuracy by: Kaiming uniform -0.0010" in text
    assert "None of them is distinguishable from the default" in text
    assert "0.8764 (default (PyTorch)) and 0.8756 (Xavier normal (report's code))" in text


# ---------------------------------------------------------------------------------------------- 06 batch norm

def test_batch_norm_effect_gap_and_steadiness():
    variants = {"baseline": BASE, "baseline + batch norm": BASE.replace(batch_norm=True)}
    spec = []
    for s in range(2):
        spec += [run(BASE, s, 0.86, [0.80, 0.85, 0.90, 0.91], [0.8, 0.84, 0.85, 0.86]),
                 run(variants["baseline + batch norm"], s, 0.87, [0.8, 0.9, 0.9, 0.92], [0.8, 0.86, 0.83, 0.87])]
    eff = effects(**{"baseline + batch norm": (0.01, 0.005, 0.015)})
    text = findings.batch_norm(make_results(spec), variants, eff)
    assert "changes the test accuracy by +0.0100" in text and "a detectable gain" in text
    assert "The seed report saw 0.8600 against 0.8764." in text
    assert "gap (training in evaluation mode) is +0.0500 with batch norm and +0.0500 without" in text
    assert "moves by 0.0400 per epoch on average with batch norm against 0.0100 without: the curve is more jumpy" \
        in text
    short = [run(c, 0, 0.86, [0.8, 0.9], [0.8, 0.85]) for c in variants.values()]
    assert "jumpy" not in findings.batch_norm(make_results(short), variants, eff)


# ------------------------------------------------------------------------------------ 07 tuned and 08 MNIST

def test_tuned_cites_both_report_figures_and_the_classes():
    tuned = paper.TUNED.replace(epochs=3, subset=3000)
    res = make_results([run(tuned, s, 0.89 + s / 50, [0.8, 0.99], [0.8, 0.90]) for s in range(2)])
    per_class = pd.DataFrame({"accuracy (mean)": [0.95, 0.6, 0.9], "SD": 0.01}, index=["Trouser", "Shirt", "Bag"])
    pairs = pd.DataFrame({"true": ["Shirt"], "predicted": ["T-shirt/top"], "rate": [0.15]})
    text = findings.tuned(res, tuned, per_class, pairs)
    assert "**0.9000**" in text and "0.9011 and 0.8967" in text and "lie inside the range" in text
    assert "hardest class is *Shirt* (0.6000), its easiest *Trouser* (0.9500)" in text
    assert "*Shirt* taken for *T-shirt/top* (15.0% of that class)" in text and "sign of over-fitting" in text


def test_mnist_transfer_is_unpaired():
    variants = {"baseline on MNIST": BASE.replace(dataset="mnist"),
                "tuned on MNIST": paper.TUNED.replace(epochs=3, subset=3000, dataset="mnist")}
    spec = [run(variants["baseline on MNIST"], s, 0.97 + s / 1000, [0.9], [0.9]) for s in range(3)]
    spec += [run(variants["tuned on MNIST"], s, 0.98 + s / 500, [0.9], [0.9]) for s in range(3)]
    pairs = pd.DataFrame({"true": ["4"], "predicted": ["9"], "rate": [0.012]})
    text = findings.mnist_transfer(make_results(spec), variants, pairs)
    assert "difference of +0.0110" in text and "Welch" in text and "seeds do not pair" in text
    assert "single run gave 0.9818; it lies inside the range of our seeds" in text
    assert "4 read as 9 (1.2% of the 4s)" in text
    other = {**variants, "tuned on MNIST": RunConfig(hidden=(9,), dataset="mnist")}
    spec = [{**r, "config": other["tuned on MNIST"]} if r["config"] == variants["tuned on MNIST"] else r for r in spec]
    assert "0.9818" not in findings.mnist_transfer(make_results(spec), other, pairs)
