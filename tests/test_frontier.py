"""The frontier chapter's rules on hand-made runs: Holm, the verdict's boundaries, the Pareto front, the ladder."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fcnbook.report import experiments, frontier_figures, ladder, paper
from fcnbook.report.chapters import frontier, frontier_text, headlines
from fcnbook.stats.pareto import pareto_front

SHIPPED = Path(__file__).resolve().parents[1] / "results"


@pytest.mark.parametrize("p, gain, want", [
    (0.0499, 0.001, "helps"), (0.0499, -0.001, "hurts"), (0.05, 0.01, "no detectable change"),
    (0.5, 0.02, "no detectable change"), (float("nan"), 0.02, "no detectable change"),
])
def test_verdict_boundaries(p, gain, want):
    assert frontier.verdict(p, gain) == want


def test_pareto_front_keeps_only_undominated_points():
    pts = pd.DataFrame({"gflop": [1, 2, 2, 3, 5], "mean": [0.88, 0.90, 0.89, 0.895, 0.91]}, index=list("abcde"))
    assert pareto_front(pts) == ["a", "b", "e"]  # c: same cost, less accurate; d: dearer and worse than b


def test_rung_table_gains_are_paired_by_seed():
    S = experiments.settings("quick")
    rungs = [ladder.Rung("r0", "base", "base in full", experiments.baseline(S)),
             ladder.Rung("r1", "more", "more in full", experiments.baseline(S, lr=0.05)),
             ladder.Rung("r2", "less", "less in full", experiments.baseline(S, lr=0.02))]
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
    for (name, _, _, changes), before, after in zip(ladder.STEPS[1:], rungs[:-1], rungs[1:], strict=True):
        moved = {f for f in before.config.to_dict() if before.config.to_dict()[f] != after.config.to_dict()[f]}
        assert moved == set(changes), name
    long = rungs[ladder.STEPS.index(next(s for s in ladder.STEPS if s[0] == "long"))]
    assert long.config.epochs == 200 and long.ingredient == "long training: 200 epochs instead of 70"
    assert long.short == "200 epochs"
    assert all("{" not in r.ingredient + r.short for r in rungs + ladder.ladder(experiments.settings("quick")))
    assert len({r.config.key() for r in rungs}) == len(rungs)
    assert ladder.seeds(S) == (5, 6, 7, 8, 9) and not set(ladder.seeds(S)) & set(S.seeds)  # fresh seeds


def test_frontier_verb_lists_the_ladder_and_refuses_bad_rungs(capsys):
    from fcnbook.cli.main import main

    assert main(["frontier"]) == 0
    lines = capsys.readouterr().out.splitlines()
    S = experiments.settings("full")
    named = [*ladder.extras(S), *ladder.checks(S)]  # the extras, then the distillation check's students
    assert len(lines) == len(ladder.STEPS) + len(named) and lines[0].split()[1] == "report"
    assert [line.split()[0] for line in lines[len(ladder.STEPS):]] == named
    for bad in ("0-99", "peer,teacher", ""):
        with pytest.raises(SystemExit) as e:
            main(["frontier", "--train", bad])
        assert e.value.code == 2 and f"--train must list rungs from 0 to {len(ladder.STEPS) - 1}" in \
            capsys.readouterr().err


def test_train_accepts_rung_numbers_and_extra_names():
    from fcnbook.cli.frontier import rungs_of

    assert rungs_of("0-2,peer,4", 9, ("peer", "mnist")) == [0, 1, 2, "peer", 4]
    with pytest.raises(ValueError, match="or one of peer, mnist"):
        rungs_of("teacher", 9, ("peer", "mnist"))


def test_extras_are_declared_from_the_teacher_rung():
    S = experiments.settings("full")
    teacher = ladder.rung(S, ladder.TEACHER_RUNG)
    d = ladder.distilled(S)
    assert d.replace(teacher="", teacher_seeds=experiments.RunConfig().teacher_seeds, distill_weight=0.0) == teacher
    assert d.teacher == teacher.key() and d.teacher_seeds == ladder.seeds(S) and 0 < d.distill_weight <= 1
    m = ladder.mnist(S)
    assert m.dataset == "mnist" and m.replace(dataset="fashion") == teacher
    assert all(r.config.augment != "shift_flip" for r in ladder.ladder(S, "mnist"))  # no mirrored digits
    assert ladder.ladder(S, "mnist")[4].config.augment == "shift"
    with pytest.raises(ValueError, match="rung must be one of report, adamw-onecycle"):
        ladder.rung(S, "wide")


def test_the_teacher_rung_is_the_best_validation_mean_of_its_candidates(monkeypatch):
    """The declared rule, checked against the shipped records: validation decides, never the test set."""
    from fcnbook.store.frames import stored_results

    monkeypatch.setenv("FCNBOOK_RESULTS", str(SHIPPED))  # the shipped store, whatever the caller set
    S = experiments.settings("full")
    candidates = ladder.ladder(S)[: ladder.TEACHER_CANDIDATES]
    res = stored_results([r.config for r in candidates], list(ladder.seeds(S)))
    val = {r.name: res.runs.loc[res.runs["key"] == r.config.key(), "final_val_accuracy"].astype(float).mean()
           for r in candidates}
    assert max(val, key=val.get) == ladder.TEACHER_RUNG


def test_best_rung_extras_carry_the_best_rung_by_validation_over_the_whole_ladder(monkeypatch):
    """``distilled-best`` and ``mnist-best`` carry :data:`ladder.BEST_RUNG`, which the shipped records must confirm
    as the best validation mean of the rungs trained when it was declared (the test set chooses nothing)."""
    from fcnbook.store.frames import stored_results

    monkeypatch.setenv("FCNBOOK_RESULTS", str(SHIPPED))
    S = experiments.settings("full")
    best, extras = ladder.rung(S, ladder.BEST_RUNG), ladder.extras(S)
    assert extras["distilled-best"] == ladder.distilled(S, ladder.BEST_RUNG) and \
        extras["distilled-best"].teacher == best.key()
    assert extras["mnist-best"].replace(dataset="fashion", augment="shift_flip") == best
    assert ladder.TEACHERS["distilled-best"] == ladder.ON_MNIST["mnist-best"] == ladder.BEST_RUNG
    rungs = ladder.ladder(S)[: ladder.BEST_CANDIDATES]
    res = stored_results([r.config for r in rungs], list(ladder.seeds(S)))
    val = {r.name: res.runs.loc[res.runs["key"] == r.config.key(), "final_val_accuracy"].astype(float).mean()
           for r in rungs}
    assert max(val, key=val.get) == ladder.BEST_RUNG


def _two_rungs(best: str) -> pd.DataFrame:
    return pd.DataFrame({"mean": [0.906, 0.916], "sd": [0.001] * 2, "n": [5] * 2, "gflop": [1.0, 4.0],
                         "val": [0.91, 0.915], "ingredient": ["a", "b"], "key": ["k0", "k1"], "gain": [np.nan, 0.01],
                         "ci_low": [np.nan, 0.008], "ci_high": [np.nan, 0.012], "p": [np.nan, 0.001],
                         "p_holm": [np.nan, 0.001], "hours": [0.2, 1.0]}, index=[ladder.TEACHER_RUNG, best])


def test_targets_use_the_best_rungs_extras_and_say_whose_they_fall_back_to():
    """MNIST and distillation targets read the best rung's extras; until those are stored, the teacher rung's, with
    a note naming both rungs and the command that trains the best one's."""
    S, best = experiments.settings("full"), ladder.BEST_RUNG
    cols = {"label": "x", "key": "kx", "dataset": "fashion", "epochs": 70, "val": 0.91, "sd": 0.001, "n": 5,
            "gflop": 1.0, "hours": 0.2}
    old = pd.DataFrame([cols | {"mean": 0.9868, "dataset": "mnist"}, cols | {"mean": 0.906}],
                       index=["mnist", "distilled"])
    ens = {ladder.TEACHER_RUNG: 0.911, best: 0.920}
    none = pd.DataFrame(columns=["a", "b", "mean", "ci_low", "ci_high", "p", "n"])
    f = frontier.Frontier(S, _two_rungs(best), pd.DataFrame(), old, (), ens, none)
    targets = frontier_text.sentences(f)["targets"]
    assert "0.9868: missed by 0.0012 (the **label-smoothing** rung's; the **" + best in targets
    assert "`fcnbook frontier --train mnist-best`" in targets and "--train distilled-best" in targets
    assert "--train mnist-best" in frontier_text.sentences(f)["mnist"]
    bare = frontier.Frontier(S, _two_rungs(best), pd.DataFrame(), old.loc[["distilled"]], (), ens, none)
    assert "MNIST, one network: target 0.988, not trained yet\n" in frontier_text.sentences(bare)["targets"] + "\n"
    new = pd.concat([old, pd.DataFrame([cols | {"mean": 0.9885, "dataset": "mnist"}, cols | {"mean": 0.918}],
                                       index=["mnist-best", "distilled-best"])])
    f = frontier.Frontier(S, _two_rungs(best), pd.DataFrame(), new, (), ens, none)
    text = frontier_text.sentences(f)
    assert "MNIST, one network: target 0.988, 0.9885: met\n" in text["targets"] + "\n"
    assert "closed, 50%: met" in text["targets"] and "rung's; the" not in text["targets"]  # (0.918-0.916)/0.004
    assert frontier.gap_closed(f, "distilled-best") == pytest.approx(0.5)
    # the findings page states the best rung's distillation against its target once it is stored, and only then
    assert "the ensemble keeps 50% of its gain over one network (target 50%, met)" in headlines.frontier_bullet(f)
    assert "distilled" not in headlines.frontier_bullet(bare)
    # a teacher trained on augmented images: the chapter says its soft labels are of the un-augmented originals
    assert ladder.rung(S, best).augment != "none" and ladder.rung(S, ladder.TEACHER_RUNG).augment == "none"
    assert text["distilled"].count("un-augmented") == 1 and "un-augmented" not in frontier_text.sentences(bare)[
        "distilled"]
    assert "distilled back into one network they keep 50% of that gain." in text["conclusion"]  # no pair stored
    paired = pd.DataFrame([{"a": "distilled-best", "b": best, "mean": -0.0028, "ci_low": -0.0053, "ci_high": -0.0003,
                            "p": 0.037, "n": 5}])
    worse = frontier.Frontier(S, _two_rungs(best), pd.DataFrame(), new.assign(mean=[0.9868, 0.906, 0.9885, 0.914]),
                              (), ens, paired)
    said = frontier_text.sentences(worse)
    assert ("they keep none of that gain (-0.0028 (95 % CI [-0.0053, -0.0003], p 0.037) against one network, seed by "
            "seed)") in said["conclusion"]
    assert "closed, none (-50%): missed" in said["targets"]  # (0.914-0.916)/0.004
    # the best rung's MNIST run first, beside the teacher rung's and the report's printed figure
    assert (f"the test accuracy is 0.9885 for the **{best}** rung (SD 0.0010, n 5) and 0.9868 for the "
            f"**{ladder.TEACHER_RUNG}** rung" in text["mnist"]) and "not trained" not in text["mnist"]
    assert f"the report printed {paper.MNIST_TUNED_ACCURACY:.4f}" in text["mnist"]
    assert "keep 50% of that gain" in text["conclusion"] and "On MNIST the same network scores 0.9885." in \
        text["conclusion"]


