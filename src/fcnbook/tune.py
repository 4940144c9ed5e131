"""``fcnbook tune``: a hyperparameter study on Optuna that never looks at the test set.

A study samples configurations from :mod:`fcnbook.search_space` with Optuna's TPE sampler, trains each on the
training split with one seed through the normal runner (so a configuration is trained once, whoever asks), and
scores it by its validation accuracy after the last epoch. After every epoch the validation accuracy is reported
with the epoch as the step, and a Hyperband pruner stops trials that trail the others at the same epoch
(:mod:`fcnbook.tune_sampling`). Each worker seeds its sampler differently and records why it stopped
(:mod:`fcnbook.tune_worker`); named recipes are tried first, once per study (:mod:`fcnbook.recipes`). The test set
is never evaluated: trial runs are stored without test figures (``fcnbook.store``), and only the final retrain of
the chosen configuration (the "Beyond the report" chapter) evaluates it, once.

Storage (``--storage``):

* default: an Optuna journal file ``<results>/tune/<study>.journal``, safe for several processes on one machine
  (SQLite is not, by Optuna's own FAQ);
* ``postgresql+psycopg://user:password@host:port/db`` (any SQLAlchemy URL): Optuna's RDB storage, for many
  machines. Workers send heartbeats; a trial whose worker died (no heartbeat for :data:`GRACE` seconds) is marked
  failed and queued again once (``RetryHeartbeatStaleTrialCallback``). Every machine runs the same command and joins
  the study (``load_if_exists``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

from . import search_space, tune_worker
from .paths import results_dir
from .tune_show import counts, show, table  # noqa: F401 (part of this module's interface: beyond, the CLI, tests)

HEARTBEAT = 10  # seconds between a running trial's heartbeats (RDB storage)
GRACE = 60  # a running trial without a heartbeat for this long is stale: failed, then retried
# FCNBOOK_TUNE_HEARTBEAT="INTERVAL,GRACE" (seconds) overrides both: the tests kill a worker and wait for its trial
# to go stale, and a cluster with slow trials may want a longer grace.
MAX_RETRY = 2  # a stale trial is queued again at most this often
SEED = 0  # the seed of every trial's run: configurations compete on equal terms (the sampler's seed is per worker)


def _optuna():
    """``import optuna``, lazily (``fcnbook --help`` stays instant) and without tqdm's notebook warning."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        import optuna
    return optuna


class StorageError(ValueError):
    """The study's storage cannot be opened or reached (one line, names the URL without its password)."""


def journal_path(study: str, root: Path | None = None) -> Path:
    """The default storage of ``study``: a journal file under the results folder."""
    return Path(root or results_dir()) / "tune" / f"{study}.journal"


def _redact(url: str) -> str:
    """``url`` without its password, for messages."""
    if "://" in url and "@" in url.split("://", 1)[1]:
        scheme, rest = url.split("://", 1)
        cred, host = rest.rsplit("@", 1)
        return f"{scheme}://{cred.split(':', 1)[0]}:***@{host}" if ":" in cred else url
    return url


def check_study_name(name: str) -> str:
    """``name`` if it is a usable study name (letters, digits, ``-``, ``_``, ``.``), else ``ValueError``."""
    if not isinstance(name, str) or not name or not all(c.isalnum() or c in "-_." for c in name) or name[0] == ".":
        raise ValueError(f"study must be a name of letters, digits, '-', '_' or '.' (got {name!r})")
    return name


