"""Running a study's trials: the objective (train on the training split, score on validation) and the workers.

:mod:`fcnbook.tuning.study` opens, creates and reads studies without training anything; this module trains (through
the run store's runner), so only the command line and :class:`fcnbook.lab.Lab` import it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from fcnbook.tuning import space as search_space
from fcnbook.tuning import worker as tune_worker
from fcnbook.tuning.study import SEED, _optuna, create


def objective(trial, *, profile: str, dataset: str, precision: str, root: Path | None = None,
              device: str = "auto", worker: dict | None = None) -> float:
    """Train the trial's configuration (seed :data:`SEED`) and return its last validation accuracy."""
    optuna = _optuna()

    from fcnbook.store.runner import run
    from fcnbook.tuning.sampling import may_prune

    if worker is not None:
        tune_worker.mark(trial, worker)
    config = search_space.config_of(search_space.sample(trial, profile, dataset), profile, dataset, precision)
    trial.set_user_attr("config", config.to_dict())
    trial.set_user_attr("key", config.key())
    recipe = trial.user_attrs.get("recipe")  # read once: each read may be a query to the server

    reported = []

    def report(epoch: int, histories: list[dict]) -> None:
        reported.append(epoch)
        val = histories[0]["val_accuracy"]
        if len(val) == epoch:  # not diverged
            trial.report(val[-1], epoch)
            if may_prune(epoch, config.epochs, recipe) and trial.should_prune():
                raise optuna.TrialPruned(f"pruned at epoch {epoch} (validation accuracy {val[-1]:.4f})")

    record = run([config], [SEED], device=device, progress=False, root=root, evaluate_test=False,
                 on_epoch=report)[0]
    history = record["history"]
    trial.set_user_attr("seconds", record["seconds"])
    trial.set_user_attr("diverged", record["diverged"])
    if not history["val_accuracy"]:
        return 0.0  # diverged in its first epoch: as good as guessing, or worse
    if record["diverged"]:
        return float(history["val_accuracy"][-1])
    if not reported:  # a record reused from the store: report its curve as if it had been trained now
        for epoch, value in enumerate(history["val_accuracy"], start=1):
            trial.report(value, epoch)
    return float(history["val_accuracy"][-1])


def optimize(study: str, trials: int, *, url: str | None = None, root: Path | None = None,
             timeout: float | None = None, profile: str = "full", dataset: str = "fashion",
             precision: str = "fp32", seed: int | None = None, device: str = "auto", progress: bool = True,
             recipes: dict | None = None, pruner: str = "hyperband"):
    """Run trials in this process until the study holds ``trials`` finished (complete or pruned) trials.

    ``seed`` None derives this worker's sampler seed (:mod:`fcnbook.tuning.worker`); ``recipes`` None enqueues the
    named recipes that fit the space (:func:`fcnbook.tuning.recipes.applicable`), ``{}`` none. Why the worker stopped is
    recorded in the study whatever ends it (:func:`fcnbook.tuning.worker.stop_reasons`).
    """
    optuna = _optuna()
    from optuna.trial import TrialState
    from tqdm import tqdm

    from fcnbook.signals import stopped_by
    from fcnbook.tuning import recipes as named

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    me = tune_worker.identity(study, seed)
    st = create(study, url, root, profile=profile, dataset=dataset, precision=precision, seed=me["sampler_seed"],
                pruner=pruner)
    todo = named.applicable(profile, dataset, recipes)
    if todo:
        with named.lock(study, url, root):
            named.enqueue(st, todo)
    finished = (TrialState.COMPLETE, TrialState.PRUNED)
    done = len(st.get_trials(deepcopy=False, states=finished))
    bar = tqdm(total=trials, initial=min(done, trials), desc=f"study {study}", disable=not progress, unit="trial")
    ran = [0]  # trials this worker took on, the one that failed or was interrupted included

    def one(trial) -> float:
        ran[0] += 1
        return objective(trial, profile=profile, dataset=dataset, precision=precision, root=root, device=device,
                         worker=me)

    def tick(st_, trial) -> None:
        bar.update(1) if bar.n < trials else None
        best = st_.best_value if any(t.state == TrialState.COMPLETE for t in st_.get_trials(deepcopy=False)) else 0
        bar.set_postfix(best=f"{best:.4f}")

    reason, detail = "trials", ""
    try:
        if done < trials:
            st.optimize(one, timeout=timeout, gc_after_trial=True,
                        callbacks=[optuna.study.MaxTrialsCallback(trials, states=finished), tick])
            # optimize returns before the study is full only when its timeout has passed
            if timeout is not None and len(st.get_trials(deepcopy=False, states=finished)) < trials:
                reason, detail = "timeout", f"after {timeout:g} s"
    except KeyboardInterrupt:
        reason, detail = "interrupted", signal.Signals(stopped_by()).name
        raise
    except BaseException as exc:
        reason, detail = "error", f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0]}"
        raise
    finally:
        bar.close()
        tune_worker.record_stop(st, me, reason, detail, trials_run=ran[0])
    return st


def start_workers(argv: list[str], workers: int, threads: int) -> int:
    """Run ``workers`` copies of ``fcnbook tune argv`` (each ``--workers 1``, ``threads`` threads); worst exit code."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), FCNBOOK_THREADS=str(threads))
    procs = [subprocess.Popen([sys.executable, "-m", "fcnbook", "tune", *argv, "--workers", "1",
                               "--worker-index", str(i), *(["--no-progress"] if i else [])], env=env)
             for i in range(workers)]
    try:
        codes = [p.wait() for p in procs]
    except KeyboardInterrupt:
        from fcnbook.signals import stopped_by

        # Ctrl-C reached the workers with the terminal's process group; SIGTERM was sent to this process alone:
        # pass it on, so that each worker stops as it would and records why
        if stopped_by() == signal.SIGTERM:
            for p in procs:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait()
        raise
    return max(codes, key=abs)
