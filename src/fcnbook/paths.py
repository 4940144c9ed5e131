"""Where data and results live.

Both default to folders in the project root (the folder holding ``pyproject.toml``), so the CLI, the tests and the
notebooks executed from ``book/`` all find the same files; ``FCNBOOK_DATA`` and ``FCNBOOK_RESULTS`` override them.

The results folder depends on the profile when ``FCNBOOK_RESULTS`` is not set: the full profile's is the shipped
store, ``results/``; the quick profile's previews go to ``results-quick/``, which git ignores, so that a preview
never adds records to the shipped store nor lines to its build timings. The book machinery
(:mod:`fcnbook.book.build`, :mod:`fcnbook.book.sections`) applies that choice with :func:`profile_results`, which
sets ``FCNBOOK_RESULTS`` for the papermill kernels it starts; everything below reads :func:`results_dir`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: The results folder of each profile, in the project root, when ``FCNBOOK_RESULTS`` is not set.
PROFILE_RESULTS = {"full": "results", "quick": "results-quick"}


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


def results_dir(profile: str | None = None) -> Path:
    """Root of the run store: ``$FCNBOOK_RESULTS``, else the profile's folder in the project
    (:data:`PROFILE_RESULTS`: ``results/`` for the full profile and for ``None``, ``results-quick/`` for quick)."""
    env = os.environ.get("FCNBOOK_RESULTS")
    if env:
        return Path(env).expanduser().resolve()
    return project_root() / PROFILE_RESULTS.get(profile or "full", PROFILE_RESULTS["full"])


@contextmanager
def profile_results(profile: str | None) -> Iterator[Path]:
    """Within the block, ``FCNBOOK_RESULTS`` names ``profile``'s results folder (:func:`results_dir`), so that the
    processes started there (papermill's kernels) inherit it; a ``FCNBOOK_RESULTS`` already set is kept as it is."""
    if os.environ.get("FCNBOOK_RESULTS"):
        yield results_dir()
        return
    path = results_dir(profile)
    os.environ["FCNBOOK_RESULTS"] = str(path)
    try:
        yield path
    finally:
        os.environ.pop("FCNBOOK_RESULTS", None)
