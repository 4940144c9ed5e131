"""Atomic JSON files: a reader never sees a half-written file, and an interrupt never leaves one behind."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def write_json_atomic(path: Path, payload, **dump_options) -> None:
    """Write ``payload`` as JSON to ``path`` through a temporary file in the same folder and a rename.

    ``dump_options`` go to :func:`json.dump` (NaN and infinity are always refused: JSON has no such numbers).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f, allow_nan=False, **dump_options)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
