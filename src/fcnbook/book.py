"""Execute the section notebooks with papermill and compile them into the Jupyter Book.

The ``.py`` files in ``notebooks/`` (jupytext percent format) are the source of truth. :func:`run_section`
reads one afresh on every call, injects parameters with papermill and writes the executed notebook, by default
to ``book/sections/NAME.ipynb``; :func:`build_book` does that for every section listed in ``book/_toc.yml``
and then runs Jupyter Book 1 on ``book/`` (``-W -n --keep-going``: any warning fails the build).

With ``only``, the other sections keep their last executed notebook. A section that has never been executed
(or whose ``.py`` does not exist yet) gets a one-page stub that says so and how to run it, so a partial book
still builds.
"""

from __future__ import annotations

import ast
import math
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from fcnbook.paths import project_root

SECTIONS: tuple[str, ...] = (
    "01_data",
    "02_baseline",
    "03_optimizers",
    "04_regularization",
    "05_initialization",
    "06_batch_norm",
    "07_tuned",
    "08_mnist_transfer",
    "09_svd_classifier",
    "10_summary",
)
ROOT = project_root()
NOTEBOOKS = ROOT / "notebooks"
BOOK = ROOT / "book"
CONFIG = ROOT / "_config.yml"
REMOVE = "remove-cell"  # myst-nb drops cells with this tag from the rendered page


class SectionError(RuntimeError):
    """A section notebook failed; the message names the section and the notebook holding the traceback."""


class BookError(RuntimeError):
    """The book build failed; ``failed`` lists the sections that did not execute."""

    def __init__(self, message: str, failed: Iterable[str] = ()):
        super().__init__(message)
        self.failed = list(failed)


def toc_sections(book: Path = BOOK) -> list[str]:
    """Section names listed as ``sections/NAME`` in ``book/_toc.yml``, in order (``SECTIONS`` if none)."""
    toc = book / "_toc.yml"
    if not toc.is_file():
        return list(SECTIONS)
    entry = r"^\s*-?\s*file:\s*['\"]?sections/([\w.-]+?)(?:\.ipynb)?['\"]?\s*$"
    names = re.findall(entry, toc.read_text(), re.M)
    return names or list(SECTIONS)


def _allowed(notebooks: Path) -> list[str]:
    found = sorted(p.stem for p in notebooks.glob("*.py")) if notebooks.is_dir() else []
    return list(dict.fromkeys([*SECTIONS, *toc_sections(), *found]))


def section_path(name: str, notebooks: Path | None = None) -> Path:
    """The ``.py`` source of section ``name``; ``ValueError`` if the name is unknown or not written yet."""
    notebooks = Path(notebooks) if notebooks else NOTEBOOKS
    allowed = _allowed(notebooks)
    if name not in allowed:
        raise ValueError(f"unknown section {name!r}; allowed: {', '.join(allowed)}")
    path = notebooks / f"{name}.py"
    if not path.is_file():
        raise ValueError(f"section {name!r} has no notebook yet ({path} does not exist)")
    return path


def _read(path: Path):
    import jupytext  # local: importing fcnbook.book stays cheap for the CLI's --help

    return jupytext.read(path)


def _parameters_cell(nb):
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            return cell
    return None


def section_parameters(name: str, notebooks: Path | None = None) -> dict:
    """Default values of a section's parameters cell (the cell tagged ``parameters``).

    The cell's source is executed in a fresh namespace, so the values are exactly what the notebook starts
    from. Names starting with ``_`` and imported modules are left out; a section without the cell has none.
    """
    cell = _parameters_cell(_read(section_path(name, notebooks)))
    if cell is None:
        return {}
    namespace: dict = {}
    exec(compile(cell.source, f"<{name} parameters>", "exec"), namespace)  # noqa: S102 - our own notebook
    return {
        k: v for k, v in namespace.items() if not k.startswith("_") and type(v).__name__ != "module"
    }


_NONE = {"none", "null", "~"}
_BOOL = {"true": True, "false": False}


def parse_parameter_value(text: str):
    """Turn a ``-p NAME VALUE`` string into a Python value, as papermill's CLI does (YAML-like).

    ``3`` -> 3, ``1e-4`` -> 0.0001, ``None``/``null`` -> None, ``true``/``False`` -> bool, ``[0, 1]`` -> list,
    ``"3"`` -> the string "3"; anything else stays a string. Unlike plain YAML 1.1, ``1e-4`` is a float and
    ``yes``/``on`` stay strings.
    """
    s = text.strip()
    low = s.lower()
    if low in _NONE:
        return None
    if low in _BOOL:
        return _BOOL[low]
    try:
        return int(s)
    except ValueError:
        pass
    try:
        x = float(s)
        if math.isfinite(x):
            return x
    except ValueError:
        pass
    if s[:1] in "[({'\"" and s:
        try:  # Python literals first: they read 1e-4, None and True the Python way
            return ast.literal_eval(s)
        except (ValueError, SyntaxError):
            pass
        import yaml

        try:  # then YAML flow collections: [cpu, cuda], {a: 1}
            value = yaml.safe_load(s)
        except yaml.YAMLError:
            return text
        if isinstance(value, list):
            return [parse_parameter_value(v) if isinstance(v, str) else v for v in value]
        return value
    return text


