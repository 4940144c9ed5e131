"""Provenance: the store's records listed per configuration, `fcnbook verify`, the README's generated table."""

import json
import os
from pathlib import Path

import pytest

from fcnbook.book import readme
from fcnbook.cli import verify as verify_cli
from fcnbook.config import RunConfig
from fcnbook.report.chapters import provenance
from fcnbook.store import records as store
from fcnbook.store import runner
from synthetic import make_splits

CONFIG = RunConfig(hidden=(32,), batch_size=128, epochs=2)
ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


@pytest.fixture
def stored(monkeypatch, tmp_path):
    """Two seeds of a tiny configuration trained on synthetic data into a fresh store."""
    splits = make_splits()
    monkeypatch.setattr("fcnbook.data.splits.load_for", lambda config: splits)
    monkeypatch.setenv("FCNBOOK_RESULTS", str(tmp_path))
    runner.run(CONFIG, [0, 1], progress=False)
    return tmp_path


def test_table_lists_each_configuration_with_its_machine(stored):
    records = provenance.stored(stored)
    # the cores this process may use (its affinity mask), not the machine's count
    assert len(records) == 2 and all(r["machine"]["cores"] == len(os.sched_getaffinity(0)) for r in records)
    t = provenance.table(records, "quick")
    assert len(t) == 1 and t.loc[0, "seeds"] == "0,1" and t.loc[0, "epochs"] == 2
    assert t.loc[0, "cpu"] == records[0]["machine"]["cpu"] and t.loc[0, "section"] == ""  # not a book config
    totals = provenance.section_totals(t)
    assert int(totals["runs"].sum()) == 2
    assert "1 configurations and 2 runs" in provenance.summary_text(t, records[0]["code_version"])


def test_distilled_records_without_their_soft_label_seconds_are_said(stored):
    """Records of a distilled run made before the teacher's pass was timed are counted in one sentence; plain runs
    and distilled runs that carry their share say nothing."""
    records = provenance.stored(stored)
    assert provenance.untimed_text(records) == ""
    student = [dict(r, config=dict(r["config"], teacher="0123456789abcdef")) for r in records]
    text = provenance.untimed_text(student)
    assert text.startswith("2 runs distilled from a teacher were stored before") and "leave that pass out" in text
    timed = [dict(r, extra=dict(r["extra"], soft_label_seconds=1.5)) for r in student]
    assert provenance.untimed_text(timed) == provenance.untimed_text(timed[:0]) == ""


def test_the_shipped_distilled_records_are_said_to_leave_the_pass_out():
    shipped = provenance.stored(ROOT / "results")
    untimed = [r for r in shipped if r["config"].get("teacher") and "soft_label_seconds" not in r["extra"]]
    assert untimed and provenance.untimed_text(shipped).startswith(f"{len(untimed)} runs distilled")


def test_verify_passes_on_untouched_records_and_fails_on_an_altered_one(stored):
    lines = []
    assert verify_cli.verify(2, stored, rng_seed=0, log=lines.append)
    assert len(lines) == 2 and all(line.startswith("PASS") and "exact" in line for line in lines)
    path = store.record_path(CONFIG, 1, stored)
    record = json.loads(path.read_text())
    record["test_predictions"][0] = (record["test_predictions"][0] + 1) % 10
    path.write_text(json.dumps(record))
    lines.clear()
    assert not verify_cli.verify(2, stored, rng_seed=0, log=lines.append)
    assert any(line.startswith("FAIL") and "seed 1" in line and "1 of 300 predictions differ" in line
               for line in lines)


def test_verify_retrains_with_the_records_thread_count(monkeypatch, tmp_path):
    """A record made with one thread is re-made with one thread, whatever the current setting, and then exactly."""
    import torch

    from fcnbook.training import fit as train

    splits = make_splits()
    monkeypatch.setattr("fcnbook.data.splits.load_for", lambda config: splits)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runner.run(CONFIG, [0, 1], progress=False, root=tmp_path)
    finally:
        torch.set_num_threads(before)
    seen, real = [], train.fit
    monkeypatch.setattr(train, "fit", lambda *a, **k: seen.append(torch.get_num_threads()) or real(*a, **k))
    lines = []
    assert verify_cli.verify(2, tmp_path, rng_seed=0, log=lines.append)
    assert seen == [1, 1] and torch.get_num_threads() == before
    assert all("exact" in line for line in lines)


def test_verify_of_a_record_made_with_more_threads_than_cpus_here_uses_the_tolerance(stored, monkeypatch):
    import torch

    from fcnbook.training import fit as train

    for seed in (0, 1):
        path = store.record_path(CONFIG, seed, stored)
        record = json.loads(path.read_text())
        record["machine"]["torch_threads"] = 4096
        path.write_text(json.dumps(record))
    seen, real = [], train.fit
    monkeypatch.setattr(train, "fit", lambda *a, **k: seen.append(torch.get_num_threads()) or real(*a, **k))
    lines = []
    assert verify_cli.verify(2, stored, rng_seed=0, log=lines.append)
    assert seen == [torch.get_num_threads()] * 2 and all("|diff| <=" in line for line in lines)


def test_verify_refuses_an_empty_store_and_a_bad_sample(tmp_path):
    with pytest.raises(ValueError, match="no records of training code version"):
        verify_cli.verify(1, tmp_path)
    with pytest.raises(ValueError, match="sample must be"):
        verify_cli.verify(0, tmp_path)


