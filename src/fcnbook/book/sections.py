"""Execute one section notebook with papermill.

The ``.py`` files in ``notebooks/`` (jupytext percent format) are the source of truth and ``book/_toc.yml`` is
the one list of sections: a section is ``notebooks/NAME.py`` listed there as ``sections/NAME`` (its root, the
book's opening page, included).
:func:`run_section` reads the ``.py`` afresh on every call, checks the parameters against the defaults of its
cell tagged ``parameters`` (:mod:`fcnbook.book.parameters`), executes it with papermill and writes the executed
notebook, by default to ``book/sections/NAME.ipynb``. The notebook is written under a temporary name and moved
into place only when papermill is done, so a file at the final path is always a whole execution (one that ran
through, or one that stopped at a failing cell and shows its traceback), never a half-written one. The kernel
reads and writes the results folder of the section's profile (:func:`fcnbook.paths.profile_results`): a quick
preview never touches the shipped store.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from fcnbook.book.parameters import Parameter, check_parameters, parse_parameter_value, parse_parameters_cell
from fcnbook.paths import profile_results, project_root

__all__ = ["SectionError", "Parameter", "execution_order", "parse_parameter_value", "run_section",
           "section_parameters", "section_path", "toc_sections"]

ROOT = project_root()
NOTEBOOKS = ROOT / "notebooks"
BOOK = ROOT / "book"
REMOVE = "remove-cell"  # myst-nb drops cells with this tag from the rendered page
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


class SectionError(RuntimeError):
    """A section notebook failed; the message names the section and the notebook holding the traceback."""


# -- the sections: book/_toc.yml ----------------------------------------------------------------------


def _toc_files(node) -> list[str]:
    """Every ``file:`` entry of a parsed ``_toc.yml``, in document order."""
    if isinstance(node, dict):
        found = [node["file"]] if isinstance(node.get("file"), str) else []
        for key, value in node.items():
            if key != "file":
                found += _toc_files(value)
        return found
    if isinstance(node, list):
        return [f for item in node for f in _toc_files(item)]
    return []


def _toc(book: Path | None) -> dict:
    import yaml

    toc = Path(book or BOOK) / "_toc.yml"
    if not toc.is_file():
        raise ValueError(f"{toc} does not exist: it is the list of the book's sections")
    return yaml.safe_load(toc.read_text())


def _section(entry: str) -> str | None:
    entry = entry.removesuffix(".ipynb")
    return entry.split("/", 1)[1] if entry.startswith("sections/") else None


def toc_sections(book: Path | None = None) -> list[str]:
    """The section names, in book order: the ``root`` of ``book/_toc.yml`` when it is a ``sections/NAME`` entry,
    then every ``sections/NAME`` entry below it."""
    toc = _toc(book)
    root = toc.get("root") if isinstance(toc.get("root"), str) else ""
    names = [_section(f) for f in [root, *_toc_files(toc)]]
    return [n for n in names if n]


def execution_order(book: Path | None = None) -> list[str]:
    """The sections in the order a build executes them: the book's order, except that a root section runs last.

    The root is the book's opening page, which states what the other sections found, from their results.
    """
    names = toc_sections(book)
    root = _toc(book).get("root")
    if isinstance(root, str) and _section(root) in names:
        names.remove(_section(root))
        names.append(_section(root))
    return names


def section_path(name: str, notebooks: Path | None = None, book: Path | None = None) -> Path:
    """The ``.py`` source of section ``name``; ``ValueError`` (one line) if it is not in the toc or missing."""
    names = toc_sections(book)
    if name not in names:
        raise ValueError(f"unknown section {name!r}; allowed (book/_toc.yml): {', '.join(names)}")
    path = Path(notebooks or NOTEBOOKS) / f"{name}.py"
    if not path.is_file():
        raise ValueError(f"section {name!r} is listed in book/_toc.yml but its source {path} does not exist")
    return path


def _read(path: Path):
    import jupytext  # local: importing fcnbook.book.sections stays cheap for the CLI's --help

    return jupytext.read(path)


def _parameters_cell(nb):
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            return cell
    return None


# -- parameters ------------------------------------------------------------------------------------------


def section_parameter_specs(name: str, notebooks: Path | None = None, book: Path | None = None) -> list[Parameter]:
    """The :class:`Parameter` list of section ``name`` (empty if it has no cell tagged ``parameters``)."""
    cell = _parameters_cell(_read(section_path(name, notebooks, book)))
    return [] if cell is None else parse_parameters_cell(cell.source, f"{name} parameters")


def section_parameters(name: str, notebooks: Path | None = None, book: Path | None = None) -> dict:
    """Default values of a section's parameters cell, by name, in order."""
    return {p.name: p.default for p in section_parameter_specs(name, notebooks, book)}


