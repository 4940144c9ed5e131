"""``fcnbook tune``: quick studies on real data through the CLI, the journal file and a real PostgreSQL server.

Every study here uses the quick search space (a 2 000-image subset, networks of 16-128 units, 1-2 epochs), so a
trial takes a fraction of a second once the data is loaded. The PostgreSQL tests start their own server
(``tests/pg_server.py``); where the server binaries are missing they skip with the install hint.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from fcnbook.config import RunConfig
from fcnbook.tuning import objective, show
from fcnbook.tuning import space as search_space
from fcnbook.tuning import study as tune
from fcnbook.tuning import worker as tune_worker
from pg_server import postgres_fixture

postgres = pytest.fixture(scope="module")(postgres_fixture)


def cli(root, *args, env_extra=None, check=True, **popen) -> subprocess.CompletedProcess:
    env = dict(os.environ, FCNBOOK_RESULTS=str(root), OMP_NUM_THREADS="1", **(env_extra or {}))
    out = subprocess.run([sys.executable, "-m", "fcnbook", "tune", *args], env=env, capture_output=True, text=True,
                         timeout=120, **popen)
    if check:
        assert out.returncode == 0, out.stderr[-3000:]
    return out


def states(study) -> dict[str, int]:
    return show.counts(study)


def test_quick_study_runs_and_show_lists_its_trials(tmp_path):
    cli(tmp_path, "--study", "t", "--trials", "3", "--profile", "quick", "--dataset", "fashion", "--no-progress")
    shown = cli(tmp_path, "--show", "t").stdout
    assert cli(tmp_path, "--study", "t", "--show").stdout == shown
    assert shown.splitlines()[0].startswith("study t: ")
    data = json.loads(cli(tmp_path, "--study", "t", "--show", "--json").stdout)
    finished = data["counts"].get("COMPLETE", 0) + data["counts"].get("PRUNED", 0)
    assert finished == 3 and len(data["best"]) == data["counts"]["COMPLETE"] >= 1
    assert len(shown.splitlines()) == 2 + len(data["best"]) + len(data["stop_reasons"])
    assert data["recipes"] == [] and [e["reason"] for e in data["stop_reasons"]] == ["trials"]
    assert shown.splitlines()[-1].endswith(f"3 trials run, sampler seed {data['stop_reasons'][0]['sampler_seed']}")
    assert tune.journal_path("t", tmp_path).is_file()
    # every complete trial's run is a record of the run store, trained without its test evaluation
    for row in data["best"]:
        config = RunConfig.from_dict(row["config"])
        record = json.loads((tmp_path / "runs" / config.key() / f"seed-{tune.SEED}.json").read_text())
        assert record["test_evaluated"] is False and record["test_accuracy"] is None
        assert record["test_predictions"] is None
        assert record["history"]["val_accuracy"][-1] == pytest.approx(row["val_accuracy"])


def test_a_study_never_evaluates_the_test_set(tmp_path, monkeypatch):
    """Spy on the two evaluation functions of the trainer: no call ever receives the test images."""
    import fcnbook.training.evaluation as train
    from fcnbook.data.splits import load_for

    test_images = load_for(search_space.config_of(
        {"depth": 1, "width_0": 16, "batch_norm": False, "dropout": 0.0, "optimizer": "adam", "lr_adaptive": 1e-3,
         "weight_decay": 1e-4, "schedule": "constant", "label_smoothing": 0.0, "batch_size": 128, "augment": "none",
         "epochs": 1}, "quick")).x_test
    seen = []
    for name in ("evaluate", "probabilities"):
        real = getattr(train, name)

        def spy(model, x, *args, _real=real, **kwargs):
            seen.append(x.shape[0] == test_images.shape[0] and bool((x[:5] == test_images[:5]).all()))
            return _real(model, x, *args, **kwargs)

        monkeypatch.setattr(train, name, spy)
    study = objective.optimize("spy", 4, root=tmp_path, profile="quick", progress=False)
    assert sum(states(study).get(s, 0) for s in ("COMPLETE", "PRUNED")) == 4
    assert seen and not any(seen)


def test_the_same_configuration_is_not_trained_twice(tmp_path, monkeypatch):
    """A second study with the same sampler seed asks for the same configurations: the complete ones are reused
    from the store (the pruner's brackets depend on the study's name, so a trial pruned in one may finish in the
    other, and only those train again)."""
    import fcnbook.store.runner as runner

    objective.optimize("first", 3, root=tmp_path, profile="quick", progress=False, seed=5)
    trained = []
    real = runner.fit
    monkeypatch.setattr(runner, "fit", lambda *a, **k: trained.append(a[0]) or real(*a, **k))
    second = objective.optimize("second", 3, root=tmp_path, profile="quick", progress=False, seed=5)
    first = tune.load("first", root=tmp_path)
    assert [t.params for t in second.trials] == [t.params for t in first.trials]
    done = [t for t in first.trials if t.state.name == "COMPLETE"]
    assert done and all(second.trials[t.number].state.name == "COMPLETE" for t in done)
    assert [second.trials[t.number].value for t in done] == [t.value for t in done]
    pruned = sum(t.state.name == "PRUNED" for t in first.trials)
    assert len(trained) == pruned  # a pruned trial stored nothing, so only those train again
    assert {t.user_attrs["sampler_seed"] for t in first.trials + second.trials} == {5}  # --seed: as given


@pytest.mark.parametrize("args,message", [
    (["--study", "t", "--trials", "0"], "trials must be an integer >= 1"),
    (["--study", "a b", "--trials", "1"], "study must be a name"),
    (["--study", "t"], "trials or timeout must be given"),
    (["--study", "t", "--trials", "1", "--workers", "0"], "workers must be an integer >= 1"),
    (["--study", "t", "--trials", "1", "--storage", "sqlite:///x.db"], "SQLite is unsafe"),
    (["--study", "t", "--trials", "1", "--storage", "nosuchdriver://x"], "storage nosuchdriver://x cannot be used"),
    (["--study", "t", "--trials", "1", "--storage", "postgresql+psycopg://u:secret@127.0.0.1:1/db"],
     "cannot be used: OperationalError"),
    (["--study", "missing", "--show"], "no study 'missing'"),
    (["--show", "missing"], "no study 'missing'"),
    (["--trials", "3"], "study must be named"),
])
def test_bad_options_fail_in_one_line_before_anything_runs(tmp_path, args, message):
    out = cli(tmp_path, *args, check=False)
    assert out.returncode == 2 and message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "secret" not in out.stderr
    assert not (tmp_path / "runs").exists()


def test_journal_file_shared_by_two_local_workers(tmp_path):
    out = cli(tmp_path, "--study", "j", "--trials", "8", "--profile", "quick", "--workers", "2")
    assert out.stdout.startswith("study j: ")
    study = tune.load("j", root=tmp_path)
    counts = states(study)
    finished = counts.get("COMPLETE", 0) + counts.get("PRUNED", 0)
    # MaxTrialsCallback stops each worker after its trial once 8 are finished: at most one trial per extra worker
    assert 8 <= finished <= 9 and set(counts) <= {"COMPLETE", "PRUNED"}
    assert sorted(t.number for t in study.trials) == list(range(len(study.trials)))


def test_two_machines_share_one_postgresql_study(tmp_path, postgres):
    """Two worker processes, as on two machines (own results folders), run the same command against one server."""
    url = postgres.create_database("shared")
    args = ["--study", "pg", "--trials", "10", "--profile", "quick", "--storage", url, "--no-progress"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    procs = [subprocess.Popen([sys.executable, "-m", "fcnbook", "tune", *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=dict(env, FCNBOOK_RESULTS=str(tmp_path / m)))
             for m in ("a", "b")]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    study = tune.load("pg", url)
    counts = states(study)
    finished = counts.get("COMPLETE", 0) + counts.get("PRUNED", 0)
    assert 10 <= finished <= 11 and set(counts) <= {"COMPLETE", "PRUNED"}
    assert sorted(t.number for t in study.trials) == list(range(len(study.trials)))  # none lost, none twice
    both = [sum(1 for _ in (tmp_path / m / "runs").glob("*/seed-0.json")) for m in ("a", "b")]
    assert all(n >= 1 for n in both), both  # both machines trained trials
    # Each worker drew from its own sampler seed: their first configurations differ (with one seed for both, the
    # sampler's random start would have drawn the same configuration twice)
    firsts = {}
    for t in study.trials:
        firsts.setdefault(t.user_attrs["worker"], t)
    assert len(firsts) == 2 and "recipe" not in str([t.user_attrs for t in study.trials])
    a, b = firsts.values()
    assert a.user_attrs["sampler_seed"] != b.user_attrs["sampler_seed"] and a.params != b.params
    stops = tune_worker.stop_reasons(study)
    assert sorted(e["worker"] for e in stops) == sorted(firsts) and {e["reason"] for e in stops} == {"trials"}
    assert {e["sampler_seed"] for e in stops} == {a.user_attrs["sampler_seed"], b.user_attrs["sampler_seed"]}
    assert sum(e["trials_run"] for e in stops) == len(study.trials)


def test_a_killed_worker_trial_is_retried_and_the_study_completes(tmp_path, postgres):
    url = postgres.create_database("killed")
    env = dict(os.environ, OMP_NUM_THREADS="1", FCNBOOK_RESULTS=str(tmp_path), FCNBOOK_TUNE_HEARTBEAT="1,3")
    args = [sys.executable, "-m", "fcnbook", "tune", "--study", "k", "--trials", "4", "--profile", "quick",
            "--storage", url, "--no-progress"]
    import sqlalchemy

    victim = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    engine = sqlalchemy.create_engine(url)
    # A trial only goes stale once its worker has sent a heartbeat: catch one that is running and has sent one.
    beating = sqlalchemy.text("select t.number from trials t join trial_heartbeats h on h.trial_id = t.trial_id "
                              "where t.state = 'RUNNING'")
    deadline, killed = time.monotonic() + 60, None
    while killed is None and time.monotonic() < deadline and victim.poll() is None:
        try:
            with engine.connect() as db:
                numbers = [row[0] for row in db.execute(beating)]
        except sqlalchemy.exc.ProgrammingError:  # the tables do not exist yet
            numbers = []
        if numbers:
            victim.send_signal(signal.SIGSTOP)  # freeze it, then make sure it is still inside that trial
            if tune.load("k", url).trials[numbers[0]].state.name == "RUNNING":
                killed = numbers[0]
            else:
                victim.send_signal(signal.SIGCONT)
        time.sleep(0.02)
    engine.dispose()
    assert killed is not None, "no trial caught running"
    victim.kill()
    victim.wait()
    time.sleep(3.5)  # past the grace period: its heartbeat has stopped
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    study = tune.load("k", url)
    by_state = states(study)
    assert study.trials[killed].state.name == "FAIL"
    retried = [t for t in study.trials if t.system_attrs.get("failed_trial") == killed]
    assert len(retried) == 1 and retried[0].state.name in ("COMPLETE", "PRUNED")
    # the retry is the same trial again: whatever had been sampled before the kill is fixed in it
    assert all(retried[0].params[k] == v for k, v in study.trials[killed].params.items())
    assert by_state.get("COMPLETE", 0) + by_state.get("PRUNED", 0) >= 4 and "RUNNING" not in by_state


def test_show_into_a_closed_pipe_stops_quietly(tmp_path):
    cli(tmp_path, "--study", "p", "--trials", "1", "--profile", "quick", "--no-progress")
    env = dict(os.environ, FCNBOOK_RESULTS=str(tmp_path))
    p = subprocess.Popen([sys.executable, "-m", "fcnbook", "tune", "--show", "p"], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    p.stdout.close()  # like `| head` that has gone before the table is printed
    err = p.stderr.read()
    assert p.wait(timeout=60) == 141 and "Traceback" not in err and "BrokenPipe" not in err
