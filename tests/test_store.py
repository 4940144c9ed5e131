import json

import numpy as np
import pytest
from scipy import stats

from fcnbook.config import RunConfig
from fcnbook.store import cache, runner
from fcnbook.store import records as store
from fcnbook.store.cache import CacheWarning
from fcnbook.store.frames import summarize
from fcnbook.training import checkpoint
from fcnbook.training import fit as train
from synthetic import make_splits, stop_after_checkpoint

CONFIG = RunConfig(hidden=(32,), batch_size=128, epochs=2)


@pytest.fixture
def counted(monkeypatch, tmp_path):
    """Synthetic data instead of the real files, and a count of the seeds trained."""
    splits = make_splits()
    monkeypatch.setattr("fcnbook.data.splits.load_for", lambda config: splits)
    trained = []
    real_fit = train.fit

    def counting_fit(config, seeds, **kw):
        trained.extend(seeds)
        return real_fit(config, seeds, **kw)

    monkeypatch.setattr(runner, "fit", counting_fit)
    monkeypatch.setenv("FCNBOOK_RESULTS", str(tmp_path))
    return trained


def test_run_trains_missing_then_reuses(counted, tmp_path):
    first = runner.run(CONFIG, [0, 1], progress=False)
    assert counted == [0, 1]
    assert sorted(p.name for p in (tmp_path / "runs" / CONFIG.key()).iterdir()) == ["seed-0.json", "seed-1.json"]
    again = runner.run([CONFIG], [0, 1, 2], progress=False)
    assert counted == [0, 1, 2], "only the missing seed is trained"
    assert again.runs["test_accuracy"].iloc[:2].tolist() == first.runs["test_accuracy"].tolist()
    assert list(again.runs["seed"]) == [0, 1, 2] and again.runs["label"].iloc[0] == CONFIG.label()
    h = again.history
    assert set(h["metric"]) == set(store.METRICS) and len(h) == 3 * 2 * len(store.METRICS)
    assert not list((tmp_path / "runs" / CONFIG.key()).glob(".tmp-*")), "no temporary files left behind"


def test_corrupt_record_is_reported_and_recomputed(counted):
    runner.run(CONFIG, [0], progress=False)
    path = store.record_path(CONFIG, 0)
    path.write_text('{"format": 1, "config": {trunc')
    with pytest.warns(CacheWarning, match="unreadable"):
        res = runner.run(CONFIG, [0], progress=False)
    assert counted == [0, 0]
    assert json.loads(path.read_text())["seed"] == 0 and len(res.runs) == 1


def test_record_of_other_code_version_or_data_is_retrained(counted, monkeypatch):
    runner.run(CONFIG, [0], progress=False)
    path = store.record_path(CONFIG, 0)
    record = json.loads(path.read_text())
    record["code_version"] = -1
    path.write_text(json.dumps(record))
    runner.run(CONFIG, [0], progress=False)
    assert counted == [0, 0]
    assert store.load(CONFIG, 0, "other-data-checksum", train.TRAINING_CODE_VERSION) is None


def test_record_written_before_the_split_is_reused(counted):
    """A record in the layout and format written before the store was split (code version aside) is read."""
    res = runner.run(CONFIG, [0], progress=False)
    path = store.record_path(CONFIG, 0)
    record = json.loads(path.read_text())
    record["config"].pop("default_bias")  # records made before that field existed do not name it
    path.write_text(json.dumps(record))
    checksum = record["data_checksum"]
    again = store.load(CONFIG, 0, checksum, train.TRAINING_CODE_VERSION)
    assert again is not None and again["test_accuracy"] == res.runs["test_accuracy"].iloc[0]


def test_diverged_run_is_stored_with_nulls(counted):
    res = runner.run(CONFIG.replace(lr=1e6, epochs=3), [0], progress=False)
    assert bool(res.runs["diverged"].iloc[0])
    assert runner.run(CONFIG.replace(lr=1e6, epochs=3), [0], progress=False).runs["diverged"].iloc[0]
    assert counted == [0]


def test_summarize_matches_scipy():
    import pandas as pd

    acc = [0.87, 0.88, 0.86, 0.875, 0.865]
    runs = pd.DataFrame({"key": ["a"] * 5 + ["b"], "label": ["A"] * 5 + ["B"], "test_accuracy": acc + [0.5]})
    s = summarize(runs)
    assert list(s.index) == ["a", "b"]
    a = s.loc["a"]
    assert a["mean"] == pytest.approx(np.mean(acc)) and a["sd"] == pytest.approx(np.std(acc, ddof=1))
    lo, hi = stats.t.interval(0.95, 4, loc=np.mean(acc), scale=stats.sem(acc))
    assert (a["ci_low"], a["ci_high"]) == pytest.approx((lo, hi)) and a["n"] == 5
    assert np.isnan(s.loc["b", "sd"]) and s.loc["b", "n"] == 1