def test_verify_here_samples_only_records_this_machine_can_remake_exactly(stored, monkeypatch):
    """A store made on two machines: --here draws only this machine's records (all exact), and says so clearly when
    there are none; without it the other machine's record is checked within the tolerance."""
    path = store.record_path(CONFIG, 1, stored)
    record = json.loads(path.read_text())
    record["machine"]["cpu"] = "another CPU model"
    path.write_text(json.dumps(record))
    lines = []
    assert verify_cli.verify(2, stored, rng_seed=0, here_only=True, log=lines.append)
    assert len(lines) == 1 and "seed 0" in lines[0] and "exact" in lines[0]
    lines.clear()
    assert verify_cli.verify(2, stored, rng_seed=0, log=lines.append)
    assert sorted("exact" in line for line in lines) == [False, True]
    path = store.record_path(CONFIG, 0, stored)
    record = json.loads(path.read_text())
    record["machine"]["cpu"] = "another CPU model"
    path.write_text(json.dumps(record))
    with pytest.raises(ValueError, match="--here: no records .* drop --here"):
        verify_cli.verify(1, stored, here_only=True)


def test_readme_results_table_is_generated_from_the_shipped_store():
    """The README's results are never typed: its block equals what the generator makes from results/."""
    text = README.read_text()
    start = text.index(readme.README_START)
    end = text.index(readme.README_END) + len(readme.README_END)
    shipped = ROOT / "results"  # named: other tests point FCNBOOK_RESULTS at their own folders
    assert text[start:end] == readme.readme_block(shipped), \
        "run `python -m fcnbook.book.readme` and commit README.md"


def test_compare_stores_finds_identical_different_and_missing_records(stored, tmp_path_factory, capsys):
    import shutil

    from fcnbook.cli.main import main

    other = tmp_path_factory.mktemp("retrained")
    shutil.copytree(stored / "runs", other / "runs")
    lines = []
    c = verify_cli.compare_stores(other, stored, log=lines.append)
    assert (c["compared"], c["identical"], c["different"], c["missing"]) == (2, 2, 0, 0)
    assert lines == ["2 of 2 records identical to the stored ones, 0 different; 0 with no stored counterpart"]
    assert main(["verify", "--against", str(other)]) == 0  # FCNBOOK_RESULTS is the fixture's store

    path = store.record_path(CONFIG, 1, other)
    record = json.loads(path.read_text())
    record["history"]["val_loss"][-1] += 1e-12  # one rounding step in one metric is a difference
    path.write_text(json.dumps(record))
    extra = store.record_path(CONFIG.replace(epochs=3), 0, other)
    extra.parent.mkdir(parents=True)
    extra.write_text(json.dumps(json.loads(store.record_path(CONFIG, 0, other).read_text())
                                | {"key": CONFIG.replace(epochs=3).key()}))
    c = verify_cli.compare_stores(other, stored, log=lambda line: None)
    assert (c["compared"], c["identical"], c["different"], c["missing"]) == (2, 1, 1, 1)
    assert c["differences"][0]["seed"] == 1
    assert main(["verify", "--against", str(other)]) == 1
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main(["verify", "--against", str(other / "nothing")])
    assert e.value.code == 2 and "holds no run records" in capsys.readouterr().err


def test_verify_remakes_a_distilled_record_from_its_teachers_stored_weights_and_leaves_it_out_without_them(
        monkeypatch, tmp_path):
    """A distilled record is re-made exactly with the soft labels of its teacher's kept weights (augmented views
    too); where those weights are not stored (a fresh clone) it is left out of the sample, with a line saying so."""
    import shutil

    splits = make_splits()
    monkeypatch.setattr("fcnbook.data.splits.load_for", lambda config: splits)
    teacher = RunConfig(hidden=(32,), batch_size=100, epochs=2, optimizer="adam", lr=1e-3)
    student = RunConfig(hidden=(16,), batch_size=100, epochs=2, augment="shift", max_shift=1, teacher=teacher.key(),
                        teacher_seeds=(0, 1), distill_weight=0.5, distill_views="augmented")
    runner.run(teacher, [0, 1], progress=False, root=tmp_path, keep_weights=True)
    runner.run(student, [2], progress=False, root=tmp_path)
    for path in (tmp_path / "runs" / teacher.key()).glob("seed-*.json"):
        path.rename(path.with_suffix(".kept"))  # only the student's record can be drawn
    (tmp_path / "runs" / teacher.key() / "seed-0.json").write_bytes(
        (tmp_path / "runs" / teacher.key() / "seed-0.kept").read_bytes())  # its config names the teacher
    lines = []
    assert verify_cli.verify(2, tmp_path, rng_seed=0, log=lines.append)
    passed = [line for line in lines if line.startswith("PASS")]
    assert any(student.label() in line and "exact" in line and " 0 of " in line for line in passed)
    shutil.rmtree(tmp_path / "weights")
    lines.clear()
    assert verify_cli.verify(2, tmp_path, rng_seed=0, log=lines.append)
    assert lines[0].startswith("left out 1 distilled record(s): their teachers' final weights are not stored")
    assert not any(student.label() in line for line in lines[1:])