def test_two_distillations_of_the_best_rung_the_targets_count_the_better_validation_mean():
    """With the best rung distilled on clean and on augmented views, the chapter says which images each student is
    taught on, compares the two seed by seed, and the targets and findings count the better validation mean, even
    where its test accuracy is the lower one (the test set chooses nothing)."""
    S, best = experiments.settings("full"), ladder.BEST_RUNG
    cols = {"label": "x", "key": "kx", "dataset": "fashion", "epochs": 200, "sd": 0.001, "n": 5, "gflop": 1.0,
            "hours": 2.0}
    both = pd.DataFrame([cols | {"val": 0.915, "mean": 0.918}, cols | {"val": 0.917, "mean": 0.917}],
                        index=["distilled-best", "distilled-best-augmented"])
    paired = pd.DataFrame([{"a": "distilled-best-augmented", "b": "distilled-best", "mean": -0.0010,
                            "ci_low": -0.0030, "ci_high": 0.0010, "p": 0.2, "n": 5}])
    f = frontier.Frontier(S, _two_rungs(best), pd.DataFrame(), both, (), {ladder.TEACHER_RUNG: 0.911, best: 0.920},
                          paired)
    assert frontier.taught_by(best, ladder.TEACHERS, both) == "distilled-best-augmented"
    assert frontier.taught_by(best, ladder.TEACHERS) == "distilled-best"  # nothing stored: the first declared
    text = frontier_text.sentences(f)
    said = text["distilled"]
    assert said.count("The {term}`ensemble` of the **width** rung") == 1 and said.count("Distilled into one") == 2
    assert "un-augmented training images" in said and "tabulated for all 50 views of every training image" in said
    assert ("Against the student taught on the clean images, seed by seed: -0.0010 (95 % CI [-0.0030, +0.0010], "
            "p 0.2). The targets count the student with the better validation mean, the one taught on each augmented "
            "image (0.9170 against 0.9150).") in said
    assert "closed, 25%: missed" in text["targets"]  # (0.917-0.916)/0.004, not the clean student's 50%
    assert "keeps 25% of its gain over one network" in headlines.frontier_bullet(f)
    assert frontier_figures.NAMES["distilled-best-augmented"] == f"{best}, distilled on augmented views"
    clean_only = frontier.Frontier(S, _two_rungs(best), pd.DataFrame(), both.iloc[:1], (),
                                   {ladder.TEACHER_RUNG: 0.911, best: 0.920}, paired.iloc[:0])
    assert "Against the student" not in frontier_text.sentences(clean_only)["distilled"]
    assert "closed, 50%: met" in frontier_text.sentences(clean_only)["targets"]


