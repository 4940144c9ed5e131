"""The runner: results of every (configuration, seed) asked for, training only what the store lacks.

Interruptions lose at most one epoch: a configuration being trained keeps an epoch checkpoint
(:mod:`fcnbook.training.checkpoint`) until its records are stored, and a rerun resumes from it with the same numbers.
One process trains a configuration at a time: the runner holds the configuration's lock
(:func:`fcnbook.store.cache.lock`) from the store look-up to the stored records, so a second process asking for the
same configuration waits and then reuses the records instead of training it again.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from fcnbook.config import RunConfig, check_seeds
from fcnbook.paths import results_dir
from fcnbook.store import cache
from fcnbook.store import records as store
from fcnbook.store.frames import Results
from fcnbook.training import checkpoint as ckpt
from fcnbook.training import environment
from fcnbook.training.fit import fit
from fcnbook.version import TRAINING_CODE_VERSION


class Interrupted(KeyboardInterrupt):
    """Training was stopped (SIGINT, or SIGTERM turned into an interrupt); ``str()`` says what was kept."""


def run(configs: RunConfig | Iterable[RunConfig], seeds: Sequence[int], *, device: str = "auto",
        progress: bool = True, root: Path | None = None, log: Callable[[str], None] | None = None,
        evaluate_test: bool = True, on_epoch: Callable | None = None) -> Results | list[dict]:
    """Results of every (config, seed), training only what the store does not already hold.

    The missing seeds of one configuration are trained together as one stacked network
    (:func:`fcnbook.training.fit.fit`) with an epoch checkpoint, then each seed is stored as its own record and the
    checkpoint is deleted before the next configuration starts, so an interrupted study resumes where it
    stopped: finished configurations are reused, the interrupted one continues from its last checkpoint.

    Parameters
    ----------
    configs : RunConfig or iterable of RunConfig
    seeds : sequence of int
    device : str
        Passed to :func:`fcnbook.training.fit.fit` for runs that must be trained.
    progress : bool
        tqdm bars while training.
    root : Path, optional
        Results root; default :func:`fcnbook.paths.results_dir`.
    log : callable, optional
        Receives one line per configuration (``trained ...``, ``reused ...``) and one when it waits for
        another process training the same configuration; default silent.
    evaluate_test : bool
        ``False`` for hyperparameter studies: runs are trained without touching the test set, any current record
        is reused (with or without test figures), and the records themselves are returned (a list of dicts),
        since :class:`Results` is about test figures.
    on_epoch : callable, optional
        Passed to :func:`fcnbook.training.fit.fit` (a study's pruning hook); an exception it raises propagates, and the
        configuration's checkpoint is deleted first.

    Raises
    ------
    Interrupted
        On ``KeyboardInterrupt``; its message says what was kept.
    fcnbook.store.cache.NotWritableError
        The results folder cannot be written (before any training), or a record could not be written (a full
        disk): the records already there are intact and the checkpoint is kept.
    """
    from fcnbook.data.splits import load_for  # here, so that importing the runner does not read any data

    configs = [configs] if isinstance(configs, RunConfig) else list(configs)
    seeds = check_seeds(list(seeds))
    log = log or (lambda msg: None)
    root = Path(root or results_dir())
    records, stored = [], 0
    for config in dict.fromkeys(configs):  # unique, in order
        try:
            splits = load_for(config)
            have = _stored(config, seeds, splits.checksum, root, need_test=evaluate_test)
            if None in have.values():
                waiting = f"waiting: another process is training {config.label()}"
                with cache.lock(root, config.key(), on_wait=lambda msg=waiting: log(msg)):
                    # Re-read under the lock: another process may have stored them while we waited (an unusable
                    # record was reported above already).
                    have = _stored(config, seeds, splits.checksum, root, quiet=True, need_test=evaluate_test)
                    missing = [s for s, rec in have.items() if rec is None]
                    if missing:
                        _check_precision(config, device)
                        t0 = time.perf_counter()
                        resumed = _train(config, missing, splits, root, device, progress, evaluate_test, on_epoch)
                        have = _stored(config, seeds, splits.checksum, root, quiet=True, need_test=evaluate_test)
                        note = f" (resumed from the checkpoint at epoch {resumed})" if resumed else ""
                        log(f"trained {config.label()}: {len(missing)} seed(s) in "
                            f"{time.perf_counter() - t0:.1f} s{note}")
                        stored += 1
                    else:
                        log(f"reused {config.label()}: {len(seeds)} seed(s) from the store (trained meanwhile by "
                            "another process)")
            else:
                log(f"reused {config.label()}: {len(seeds)} seed(s) from the store")
        except KeyboardInterrupt:
            raise Interrupted(_kept(config, seeds, stored, root)) from None
        records.extend(have[s] for s in seeds)
    return Results.from_records(records) if evaluate_test else records


def _check_precision(config: RunConfig, device: str) -> None:
    """Refuse (one line) to train bf16 on a device without fast bf16; stored bf16 records stay readable anywhere."""
    from fcnbook.training.fit import resolve_device
    from fcnbook.training.precision import check

    check(config.precision, resolve_device(device), force=os.environ.get("FCNBOOK_FORCE_PRECISION") == "1")


def _stored(config: RunConfig, seeds: Sequence[int], checksum: str, root: Path,
            quiet: bool = False, need_test: bool = True) -> dict[int, dict | None]:
    warn = (lambda msg: None) if quiet else None
    return {s: store.load(config, s, checksum, TRAINING_CODE_VERSION, root, warn=warn, need_test=need_test)
            for s in seeds}


def _train(config: RunConfig, missing: list[int], splits, root: Path, device: str, progress: bool,
           evaluate_test: bool = True, on_epoch: Callable | None = None) -> int | None:
    """Train ``missing`` (resuming a checkpoint that covers them), store the records, delete the checkpoint.

    Must run under the configuration's lock. Returns the epoch training resumed from, or ``None``.
    """
    path = ckpt.path(config, missing, root)
    for folder in (store.record_path(config, 0, root).parent, path.parent):
        ckpt.remove_partial(folder)  # temporary files of a killed writer (no one else writes here now)
    stack = missing
    if not path.exists():
        # A process killed between two records of one stack left that stack's checkpoint: resume the whole
        # stack, since a member's last digits depend on the stack it is trained in.
        for other in reversed(ckpt.existing(config, root)):
            if set(missing) <= set(ckpt.seeds_of(other)):
                stack, path = ckpt.seeds_of(other), other
                break
    try:
        results = fit(config, stack, data=splits, device=device, progress=progress, checkpoint=path,
                      evaluate_test=evaluate_test, on_epoch=on_epoch)
    except KeyboardInterrupt:
        raise  # an interruption keeps its checkpoint: a rerun resumes from it
    except Exception:
        if on_epoch is not None:  # a pruned trial will not be resumed: drop its checkpoint
            ckpt.remove(path)
        raise
    for result in results:
        if result.seed not in missing and _stored(config, [result.seed], splits.checksum, root, True,
                                                  evaluate_test)[result.seed]:
            continue  # a stack member outside this request that already has a record: leave that one alone
        try:
            store.save(result, splits.checksum, root, machine=environment.describe(result.device))
        except OSError as exc:
            raise cache.NotWritableError(
                f"could not write the record {store.record_path(config, result.seed, root)} "
                f"({exc.strerror or exc}); the records stored before are intact and the epoch checkpoint is "
                "kept: make room and run again") from exc
    ckpt.remove(path)
    return results[0].extra.get("resumed_from_epoch")


def _kept(config: RunConfig, seeds: Sequence[int], stored: int, root: Path) -> str:
    """What an interruption while working on ``config`` leaves behind, in one line."""
    done = f"{stored} configuration(s) trained and stored in this run; " if stored else ""
    epochs = [e for p in ckpt.existing(config, root) if (e := ckpt.saved_epoch(p)) is not None]
    if epochs:
        now = f"{config.label()} has its epoch checkpoint at epoch {max(epochs)} of {config.epochs}"
    else:
        now = f"{config.label()} had not completed an epoch (no checkpoint)"
    return f"{done}{now}; every stored record is kept under {root}"
