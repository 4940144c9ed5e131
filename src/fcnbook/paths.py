"""Where data and results live.

Both default to folders in the project root (the folder holding ``pyproject.toml``), so the CLI, the tests and the
notebooks executed from ``book/`` all find the same files; ``FCNBOOK_DATA`` and ``FCNBOOK_RESULTS`` override them.
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The checkout this package is installed from (editable install), else the current directory."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "src" / "fcnbook").is_dir():
            return parent
    return Path.cwd()


def data_dir() -> Path:
    """Root of the datasets: ``$FCNBOOK_DATA`` or ``<project>/data``."""
    env = os.environ.get("FCNBOOK_DATA")
    return Path(env).expanduser().resolve() if env else project_root() / "data"


def results_dir() -> Path:
    """Root of the run store: ``$FCNBOOK_RESULTS`` or ``<project>/results``."""
    env = os.environ.get("FCNBOOK_RESULTS")
    return Path(env).expanduser().resolve() if env else project_root() / "results"