def test_comparisons_pair_by_seed_and_skip_unknown_names():
    runs = pd.DataFrame([{"key": k, "label": k, "seed": s, "test_accuracy": a}
                         for k, accs in {"A": [0.90, 0.91, 0.92], "B": [0.89, 0.905, 0.90]}.items()
                         for s, a in enumerate(accs)])
    t = frontier.comparisons(runs, {"a": "A", "b": "B"}, [("a", "b"), ("a", "peer")])
    assert len(t) == 1 and t.iloc[0]["mean"] == pytest.approx(np.mean([0.01, 0.005, 0.02]))
    assert t.iloc[0]["p"] == pytest.approx(stats.ttest_rel([0.90, 0.91, 0.92], [0.89, 0.905, 0.90]).pvalue)


def test_full_profile_chapter_reads_only_what_is_stored(tmp_path, monkeypatch):
    """From the shipped store: the trained prefix of the ladder, the rest pending with an estimate; an empty store
    gives None (the chapter says how to train), and nothing is ever trained."""
    monkeypatch.setenv("FCNBOOK_RESULTS", str(SHIPPED))
    S = experiments.settings("full")  # the default lab only reads
    f = frontier.study(S)
    assert f is not None and list(f.rungs.index) + list(f.pending.index) == [r.name for r in ladder.ladder(S)]
    assert (f.rungs["n"] == 5).all() and (f.pending["hours"] > 0).all() and set(f.front) <= set(f.rungs.index) | \
        set(f.others.index) | {"search"}
    text = frontier_text.sentences(f)
    assert set(text) == {"ladder", "best", "peer", "distilled", "bf16", "mnist", "conclusion", "targets",
                         "pending"}
    assert text["targets"].count("target") == len(frontier.TARGETS) + 2  # and the distilled network's
    # the search's recipe, chosen and tested on the same seeds as the ladder, is compared with the best rung by seed
    from fcnbook.report import selection
    from fcnbook.store.frames import stored_results

    recipe, best = selection.recipes(S, SHIPPED)[0], f.rungs.loc[frontier.chosen(f.rungs), "key"]
    runs = stored_results([recipe], list(ladder.seeds(S)), root=SHIPPED).runs.set_index("seed")["test_accuracy"]
    rung = f.rungs.loc[frontier.chosen(f.rungs)]
    rung_runs = stored_results([c.config for c in ladder.ladder(S) if c.config.key() == best], list(ladder.seeds(S)),
                               root=SHIPPED).runs.set_index("seed")["test_accuracy"]
    assert f.search["key"] == recipe.key() and f.search["n"] == 5 and rung["n"] == 5
    c = f.comparisons.set_index(["a", "b"])
    assert c.loc[("search", rung.name), "mean"] == pytest.approx((runs - rung_runs).mean())  # paired by seed
    # ... and with every known recipe the study started from, as the frontier trains them (issue 21)
    assert {b for a, b in c.index if a == "search"} == {rung.name, f.rungs.index[0], "peer", "previous"}
    peer = stored_results([ladder.public_peer(S)], list(ladder.seeds(S)), root=SHIPPED).runs
    assert c.loc[("search", "peer"), "mean"] == pytest.approx((runs - peer.set_index("seed")["test_accuracy"]).mean())
    assert "seed by seed" in text["peer"] and "Welch" not in text["peer"]
    assert "the public peer's recipe +" in text["peer"]
    assert "search" in f.ensembles  # the recipe's ensemble joins the others
    # the table labels each rung in a few words (the columns issue 21 asks for); the sentences below say it in full
    table = frontier_figures.ladder_table(f)
    assert list(table.columns) == ["ingredient", "val. mean", "test mean", "SD", "gain", "95 % CI", "Holm p",
                                   "verdict", "GFLOP", "hours"]
    assert table["ingredient"].tolist() == [r.short for r in ladder.ladder(S)]
    assert all(f"**{r.name}** ({r.ingredient})" in text["ladder"] for r in ladder.ladder(S)[1:])
    from fcnbook.report.settings import Stored

    assert frontier.study(S.replace(lab=Stored(tmp_path))) is None


