"""Statistics of fcnbook.store.frames and fcnbook.stats against scipy and statsmodels (a dev dependency) as oracles."""

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar as statsmodels_mcnemar

from fcnbook.config import RunConfig
from fcnbook.stats.seed_pairs import mcnemar_by_seed
from fcnbook.store import frames as results
from fcnbook.store.frames import Results

BASE = RunConfig(hidden=(8,), epochs=2)
A, B = BASE.replace(dropout=0.5), BASE.replace(batch_norm=True)


def runs_frame(values: dict) -> pd.DataFrame:
    """``{config: {seed: accuracy}}`` -> a runs frame with the columns the statistics read."""
    rows = [{"key": c.key(), "label": c.label(), "seed": s, "test_accuracy": v, "diverged": False,
             "diverged_epoch": None} for c, by_seed in values.items() for s, v in by_seed.items()]
    return pd.DataFrame(rows)


def test_paired_differences_match_scipy_ttest_rel():
    base = {0: 0.860, 1: 0.871, 2: 0.855, 3: 0.866, 4: 0.862}
    a = {4: 0.869, 2: 0.861, 0: 0.867, 1: 0.874, 3: 0.872}  # other order: matched by seed, not by position
    out = results.paired_differences(runs_frame({BASE: base, A: a}), BASE, [A])
    x, y = np.array([a[s] for s in range(5)]), np.array([base[s] for s in range(5)])
    t = stats.ttest_rel(x, y)
    ci = t.confidence_interval(0.95)
    r = out.loc[A.key()]
    assert r["n"] == 5 and r["label"] == A.label()
    assert r["mean"] == pytest.approx((x - y).mean()) and r["sd"] == pytest.approx((x - y).std(ddof=1))
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((ci.low, ci.high))
    assert r["p"] == pytest.approx(t.pvalue)


def test_paired_differences_use_only_seeds_present_in_both_and_any_column():
    runs = runs_frame({BASE: {0: 0.5, 1: 0.6, 2: 0.7}, A: {1: 0.65, 2: 0.71, 7: 0.9}})
    out = results.paired_differences(runs, BASE.key(), [A.key()])
    assert out.loc[A.key(), "n"] == 2 and out.loc[A.key(), "mean"] == pytest.approx((0.05 + 0.01) / 2)
    runs["gap"] = runs["test_accuracy"] * 2
    assert results.paired_differences(runs, BASE, [A], value="gap").iloc[0]["mean"] == pytest.approx(0.06)


def test_paired_differences_undefined_spread_is_nan():
    one = results.paired_differences(runs_frame({BASE: {0: 0.5}, A: {0: 0.6}}), BASE, [A]).iloc[0]
    assert one["mean"] == pytest.approx(0.1) and one["n"] == 1
    assert all(math.isnan(one[c]) for c in ("sd", "ci_low", "ci_high", "p"))
    flat = results.paired_differences(runs_frame({BASE: {0: 0.5, 1: 0.6}, A: {0: 0.6, 1: 0.7}}), BASE, [A]).iloc[0]
    assert flat["sd"] == pytest.approx(0) and flat["ci_low"] == pytest.approx(0.1) and math.isnan(flat["p"])


