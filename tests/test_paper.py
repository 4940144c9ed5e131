"""The seed report's Table 1 as data: rows, configs and profile handling."""

import math

import pytest

from fcnbook.config import RunConfig
from fcnbook.report import paper


def test_sixteen_rows_in_printed_order():
    assert [r.number for r in paper.ROWS] == list(range(1, 17))
    assert [r.accuracy for r in paper.ROWS][:3] == [0.8764, 0.8507, 0.1135]
    assert paper.ROWS[-1].accuracy == 0.9011
    assert [r.lr for r in paper.ROWS[:10]] == [0.1] * 4 + [0.01] * 3 + [0.001] * 3
    assert all(isinstance(r.config, RunConfig) for r in paper.ROWS)


def test_rows_one_and_two_are_the_same_run():
    one, two = (paper.ROWS[i - 1] for i in paper.IDENTICAL_ROWS)
    assert one.config == two.config and one.config.key() == two.config.key()
    assert one.accuracy != two.accuracy  # the report's unseeded reruns differ
    keys = [r.config.key() for r in paper.ROWS]
    assert len(set(keys)) == 15  # every other row is a distinct configuration


def test_baseline_and_mappings():
    base = paper.ROWS[0].config
    assert base.hidden == (500, 50) and base.optimizer == "sgd" and base.lr == 0.1 and base.epochs == 15
    assert base.init == "default" and not base.batch_norm and base.dropout == 0.0
    by_number = {r.number: r.config for r in paper.ROWS}
    assert by_number[11].dropout == 0.5
    # What the report's original code ran: std 0.01, kaiming_normal_ for "He Uniform", weights re-drawn only.
    assert by_number[12].init == "normal" and by_number[12].init_std == 0.01
    assert by_number[13].init == "xavier_normal"
    assert by_number[14].init == "kaiming_normal"
    assert all(by_number[n].default_bias for n in (12, 13, 14, 16))
    assert not any(by_number[n].default_bias for n in range(1, 12))
    assert by_number[15].batch_norm
    assert (by_number[3].optimizer, by_number[7].optimizer) == ("adam", "rmsprop")


def test_tuned_row():
    row = paper.ROWS[15]
    assert row.tuned and not row.baseline
    c = row.config
    assert (c.hidden, c.optimizer, c.lr, c.dropout, c.init, c.epochs) == (
        (700, 200, 50), "rmsprop", 1e-4, 0.15, "kaiming_normal", 70
    )
    assert sum(r.tuned for r in paper.ROWS) == 1


def test_sd_column_is_a_variance():
    row = paper.ROWS[0]
    assert row.sd_column == 0.0005
    assert row.sd_from_variance == pytest.approx(math.sqrt(0.0005))


def test_table1_frame():
    df = paper.table1_frame()
    assert len(df) == 16 and df.loc[16, "optimizer"] == "RMSProp"
    assert df.loc[1, "sqrt_sd_column"] == pytest.approx(math.sqrt(0.0005))
    assert "tuned" in paper.ROWS[15].describe() and "Random Normal" in paper.ROWS[11].describe()


def test_sd_column_matches_the_sampling_error_of_a_per_batch_mean():
    """The "SD" column is np.var over 40 test batches (39 of 256, one of 16): sqrt(var / 39) is the sampling error
    of the per-batch mean, which for independent errors is 1.16 * sqrt(p (1 - p) / 10 000). The printed variances
    (one significant figure) agree with that for every row away from chance."""
    from fcnbook.report.chapters.protocol import batch_mean_se_factor

    for row in paper.ROWS:
        if row.accuracy > 0.5:
            binomial = batch_mean_se_factor() * math.sqrt(row.accuracy * (1 - row.accuracy) / 10_000)
            assert 0.75 < math.sqrt(row.sd_column / 39) / binomial < 1.35, row.number
