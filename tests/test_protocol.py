"""fcnbook.report.chapters.protocol: the report's accuracy computed its way, paired differences, the run-to-run gap,
the sentences."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fcnbook.report.chapters import protocol
from fcnbook.stats import verdicts as v
from fcnbook.stats.multiplicity import holm
from fcnbook.training import bias_check


def test_original_accuracy_is_the_unweighted_mean_of_batches():
    labels = np.zeros(10, dtype=int)
    pred = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 0])  # batches of 4: 4/4, 2/4, 1/2
    np.testing.assert_allclose(protocol.batch_accuracies(pred, labels, 4), [1.0, 0.5, 0.5])
    mean, var = protocol.original_accuracy(pred, labels, 4)
    assert mean == pytest.approx(2 / 3) and var == pytest.approx(np.var([1.0, 0.5, 0.5]))
    assert np.mean(pred == labels) == 0.7  # the pooled accuracy differs
    records = [{"key": "k", "seed": 3, "test_accuracy": 0.7, "test_predictions": pred.tolist()}]
    way = protocol.original_way(records, labels, 4)
    assert way.loc[0, "original"] == pytest.approx(2 / 3) and way.loc[0, "diff"] == pytest.approx(2 / 3 - 0.7)


def test_batch_mean_se_factor():
    assert protocol.batch_mean_se_factor(10_000, 256) == pytest.approx(1.1588, abs=1e-4)
    assert protocol.batch_mean_se_factor(1024, 256) == pytest.approx(1.0)
    # by simulation: independent errors, p = 0.87
    rng = np.random.default_rng(0)
    hits = rng.random((4000, 10_000)) < 0.87
    starts = np.arange(0, 10_000, 256)
    batch_means = np.add.reduceat(hits, starts, axis=1) / np.diff(np.append(starts, 10_000))
    ratio = batch_means.mean(axis=1).std() / hits.mean(axis=1).std()
    assert ratio == pytest.approx(protocol.batch_mean_se_factor(), rel=0.05)


def test_report_pair():
    assert protocol.REPORT_PAIR == (0.8764, 0.8507) and protocol.REPORT_GAP == 0.0257


def runs_frame(values: dict[str, list[float]]):
    return pd.DataFrame([{"key": k, "label": k, "seed": s, "test_accuracy": v} for k, vs in values.items()
                         for s, v in enumerate(vs)])


def test_paired_differences_by_name():
    runs = runs_frame({"ours": [0.80, 0.82, 0.84], "up": [0.81, 0.835, 0.85], "one": [0.9]})
    d = protocol.paired_differences(runs, "ours", {"MNIST constants": "up", "single": "one"})
    assert list(d.index) == ["MNIST constants", "single"]
    diffs = np.array([0.01, 0.015, 0.01])
    half = stats.t.ppf(0.975, 2) * diffs.std(ddof=1) / math.sqrt(3)
    assert d.loc["MNIST constants", "n"] == 3 and d.loc["MNIST constants", "mean"] == pytest.approx(diffs.mean())
    assert d.loc["MNIST constants", "ci_low"] == pytest.approx(diffs.mean() - half)
    assert d.loc["single", "n"] == 1 and math.isnan(d.loc["single", "ci_low"])


def test_run_gap():
    x = [0.86, 0.87, 0.88, 0.85, 0.89]
    g = protocol.run_gap(x, 0.0257)
    s = np.std(x, ddof=1)
    assert g["sd"] == pytest.approx(s) and g["sd_diff"] == pytest.approx(math.sqrt(2) * s)
    assert g["p"] == pytest.approx(2 * stats.t.sf(0.0257 / (math.sqrt(2) * s), 4))
    assert g["sd_high"] > s and g["p_high"] > g["p"]
    assert g["pairs"] == pytest.approx(np.mean([abs(a - b) >= 0.0257 for i, a in enumerate(x) for b in x[i + 1:]]))
    assert protocol.run_gap([0.8, 0.8, 0.8], 0.01)["p"] < 1e-12
    with pytest.raises(ValueError, match="three runs"):
        protocol.run_gap([0.8, 0.9], 0.01)


def gap(p, p_high):
    return {"n": 25, "mean": 0.86, "sd": 0.008, "sd_diff": 0.0113, "gap": 0.0257, "z": 2.27, "p": p,
            "sd_high": 0.011, "p_high": p_high, "pairs": 0.03}


def test_gap_sentence_branches():
    assert "larger than run-to-run variation explains" in protocol.gap_sentence(gap(0.001, 0.01))
    assert "chance cannot be ruled out" in protocol.gap_sentence(gap(0.03, 0.1))
    within = protocol.gap_sentence(gap(0.3, 0.5))
    assert "within run-to-run variation" in within and "0.8764 and 0.8507" in within and "25" in within


def test_difference_sentences():
    diffs = pd.DataFrame({"n": [5, 5, 1], "mean": [0.01, 0.001, 0.02], "sd": [0.002, 0.01, np.nan],
                          "ci_low": [0.007, -0.011, np.nan], "ci_high": [0.013, 0.013, np.nan],
                          "p": [0.001, 0.8, np.nan]},
                         index=["MNIST constants", "original, split 1", "original, split 2"])
    diffs["p_holm"] = holm(diffs["p"])
    diffs["effect"] = [v.effect(m, p) for m, p in zip(diffs["mean"], diffs["p_holm"], strict=True)]
    text = protocol.difference_sentences(diffs, sd=0.02)
    assert "adjusted p = 0.002 (Holm over the three variants against ours): this change moves the test accuracy, " \
           "by 39%" in text
    assert "no shift is detectable" in text and "single pair" in text
    assert "for MNIST constants (SD 0.0020) and original, split 1 (SD 0.0100) pairing removes part" in text
    text = protocol.difference_sentences(diffs, sd=0.005)
    assert "MNIST constants (SD 0.0020) pairing removes part" in text
    assert "original, split 1 (SD 0.0100) pairing removes none of it (paired SD at least that)" in text
    # raw p below 0.05 but not after Holm: no shift
    weak = diffs.assign(p=[0.03, 0.04, np.nan])
    weak["p_holm"] = holm(weak["p"])
    weak["effect"] = [v.effect(m, p) for m, p in zip(weak["mean"], weak["p_holm"], strict=True)]
    assert "moves the test accuracy" not in protocol.difference_sentences(weak, sd=0.02)


def test_paired_differences_are_one_holm_family():
    runs = runs_frame({"ours": [0.80, 0.82, 0.84, 0.83], "up": [0.81, 0.831, 0.849, 0.84],
                       "same": [0.80, 0.83, 0.83, 0.835]})
    d = protocol.paired_differences(runs, "ours", {"MNIST constants": "up", "split": "same"})
    np.testing.assert_allclose(d["p_holm"], holm(d["p"]))
    assert d.loc["MNIST constants", "p"] < 0.05 and d.loc["MNIST constants", "effect"] == v.effect(
        d.loc["MNIST constants", "mean"], d.loc["MNIST constants", "p_holm"])


def test_original_way_sentence():
    way = pd.DataFrame({"diff": [0.0005, -0.001], "pooled": [0.86, 0.87], "batch_var": [0.0005, 0.0004]})
    text = protocol.original_way_sentence(way, 0.008, 1.16, 0.0005)
    assert "negligible next to the SD of one run" in text and "1.16 times" in text
    assert f"{math.sqrt(0.00045 / 39):.4f}" in text
    assert "not negligible" in protocol.original_way_sentence(way, 0.002, 1.16, 0.0005)


def test_bias_before_batch_norm_is_cancelled():
    """The report's code: Linear (with bias) -> BatchNorm1d. Same outputs in training mode, a vanishing
    difference in evaluation mode (the running mean's start-up), and the bias never receives a gradient."""
    check = bias_check.batch_norm_bias_check(checkpoints=(5, 80), width=8, batch=32)
    assert (check["train_diff"] < 1e-12).all() and (check["bias_grad_max"] < 1e-12).all()
    assert check.loc[5, "eval_diff"] > 1e-4  # early on the running mean has not taken the bias up yet
    assert (check["eval_diff"] <= check["eval_bound"] * (1 + 1e-6) + 1e-12).all()
    assert check.loc[80, "eval_diff"] < 1e-3 * check.loc[5, "eval_diff"]
    text = protocol.bias_sentence(check)
    assert "does not change its results" in text and "after 80" in text
