"""fcnbook.stats.verdicts: every categorical rule of the sentences, at and around its threshold; and the p-value
format that never rounds across 0.05."""

import math

import pytest

from fcnbook.report.text import p_value
from fcnbook.stats import verdicts as v


def test_thresholds_are_the_stated_ones():
    assert (v.ALPHA, v.CHANCE, v.OVERFIT_GAP, v.UNDERFIT, v.BEHIND) == (0.05, 0.2, 0.02, 0.05, 0.05)
    assert (v.OUTLIER_SD, v.OUTLIER_FLOOR, v.PAIRING_HELPS, v.NEGLIGIBLE, v.DIGITS) == (3.0, 0.02, 0.7, 0.25, 4)


def test_detectable_and_effect_at_the_boundary():
    assert v.detectable(0.0499) and not v.detectable(0.05) and not v.detectable(0.5)
    assert not v.detectable(float("nan")) and not v.detectable(None)
    assert v.effect(+0.01, 0.0499) == v.GAIN and v.effect(-0.01, 0.0499) == v.LOSS
    assert v.effect(+0.01, 0.05) == v.NONE and v.effect(-0.01, float("nan")) == v.NONE
    # random normal in the initialisation chapter: paired p = 0.023 alone, 0.113 after Holm over five
    assert v.effect(-0.0068, 0.023) == v.LOSS and v.effect(-0.0068, 0.113) == v.NONE


@pytest.mark.parametrize("train, val, best, want", [
    (0.1999, 0.10, 0.95, v.AT_CHANCE),  # below chance wins over everything
    (0.2000, 0.10, 0.95, v.OVER),  # at 0.2 it is not at chance; its gap 0.1 is over
    (0.9200, 0.9000, 0.92, v.NEITHER),  # gap exactly 0.02: not over
    (0.9201, 0.9000, 0.92, v.OVER),  # gap 0.0201: over
    (0.92004, 0.90, 0.92, v.NEITHER),  # gap 0.02004 shows as +0.0200: not over (the table's precision)
    (0.8900, 0.8800, 0.9400, v.UNDER),  # 0.05 below the best: under (at least 0.05)
    (0.8901, 0.8800, 0.9400, v.NEITHER),  # 0.0499 below: not under
    (0.8921, 0.8633, 0.9429, v.OVER),  # the baseline: over AND 0.0508 below the best -> over only (order)
    (float("nan"), 0.5, 0.9, v.NA),
])
def test_fit_is_one_exclusive_category(train, val, best, want):
    assert v.fit(train, val, best) == want


def test_single_run_and_table1_verdicts():
    assert v.single_run(0.05, 1.0) == v.CONSISTENT  # p exactly 0.05: inside the 95 % interval
    assert v.single_run(0.0499, 0.2) == v.OUTSIDE
    assert v.single_run(0.001, 0.0499) == v.DIFFERS and v.single_run(0.001, 0.05) == v.OUTSIDE
    assert v.single_run(float("nan"), float("nan")) == v.NA
    assert v.table1(0.11, 0.1135, 5, 0.0) == v.BOTH_CHANCE
    assert v.table1(0.1999, 0.1999, 5, 0.0) == v.BOTH_CHANCE and v.table1(0.2, 0.1, 5, 0.0) == v.NO
    assert v.table1(0.9, 0.85, 1, float("nan")) == v.ONE_SEED
    assert v.table1(0.9, 0.85, 5, 0.05) == v.YES and v.table1(0.9, 0.85, 5, 0.0499) == v.NO


def test_outlying_seeds():
    bn = {0: 0.8652, 1: 0.8801, 2: 0.7952, 3: 0.8760, 4: 0.8570}
    (o,) = v.outlying_seeds(bn)
    assert o["seed"] == 2 and o["low"] == 0.8570 and o["high"] == 0.8801 and o["z"] == pytest.approx(-7.1, abs=0.05)
    rest = [0.86, 0.87, 0.88, 0.87]  # mean 0.87, SD 0.008165
    sd = 0.0081649658
    # exactly 3 SDs (and more than 0.02) away: not apart; 3.1 SDs: apart
    assert v.outlying_seeds(dict(enumerate(rest + [0.87 - 3 * sd]))) == []
    assert [o["seed"] for o in v.outlying_seeds(dict(enumerate(rest + [0.87 - 3.1 * sd])))] == [4]
    # far in SDs but only 0.02 in accuracy: not apart (the floor); 0.0201 is
    tight = [0.870, 0.8701, 0.8699, 0.870]
    assert v.outlying_seeds(dict(enumerate(tight + [0.850]))) == []
    assert [o["seed"] for o in v.outlying_seeds(dict(enumerate(tight + [0.8499])))] == [4]
    assert v.outlying_seeds({0: 0.5, 1: 0.9, 2: 0.9}) == []  # fewer than three other seeds
    assert v.outlying_seeds({0: 0.9, 1: 0.9, 2: 0.9, 3: 0.9, 4: 0.5})[0]["z"] == -math.inf


def test_pairing_shift_run_gap_cell_compare():
    assert v.pairing(0.0069, 0.01) == v.REMOVES_PART and v.pairing(0.007, 0.01) == v.REMOVES_LITTLE
    assert v.pairing(0.0099, 0.01) == v.REMOVES_LITTLE and v.pairing(0.01, 0.01) == v.REMOVES_NONE
    assert v.pairing(0.0175, 0.0113) == v.REMOVES_NONE and v.pairing(float("nan"), 0.01) == v.NA
    assert v.shift(0.0019, 0.008) == v.NEGLIGIBLE_SHIFT and v.shift(-0.002, 0.008) == v.NOT_NEGLIGIBLE_SHIFT
    assert v.run_gap(0.001, 0.0499) == v.BEYOND and v.run_gap(0.03, 0.05) == v.UNUSUAL
    assert v.run_gap(0.05, 0.2) == v.WITHIN
    assert v.cell(0.1999, 0.9) == v.NEAR_CHANCE and v.cell(0.2, 0.9) == v.BEHIND_CELL
    assert v.cell(0.85, 0.90) == v.CLOSE and v.cell(0.8499, 0.90) == v.BEHIND_CELL
    assert v.cell(0.85, float("nan")) == v.CLOSE and v.cell(float("nan"), 0.9) == v.NA
    assert v.compare(0.01721, 0.01719) == v.EQUAL and v.compare(0.0173, 0.0172) == v.MORE
    assert v.compare(0.0171, 0.0172) == v.LESS


def test_p_value_never_rounds_across_alpha():
    assert p_value(0.0496) == "0.0496" and p_value(0.0449) == "0.045" and p_value(0.051) == "0.051"
    assert p_value(0.04999) == "0.04999" and p_value(0.05) == "0.05" and p_value(0.0501) == "0.05"
    assert p_value(0.032, True) == "= 0.032" and p_value(1e-9) == "< 0.0001" and p_value(float("nan")) == "n/a"