def test_distilled_sentence_states_the_share_of_the_gap_closed():
    S = experiments.settings("full")
    rungs = pd.DataFrame({"mean": [0.90, 0.906], "sd": [0.001, 0.001], "n": [5, 5], "gflop": [1.0, 1.0],
                          "val": [0.905, 0.91], "ingredient": ["a", "b"], "key": ["k0", "k1"], "gain": [np.nan, 0.006],
                          "ci_low": [np.nan, 0.004], "ci_high": [np.nan, 0.008], "p": [np.nan, 0.001],
                          "p_holm": [np.nan, 0.001], "hours": [0.2, 0.2]}, index=["report", ladder.TEACHER_RUNG])
    others = pd.DataFrame({"label": ["d"], "key": ["kd"], "dataset": ["fashion"], "epochs": [70], "val": [0.91],
                           "mean": [0.909], "sd": [0.001], "n": [5], "gflop": [1.2]}, index=["distilled"])
    comps = pd.DataFrame([{"a": "distilled", "b": ladder.TEACHER_RUNG, "mean": 0.003, "ci_low": 0.001,
                           "ci_high": 0.005, "p": 0.01, "n": 5}])
    f = frontier.Frontier(S, rungs, pd.DataFrame(), others, (), {ladder.TEACHER_RUNG: 0.912}, comps)
    text = frontier_text.sentences(f)["distilled"]
    assert "it closes 50% of the gap" in text and "0.9120" in text and "+0.0030" in text  # (0.909-0.906)/(0.912-0.906)
    from fcnbook.report.frontier_figures import ensembles_table

    table = ensembles_table(f)
    assert table.loc[ladder.TEACHER_RUNG, "ensemble - mean"] == pytest.approx(0.006)


