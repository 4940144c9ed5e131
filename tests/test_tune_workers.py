"""Each worker of a study: its own sampler seed, recorded, and why it stopped (trials, timeout, signal, error).

Two workers sharing one PostgreSQL study draw different first configurations: see
``test_tune.py::test_two_machines_share_one_postgresql_study``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from fcnbook.tuning import objective, show
from fcnbook.tuning import study as tune
from fcnbook.tuning import worker as tune_worker


def test_each_worker_derives_its_own_sampler_seed_unless_one_is_given():
    a, b = tune_worker.identity("s"), tune_worker.identity("s")
    assert a["name"] == b["name"] == f"{a['host']}:{os.getpid()}"
    assert a["sampler_seed"] != b["sampler_seed"]  # same host and process: the random draw still tells them apart
    assert 0 <= a["sampler_seed"] < 2**32 and a["sampler_seed"] == tune_worker.sampler_seed("s", a)
    assert tune_worker.sampler_seed("other", a) != a["sampler_seed"]
    assert tune_worker.sampler_seed("s", {**a, "host": "elsewhere"}) != a["sampler_seed"]
    assert tune_worker.identity("s", seed=7)["sampler_seed"] == 7


def reasons(study) -> list[tuple[str, str, int]]:
    return [(e["reason"], e["detail"], e["trials_run"]) for e in tune_worker.stop_reasons(study)]


def test_trials_reached_and_timeout_are_recorded(tmp_path):
    study = objective.optimize("s", 1, root=tmp_path, profile="quick", progress=False)
    assert reasons(study) == [("trials", "", 1)]
    objective.optimize("s", 1, root=tmp_path, profile="quick", progress=False)  # full already: stops at once
    study = objective.optimize("s", 1000, root=tmp_path, profile="quick", progress=False, timeout=0.01)
    assert reasons(study) == [("trials", "", 1), ("trials", "", 0), ("timeout", "after 0.01 s", 1)]
    seeds = [e["sampler_seed"] for e in tune_worker.stop_reasons(study)]
    assert len(set(seeds)) == 3 and {t.user_attrs["sampler_seed"] for t in study.trials} == {seeds[0], seeds[2]}
    assert show.show(study).splitlines()[-1].endswith("stopped: timeout (after 0.01 s); 1 trials run, sampler "
                                                      f"seed {seeds[2]}")


@pytest.mark.parametrize("raised,reason,detail", [
    (RuntimeError("out of memory\nmore"), "error", "RuntimeError: out of memory"),
    (KeyboardInterrupt(), "interrupted", "SIGINT"),
])
def test_an_error_or_an_interrupt_is_recorded_and_raised(tmp_path, monkeypatch, raised, reason, detail):
    def fail(trial, **kwargs):
        raise raised

    monkeypatch.setattr(objective, "objective", fail)
    with pytest.raises(type(raised)):
        objective.optimize("e", 3, root=tmp_path, profile="quick", progress=False)
    assert reasons(tune.load("e", root=tmp_path)) == [(reason, detail, 1)]


def test_sigterm_stops_every_local_worker_and_each_records_it(tmp_path):
    """``--workers 2`` and SIGTERM to the parent only (as a scheduler sends it): both workers stop and say so."""
    env = dict(os.environ, FCNBOOK_RESULTS=str(tmp_path), OMP_NUM_THREADS="1")
    parent = subprocess.Popen([sys.executable, "-m", "fcnbook", "tune", "--study", "t", "--trials", "100000",
                               "--profile", "quick", "--workers", "2", "--no-progress"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline, workers = time.monotonic() + 90, set()
    while len(workers) < 2 and time.monotonic() < deadline and parent.poll() is None:
        time.sleep(0.5)
        try:  # both workers have started trials, so both are past their start-up and catch the signal
            workers = {t.user_attrs.get("worker") for t in tune.load("t", root=tmp_path).trials} - {None}
        except KeyError:  # the study is not there yet
            pass
    assert len(workers) == 2, parent.communicate(timeout=5)
    parent.send_signal(signal.SIGTERM)
    out, err = parent.communicate(timeout=60)
    assert parent.returncode == 143, err[-2000:]
    stops = tune_worker.stop_reasons(tune.load("t", root=tmp_path))
    assert sorted(e["worker"] for e in stops) == sorted(workers)
    assert {(e["reason"], e["detail"]) for e in stops} == {("interrupted", "SIGTERM")}
