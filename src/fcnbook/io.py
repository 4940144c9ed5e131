"""The one atomic write of the project, and the warning for a stored file that cannot be used.

Every file that fcnbook writes for later reuse (run records, cache entries, checkpoints, the datasets) goes through
:func:`atomic`: the bytes go to a temporary file in the same folder, are flushed (and fsynced unless the caller opts
out), and only then replace the target with ``os.replace``. A failure or an interrupt at any moment leaves the
target as it was and removes the temporary file, so nothing already computed is lost or half-written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

TEMP_PREFIX = ".tmp-"  # .gitignore ignores results/**/.tmp-*: a temporary file is never shipped


class CacheWarning(UserWarning):
    """A stored record, cache entry or checkpoint could not be used; it is ignored and the work is redone."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic(path: Path, *, suffix: str = "", fsync: bool = True) -> Iterator[BinaryIO]:
    """A binary file object whose contents replace ``path`` when the ``with`` block ends without an exception.

    Parameters
    ----------
    path : Path
        The target; its folder is created when missing.
    suffix : str
        Suffix of the temporary file (e.g. ``".json"``), so that tools that look at it see its kind.
    fsync : bool
        Force the bytes to disk before the rename. Checkpoints skip it: they are rewritten every epoch, and a torn
        one is detected on load and ignored.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> with atomic(target) as f:
    ...     _ = f.write(b"hello")
    >>> target.read_bytes()
    b'hello'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX, suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; a stored file gets the usual permissions
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)  # gone after the rename; removed after a failure