def test_ensembles_table_names_each_data_set_and_lists_fashion_first():
    """An MNIST run's ensemble is listed after the FashionMNIST ones and labelled with its data set, so no reader
    compares it with them."""
    from fcnbook.report.frontier_figures import NAMES, ensembles_table

    rungs = pd.DataFrame({"mean": [0.90, 0.91]}, index=["report", "width"])
    others = pd.DataFrame({"dataset": ["mnist", "fashion"], "mean": [0.987, 0.905]}, index=["mnist-best", "peer"])
    f = frontier.Frontier(experiments.settings("full"), rungs, pd.DataFrame(), others, (),
                          {"report": 0.905, "mnist-best": 0.99, "width": 0.918, "peer": 0.91}, pd.DataFrame())
    t = ensembles_table(f)
    assert list(t.index) == ["report", "width", NAMES["peer"], NAMES["mnist-best"]]
    assert t["data set"].tolist() == ["FashionMNIST"] * 3 + ["MNIST"]
    assert t.loc[NAMES["mnist-best"], "ensemble - mean"] == pytest.approx(0.003)


def test_extras_table_keeps_each_row_with_its_name():
    from fcnbook.report.frontier_figures import NAMES, extras_table

    others = pd.DataFrame({"label": ["p", "d"], "key": ["kp", "kd"], "dataset": ["fashion"] * 2, "epochs": [50, 70],
                           "mean": [0.90, 0.91], "sd": [0.001, 0.002], "n": [5, 5], "gflop": [1.0, 2.0],
                           "hours": [0.5, 0.25]}, index=["peer", "distilled"])
    f = frontier.Frontier(experiments.settings("full"), pd.DataFrame(), pd.DataFrame(), others, (), {},
                          pd.DataFrame())
    t = extras_table(f)
    assert list(t.index) == [NAMES["peer"], NAMES["distilled"]] and t["test mean"].tolist() == [0.90, 0.91]
    assert t["configuration"].tolist() == ["p, 50 epochs", "d, 70 epochs"] and t["hours"].tolist() == ["0.50", "0.25"]