def test_bad_seeds():
    with pytest.raises(ValueError, match="seeds"):
        runner.run(CONFIG, [], progress=False)


# -- checkpoints and interruptions (the runner's side; processes and signals are in test_faults.py) ----------


def _numbers(root):
    """Every record under ``root`` without wall times, dates and the machine."""
    out = {}
    for path in sorted((root / "runs").rglob("*.json")):
        rec = json.loads(path.read_text())
        for name in ("seconds", "created", "machine"):
            rec.pop(name, None)
        rec["history"].pop("seconds")
        out[path.relative_to(root).as_posix()] = rec
    return out


LONGER = CONFIG.replace(epochs=4, dropout=0.2)


def test_the_checkpoint_is_deleted_once_the_records_are_written(counted, tmp_path, monkeypatch):
    written = []
    real = checkpoint.save
    monkeypatch.setattr(checkpoint, "save", lambda path, state, **kw: written.append(path) or real(path, state, **kw))
    runner.run(LONGER, [0, 1], progress=False)
    assert written and set(written) == {checkpoint.path(LONGER, [0, 1])}
    assert written[0].parent.parent == tmp_path / "checkpoints", "outside runs/: never taken for a record"
    assert not (tmp_path / "checkpoints").exists()
    assert sorted(p.name for p in (tmp_path / "runs" / LONGER.key()).iterdir()) == ["seed-0.json", "seed-1.json"]


def test_an_interrupted_run_says_what_was_kept_and_resumes_with_the_same_numbers(counted, tmp_path, monkeypatch):
    reference = tmp_path / "reference"
    runner.run(LONGER, [0, 1], progress=False, root=reference)
    with monkeypatch.context() as m:
        stop_after_checkpoint(m, 2)
        with pytest.raises(runner.Interrupted) as stop:
            runner.run([CONFIG, LONGER], [0, 1], progress=False)
    assert str(stop.value) == (f"1 configuration(s) trained and stored in this run; {LONGER.label()} has its epoch "
                               f"checkpoint at epoch 2 of 4; every stored record is kept under {tmp_path}")
    log = []
    runner.run([CONFIG, LONGER], [0, 1], progress=False, log=log.append)
    assert log[0] == f"reused {CONFIG.label()}: 2 seed(s) from the store"
    assert log[1].startswith(f"trained {LONGER.label()}: 2 seed(s) in ")
    assert log[1].endswith(" (resumed from the checkpoint at epoch 2)")
    assert _numbers(tmp_path)[f"runs/{LONGER.key()}/seed-1.json"] == \
        _numbers(reference)[f"runs/{LONGER.key()}/seed-1.json"]
    assert not (tmp_path / "checkpoints").exists()


def test_a_stack_stopped_between_its_records_resumes_as_that_stack(counted, tmp_path, monkeypatch):
    """Killed after seed 0's record but before seed 1's: the rerun resumes the stack [0, 1] from its checkpoint
    (a member's last digits depend on its stack), so seed 1's record is the uninterrupted one."""
    reference = tmp_path / "reference"
    runner.run(LONGER, [0, 1], progress=False, root=reference)
    with monkeypatch.context() as m:
        stop_after_checkpoint(m, 3)
        with pytest.raises(runner.Interrupted):
            runner.run(LONGER, [0, 1], progress=False)
    record = store.record_path(LONGER, 0)
    record.parent.mkdir(parents=True)
    record.write_bytes(store.record_path(LONGER, 0, reference).read_bytes())
    del counted[:]
    runner.run(LONGER, [1], progress=False)
    assert counted == [0, 1], "the whole stack was resumed"
    assert _numbers(tmp_path)[f"runs/{LONGER.key()}/seed-1.json"] == \
        _numbers(reference)[f"runs/{LONGER.key()}/seed-1.json"]
    assert not (tmp_path / "checkpoints").exists()


def test_a_read_only_results_folder_is_one_clear_error_before_training(counted, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("pathlib.Path.mkdir", refuse)
    with pytest.raises(cache.NotWritableError, match=f"^the results folder {tmp_path} is not writable "
                                                     r"\(Permission denied\); nothing was computed"):
        runner.run(CONFIG, [0], progress=False)
    assert counted == []