def storage(study: str, url: str | None = None, root: Path | None = None):
    """An Optuna storage for ``study``: the journal file by default, else the RDB storage at ``url``.

    Raises
    ------
    StorageError
        ``url`` is malformed, names an unknown driver, or its server cannot be reached.
    """
    optuna = _optuna()

    if url is None:
        from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

        path = journal_path(study, root)
        path.parent.mkdir(parents=True, exist_ok=True)
        # the open(O_EXCL) lock: works on every local filesystem, also where symlinks are not allowed
        backend = JournalFileBackend(str(path), lock_obj=JournalFileOpenLock(str(path)))
        return optuna.storages.JournalStorage(backend)
    if url.startswith("sqlite"):
        raise StorageError(f"storage must be a server URL such as postgresql+psycopg://user@host/db, or omitted "
                           f"for the journal file (got {_redact(url)}: SQLite is unsafe for parallel workers)")
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)  # heartbeats: "experimental"
    interval, grace = HEARTBEAT, GRACE
    if env := os.environ.get("FCNBOOK_TUNE_HEARTBEAT"):
        try:
            interval, grace = (int(v) for v in env.split(","))
            assert 1 <= interval < grace
        except (ValueError, AssertionError):
            raise StorageError(f"FCNBOOK_TUNE_HEARTBEAT must be INTERVAL,GRACE in whole seconds with 1 <= INTERVAL "
                               f"< GRACE (got {env!r})") from None
    for attempt in range(5):
        try:
            return optuna.storages.RDBStorage(
                url, heartbeat_interval=interval, grace_period=grace,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY),
                engine_kwargs={"pool_pre_ping": True},
            )
        except Exception as exc:  # SQLAlchemy's ArgumentError/OperationalError, a missing driver module, ...
            # Workers started together on an empty database race to create Optuna's tables; the losers see an
            # IntegrityError and find the tables there when they try again.
            if type(exc).__name__ == "IntegrityError" and attempt < 4:
                time.sleep(0.2 * (attempt + 1))
                continue
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise StorageError(f"storage {_redact(url)} cannot be used: {type(exc).__name__}: {reason}") from None


def load(study: str, url: str | None = None, root: Path | None = None):
    """The stored study ``study`` (``KeyError`` if there is none)."""
    optuna = _optuna()

    check_study_name(study)
    if url is None and not journal_path(study, root).exists():
        raise KeyError(f"no study {study!r} in {journal_path(study, root).parent}")
    try:
        return optuna.load_study(study_name=study, storage=storage(study, url, root))
    except KeyError:
        raise KeyError(f"no study {study!r} in {_redact(url) if url else journal_path(study, root)}") from None


def create(study: str, url: str | None = None, root: Path | None = None, *, profile: str = "full",
           dataset: str = "fashion", precision: str = "fp32", seed: int | None = None, pruner: str = "hyperband"):
    """Create ``study`` or join it (every worker runs the same command); its settings are stored with it.

    ``seed`` seeds this process's sampler (:func:`fcnbook.tune_worker.sampler_seed` derives one per worker) and
    ``pruner`` names its pruner (:data:`fcnbook.tune_sampling.PRUNERS`): both belong to the process, not the study.
    """
    optuna = _optuna()
    from . import tune_sampling

    settings = {"profile": profile, "dataset": dataset, "precision": precision}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    st = optuna.create_study(
        study_name=study, storage=storage(study, url, root), direction="maximize", load_if_exists=True,
        sampler=tune_sampling.sampler(seed, profile, dataset), pruner=tune_sampling.pruner(pruner, profile),
    )
    stored = {k: st.user_attrs.get(k) for k in settings}
    if all(v is None for v in stored.values()):
        for k, v in settings.items():
            st.set_user_attr(k, v)
    elif stored != settings:
        raise ValueError(f"study {study!r} exists with other settings ({stored}); got {settings}: use another "
                         "--study name or the same --profile, --dataset and --precision")
    return st


def objective(trial, *, profile: str, dataset: str, precision: str, root: Path | None = None,
              device: str = "auto", worker: dict | None = None) -> float:
    """Train the trial's configuration (seed :data:`SEED`) and return its last validation accuracy."""
    optuna = _optuna()

    from .runner import run
    from .tune_sampling import may_prune

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

    ``seed`` None derives this worker's sampler seed (:mod:`fcnbook.tune_worker`); ``recipes`` None enqueues the
    named recipes that fit the space (:func:`fcnbook.recipes.applicable`), ``{}`` none. Why the worker stopped is
    recorded in the study whatever ends it (:func:`fcnbook.tune_worker.stop_reasons`).
    """
    optuna = _optuna()
    from optuna.trial import TrialState
    from tqdm import tqdm

    from . import recipes as named
    from .interrupts import stopped_by

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
        from .interrupts import stopped_by

        # Ctrl-C reached the workers with the terminal's process group; SIGTERM was sent to this process alone:
        # pass it on, so that each worker stops as it would and records why
        if stopped_by() == signal.SIGTERM:
            for p in procs:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait()
        raise
    return max(codes, key=abs)