def test_bf16_sentence_states_the_paired_cost_and_the_measured_speed():
    """The teacher rung in bf16 against itself in float32: the paired difference decides the words (an unadjusted p
    of a single planned comparison), and the speed is the ratio of the measured hours."""
    S = experiments.settings("full")
    rungs = pd.DataFrame({"mean": [0.906], "sd": [0.001], "n": [5], "hours": [0.24]}, index=[ladder.TEACHER_RUNG])
    others = pd.DataFrame({"mean": [0.9055], "sd": [0.001], "n": [5], "hours": [0.12]}, index=["bf16"])
    for p, words in ((0.30, "no detectable change"), (0.01, "a detectable loss")):
        comps = pd.DataFrame([{"a": "bf16", "b": ladder.TEACHER_RUNG, "mean": -0.0005, "ci_low": -0.0012,
                               "ci_high": 0.0002, "p": p, "n": 5}])
        f = frontier.Frontier(S, rungs, pd.DataFrame(), others, (), {}, comps)
        text = frontier_text._bf16(f)
        assert words in text and "-0.0005" in text and "2.0 times as fast" in text and "0.9055" in text
    no_bf16 = frontier.Frontier(S, rungs, pd.DataFrame(), others.iloc[:0], (), {}, comps)
    assert frontier_text._bf16(no_bf16) == ""
    assert ladder.bf16(S.replace(precision="bf16")) is None  # a ladder already in bf16 has nothing to compare


def test_compute_figure_labels_rungs_that_share_a_point_once():
    """Two rungs with the same compute and the same mean (EMA on a network whose learning rate ends near zero) are
    one point: one label naming both, not two labels printed over each other."""
    import matplotlib

    matplotlib.use("Agg")
    from fcnbook.report.frontier_figures import compute_figure

    rungs = pd.DataFrame({"mean": [0.90, 0.9108, 0.91076], "sd": [0.001] * 3, "gflop": [1.0, 3.0, 3.0]},
                         index=["report", "long", "ema"])
    others = pd.DataFrame(columns=frontier.OTHER_COLUMNS).set_index("name")
    f = frontier.Frontier(experiments.settings("full"), rungs, pd.DataFrame(), others, ("report", "long"), {},
                          pd.DataFrame())
    fig = compute_figure(f)
    labels = sorted(a.get_text() for a in fig.axes[0].texts)
    assert labels == ["long, ema", "report"]


