"""The run store: one JSON record per (configuration, seed), so that nothing is trained twice.

Layout: ``<results>/runs/<config key>/seed-<seed>.json`` under :func:`fcnbook.paths.results_dir`, kept by the
book's one cache (:mod:`fcnbook.store.cache`). A record is reused only when its configuration key, the checksum of
the data it was trained on and the training-code version all match: one made by other code or on other data is
superseded silently, an unreadable one is reported and retrained. Records are written atomically.

A hyperparameter study (:mod:`fcnbook.tuning.study`) stores its runs here too, but trained without ever touching the
test set: their test figures are ``null`` and ``test_evaluated`` is false. Such a record serves later studies; a
caller that needs test figures (``need_test``, the default) treats it as missing, and the run is retrained with
its test evaluation, replacing it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from fcnbook.config import RunConfig
from fcnbook.paths import results_dir
from fcnbook.store import cache

RECORD_FORMAT = 1
#: Per-epoch metrics of a record's history (besides ``seconds``); records made before version 3 lack the running
#: means and hold the training-mode running means under ``train_*``.
METRICS = ("train_loss", "train_accuracy", "running_loss", "running_accuracy", "val_loss", "val_accuracy")


def record_path(config: RunConfig, seed: int, root: Path | None = None) -> Path:
    """Where the record of ``(config, seed)`` lives."""
    return Path(root or results_dir()) / "runs" / config.key() / f"seed-{seed}.json"


def save(result, data_checksum: str, root: Path | None = None, *, machine: dict) -> Path:
    """Write ``result`` (a :class:`fcnbook.training.fit.RunResult`) as the record of its (config, seed).

    ``machine`` describes where it ran (:func:`fcnbook.training.environment.describe`); the caller, which trained
    it, knows that, so that reading and writing records never imports torch.
    """
    payload = {
        "format": RECORD_FORMAT,
        "key": result.config.key(),
        "config": result.config.to_dict(),
        "seed": result.seed,
        "data_checksum": data_checksum,
        "code_version": result.version,
        "history": result.history,
        "test_loss": result.test_loss,
        "test_accuracy": result.test_accuracy,
        "test_predictions": result.test_predictions,
        "test_evaluated": result.test_accuracy is not None,
        "extra": {k: v for k, v in result.extra.items() if k != "resumed_from_epoch"},
        "diverged": result.diverged,
        "diverged_epoch": result.diverged_epoch,
        "device": result.device,
        "stack_size": result.stack_size,
        "seconds": result.seconds,
        "machine": machine,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return cache.write(record_path(result.config, result.seed, root), payload, separators=(",", ":"))


def _check(record: dict) -> None:
    """Raise when ``record`` is malformed: no float test accuracy, or history lists of unequal length."""
    evaluated = record.get("test_evaluated", True)
    if not isinstance(record["test_accuracy"], float) and not (evaluated is False and record["test_accuracy"] is None):
        raise TypeError("test_accuracy is not a number")
    history = record["history"]
    n = len(history["seconds"])
    if any(len(v) != n for v in history.values()):
        raise ValueError("history lists of unequal length")


def load(config: RunConfig, seed: int, data_checksum: str, code_version: int, root: Path | None = None,
         warn: Callable[[str], None] | None = None, need_test: bool = True) -> dict | None:
    """The stored record of ``(config, seed)`` if it is present, readable and current, else ``None``.

    A record that exists but cannot be used is reported through ``warn`` (default a
    :class:`fcnbook.store.cache.CacheWarning`), never raised. With ``need_test``, a study's record without test figures
    counts as missing.
    """
    record = cache.read(
        record_path(config, seed, root),
        identity={"format": RECORD_FORMAT, "key": config.key(), "seed": seed},
        current={"code_version": code_version, "data_checksum": data_checksum},
        check=_check, warn=warn,
    )
    if record is not None and need_test and record.get("test_evaluated") is False:
        return None
    return record