def _tag(cell, tag: str) -> None:
    tags = list(cell.metadata.get("tags", []))
    if tag not in tags:
        cell.metadata["tags"] = [*tags, tag]


def _hide_parameter_cells(path: Path) -> None:
    """Tag papermill's injected cell ``remove-cell`` (the parameters cell already is) and drop widget state.

    Widget state would make myst-nb load ipywidgets' JavaScript from a CDN; the book must load nothing online.
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags or "parameters" in tags:
            _tag(cell, REMOVE)
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)


def run_section(
    name: str,
    parameters: dict | None = None,
    out: str | Path | None = None,
    profile: str | None = None,
    *,
    notebooks: Path | None = None,
) -> Path:
    """Execute one section notebook with papermill.

    Parameters
    ----------
    name : str
        Section name, e.g. ``"03_optimizers"``.
    parameters : dict, optional
        Values for names of the section's parameters cell; any other name raises ``ValueError``.
    out : path, optional
        Executed notebook; default ``book/sections/NAME.ipynb``. The kernel runs in its folder.
    profile : {"quick", "full"}, optional
        Shorthand for ``parameters["profile"]`` (an explicit ``parameters["profile"]`` wins).
    notebooks : path, optional
        Folder of the ``.py`` sources (default ``notebooks/``; the tests use a copy).

    Returns
    -------
    Path
        ``out``. Both parameter cells are tagged ``remove-cell`` there, so the book hides them.

    Raises
    ------
    SectionError
        A cell failed; papermill's notebook with the traceback stays at ``out``.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    path = section_path(name, notebooks)
    params = dict(parameters or {})
    if profile is not None:
        params.setdefault("profile", profile)
    defaults = section_parameters(name, notebooks)
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {', '.join(unknown)} for section {name}; allowed: "
            + (", ".join(defaults) or "none (the notebook has no cell tagged parameters)")
        )
    out = Path(out) if out else BOOK / "sections" / f"{name}.ipynb"
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)

    nb = _read(path)  # read afresh every time: an edit to the .py shows up in the next run
    cell = _parameters_cell(nb)
    if cell is not None:
        _tag(cell, REMOVE)
    nb.metadata.setdefault(
        "kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"}
    )
    # The kernel inherits our environment. An MPLBACKEND such as Agg (common in CI) would make every figure
    # vanish from the book silently, so the kernel always gets the inline backend.
    saved = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    try:
        papermill.execute_notebook(
            nb,
            str(out),
            parameters=params,
            kernel_name="python3",
            language="python",
            cwd=str(out.parent),
            progress_bar=False,
            # ipykernel logs harmless warnings (plain-TCP transport, "KeyboardInterrupt caught" at shutdown)
            # to the terminal; cell errors still reach the notebook and raise below.
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
    except PapermillExecutionError as e:
        _hide_parameter_cells(out)
        raise SectionError(
            f"section {name} failed in cell In [{e.exec_count}] with {e.ename}: {e.evalue}; "
            f"the notebook with the full traceback is {out}"
        ) from e
    except Exception as e:  # a dead kernel, a timeout: still name the section and the notebook
        raise SectionError(f"section {name} failed ({type(e).__name__}: {e}); see {out}") from e
    finally:
        if saved is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = saved
    _hide_parameter_cells(out)
    return out


# Page titles of stubs for sections whose notebook does not exist yet (otherwise its first heading is used).
_TITLES = {"09_svd_classifier": "The SVD classifier", "08_mnist_transfer": "Transfer to MNIST"}


def _title(name: str, notebooks: Path) -> str:
    """The first Markdown heading of the section's source, else a title made from its name."""
    path = notebooks / f"{name}.py"
    if path.is_file():
        for cell in _read(path).cells:
            m = re.search(r"^#\s+(.+)$", cell.source, re.M) if cell.cell_type == "markdown" else None
            if m:
                return m.group(1).strip()
    return _TITLES.get(name) or name.split("_", 1)[-1].replace("_", " ").capitalize()


def write_stub(name: str, out: Path, reason: str, notebooks: Path | None = None) -> Path:
    """A one-cell notebook standing in for a section that has not been executed (or written) yet."""
    import nbformat

    notebooks = Path(notebooks) if notebooks else NOTEBOOKS
    text = (
        f"# {_title(name, notebooks)}\n\n"
        f":::{{note}}\nThis section {reason}. Execute it with `fcnbook section {name}` "
        f"(or `fcnbook book --only {name}`), then rebuild the book.\n:::\n"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
    nb.metadata["fcnbook"] = {"stub": reason}
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return out


def _is_stub(path: Path) -> bool:
    import nbformat

    try:
        return bool(nbformat.read(path, as_version=4).metadata.get("fcnbook", {}).get("stub"))
    except Exception:  # unreadable: treat as a stub, i.e. as never executed
        return True


def jupyter_book_command(book: Path = BOOK, config: Path = CONFIG) -> list[str]:
    """The build command: the venv's ``jupyter-book`` on ``book`` with ``config`` (the root ``_config.yml``).

    ``--all`` rebuilds every page: an incremental Sphinx build re-reports warnings of changed pages only, and
    ``-W`` is meant to vouch for the whole book.
    """
    exe = Path(sys.executable).parent / "jupyter-book"
    exe = str(exe) if exe.exists() else (shutil.which("jupyter-book") or "jupyter-book")
    # --path-output: JB1 otherwise writes next to the _config.yml it finds (<root>/_build), not book/_build.
    return [exe, "build", str(book), "--config", str(config), "--path-output", str(book),
            "--all", "-W", "-n", "--keep-going"]


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


def _workdir_copy(workdir: Path) -> tuple[Path, Path]:
    """Copy the book's sources and ``_config.yml`` into ``workdir`` (same layout); return (book, config)."""
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(CONFIG, workdir / CONFIG.name)
    ignore = shutil.ignore_patterns("_build", "sections", "__pycache__")
    shutil.copytree(BOOK, workdir / BOOK.name, ignore=ignore, dirs_exist_ok=True)
    return workdir / BOOK.name, workdir / CONFIG.name


def build_book(
    profile: str = "full",
    only: Iterable[str] | None = None,
    *,
    notebooks: Path | None = None,
    workdir: Path | None = None,
) -> Path:
    """Execute the sections and build the HTML book.

    Parameters
    ----------
    profile : {"quick", "full"}
        Passed to every executed section as its ``profile`` parameter.
    only : iterable of str, optional
        Execute just these sections; the others keep their last executed notebook (or get a stub page if they
        have never been executed).
    notebooks : path, optional
        Folder of the ``.py`` sources (default ``notebooks/``).
    workdir : path, optional
        Build a copy of the book there (``workdir/book``, ``workdir/_config.yml``) instead of in ``book/``;
        the tests use this so that they never replace the user's executed sections.

    Returns
    -------
    Path
        ``book/_build/html/index.html`` (under ``workdir`` if given).

    Raises
    ------
    BookError
        Some section failed (the book is still built, showing the traceback) or Jupyter Book failed.
    """
    notebooks = Path(notebooks) if notebooks else NOTEBOOKS
    book, config = _workdir_copy(Path(workdir)) if workdir else (BOOK, CONFIG)
    names = toc_sections(book)
    only = list(only or [])
    unknown = [n for n in only if n not in names]
    if unknown:
        raise ValueError(f"unknown section(s) {', '.join(unknown)}; allowed: {', '.join(names)}")
    failed: dict[str, str] = {}
    start = time.perf_counter()
    for name in names:
        out = book / "sections" / f"{name}.ipynb"
        if not (notebooks / f"{name}.py").is_file():
            write_stub(name, out, "has not been written yet", notebooks)
            print(f"[book] {name}: no notebooks/{name}.py yet, stub page", flush=True)
            continue
        if only and name not in only:
            if out.is_file() and not _is_stub(out):
                print(f"[book] {name}: kept the previous execution", flush=True)
            else:
                write_stub(name, out, "has not been executed yet", notebooks)
                print(f"[book] {name}: never executed, stub page", flush=True)
            continue
        t0 = time.perf_counter()
        print(f"[book] {name}: running (profile {profile}) ...", flush=True)
        try:
            run_section(name, out=out, profile=profile, notebooks=notebooks)
            print(f"[book] {name}: ok ({time.perf_counter() - t0:.1f} s)", flush=True)
        except SectionError as e:
            failed[name] = str(e)
            print(f"[book] {name}: FAILED ({time.perf_counter() - t0:.1f} s): {e}", flush=True)
    t0 = time.perf_counter()
    cmd = jupyter_book_command(book, config)
    print("[book] " + " ".join(cmd), flush=True)
    log = book / "_build" / "jupyter-book.log"
    rc, tail = _run_build(cmd, config.parent, log)
    index = book / "_build" / "html" / "index.html"
    print(f"[book] jupyter-book: exit {rc} ({time.perf_counter() - t0:.1f} s); total "
          f"{time.perf_counter() - start:.1f} s", flush=True)
    problems = [f"section {n} failed: {msg}" for n, msg in failed.items()]
    if rc != 0:
        problems.append(f"jupyter-book build failed (exit {rc}; full log: {log}):\n" + "\n".join(tail))
    if problems:
        head = f"book build failed; failed sections: {', '.join(failed) or 'none'}"
        raise BookError("\n".join([head, *problems]), failed)
    return index
