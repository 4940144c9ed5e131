"""The one on-disk cache of the book: JSON entries under the results folder, written atomically.

Both the run store (:mod:`fcnbook.store.records`, one record per configuration and seed) and the SVD studies
(:mod:`fcnbook.svd.cache`, one entry per computation) keep their results here, under the same rules:

- An entry is named by a key that is a hash of everything its value depends on (:func:`digest`), or by a
  configuration key (:meth:`fcnbook.config.RunConfig.key`) for run records.
- :func:`read` returns an entry only when it is readable and was made for the same inputs (``identity``) by
  the current code on the current data (``current``). An unreadable entry, or one made for other inputs, is
  reported in one line (a :class:`CacheWarning`) and recomputed; one made by another code version or on other
  data is superseded silently (that is the version's purpose).
- :func:`write` writes through a temporary file in the same folder and a rename, so a reader never sees a
  half-written entry and an interrupt or a full disk never corrupts one already there.
- :func:`lock` lets one process at a time compute an entry: a second process asking for the same thing waits,
  then reads what the first one wrote. The locks are ``flock`` locks on files under ``<results>/locks/``; the
  kernel drops them when their process ends, however it ends, so a lock left by a killed process never blocks.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from fcnbook.io import CacheWarning, atomic


class NotWritableError(OSError):
    """Results cannot be written (a read-only folder, a full disk); the message says what was kept."""


def _report(message: str) -> None:
    warnings.warn(message, CacheWarning, stacklevel=3)


def jsonable(obj):
    """``obj`` as it reads back from JSON: tuples become lists, numpy scalars and arrays plain numbers and
    lists, and non-finite floats ``None`` (JSON has no NaN or infinity)."""
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    return obj


def digest(obj) -> str:
    """16 hex digits of the SHA-256 of ``obj``'s canonical JSON (sorted keys): a stable name for an input."""
    blob = json.dumps(jsonable(obj), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def write(path: Path, entry: dict, **dump_options) -> Path:
    """Write ``entry`` as JSON to ``path`` atomically (temporary file, fsync, rename); return ``path``.

    On any failure (a full disk, a read-only folder, an interrupt) the temporary file is removed and whatever
    ``path`` held before is left as it was.
    """
    path = Path(path)
    with atomic(path, suffix=".json") as f:
        f.write(json.dumps(jsonable(entry), allow_nan=False, **dump_options).encode())
    return path


def read(path: Path, identity: dict, current: dict | None = None, *,
         check: Callable[[dict], None] | None = None, warn: Callable[[str], None] | None = None) -> dict | None:
    """The entry at ``path`` if it is there, readable, made for ``identity`` and current; else ``None``.

    Parameters
    ----------
    path : Path
    identity : dict
        Fields the entry must hold with these values (the inputs it was computed from). A mismatch means the
        file is not what its name says: reported and recomputed.
    current : dict, optional
        Fields such as the code version and the data checksum: a mismatch means the entry was made by other
        code or on other data, and it is superseded without a report.
    check : callable, optional
        Raises ``ValueError``, ``KeyError`` or ``TypeError`` when the entry is malformed (reported, recomputed).
    warn : callable, optional
        Receives the one-line report; default a :class:`CacheWarning`.
    """
    path = Path(path)
    if not path.exists():
        return None
    warn = warn or _report
    try:
        entry = json.loads(path.read_text())
        if not isinstance(entry, dict):
            raise ValueError("not a JSON object")
        if any(entry.get(k) != jsonable(v) for k, v in identity.items()):
            warn(f"{path}: made for other inputs; it will be recomputed")
            return None
        if check is not None:
            check(entry)
    except (OSError, ValueError, KeyError, TypeError) as exc:  # JSONDecodeError and UnicodeDecodeError too
        warn(f"{path}: unreadable ({type(exc).__name__}: {exc}); it will be recomputed")
        return None
    if any(entry.get(k) != jsonable(v) for k, v in (current or {}).items()):
        return None
    return entry


@contextmanager
def lock(root: Path, name: str, *, on_wait: Callable[[], None] | None = None) -> Iterator[Path]:
    """Hold the lock ``name`` of the results folder ``root`` while the ``with`` body runs.

    A second process asking for the same lock waits until the first releases it (``on_wait`` is called once
    when it has to wait). The lock is an ``flock`` on ``<root>/locks/<name>.lock`` (the ``filelock`` package):
    the kernel releases it when its process exits, is killed or crashes, so a stale lock never blocks.

    Raises
    ------
    NotWritableError
        The lock file cannot be created: ``root`` is read-only, or not ours to write. Raised before the body
        runs, so nothing is computed that could not be kept.
    """
    from filelock import FileLock, Timeout  # local: importing the cache stays light

    path = Path(root) / "locks" / f"{name}.lock"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        file_lock = FileLock(path)
        try:
            file_lock.acquire(timeout=0)
        except Timeout:
            if on_wait is not None:
                on_wait()
            file_lock.acquire()
    except OSError as exc:
        raise NotWritableError(f"the results folder {root} is not writable ({exc.strerror or exc}); "
                               "nothing was computed. Make it writable, or point FCNBOOK_RESULTS at a "
                               "writable folder") from exc
    try:
        yield path
    finally:
        file_lock.release()
