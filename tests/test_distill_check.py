"""The frontier's distillation check: its declared runs, the CLI training each teacher on its own seeds first, and
the chapter's table and sentences on hand-made numbers and on the shipped store."""

from pathlib import Path

import pandas as pd
import pytest

from fcnbook.report import experiments, ladder
from fcnbook.report.chapters import distill_check
from fcnbook.report.chapters.distill_check import Check

SHIPPED = Path(__file__).resolve().parents[1] / "results"


def test_the_check_is_two_teachers_times_two_temperatures_on_seeds_no_student_uses():
    S = experiments.settings("full")
    teachers, students = ladder.check_teachers(S), ladder.checks(S)
    rung = ladder.rung(S, ladder.TEACHER_RUNG)
    assert teachers["smoothed"] == rung.replace(precision="bf16") == ladder.bf16(S)  # the one network they face
    assert teachers["plain"] == teachers["smoothed"].replace(label_smoothing=0.0) and rung.label_smoothing > 0
    assert list(students) == ["check-smoothed-t4", "check-smoothed-t1", "check-plain-t4", "check-plain-t1"]
    for name, c in students.items():
        teacher = teachers[name.split("-")[1]]
        assert c.teacher == teacher.key() and c.teacher_seeds == ladder.CHECK_TEACHER_SEEDS
        assert c.distill_temperature == float(name.split("-t")[-1]) and c.distill_weight == ladder.DISTILL_WEIGHT
        # the student is the one network but for its teacher: only the distillation fields differ
        assert c.replace(teacher="", teacher_seeds=rung.teacher_seeds, distill_temperature=rung.distill_temperature,
                         distill_weight=0.0) == ladder.bf16(S)
    assert not set(ladder.CHECK_TEACHER_SEEDS) & (set(ladder.seeds(S)) | set(S.seeds))
    assert ladder.checks(experiments.settings("quick")) == {} == ladder.check_teachers(experiments.settings("quick"))


def test_frontier_trains_a_check_teacher_on_its_own_seeds_before_its_student(monkeypatch, capsys):
    from fcnbook.cli.main import main
    from fcnbook.store import runner

    calls = []

    class Done:
        runs = pd.DataFrame({"key": ["k"], "test_accuracy": [0.9]})

    def fake_run(configs, seeds, **kw):
        calls.append(([c.key() for c in configs], tuple(seeds), kw["keep_weights"]))
        return Done()

    monkeypatch.setattr(runner, "run", fake_run)
    S = experiments.settings("full")
    student, teacher = ladder.checks(S)["check-plain-t1"], ladder.check_teachers(S)["plain"]
    assert main(["frontier", "--train", "check-plain-t1,distilled"]) == 0
    assert calls == [([teacher.key()], ladder.CHECK_TEACHER_SEEDS, True), ([student.key()], ladder.seeds(S), True),
                     ([ladder.extras(S)["distilled"].key()], ladder.seeds(S), True)]  # a rung teacher: stored


def _check(val=(0.9100, 0.9120, 0.9110, 0.9105), gain=(-0.001, 0.004, 0.0005, 0.002), p=(0.3, 0.001, 0.8, 0.04)):
    names = list(ladder.checks(experiments.settings("full")))
    students = pd.DataFrame({"teacher": ["smoothed", "smoothed", "plain", "plain"], "T": [4.0, 1.0, 4.0, 1.0],
                             "teacher_one": [0.907] * 4, "teacher_ensemble": [0.911, 0.911, 0.912, 0.912],
                             "teacher_train": [0.999, 0.999, 0.9985, 0.9985],
                             "val": list(val), "mean": [0.906 + g for g in gain], "sd": [0.001] * 4, "n": [5] * 4,
                             "gain": list(gain), "ci_low": [g - 0.001 for g in gain],
                             "ci_high": [g + 0.001 for g in gain], "p": list(p)}, index=names)
    students["p_holm"] = [min(1.0, q * k) for q, k in zip(p, (3, 1, 1, 2), strict=True)]  # Holm by hand: ranks
    students["share"] = students["gain"] / (students["teacher_ensemble"] - 0.906)
    effects = pd.DataFrame([{"a": "check-smoothed-t1", "b": "check-smoothed-t4", "mean": 0.005, "ci_low": 0.003,
                             "ci_high": 0.007, "p": 0.002, "n": 5}])
    return Check(students, {"label": "one", "val": 0.9101, "mean": 0.906, "sd": 0.0012, "n": 5}, effects)


