"""The frontier chapter's rules on hand-made runs: Holm, the verdict's boundaries, the Pareto front, the ladder."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fcnbook.report import experiments, ladder
from fcnbook.report.chapters import frontier


def test_holm_matches_the_step_down_rule_by_hand():
    p = pd.Series([0.01, 0.04, 0.03, np.nan], index=list("abcd"))
    adj = frontier.holm(p)
    # sorted 0.01, 0.03, 0.04 -> 3*0.01, max(0.03, 2*0.03), max(0.06, 1*0.04)
    assert adj["a"] == pytest.approx(0.03) and adj["c"] == pytest.approx(0.06) and adj["b"] == pytest.approx(0.06)
    assert math.isnan(adj["d"])


@pytest.mark.parametrize("p, gain, want", [
    (0.0499, 0.001, "helps"), (0.0499, -0.001, "hurts"), (0.05, 0.01, "no detectable change"),
    (0.5, 0.02, "no detectable change"), (float("nan"), 0.02, "no detectable change"),
])
def test_verdict_boundaries(p, gain, want):
    assert frontier.verdict(p, gain) == want


def test_pareto_front_keeps_only_undominated_points():
    pts = pd.DataFrame({"gflop": [1, 2, 2, 3, 5], "mean": [0.88, 0.90, 0.89, 0.895, 0.91]}, index=list("abcde"))
    assert frontier.pareto_front(pts) == ["a", "b", "e"]  # c: same cost, less accurate; d: dearer and worse than b


def test_rung_table_gains_are_paired_by_seed():
    S = experiments.settings("quick")
    rungs = [ladder.Rung("r0", "base", experiments.baseline(S)),
             ladder.Rung("r1", "more", experiments.baseline(S, lr=0.05)),
             ladder.Rung("r2", "less", experiments.baseline(S, lr=0.02))]
    rng = np.random.default_rng(0)
    base = 0.85 + rng.normal(0, 0.01, 5)
    acc = {0: base, 1: base + 0.01 + rng.normal(0, 0.001, 5), 2: base + 0.01 + rng.normal(0, 0.001, 5)}
    runs = pd.DataFrame([{"key": r.config.key(), "label": r.name, "seed": s, "test_accuracy": acc[i][s]}
                         for i, r in enumerate(rungs) for s in range(5)])
    t = frontier.rung_table(rungs, runs)
    assert list(t.index) == ["r0", "r1", "r2"] and math.isnan(t.loc["r0", "gain"])
    d = acc[1] - acc[0]
    assert t.loc["r1", "gain"] == pytest.approx(d.mean())
    assert t.loc["r1", "p"] == pytest.approx(stats.ttest_rel(acc[1], acc[0]).pvalue)
    lo, hi = sorted([t.loc["r1", "p"], t.loc["r2", "p"]])  # Holm over the family of two, by hand
    assert sorted(t["p_holm"].dropna()) == pytest.approx([min(1, 2 * lo), min(1, max(2 * lo, hi))])
    assert frontier.verdict(t.loc["r1", "p_holm"], t.loc["r1", "gain"]) == "helps"
    assert (t["gflop"] > 0).all() and t.loc["r0", "gflop"] == pytest.approx(t.loc["r1", "gflop"])


def test_each_rung_adds_exactly_its_ingredient():
    S = experiments.settings("full")
    rungs = ladder.ladder(S)
    assert rungs[0].config == experiments.tuned(S)  # the report's tuned network as its code ran it
    for (name, _, changes), before, after in zip(ladder.STEPS[1:], rungs[:-1], rungs[1:], strict=True):
        moved = {f for f in before.config.to_dict() if before.config.to_dict()[f] != after.config.to_dict()[f]}
        assert moved == set(changes), name
    assert rungs[ladder.STEPS.index(next(s for s in ladder.STEPS if s[0] == "long"))].config.epochs == 200
    assert len({r.config.key() for r in rungs}) == len(rungs)
    assert ladder.seeds(S) == (5, 6, 7, 8, 9) and not set(ladder.seeds(S)) & set(S.seeds)  # fresh seeds


def test_frontier_verb_lists_the_ladder_and_refuses_bad_rungs(capsys):
    from fcnbook.cli.main import main

    assert main(["frontier"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(ladder.STEPS) and lines[0].split()[1] == "report"
    with pytest.raises(SystemExit) as e:
        main(["frontier", "--train", "0-99"])
    assert e.value.code == 2 and "--train must list rungs from 0 to 9" in capsys.readouterr().err
