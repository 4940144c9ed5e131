"""Running a study's trials: the objective (train on the training split, score on validation) and the workers.

:mod:`fcnbook.tuning.study` opens, creates and shows studies without training anything; this module trains (through
the run store's runner), so only the command line and :class:`fcnbook.lab.Lab` import it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fcnbook.tuning import space as search_space
from fcnbook.tuning.study import SEED, _optuna, create


def progress_step(epoch: int, epochs: int) -> int:
    """The pruner's step of ``epoch`` of ``epochs``: percent of the budget done, so that trials with different epoch
    budgets (and schedules that anneal over them) are compared at the same stage of their training."""
    return round(100 * epoch / epochs)


def objective(trial, *, profile: str, dataset: str, precision: str, root: Path | None = None,
              device: str = "auto") -> float:
    """Train the trial's configuration (seed :data:`SEED`) and return its last validation accuracy."""
    optuna = _optuna()

    from fcnbook.store.runner import run

    config = search_space.config_of(search_space.sample(trial, profile, dataset), profile, dataset, precision)
    trial.set_user_attr("config", config.to_dict())
    trial.set_user_attr("key", config.key())

    reported = []

    def report(epoch: int, histories: list[dict]) -> None:
        reported.append(epoch)
        val = histories[0]["val_accuracy"]
        if len(val) == epoch:  # not diverged
            trial.report(val[-1], progress_step(epoch, config.epochs))
            if trial.should_prune():
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
            trial.report(value, progress_step(epoch, config.epochs))
    return float(history["val_accuracy"][-1])


def optimize(study: str, trials: int, *, url: str | None = None, root: Path | None = None,
             timeout: float | None = None, profile: str = "full", dataset: str = "fashion",
             precision: str = "fp32", seed: int | None = 0, device: str = "auto", progress: bool = True):
    """Run trials in this process until the study holds ``trials`` finished (complete or pruned) trials."""
    optuna = _optuna()
    from optuna.trial import TrialState
    from tqdm import tqdm

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    st = create(study, url, root, profile=profile, dataset=dataset, precision=precision, seed=seed)
    finished = (TrialState.COMPLETE, TrialState.PRUNED)
    done = len(st.get_trials(deepcopy=False, states=finished))
    bar = tqdm(total=trials, initial=min(done, trials), desc=f"study {study}", disable=not progress, unit="trial")

    def tick(st_, trial) -> None:
        bar.update(1) if bar.n < trials else None
        best = st_.best_value if any(t.state == TrialState.COMPLETE for t in st_.get_trials(deepcopy=False)) else 0
        bar.set_postfix(best=f"{best:.4f}")

    if done < trials:
        st.optimize(lambda t: objective(t, profile=profile, dataset=dataset, precision=precision, root=root,
                                        device=device),
                    timeout=timeout, callbacks=[optuna.study.MaxTrialsCallback(trials, states=finished), tick],
                    gc_after_trial=True)
    bar.close()
    return st


def start_workers(argv: list[str], workers: int, threads: int) -> int:
    """Run ``workers`` copies of ``fcnbook tune argv`` (each ``--workers 1``, ``threads`` threads); worst exit code."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), FCNBOOK_THREADS=str(threads))
    procs = [subprocess.Popen([sys.executable, "-m", "fcnbook", "tune", *argv, "--workers", "1",
                               "--worker-index", str(i), *(["--no-progress"] if i else [])], env=env)
             for i in range(workers)]
    codes = [p.wait() for p in procs]
    return max(codes, key=abs)