def test_the_table_and_sentences_say_each_student_against_one_network_and_choose_by_validation():
    c = _check()
    t = distill_check.table(c)
    assert t["verdict"].tolist() == ["no detectable change", "helps", "no detectable change", "no detectable change"]
    assert t["gap closed"].tolist() == ["none (-20%)", "80%", "8%", "33%"]
    assert t["teacher smoothed"].tolist() == ["yes", "yes", "no", "no"] and t["T"].tolist() == ["4", "1", "4", "1"]
    text = distill_check.sentences(c)["check"]
    assert "(0.9060, SD 0.0012, n 5)" in text and text.count("\n- taught by") == 4
    assert "at T = 1: 0.9100, a gain of +0.0040 (95 % CI [+0.0030, +0.0050], p 0.001) before Holm" in text
    assert "T = 1 instead of 4 changes the student taught with label smoothing by +0.0050" in text
    assert "without label smoothing instead" not in text  # that pair is not in the effects: not claimed
    assert "training images 0.9990 with label smoothing and 0.9985 without label smoothing right, so" in text
    assert "the soft labels almost always put their largest probability on the hard label" in text
    assert "the best student is the one taught with label smoothing at T = 1 (0.9120 on validation" in text
    assert "1 of the 4 students beat one network after Holm's adjustment." in text
    # by validation, whatever the test says: make the worst test student the best on validation
    late = distill_check.sentences(_check(val=(0.9130, 0.9120, 0.9110, 0.9105)))["check"]
    assert "the one taught with label smoothing at T = 4 (0.9130 on validation" in late and "none (-20%)" in late
    none = distill_check.sentences(_check(p=(0.3, 0.2, 0.8, 0.4)))["check"]
    loose = _check()
    loose.students["teacher_train"] = 0.95  # a teacher that does not fit its training images: no such claim
    assert "right." in distill_check.sentences(loose)["check"] and "almost always" not in \
        distill_check.sentences(loose)["check"]
    assert "None of the 4 students beats one network after Holm's adjustment. Neither the teacher's label " \
        "smoothing nor the temperature accounts for the missing gain" in none


def test_without_stored_runs_there_is_no_check(tmp_path):
    from fcnbook.report.settings import Stored

    assert distill_check.study(experiments.settings("full").replace(lab=Stored(tmp_path))) is None
    assert distill_check.study(experiments.settings("quick")) is None  # the quick profile declares no check


def test_the_shipped_check_pairs_each_student_with_one_network_by_seed(monkeypatch):
    """From the shipped records: every student is stored, its gain is the mean of its seed-by-seed differences with
    the one network, its teacher's ensemble is the one stored with the teacher's seeds, and its records count their
    share of the teacher's pass for the soft labels."""
    import json

    from fcnbook.report.chapters.provenance import FRONTIER, stored, table
    from fcnbook.store import records as store
    from fcnbook.store.frames import stored_results

    monkeypatch.setenv("FCNBOOK_RESULTS", str(SHIPPED))
    S = experiments.settings("full")
    c = distill_check.study(S)
    assert c is not None and list(c.students.index) == list(ladder.checks(S))
    seeds = list(ladder.seeds(S))
    accuracy = lambda config: stored_results([config], seeds, root=SHIPPED).runs.set_index("seed")["test_accuracy"]  # noqa: E731
    one = accuracy(ladder.bf16(S))
    assert c.single["mean"] == pytest.approx(one.mean())
    for name, config in ladder.checks(S).items():
        assert c.students.loc[name, "gain"] == pytest.approx((accuracy(config) - one).mean())
        teacher = json.loads(store.record_path(ladder.check_teachers(S)[c.students.loc[name, "teacher"]],
                                               ladder.CHECK_TEACHER_SEEDS[0], SHIPPED).read_text())
        assert teacher["extra"]["ensemble"]["seeds"] == list(ladder.CHECK_TEACHER_SEEDS)
        assert c.students.loc[name, "teacher_ensemble"] == teacher["extra"]["ensemble"]["test_accuracy"]
        record = json.loads(store.record_path(config, seeds[0], SHIPPED).read_text())
        assert 0 < record["extra"]["soft_label_seconds"] < record["seconds"]
    assert c.students["p_holm"].ge(c.students["p"]).all()
    # the teachers' records, on seeds of their own, belong to the frontier on the provenance page
    rows = table(stored(SHIPPED)).set_index("key")
    assert (rows.loc[[t.key() for t in ladder.check_teachers(S).values()], "section"] == FRONTIER).all()


def test_the_opening_pages_clause_counts_the_students_that_beat_one_network():
    one = distill_check.finding(_check())
    assert "finds that 1 of its 4 students beats one network after Holm's adjustment (gains -0.0010 to +0.0040)" in one
    assert one.endswith("training images 0.9985 right or better")
    assert "finds that none of its 4 students beats" in distill_check.finding(_check(p=(0.3, 0.2, 0.8, 0.4)))
