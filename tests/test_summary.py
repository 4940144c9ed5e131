"""fcnbook.report.chapters.summary: the Table 1 comparison, its verdicts, the over-fitting analysis and the
sentences (the prediction interval and the rules themselves: test_stats_report.py, test_verdicts.py)."""

import math

import numpy as np
import pandas as pd
import pytest

from fcnbook.report import experiments, paper
from fcnbook.report.chapters import summary
from fcnbook.stats.prediction import single_run
from fcnbook.stats.verdicts import AT_CHANCE, BOTH_CHANCE, NEITHER, NO, ONE_SEED, OVER, UNDER, YES

PAIRS = experiments.table1(experiments.settings("quick"))


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
    runs = make_runs(shift={9: -0.1})
    table = summary.compare(PAIRS, runs)
    assert list(table.index) == list(range(1, 17))
    assert table.loc[1, "key"] == table.loc[2, "key"] and table.loc[1, "mean"] == table.loc[2, "mean"]
    assert table.loc[3, "verdict"] == BOTH_CHANCE and table.loc[4, "verdict"] == BOTH_CHANCE
    assert math.isnan(table.loc[3, "p_holm"])
    assert table.loc[9, "verdict"] == NO and table.loc[9, "z"] < -10 and table.loc[9, "p_holm"] < 0.05
    # rows 1 and 2 share runs centred on row 1's 0.8764: 0.8507 is far off
    assert table.loc[2, "verdict"] == NO and table.loc[2, "p_holm"] < 0.05
    assert (table.drop([2, 3, 4, 9])["verdict"] == YES).all()
    assert table.loc[3, "diverged"] == 5 and table.loc[1, "diverged"] == 0
    assert table.loc[1, "paper_se"] == pytest.approx(math.sqrt(0.0005 / 39))
    assert (table["pi_low"] <= table["mean"]).all() and (table["mean"] <= table["pi_high"]).all()
    assert (table["df"] == 4).all()  # n - 1: the one prediction interval
    acc = runs.loc[runs["key"] == table.loc[5, "key"], "test_accuracy"]
    t = single_run(acc, paper.ROWS[4].accuracy)
    assert (table.loc[5, "pi_low"], table.loc[5, "pi_high"], table.loc[5, "p"]) == (t.interval.low, t.interval.high,
                                                                                    t.p)


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
    assert "The farthest is row 9" in text and "2 row(s) still differ" in text
    assert "row 9 (adjusted p = 0.00037)" in text
    assert "After Holm's adjustment over the 14 rows tested" in text
    assert "0.8764 and 0.8507" in text and "next chapter" in text
    assert "Diverged or at chance" in text and "row 3 (Adam lr=0.1)" in text
    assert f"row 16 at {paper.ROWS[15].accuracy:.4f}" in text and "fifteen variations" not in text
    calm = table.assign(verdict=YES)
    assert "for 16 of the 16 rows" in summary.agreement(calm) and "here 0 do" in summary.agreement(calm)
    assert "Holm" not in summary.agreement(calm)
    weak = table.copy()
    weak.loc[[2, 9], "p_holm"] = 0.2
    assert "no row differs at the family-wise" in summary.agreement(weak)
    one = summary.compare(PAIRS, make_runs(n=1, at_chance=()))
    assert (one.drop([3, 4])["verdict"] == ONE_SEED).all() and "no row can be tested" in summary.agreement(one)


def test_method_counts_the_rows_it_tests():
    table = summary.compare(PAIRS, make_runs())
    text = summary.method(table)
    assert "Here 14 rows are tested" in text and "about 0.7" in text and "Sixteen" not in text
    assert "degrees of freedom stay $n - 1$" in text and "conservative" in text


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
    assert list(fit["category"]) == [UNDER, OVER] and (fit["best_train"] == 0.95).all()
    text = summary.fitting_sentences(fit)
    assert "Over-fitting, 1 configuration(s): row 2: a (+0.0500)" in text
    assert "validation loss ended more than 0.02" in text and "2: a (+0.100)" in text
    assert "Under-fitting, 1 configuration(s): row 1: b (0.7000)" in text


def test_over_and_under_fitting_lists_are_disjoint():
    """Rows 1 and 11-15 were listed as both over- and under-fitting: each row now has one category."""
    names = {f"k{i}": f"{i}: x" for i in range(6)}
    trains = [0.95, 0.892, 0.889, 0.85, 0.15, 0.94]
    vals = [0.90, 0.863, 0.886, 0.84, 0.14, 0.93]
    runs = pd.DataFrame([{"key": k, "seed": 0, "diverged": False, "final_train_accuracy": t,
                          "final_val_accuracy": v, "test_accuracy": v} for k, t, v in zip(names, trains, vals,
                                                                                           strict=True)])
    fit = summary.fitting(runs, history([]), names)
    assert list(fit["category"]) == [OVER, OVER, UNDER, UNDER, AT_CHANCE, NEITHER]
    text = summary.fitting_sentences(fit)
    over = text.split("- Over-fitting")[1].split("\n")[0]
    under = text.split("- Under-fitting")[1].split("\n")[0]
    assert "row 1: x" in over and "row 1: x" not in under  # gap 0.029 and 0.058 below the best: over only
    assert not {r for r in fit.index if f"row {r} " in over} & {r for r in fit.index if f"row {r} " in under}


def test_fitting_sentences_quiet_branches():
    fit = pd.DataFrame({"train": [0.90, 0.88], "val": [0.89, 0.875], "test": [0.88, 0.87], "gap": [0.01, 0.005],
                        "val_loss_rise": [0.0, 0.01], "best_train": 0.9, "category": NEITHER}, index=["1: x", "2: y"])
    text = summary.fitting_sentences(fit)
    assert "No configuration's gap exceeds 0.02" in text
    assert "In no configuration did the validation loss" in text
    assert "No configuration under-fits by this rule" in text
    assert "Every run diverged" in summary.fitting_sentences(fit.iloc[:0])


def test_anchors_and_settings_note():
    text = summary.anchors([0.89, 0.894, 0.898], [0.981, 0.982, 0.983])
    assert "0.9818 (the report) lies inside our 95 % prediction interval" in text and "0.8967" in text
    assert "Holm" not in text
    far = summary.anchors([0.95, 0.951, 0.952], [0.981, 0.982, 0.983])
    assert "0.8967 (the report) lies outside" in far and "Holm over the report's two other figures" in far
    assert "cannot be set against one seed" in summary.anchors([0.9], [0.982])
    quick, full = experiments.settings("quick"), experiments.settings("full")
    from fcnbook.report import text as t
    assert "shortened run" in t.settings_note(quick, True) and "shortened" not in t.settings_note(full, False)
    assert "all training images" in t.settings_note(full, False)
