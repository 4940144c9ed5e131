"""Epoch checkpoints: an interrupted stack of seeds resumes where it stopped, with the same numbers.

While :func:`fcnbook.training.fit.fit` trains a stack it writes, every :data:`EVERY` completed epochs, everything the
rest of the run depends on: the weights and the optimizer's state, each member's random streams (data order:
a ``torch.Generator`` state; dropout masks and augmentation: PCG64 states; the initial weights only matter at the
start), the moving average of the weights when ``RunConfig.ema`` is set, the history so far and the divergence
bookkeeping. A rerun of the same configuration and seeds loads it and goes on from the next epoch; the record it
makes equals that of an uninterrupted run (history, test accuracy, predictions; only wall times differ).

Layout: ``<results>/checkpoints/<config key>/seeds-<s0-s1-...>.pt`` (:func:`path`), outside ``runs/`` so that a
checkpoint is never mistaken for a record. The runner (:mod:`fcnbook.store.runner`) deletes it once the records are
written. A checkpoint holds its format, the training-code version, the configuration key, the seeds and the
data checksum; one that is unreadable or was made by other code, for another configuration, other seeds or
other data is reported in one line (a :class:`fcnbook.io.CacheWarning`) and ignored: training starts at
epoch 1 and overwrites it.

Writes are atomic (a temporary file in the same folder, then ``os.replace``), so a kill at any moment leaves
either the previous checkpoint or the new one. They are not fsynced: a checkpoint torn by a power cut is
unreadable, reported and ignored, which costs epochs but never numbers.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from fcnbook.config import RunConfig
from fcnbook.io import CacheWarning, atomic
from fcnbook.paths import results_dir

FORMAT = 1
#: Epochs between checkpoints. Measured on the 2-core Xeon (2026-11-30, real data, five seeds, torch 2.14.1 on the
#: CPU with one thread, other jobs on the machine; each epoch of ``fit`` timed against the write of its checkpoint):
#:
#: - baseline 500-50, SGD: a checkpoint of 8.4 MB took 0.024-0.030 s against 5.9-6.0 s per epoch (0.5 %);
#: - tuned 700-200-50, RMSProp, dropout: 28.1 MB took 0.037-0.122 s against 12.1-12.6 s per epoch (1.0 %).
#:
#: Writing is single-threaded, and with both cores an epoch at best halves (2.7 s for the baseline, benchmarks),
#: so a checkpoint costs at most 1.1 % and 2.0 % of an epoch: under the 3 % allowed, every epoch is checkpointed.
EVERY = 1


def path(config: RunConfig, seeds: Sequence[int], root: Path | None = None) -> Path:
    """Where the checkpoint of ``config`` trained over ``seeds`` (as one stack, in this order) lives."""
    name = "seeds-" + "-".join(str(int(s)) for s in seeds) + ".pt"
    return Path(root or results_dir()) / "checkpoints" / config.key() / name


def seeds_of(checkpoint: Path) -> list[int] | None:
    """The seeds a checkpoint file's name says it holds, or ``None`` for a name that is not a checkpoint's."""
    stem = Path(checkpoint).name.removesuffix(".pt")
    if not stem.startswith("seeds-") or not Path(checkpoint).name.endswith(".pt"):
        return None
    try:
        return [int(s) for s in stem.removeprefix("seeds-").split("-")]
    except ValueError:
        return None


def existing(config: RunConfig, root: Path | None = None) -> list[Path]:
    """The checkpoint files of ``config`` (any seeds), oldest first."""
    folder = Path(root or results_dir()) / "checkpoints" / config.key()
    found = [p for p in folder.glob("seeds-*.pt") if seeds_of(p) is not None] if folder.is_dir() else []
    return sorted(found, key=lambda p: p.stat().st_mtime)


def _identity(config: RunConfig, seeds: Sequence[int], data_checksum: str, code_version: int) -> dict:
    return {"format": FORMAT, "code_version": code_version, "key": config.key(), "seeds": [int(s) for s in seeds],
            "data_checksum": data_checksum}


def save(checkpoint: Path, state: dict, *, config: RunConfig, seeds: Sequence[int], data_checksum: str,
         code_version: int, warn: Callable[[str], None] | None = None) -> Path | None:
    """Write ``state`` (tensors, numbers, lists, dicts) with its identity to ``checkpoint`` atomically.

    Returns ``checkpoint``, or ``None`` when it could not be written (a full disk, a read-only folder): that is
    reported in one line and the caller trains on without checkpoints, since losing one costs time, not
    results. No temporary file is left behind either way (except after a SIGKILL, see :func:`remove_partial`).
    """
    checkpoint = Path(checkpoint)
    try:
        with atomic(checkpoint, suffix=".pt", fsync=False) as f:  # rewritten every epoch; a torn one is ignored
            torch.save({**_identity(config, seeds, data_checksum, code_version), **state}, f)
        return checkpoint
    except (OSError, RuntimeError) as exc:  # torch.save reports a failed write as a RuntimeError
        cause = exc if isinstance(exc, OSError) else exc.__context__
        if not isinstance(cause, OSError):
            raise
        (warn or _warn)(f"could not write the checkpoint {checkpoint} ({cause.strerror or cause}); training goes "
                        "on without checkpoints")
        return None


def load(checkpoint: Path, *, config: RunConfig, seeds: Sequence[int], data_checksum: str, code_version: int,
         device: str | torch.device = "cpu", warn: Callable[[str], None] | None = None) -> dict | None:
    """The checkpoint's contents if it exists and was made by this code for this configuration, these seeds
    and this data; else ``None``, and a one-line report when a file was there but cannot be used."""
    checkpoint = Path(checkpoint)
    if not checkpoint.exists():
        return None
    warn = warn or _warn
    try:
        saved = torch.load(checkpoint, map_location=device, weights_only=True)
        if not isinstance(saved, dict):
            raise ValueError("not a checkpoint")
    except Exception as exc:  # torch.load raises many kinds (RuntimeError, pickle errors, EOFError, OSError)
        warn(f"{checkpoint}: unreadable checkpoint ({type(exc).__name__}: {str(exc).splitlines()[0][:120]}); "
             "training starts at epoch 1")
        return None
    expected = _identity(config, seeds, data_checksum, code_version)
    wrong = [k for k, v in expected.items() if saved.get(k) != v]
    if wrong:
        what = {"format": "another checkpoint format", "code_version": "another training-code version",
                "key": "another configuration", "seeds": "other seeds", "data_checksum": "other data"}[wrong[0]]
        warn(f"{checkpoint}: checkpoint made for {what}; ignored, training starts at epoch 1")
        return None
    return saved


def saved_epoch(checkpoint: Path) -> int | None:
    """The last completed epoch held by ``checkpoint`` (read without loading its tensors), or ``None``."""
    try:
        return int(torch.load(checkpoint, map_location="cpu", weights_only=True, mmap=True)["epoch"])
    except Exception:
        return None


def remove(checkpoint: Path) -> None:
    """Delete ``checkpoint`` and, when it was the last thing there, its configuration's folder."""
    checkpoint = Path(checkpoint)
    checkpoint.unlink(missing_ok=True)
    for folder in (checkpoint.parent, checkpoint.parent.parent):
        try:
            folder.rmdir()
        except OSError:  # not empty (other checkpoints), or already gone
            break


def remove_partial(folder: Path) -> list[Path]:
    """Delete the temporary files (``.tmp-*``) a killed writer left in ``folder``; return what was deleted.

    Only safe while holding the folder's configuration lock (:func:`fcnbook.store.cache.lock`): then no other
    process is writing there.
    """
    folder = Path(folder)
    gone = list(folder.glob(".tmp-*")) if folder.is_dir() else []
    for p in gone:
        p.unlink(missing_ok=True)
    return gone


def _warn(message: str) -> None:
    warnings.warn(message, CacheWarning, stacklevel=3)
