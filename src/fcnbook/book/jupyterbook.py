"""Jupyter Book 1 as a subprocess: the build command, its warnings echoed and logged, and the one build error.

Both the HTML build (:mod:`fcnbook.book.build`) and the PDF printer (:mod:`fcnbook.book.pdf`) run Jupyter Book
through here, so that neither imports the other.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from fcnbook.book.sections import BOOK, ROOT

CONFIG = ROOT / "_config.yml"


class BookError(RuntimeError):
    """The book build failed; ``failed`` lists the sections that did not execute."""

    def __init__(self, message: str, failed: Iterable[str] = ()):
        super().__init__(message)
        self.failed = list(failed)


def jupyter_book_command(book: Path = BOOK, config: Path = CONFIG, builder: str = "html") -> list[str]:
    """The build command: the venv's ``jupyter-book`` on ``book`` with ``config`` (the root ``_config.yml``).

    ``--all`` rebuilds every page: an incremental Sphinx build re-reports warnings of changed pages only, and
    ``-W`` is meant to vouch for the whole book. ``builder="singlehtml"`` makes the one-page book the PDF is
    printed from (``book/_build/singlehtml``).
    """
    exe = Path(sys.executable).parent / "jupyter-book"
    exe = str(exe) if exe.exists() else (shutil.which("jupyter-book") or "jupyter-book")
    # --path-output: JB1 otherwise writes next to the _config.yml it finds (<root>/_build), not book/_build.
    cmd = [exe, "build", str(book), "--config", str(config), "--path-output", str(book)]
    if builder != "html":
        cmd += ["--builder", builder]
    return [*cmd, "--all", "-W", "-n", "--keep-going"]


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_SHOW = re.compile(r"WARNING:|ERROR:|CRITICAL:|Exception|Traceback|error in building|build (succeeded|finished)")


def _run_build(cmd: list[str], cwd: Path, log: Path) -> tuple[int, list[str]]:
    """Run the Jupyter Book build; echo its warnings and errors, log everything.

    Returns the exit status and the lines worth quoting in an error: the warnings and errors if there were
    any, else the last lines of the output.
    """
    tail: list[str] = []
    shown: list[str] = []
    log.parent.mkdir(parents=True, exist_ok=True)
    with (
        open(log, "w") as f,
        subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc,
    ):
        for line in proc.stdout:
            line = _ANSI.sub("", line)
            f.write(line)
            if _SHOW.search(line):  # Sphinx's per-page progress lines would bury the warnings
                print("  " + line.rstrip(), flush=True)
                shown.append(line.rstrip())
            tail = [*tail[-29:], line.rstrip()]
    problems = [x for x in shown if not x.startswith("build succeeded")]
    return proc.returncode, problems[-30:] or tail


def jupyter_book(book: Path = BOOK, config: Path = CONFIG, builder: str = "html") -> Path:
    """Run Jupyter Book with ``builder`` on the executed sections; return the built ``index.html``.

    Raises
    ------
    BookError
        Jupyter Book failed (a warning counts); the message quotes the warnings and names the full log.
    """
    t0 = time.perf_counter()
    cmd = jupyter_book_command(book, config, builder)
    print("[book] " + " ".join(cmd), flush=True)
    log = book / "_build" / f"jupyter-book-{builder}.log"
    rc, tail = _run_build(cmd, config.parent, log)
    print(f"[book] jupyter-book {builder}: exit {rc} ({time.perf_counter() - t0:.1f} s)", flush=True)
    if rc != 0:
        raise BookError(f"jupyter-book {builder} build failed (exit {rc}; full log: {log}):\n" + "\n".join(tail))
    return book / "_build" / builder / "index.html"
