"""The section sources open everywhere: a paired ``.ipynb`` names the python3 kernel and runs under papermill's CLI.

Every ``notebooks/*.py`` starts with the same jupytext header (kernelspec ``python3`` and ``language_info.name``,
no version numbers), ``jupytext.toml`` keeps exactly that much notebook metadata, and ``jupytext --sync`` leaves
the ``.py`` as it is.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from fcnbook.book.sections import KERNELSPEC, NOTEBOOKS, ROOT
from fcnbook.paths import data_dir

BIN = Path(sys.executable).parent
HEADER = """\
# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
#   language_info:
#     name: python
# ---

"""
HAVE_DATA = (data_dir() / "FashionMNIST" / "raw").is_dir()


def _sources() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.py"))


def _sync(folder: Path, *names: str) -> subprocess.CompletedProcess:
    """``jupytext --sync`` on notebooks/NAME.py in ``folder`` (which holds a copy of jupytext.toml)."""
    args = [str(BIN / "jupytext"), "--sync", *(f"notebooks/{n}" for n in names)]
    p = subprocess.run(args, cwd=folder, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p


def _copy(tmp_path: Path, sources: list[Path]) -> Path:
    (tmp_path / "notebooks").mkdir()
    shutil.copy2(ROOT / "jupytext.toml", tmp_path / "jupytext.toml")
    for path in sources:
        shutil.copy2(path, tmp_path / "notebooks" / path.name)
    return tmp_path


def test_every_section_header_names_the_python3_kernel_and_no_version():
    import jupytext

    assert _sources()
    for path in _sources():
        assert path.read_text().startswith(HEADER), f"{path.name}: the jupytext header is not the project's"
        metadata = jupytext.read(path).metadata
        assert metadata["kernelspec"] == KERNELSPEC, path.name
        assert metadata["language_info"] == {"name": "python"}, path.name


def test_jupytext_sync_pairs_every_section_and_keeps_the_sources(tmp_path):
    folder = _copy(tmp_path, _sources())
    names = [p.name for p in _sources()]
    _sync(folder, *names)
    _sync(folder, *names)  # twice: the second run must change nothing
    for path in _sources():
        assert (folder / "notebooks" / path.name).read_text() == path.read_text(), (
            f"jupytext --sync rewrote {path.name} (e.g. two blank lines after the header become an empty cell)"
        )
        nb = json.loads((folder / "notebooks" / path.name).with_suffix(".ipynb").read_text())
        assert nb["metadata"]["kernelspec"] == KERNELSPEC and nb["metadata"]["language_info"] == {"name": "python"}
        tags = [c["metadata"].get("tags", []) for c in nb["cells"]]
        assert sum("parameters" in t for t in tags) == 1, f"{path.name}: one cell tagged parameters"


def _papermill(folder: Path, name: str, *params: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """papermill's own CLI on notebooks/NAME.ipynb, as a user would run it."""
    args = [str(BIN / "papermill"), f"{name}.ipynb", str(folder / f"{name}.out.ipynb"), "--no-progress-bar"]
    for pair in params:
        args += ["-p", *pair.split("=", 1)]
    return subprocess.run(args, cwd=folder / "notebooks", capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600)


def test_papermill_cli_runs_a_notebook_with_the_project_header(tmp_path):
    (tmp_path / "tiny.py").write_text(
        HEADER + '# %% tags=["parameters"]\nprofile = "full"\nepochs = None\n\n# %%\nprint(f"{profile} {epochs}")\n'
    )
    folder = _copy(tmp_path, [tmp_path / "tiny.py"])
    _sync(folder, "tiny.py")
    p = _papermill(folder, "tiny", "profile=quick", "epochs=1")
    assert p.returncode == 0, p.stderr
    out = nbformat.read(folder / "tiny.out.ipynb", as_version=4)
    assert "quick 1" in "".join(o.get("text", "") for c in out.cells for o in c.get("outputs", []))
    assert out.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.skipif(not HAVE_DATA, reason="real data not fetched (run `make data`)")
def test_a_paired_section_runs_under_papermills_cli(tmp_path):
    """The cheapest section (01_data, about 15 s), paired by jupytext and run by papermill, not by fcnbook."""
    folder = _copy(tmp_path, [NOTEBOOKS / "01_data.py"])
    _sync(folder, "01_data.py")
    p = _papermill(folder, "01_data", "profile=quick", env={"FCNBOOK_RESULTS": str(tmp_path / "results")})
    assert p.returncode == 0, p.stderr[-3000:]
    out = nbformat.read(folder / "01_data.out.ipynb", as_version=4)
    assert not out.metadata["papermill"]["exception"]
    assert any("image/png" in o.get("data", {}) for c in out.cells for o in c.get("outputs", []))


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` with its size and modification time (git-ignored lock files left out)."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".lock")}


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_DATA, reason="real data not fetched (run `make data`)")
def test_a_chapter_runs_under_papermill_and_jupyter_nbconvert(tmp_path):
    """The README's second and third ways to run a chapter, on 02_baseline after `jupytext --sync`: papermill's CLI
    on the quick profile (its own results folder), then `jupyter nbconvert --execute` with the default parameters,
    which reads the shipped store and trains nothing (the store is unchanged afterwards)."""
    path = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    if not shutil.which("jupyter-nbconvert", path=path):
        pytest.skip("nbconvert is not installed: pip install -e '.[dev]' (make setup) installs it")
    folder = _copy(tmp_path, [NOTEBOOKS / "02_baseline.py"])
    _sync(folder, "02_baseline.py")
    p = _papermill(folder, "02_baseline", "profile=quick", env={"FCNBOOK_RESULTS": str(tmp_path / "results")})
    assert p.returncode == 0, p.stderr[-3000:]
    assert not nbformat.read(folder / "02_baseline.out.ipynb", as_version=4).metadata["papermill"]["exception"]

    shipped = ROOT / "results"
    before = _tree(shipped)
    env = {k: v for k, v in os.environ.items() if k != "FCNBOOK_RESULTS"} | {"PATH": path}
    p = subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                        "notebooks/02_baseline.ipynb"], cwd=folder, capture_output=True, text=True, env=env,
                       timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    out = nbformat.read(folder / "notebooks" / "02_baseline.nbconvert.ipynb", as_version=4)
    shown = "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                    for c in out.cells for o in c.get("outputs", []))
    assert "Traceback" not in shown and any("image/png" in o.get("data", {}) for c in out.cells
                                            for o in c.get("outputs", []))
    assert _tree(shipped) == before, "nbconvert with the default parameters changed the shipped store"
