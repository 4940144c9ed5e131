"""``fcnbook tune``: a hyperparameter study on Optuna that never looks at the test set.

A study samples configurations from :mod:`fcnbook.tuning.space` with Optuna's TPE sampler, trains each on the
training split with one seed through the normal runner (so a configuration is trained once, whoever asks), and
scores it by its validation accuracy after the last epoch. After every epoch the validation accuracy is reported
with the epoch as the step, and a Hyperband pruner stops trials that trail the others at the same epoch
(:mod:`fcnbook.tuning.sampling`). Each worker seeds its sampler differently and records why it stopped
(:mod:`fcnbook.tuning.worker`); named recipes are tried first, once per study (:mod:`fcnbook.tuning.recipes`). The test
set
is never evaluated: trial runs are stored without test figures (``fcnbook.store.records``), and only the final retrain
of
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
import time
import warnings
from pathlib import Path

from fcnbook.paths import results_dir

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

    ``seed`` seeds this process's sampler (:func:`fcnbook.tuning.worker.sampler_seed` derives one per worker) and
    ``pruner`` names its pruner (:data:`fcnbook.tuning.sampling.PRUNERS`): both belong to the process, not the study.
    """
    optuna = _optuna()
    from fcnbook.tuning import sampling as tune_sampling

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