# -- execution ------------------------------------------------------------------------------------------


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
    book: Path | None = None,
) -> Path:
    """Execute one section notebook with papermill.

    Parameters
    ----------
    name : str
        Section name, e.g. ``"03_optimizers"``; it must be listed in ``book/_toc.yml``.
    parameters : dict, optional
        Values for names of the section's parameters cell. An unknown name, or a value of another kind than
        the name admits (see :func:`parse_parameters_cell`), raises ``ValueError`` before anything runs.
    out : path, optional
        Executed notebook; default ``book/sections/NAME.ipynb``. The kernel runs in its folder.
    profile : {"quick", "full"}, optional
        Shorthand for ``parameters["profile"]`` (an explicit ``parameters["profile"]`` wins).
    notebooks, book : path, optional
        Folder of the ``.py`` sources (default ``notebooks/``) and of ``_toc.yml`` (default ``book/``).

    Returns
    -------
    Path
        ``out``. Both parameter cells are tagged ``remove-cell`` there, so the book hides them.

    Raises
    ------
    SectionError
        A cell failed; papermill's notebook with the traceback is at ``out``.
    """
    nb, params, run_profile = _prepared(name, parameters, profile, notebooks, book)
    out = Path(out or Path(book or BOOK) / "sections" / f"{name}.ipynb").resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    _execute(nb, name, params, out, run_profile if isinstance(run_profile, str) else None)
    return out


def _prepared(name: str, parameters: dict | None, profile: str | None, notebooks: Path | None,
              book: Path | None):
    """The section's notebook, read afresh, and its checked parameters; ``ValueError`` before anything runs.

    The parameters cell is tagged ``remove-cell`` and the kernel named, so papermill runs what the book shows.
    """
    path = section_path(name, notebooks, book)
    params = dict(parameters or {})
    if profile is not None:
        params.setdefault("profile", profile)
    nb = _read(path)  # read afresh every time: an edit to the .py shows up in the next run
    cell = _parameters_cell(nb)
    specs = [] if cell is None else parse_parameters_cell(cell.source, f"{name} parameters")
    check_parameters(name, params, specs)
    # The profile the kernel runs (given, else the cell's default) picks its results folder.
    run_profile = params.get("profile", next((p.default for p in specs if p.name == "profile"), None))
    if cell is not None:
        _tag(cell, REMOVE)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    return nb, params, run_profile


@contextmanager
def _inline_figures():
    """The kernel inherits our environment. An MPLBACKEND such as Agg (common in CI) would make every figure
    vanish from the book silently, so the kernel always gets the inline backend; ours is restored after."""
    saved = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = saved


def _execute(nb, name: str, params: dict, out: Path, profile: str | None) -> None:
    """Run ``nb`` with papermill into a temporary file beside ``out``, moved to ``out`` once papermill is done
    (with the traceback when a cell failed: :class:`SectionError`); nothing half-written is ever left. The kernel
    reads and writes ``profile``'s results folder (:func:`fcnbook.paths.profile_results`)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    partial = out.with_name(f".{out.stem}.partial-{os.getpid()}.ipynb")  # papermill saves after every cell
    try:
        with _inline_figures(), profile_results(profile):
            papermill.execute_notebook(
                nb,
                str(partial),
                parameters=params,
                kernel_name="python3",
                language="python",
                cwd=str(out.parent),
                progress_bar=False,
                # ipykernel logs harmless warnings (plain-TCP transport, "KeyboardInterrupt caught" at shutdown)
                # to the terminal; cell errors still reach the notebook and raise below.
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
            )
    except PapermillExecutionError as e:  # a whole notebook that stops at the failing cell: keep it
        _hide_parameter_cells(partial)
        os.replace(partial, out)
        raise SectionError(
            f"section {name} failed in cell In [{e.exec_count}] with {e.ename}: {e.evalue}; "
            f"the notebook with the full traceback is {out}"
        ) from e
    except Exception as e:  # a dead kernel, a timeout: still name the section
        raise SectionError(f"section {name} failed ({type(e).__name__}: {e}); nothing was written to {out}") from e
    else:
        _hide_parameter_cells(partial)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)  # interrupted or failed: no half-written notebook is left behind
