"""The runner: results of every (configuration, seed) asked for, training only what the store lacks.

Interruptions lose at most one epoch: a configuration being trained keeps an epoch checkpoint
(:mod:`fcnbook.training.checkpoint`) until its records are stored, and a rerun resumes from it with the same numbers.
One process trains a configuration at a time: the runner holds the configuration's lock
(:func:`fcnbook.store.cache.lock`) from the store look-up to the stored records, so a second process asking for the
same configuration waits and then reuses the records instead of training it again.

A configuration distilled from a teacher (``RunConfig.teacher``) needs the teacher's stored weights
(:mod:`fcnbook.weights`): the runner trains the teacher's missing seeds first (with its records), then computes
the soft labels (:mod:`fcnbook.distill`) and trains the student on them. A teacher stored without weights is
trained again for them; a record that retrain reproduces is kept as it was, one that differs is replaced.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from fcnbook.config import RunConfig, check_seeds
from fcnbook.paths import results_dir
from fcnbook.store import cache, weights
from fcnbook.store import records as store
from fcnbook.store.frames import Results
from fcnbook.training import checkpoint as ckpt
from fcnbook.training import distill, environment
from fcnbook.training.fit import fit
from fcnbook.version import TRAINING_CODE_VERSION


class Interrupted(KeyboardInterrupt):
    """Training was stopped (SIGINT, or SIGTERM turned into an interrupt); ``str()`` says what was kept."""


def run(configs: RunConfig | Iterable[RunConfig], seeds: Sequence[int], *, device: str = "auto", progress: bool = True,
        root: Path | None = None, log: Callable[[str], None] | None = None, evaluate_test: bool = True,
        on_epoch: Callable | None = None, keep_weights: bool = False) -> Results | list[dict]:
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
    keep_weights : bool
        Also store the final weights of every seed trained here (:mod:`fcnbook.store.weights`), so that a later
        run can use them as a teacher without training them again; reused seeds are not retrained for them.

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
    known = _known(configs, root)
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
                        resumed = _train(config, missing, splits, root, device, progress, evaluate_test, on_epoch,
                                         keep_weights=keep_weights, known=known, log=log)
                        have = _stored(config, seeds, splits.checksum, root, quiet=True, need_test=evaluate_test)
                        note = f" (resumed from the checkpoint at epoch {resumed})" if resumed else ""
                        log(f"trained {config.label()}: {len(missing)} seed(s) in "
                            f"{time.perf_counter() - t0:.1f} s{note}{', its teacher included' * bool(config.teacher)}")
                        stored += 1
                    else:
                        log(f"reused {config.label()}: {len(seeds)} seed(s) from the store (trained meanwhile by "
                            "another process)")
            else:
                log(f"reused {config.label()}: {len(seeds)} seed(s) from the store")
        except KeyboardInterrupt:
            raise Interrupted(_kept(config, seeds, stored, root, known)) from None
        records.extend(have[s] for s in seeds)
    return Results.from_records(records) if evaluate_test else records


def _known(configs: list[RunConfig], root: Path) -> dict[str, RunConfig]:
    """The configurations asked for and every teacher (and its teacher...) by key, found before anything is trained
    (``ValueError`` for a teacher neither asked for nor stored)."""
    known = {c.key(): c for c in configs}
    for config in configs:
        while config.teacher:
            config = known.setdefault(config.teacher, _teacher_config(config.teacher, known, root))
    return known


def _check_precision(config: RunConfig, device: str) -> None:
    """Refuse (one line) to train bf16 on a device without fast bf16; stored bf16 records stay readable anywhere."""
    from fcnbook.training.precision import check
    from fcnbook.training.setup import resolve_device

    check(config.precision, resolve_device(device), force=os.environ.get("FCNBOOK_FORCE_PRECISION") == "1")


def _stored(config: RunConfig, seeds: Sequence[int], checksum: str, root: Path,
            quiet: bool = False, need_test: bool = True) -> dict[int, dict | None]:
    warn = (lambda msg: None) if quiet else None
    return {s: store.load(config, s, checksum, TRAINING_CODE_VERSION, root, warn=warn, need_test=need_test)
            for s in seeds}


def _train(config: RunConfig, missing: list[int], splits, root: Path, device: str, progress: bool,
           evaluate_test: bool = True, on_epoch: Callable | None = None, *, keep_weights: bool = False,
           known: dict | None = None, log: Callable[[str], None] | None = None) -> int | None:
    """Train ``missing`` (resuming a checkpoint that covers them), store the records, delete the checkpoint.

    Must run under the configuration's lock. With ``keep_weights`` (a teacher) every member's final weights are
    stored too. A distilled configuration gets its teacher first (:func:`_soft_labels`). Returns the epoch
    training resumed from, or ``None``.
    """
    teacher, taught = (_soft_labels(config, splits, root, device, progress, known or {}, log) if config.teacher
                       else (None, 0.0))
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
                      evaluate_test=evaluate_test, on_epoch=on_epoch, teacher=teacher, keep_weights=keep_weights)
    except KeyboardInterrupt:
        raise  # an interruption keeps its checkpoint: a rerun resumes from it
    except Exception:
        if on_epoch is not None:  # a pruned trial will not be resumed: drop its checkpoint
            ckpt.remove(path)
        raise
    for result in results:
        if config.teacher:  # the teacher's pass for the soft labels is this run's cost too: each member its share
            share = taught / result.stack_size
            result = replace(result, seconds=result.seconds + share, extra=result.extra | {"soft_label_seconds": share})
        if keep_weights:
            weights.save(result.weights, config, result.seed, splits.checksum, TRAINING_CODE_VERSION, root)
        had = (_stored(config, [result.seed], splits.checksum, root, True, evaluate_test)[result.seed]
               if result.seed not in missing or keep_weights else None)  # only those two can have a record
        if had and (result.seed not in missing or _reproduced(had, result, log)):
            continue  # a record already there is left alone: a stack member outside this request, or a teacher
            #           retrained for its weights that reproduced its record exactly
        try:
            store.save(result, splits.checksum, root, machine=environment.describe(result.device))
        except OSError as exc:
            raise cache.NotWritableError(
                f"could not write the record {store.record_path(config, result.seed, root)} "
                f"({exc.strerror or exc}); the records stored before are intact and the epoch checkpoint is "
                "kept: make room and run again") from exc
    ckpt.remove(path)
    return results[0].extra.get("resumed_from_epoch")


def _reproduced(record: dict, result, log: Callable[[str], None] | None) -> bool:
    """Whether ``result``, a teacher's seed retrained for its weights, gives its stored ``record``'s test predictions;
    said either way, since a record that differs is replaced so that it describes the weights kept."""
    same = record["test_predictions"] == result.test_predictions
    (log or (lambda msg: None))(
        f"{result.config.label()} seed {result.seed}, retrained for its weights: " + (
            "its stored record is reproduced exactly and kept" if same else
            f"test accuracy {record['test_accuracy']:.4f} stored, {result.test_accuracy:.4f} now; the record is "
            "replaced so that it describes the weights kept"))
    return same


def _teacher_config(key: str, known: dict[str, RunConfig], root: Path) -> RunConfig:
    """The configuration of key ``key``: one asked for in this run, else the one a stored record names."""
    if key in known:
        return known[key]
    for record in sorted((root / "runs" / key).glob("seed-*.json")):
        try:
            config = RunConfig.from_dict(json.loads(record.read_text())["config"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # an unreadable record: another one may name the configuration
        if config.key() == key:
            return config
    raise ValueError(f"teacher {key} is neither among the configurations asked for nor stored under {root / 'runs'}; "
                     "train it first or ask for it in the same run")


def _soft_labels(config: RunConfig, splits, root: Path, device: str, progress: bool, known: dict[str, RunConfig],
                 log: Callable[[str], None] | None):
    """The soft labels of ``config``'s teacher (its missing seeds trained first) and the seconds they took."""
    from fcnbook.data.splits import load_for
    from fcnbook.training.setup import resolve_device

    log = log or (lambda msg: None)
    teacher = _teacher_config(config.teacher, known, root)
    if load_for(teacher).checksum != splits.checksum:
        raise ValueError(f"teacher must be trained on its student's data and split ({teacher.label()} is not)")
    seeds = list(config.teacher_seeds)
    state = weights.load(teacher, seeds, splits.checksum, TRAINING_CODE_VERSION, root)
    if state is None:
        waiting = f"waiting: another process is training the teacher {teacher.label()}"
        with cache.lock(root, teacher.key(), on_wait=lambda msg=waiting: log(msg)):
            need = [s for s in seeds if weights.load(teacher, [s], splits.checksum, TRAINING_CODE_VERSION, root,
                                                     warn=lambda msg: None) is None]
            if need:
                _check_precision(teacher, device)
                t0 = time.perf_counter()
                _train(teacher, need, splits, root, device, progress, keep_weights=True, known=known, log=log)
                log(f"trained the teacher {teacher.label()}: {len(need)} seed(s), "
                    f"{time.perf_counter() - t0:.1f} s in this process")  # a resumed run counts only its own time
            state = weights.load(teacher, seeds, splits.checksum, TRAINING_CODE_VERSION, root)
    t0 = time.perf_counter()  # the teacher's training is in its own records; its pass here is the student's
    return _from_weights(config, teacher, state, splits, resolve_device(device), log), time.perf_counter() - t0