def test_conclusion_sorts_the_ingredients_by_holms_rule_and_states_the_search():
    S = experiments.settings("full")
    rungs = pd.DataFrame({"mean": [0.90, 0.906, 0.9062], "sd": [0.001] * 3, "n": [5] * 3, "gflop": [1.0] * 3,
                          "val": [0.905, 0.91, 0.912], "ingredient": ["a", "b", "c"], "key": ["k0", "k1", "k2"],
                          "gain": [np.nan, 0.006, 0.0002], "ci_low": [np.nan, 0.004, -0.001],
                          "ci_high": [np.nan, 0.008, 0.0014], "p": [np.nan, 0.001, 0.6],
                          "p_holm": [np.nan, 0.002, 0.6], "hours": [0.2] * 3},
                         index=["report", "helper", ladder.TEACHER_RUNG])
    others = pd.DataFrame({"label": ["d"], "key": ["kd"], "dataset": ["fashion"], "epochs": [70], "val": [0.91],
                           "mean": [0.9062], "sd": [0.001], "n": [5], "gflop": [1.2], "hours": [0.2]},
                          index=["distilled"])
    comps = pd.DataFrame([{"a": ladder.TEACHER_RUNG, "b": "report", "mean": 0.0062, "ci_low": 0.004,
                           "ci_high": 0.008, "p": 0.001, "n": 5},
                          {"a": "search", "b": ladder.TEACHER_RUNG, "mean": 0.003, "ci_low": 0.001,
                           "ci_high": 0.005, "p": 0.01, "n": 5}])
    search = {"label": "s", "epochs": 70, "key": "ks", "mean": 0.9092, "sd": 0.001, "n": 5, "gflop": 1.0}
    f = frontier.Frontier(S, rungs, pd.DataFrame(), others, (), {ladder.TEACHER_RUNG: 0.912}, comps, search)
    text = frontier_text.sentences(f)["conclusion"]
    assert "Of the 2 ingredients, helper (+0.0060" in text and "bought points" in text  # the whole ladder
    pending = pd.DataFrame({"ingredient": ["d"], "key": ["k3"], "gflop": [2.0], "hours": [0.4]}, index=["later"])
    assert "Of the 2 ingredients trained so far, helper" in frontier_text.sentences(
        frontier.Frontier(S, rungs, pending, others, (), {ladder.TEACHER_RUNG: 0.912}, comps, search))["conclusion"]
    assert f"{ladder.TEACHER_RUNG} (+0.0002, 95 % CI [-0.0010, +0.0014]) made no change" in text
    assert "cost points" not in text and "+0.0062 (95 % CI [+0.0040, +0.0080], p 0.001) against the report's" in text
    assert "peer" not in text  # not stored: not claimed
    assert "they keep none of that gain" in text  # (0.9062 - 0.9062) / (0.912 - 0.9062) = 0
    assert "found a better network than the ladder (+0.0030" in text


def test_against_target_says_met_missed_by_how_much_or_not_trained():
    assert frontier.against_target(0.9163, "single") == "met" and frontier.against_target(0.915, "single") == "met"
    assert frontier.against_target(0.9186, "ensemble") == "missed by 0.0014"
    assert frontier.against_target(None, "mnist") == frontier.against_target(np.nan, "mnist") == "not trained yet"


def test_an_interrupted_frontier_run_says_what_the_runner_kept(capsys):
    """``fcnbook frontier --train`` runs for hours: Ctrl-C ends it with the runner's line of what was kept (as
    ``fcnbook train`` does), not a bare 'interrupted'."""
    from argparse import Namespace

    from fcnbook.cli import interrupts
    from fcnbook.store.runner import Interrupted

    kept = "1024-1024 adamw has its epoch checkpoint at epoch 17 of 200; every stored record is kept under results"
    assert interrupts.interrupted(Namespace(verb="frontier"), Interrupted(kept)) == 130
    assert capsys.readouterr().err == (f"fcnbook frontier: interrupted; kept: {kept}; run the same command again to "
                                       "continue from there\n")


def test_a_distilled_extras_compute_carries_its_teachers_training_and_one_evaluation_pass_per_view():
    from fcnbook.report.budget import run_gflop, split_sizes
    from fcnbook.stats.flops import matmul_flops

    S = experiments.settings("full")
    rungs, extras, seeds = ladder.ladder(S), ladder.extras(S), ladder.seeds(S)
    clean, augmented = (frontier._with_teacher(extras[n], rungs, seeds)
                        for n in ("distilled-best", "distilled-best-augmented"))
    one_pass = matmul_flops([784, 1024, 1024, 10], split_sizes(extras["distilled-best"])[0], backward=False) / 1e9
    teacher = ladder.rung(S, ladder.BEST_RUNG)
    assert clean == pytest.approx(run_gflop(extras["distilled-best"]) + run_gflop(teacher) + one_pass)  # 5 of 5
    assert augmented - clean == pytest.approx(49 * one_pass)  # 50 views instead of one, five members for five seeds