def exact_mcnemar(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value written out: twice the smaller binomial tail at 1/2, capped at 1."""
    n = b + c
    tail = sum(math.comb(n, k) for k in range(min(b, c) + 1)) / 2**n
    return min(1.0, 2 * tail)


def test_mcnemar_by_seed_counts_discordant_pairs_and_matches_the_exact_binomial():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 500)
    a = np.where(rng.random((3, 500)) < 0.85, y, (y + 1) % 10)
    b = np.where(rng.random((3, 500)) < 0.80, y, (y + 2) % 10)
    m = mcnemar_by_seed(a, b, y)
    ra, rb = a == y, b == y
    assert m.only_a == tuple(int(x) for x in (ra & ~rb).sum(1)) and m.only_b == tuple(int(x) for x in (rb & ~ra).sum(1))
    assert m.p == pytest.approx([exact_mcnemar(i, j) for i, j in zip(m.only_a, m.only_b, strict=True)])


def test_mcnemar_by_seed_agrees_with_statsmodels():
    y = np.zeros(40, dtype=int)
    a = np.array([[0] * 30 + [1] * 10])  # right on the first 30
    b = np.array([[0] * 22 + [1] * 12 + [0] * 6])  # right on 22 of those, and on 6 that a gets wrong
    m = mcnemar_by_seed(a, b, y)
    assert (m.only_a, m.only_b) == ((8,), (6,))
    assert m.p[0] == pytest.approx(statsmodels_mcnemar([[22, 8], [6, 4]], exact=True).pvalue)
    # and on random pairs of predictions, seed by seed, from balanced to lopsided discordance
    rng = np.random.default_rng(1)
    y = rng.integers(0, 10, 300)
    for p_b in (0.85, 0.8, 0.7):
        a = np.where(rng.random((3, 300)) < 0.85, y, (y + 1) % 10)
        b = np.where(rng.random((3, 300)) < p_b, y, (y + 2) % 10)
        m = mcnemar_by_seed(a, b, y)
        ra, rb = a == y, b == y
        for i in range(3):
            table = [[int((ra[i] & rb[i]).sum()), int((ra[i] & ~rb[i]).sum())],
                     [int((~ra[i] & rb[i]).sum()), int((~ra[i] & ~rb[i]).sum())]]
            assert m.p[i] == pytest.approx(statsmodels_mcnemar(table, exact=True).pvalue, rel=1e-9), (p_b, table)


def test_mcnemar_by_seed_without_discordant_pairs_and_bad_shapes():
    y = np.array([0, 1, 2])
    assert mcnemar_by_seed([[0, 1, 2], [0, 0, 0]], [[0, 1, 2], [0, 0, 0]], y).p == (1.0, 1.0)
    with pytest.raises(ValueError, match="do not pair up"):
        mcnemar_by_seed([[0, 1, 2]], [0, 1], y)


def test_welch_difference_matches_scipy():
    a, b = [0.98, 0.981, 0.979, 0.983], [0.97, 0.968, 0.975, 0.969, 0.972]
    d = results.welch_difference(a, b)
    t = stats.ttest_ind(a, b, equal_var=False)
    ci = t.confidence_interval(0.95)
    assert d["mean"] == pytest.approx(np.mean(a) - np.mean(b))
    assert (d["ci_low"], d["ci_high"], d["p"]) == pytest.approx((ci.low, ci.high, t.pvalue))
    assert math.isnan(results.welch_difference([0.9], [0.8, 0.7])["ci_low"])


def make_res(accuracy: dict, predictions: dict, diverged: dict | None = None) -> Results:
    runs = runs_frame(accuracy)
    for (config, seed), epoch in (diverged or {}).items():
        row = (runs["key"] == config.key()) & (runs["seed"] == seed)
        runs.loc[row, ["diverged", "diverged_epoch"]] = [True, epoch]
    records = [{"key": c.key(), "seed": s, "test_predictions": list(p)} for (c, s), p in predictions.items()]
    return Results(runs=runs, history=pd.DataFrame(), records=records)


def test_divergence_notes_and_display_names():
    runs = runs_frame({BASE: {0: 0.8, 1: 0.8, 2: 0.8}, A: {0: 0.1, 1: 0.1, 2: 0.8}})
    runs.loc[(runs["key"] == A.key()) & (runs["seed"] < 2), ["diverged", "diverged_epoch"]] = [True, 2]
    d = results.divergence(runs)
    assert d.loc[BASE.key(), "note"] == "n=3" and d.loc[A.key(), "diverged"] == 2
    assert d.loc[A.key(), "note"] == "n=1 of 3, 2 diverged at epoch 2"
    runs.loc[(runs["key"] == A.key()) & (runs["seed"] == 1), "diverged_epoch"] = 3
    assert results.divergence(runs).loc[A.key(), "note"] == "n=1 of 3, 2 diverged at epochs 2, 3"
    assert results.display_names({("sgd", 0.1): BASE, 0.5: A, "bn": B}) == {
        BASE.key(): "sgd lr=0.1", A.key(): "dropout 0.5", B.key(): "bn"}
    assert results.display_names([BASE]) == {BASE.key(): BASE.label()}
    assert results.display_names({0.0: BASE}) == {BASE.key(): "no dropout"}


def test_results_imports_without_torch():
    code = ("import sys, fcnbook.store.frames, fcnbook.report.chapters.evidence, fcnbook.report.chapters.batch_norm; "
            "print('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() \
        == "False"


def test_t_interval_and_paired_t_match_scipy():
    from fcnbook.stats.intervals import t_interval
    from fcnbook.stats.paired import paired_t

    x = np.array([0.861, 0.874, 0.858, 0.869, 0.866])
    got = t_interval(x)
    ci = stats.ttest_1samp(x, 0.0).confidence_interval(0.95)
    assert got["n"] == 5 and got["sd"] == pytest.approx(np.std(x, ddof=1))
    assert (got["mean"], got["ci_low"], got["ci_high"]) == pytest.approx((x.mean(), ci.low, ci.high))
    d = paired_t(x - 0.86)
    assert d["p"] == pytest.approx(stats.ttest_1samp(x - 0.86, 0.0).pvalue)
    empty = paired_t([])
    assert empty["n"] == 0 and all(math.isnan(empty[c]) for c in ("mean", "sd", "ci_low", "ci_high", "p"))