def stored_soft_labels(config: RunConfig, splits, root: Path | None = None, device: str = "cpu"):
    """The soft labels of distilled ``config``'s teacher from its stored final weights, or None when they are not
    stored: nothing is trained or written (``fcnbook verify`` re-makes a distilled record with them)."""
    from fcnbook.training.setup import resolve_device

    root = Path(root or results_dir())
    teacher = _teacher_config(config.teacher, {}, root)
    state = weights.load(teacher, list(config.teacher_seeds), splits.checksum, TRAINING_CODE_VERSION, root,
                         warn=lambda msg: None)
    return None if state is None else _from_weights(config, teacher, state, splits, resolve_device(device), None)


def teacher_kept(config: RunConfig, root: Path | None = None) -> bool:
    """Whether every teacher seed of distilled ``config`` has a weights file under ``root`` (not read yet)."""
    root = Path(root or results_dir())
    try:
        teacher = _teacher_config(config.teacher, {}, root)
    except ValueError:
        return False
    return all(weights.path(teacher, s, root).exists() for s in config.teacher_seeds)


def _from_weights(config: RunConfig, teacher: RunConfig, state: dict, splits, dev, log):
    """``config``'s soft labels from its ``teacher``'s stacked final weights ``state`` on device ``dev``."""
    log = log or (lambda msg: None)
    model = distill.stacked_teacher(teacher, state, dev)
    x = splits.x_train.to(dev)
    if config.distill_views == "clean":
        return distill.teacher_log_probs(model, x, config.distill_temperature)
    t0 = time.perf_counter()  # background: the normalised black pixel, as fit gives the student's augmenter
    table = distill.teacher_view_log_probs(model, x, config, background=x.min().item())
    log(f"tabulated the teacher's outputs on {table.shape[1]} views of {len(x)} training images: "
        f"{time.perf_counter() - t0:.1f} s")
    return table


def _kept(config: RunConfig, seeds: Sequence[int], stored: int, root: Path, known: dict | None = None) -> str:
    """What an interruption while working on ``config`` (or on its teacher, trained first) leaves behind, in one
    line."""
    done = f"{stored} configuration(s) trained and stored in this run; " if stored else ""
    now = []
    for c in filter(None, ((known or {}).get(config.teacher), config)):
        epochs = [e for p in ckpt.existing(c, root) if (e := ckpt.saved_epoch(p)) is not None]
        if epochs:
            now.append(f"{c.label()} has its epoch checkpoint at epoch {max(epochs)} of {c.epochs}")
    now = now or [f"{config.label()} had not completed an epoch (no checkpoint)"]
    return f"{done}{'; '.join(now)}; every stored record is kept under {root}"
