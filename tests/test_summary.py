"""fcnbook.report.chapters.summary: the Table 1 comparison, its verdicts, the over-fitting analysis and the
sentences."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fcnbook.report import experiments, paper
from fcnbook.report.chapters import summary
from fcnbook.report.chapters.summary import BOTH_CHANCE, NA, NO, YES

PAIRS = experiments.table1(experiments.settings("quick"))


# ----------------------------------------------------------------------------------------------- statistics


def test_prediction_interval_is_t_with_sqrt_one_plus_one_over_n():
    t = summary.prediction_test(0.5, 0.01, 5, 0.52, test_noise=False)
    assert t["df"] == pytest.approx(4)
    assert t["high"] - 0.5 == pytest.approx(stats.t.ppf(0.975, 4) * 0.01 * math.sqrt(1.2))
    assert (t["high"] - 0.5) / 0.01 == pytest.approx(3.04, abs=0.005)  # the +-3.04 s of n = 5
    assert t["z"] == pytest.approx(-0.02 / (0.01 * math.sqrt(1.2)))  # ours minus the single run
    assert t["p"] == pytest.approx(2 * stats.t.sf(abs(t["z"]), 4))
    # +-2 SD holds only about 86 % of new runs with n = 5
    assert 2 * stats.t.cdf(2 / math.sqrt(1.2), 4) - 1 == pytest.approx(0.86, abs=0.01)


def test_prediction_test_adds_the_test_set_sampling_error():
    plain = summary.prediction_test(0.85, 0.005, 5, 0.86, test_noise=False)
    noisy = summary.prediction_test(0.85, 0.005, 5, 0.86)
    b = 0.86 * 0.14 / 10_000
    assert noisy["se"] ** 2 == pytest.approx(plain["se"] ** 2 + b)
    assert noisy["df"] > 4 and noisy["p"] > plain["p"]  # wider, so more lenient
    assert summary.prediction_test(0.1, 0.0, 5, 0.1)["df"] == math.inf  # no spread: the known term alone
    assert math.isnan(summary.prediction_test(0.8, float("nan"), 1, 0.8)["p"])
    assert summary.prediction_test(0.5, 0.3, 2, 0.5)["low"] == 0.0  # clipped to [0, 1]


def test_holm():
    got = summary.holm([0.01, 0.04, 0.03, np.nan])
    np.testing.assert_allclose(got[:3], [0.03, 0.06, 0.06])
    assert np.isnan(got[3])
    assert list(summary.holm([0.5, 0.9])) == [1.0, 1.0]


def test_verdict_branches():
    assert summary.verdict(0.11, 0.1135, 5, 0.0) == BOTH_CHANCE
    assert summary.verdict(0.11, 0.85, 5, 1e-9) == NO  # ours at chance, the report not
    assert summary.verdict(0.9, 0.85, 1, float("nan")) == NA
    assert summary.verdict(0.9, 0.85, 5, 0.2) == YES
    assert summary.verdict(0.9, 0.85, 5, 0.01) == NO


# ----------------------------------------------------------------------------------------------- compare


def make_runs(shift=None, val=None, n=5, at_chance=(3, 4)):
    """Runs of every Table 1 config: the report's figure plus small noise; ``shift[row]`` moves a row's runs."""
    rng = np.random.default_rng(0)
    rows, seen = [], set()
    for row, config in PAIRS:
        key = config.key()
        if key in seen:
            continue
        seen.add(key)
        centre = 0.1 if row.number in at_chance else row.accuracy + (shift or {}).get(row.number, 0.0)
        for seed in range(n):
            acc = centre + (0.0 if row.number in at_chance else rng.normal(0, 0.004))
            rows.append({"key": key, "label": config.label(), "seed": seed, "test_accuracy": acc,
                         "diverged": row.number == 3, "final_val_accuracy": (val or {}).get(row.number, acc),
                         "final_train_accuracy": acc + 0.01, "running_accuracy": 0.0})
    return pd.DataFrame(rows)


def test_compare_verdicts_and_holm():
    table = summary.compare(PAIRS, make_runs(shift={9: -0.1}))
    assert list(table.index) == list(range(1, 17))
    assert table.loc[1, "key"] == table.loc[2, "key"] and table.loc[1, "mean"] == table.loc[2, "mean"]
    assert table.loc[3, "verdict"] == BOTH_CHANCE and table.loc[4, "verdict"] == BOTH_CHANCE
    assert math.isnan(table.loc[3, "p_holm"])
    assert table.loc[9, "verdict"] == NO and table.loc[9, "z"] < -10 and table.loc[9, "p_holm"] < 0.05
    assert table.loc[2, "verdict"] == NO  # rows 1 and 2 share runs centred on row 1's 0.8764: 0.8507 is far off
    assert (table.drop([2, 3, 4, 9])["verdict"] == YES).all()
    assert table.loc[3, "diverged"] == 5 and table.loc[1, "diverged"] == 0
    assert table.loc[1, "paper_se"] == pytest.approx(math.sqrt(0.0005 / 39))
    assert (table["pi_low"] <= table["mean"]).all() and (table["mean"] <= table["pi_high"]).all()


def test_best_is_chosen_by_validation_not_test():
    val = {r.number: 0.5 for r in paper.ROWS} | {5: 0.95}
    table = summary.compare(PAIRS, make_runs(val=val))
    assert table["mean"].idxmax() == 16  # the best test accuracy ...
    runs = make_runs(val=val)
    assert summary.best_by_validation(table, runs).name == 5  # ... is not what is chosen
    assert summary.best_by_validation(table, runs, [1, 2, 6]).name == 1  # one configuration: the lower row
    assert summary.best_by_validation(table, runs, [3]) is None  # row 3's runs diverged
    text = summary.findings(table, runs)
    assert "row 5 (SGD lr=0.01)" in text and "tuned while looking at test accuracies" in text


def test_findings_when_everything_diverged():
    runs = make_runs().assign(diverged=True)
    text = summary.findings(summary.compare(PAIRS, runs), runs)
    assert "every configuration had a diverged run, so none is chosen" in text


def test_findings_and_agreement_sentences():
    runs = make_runs(shift={9: -0.1})
    table = summary.compare(PAIRS, runs)
    text = summary.findings(table, runs)
    assert "about 0.7 of 14 rows" in text and "here 2 do" in text  # 16 rows minus the two at chance
    assert "rows 3, 4 are at chance both here and in the report" in text
    assert "The farthest is row 9" in text and "2 row(s) still differ" in text and "row 9 (adjusted p < 0.0001)" in text
    assert "0.8764 and 0.8507" in text and "next chapter" in text
    assert "Diverged or at chance" in text and "row 3 (Adam lr=0.1)" in text
    calm = table.assign(verdict=YES)
    assert "for 16 of the 16 rows" in summary.agreement(calm) and "here 0 do" in summary.agreement(calm)
    assert "Holm" not in summary.agreement(calm)
    weak = table.copy()
    weak.loc[[2, 9], "p_holm"] = 0.2
    assert "no row differs at the family-wise" in summary.agreement(weak)
    one = summary.compare(PAIRS, make_runs(n=1, at_chance=()))
    assert (one.drop([3, 4])["verdict"] == NA).all() and "no row can be tested" in summary.agreement(one)


# ----------------------------------------------------------------------------------------------- fitting


def history(rows):
    return pd.DataFrame(rows, columns=["key", "label", "seed", "epoch", "metric", "value"])


def test_fitting_uses_eval_mode_train_accuracy_and_skips_diverged_runs():
    runs = pd.DataFrame([
        {"key": "a", "seed": 0, "diverged": False, "final_train_accuracy": 0.95, "final_val_accuracy": 0.90,
         "test_accuracy": 0.89, "running_accuracy": 0.5},
        {"key": "a", "seed": 1, "diverged": True, "final_train_accuracy": 0.10, "final_val_accuracy": 0.10,
         "test_accuracy": 0.10, "running_accuracy": 0.5},
        {"key": "b", "seed": 0, "diverged": False, "final_train_accuracy": 0.70, "final_val_accuracy": 0.70,
         "test_accuracy": 0.70, "running_accuracy": 0.5},
    ])
    h = history([("a", "", 0, e, "val_loss", v) for e, v in enumerate([0.5, 0.3, 0.4], 1)]
                + [("a", "", 1, e, "val_loss", v) for e, v in enumerate([0.5, 0.1, 9.0], 1)]  # the diverged seed
                + [("b", "", 0, e, "val_loss", v) for e, v in enumerate([0.9, 0.8], 1)])
    fit = summary.fitting(runs, h, {"b": "1: b", "a": "2: a", "c": "3: never ran"})
    assert list(fit.index) == ["1: b", "2: a"]
    assert fit.loc["2: a", "train"] == 0.95 and fit.loc["2: a", "gap"] == pytest.approx(0.05)
    assert fit.loc["2: a", "val_loss_rise"] == pytest.approx(0.1) and fit.loc["1: b", "val_loss_rise"] == 0.0
    text = summary.fitting_sentences(fit)
    assert "1 configuration(s) fit their training images more than 0.02" in text and "2: a (+0.0500)" in text
    assert "validation loss ended more than 0.02" in text and "2: a (+0.100)" in text
    assert "Under-fitting" in text and "row 1: b (0.7000)" in text


def test_fitting_sentences_quiet_branches():
    fit = pd.DataFrame({"train": [0.90, 0.88], "val": [0.89, 0.875], "test": [0.88, 0.87], "gap": [0.01, 0.005],
                        "val_loss_rise": [0.0, 0.01]}, index=["1: x", "2: y"])
    text = summary.fitting_sentences(fit)
    assert "No configuration's gap exceeds 0.02" in text
    assert "In no configuration did the validation loss" in text
    assert "none under-fits markedly" in text
    assert "Every run diverged" in summary.fitting_sentences(fit.iloc[:0])


def test_anchors_and_settings_note():
    table = summary.compare(PAIRS, make_runs())
    mnist = pd.Series({"mean": 0.982, "sd": 0.001, "n": 5, "ci_low": 0.981, "ci_high": 0.983})
    text = summary.anchors(table, mnist)
    assert "0.9818" in text and "inside our 95 % prediction interval" in text and "0.8967" in text
    one = pd.Series({"mean": 0.982, "sd": float("nan"), "n": 1, "ci_low": float("nan"), "ci_high": float("nan")})
    assert "one seed, so no interval" in summary.anchors(table, one)
    quick, full = experiments.settings("quick"), experiments.settings("full")
    assert "shortened run" in summary.settings_note(quick) and "shortened" not in summary.settings_note(full)
    assert "all training images" in summary.settings_note(full)
