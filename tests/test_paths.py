"""Where results live: the profile picks the folder unless FCNBOOK_RESULTS is set, and section kernels inherit it."""

from __future__ import annotations

import os

import nbformat

from fcnbook import paths
from fcnbook.book import sections

NOTEBOOK = '''# %% tags=["parameters"]
profile = "full"

# %%
import os
from fcnbook.paths import results_dir
print("RESULTS", os.environ.get("FCNBOOK_RESULTS"), results_dir())
'''


def test_the_profile_picks_the_results_folder_unless_fcnbook_results_is_set(monkeypatch, tmp_path):
    monkeypatch.delenv("FCNBOOK_RESULTS", raising=False)
    root = paths.project_root()
    assert paths.results_dir() == paths.results_dir("full") == root / "results"
    assert paths.results_dir("quick") == root / "results-quick"
    with paths.profile_results("quick") as folder:
        assert folder == root / "results-quick" and os.environ["FCNBOOK_RESULTS"] == str(folder)
        assert paths.results_dir() == folder  # what everything below reads
    assert "FCNBOOK_RESULTS" not in os.environ  # restored
    monkeypatch.setenv("FCNBOOK_RESULTS", str(tmp_path))
    assert paths.results_dir("quick") == tmp_path.resolve()
    with paths.profile_results("quick") as folder:
        assert folder == tmp_path.resolve() and os.environ["FCNBOOK_RESULTS"] == str(tmp_path)
    assert os.environ["FCNBOOK_RESULTS"] == str(tmp_path)


def _printed(path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def test_a_section_kernel_reads_its_profiles_results_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("FCNBOOK_RESULTS", raising=False)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "t_where.py").write_text(NOTEBOOK)
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: sections/t_where\n")
    root = paths.project_root()
    out = sections.run_section("t_where", out=tmp_path / "q.ipynb", profile="quick", notebooks=tmp_path / "notebooks",
                               book=tmp_path)
    assert f"RESULTS {root / 'results-quick'} {root / 'results-quick'}" in _printed(out)
    out = sections.run_section("t_where", out=tmp_path / "f.ipynb", notebooks=tmp_path / "notebooks", book=tmp_path)
    assert f"RESULTS {root / 'results'} {root / 'results'}" in _printed(out)  # the cell's default: full
    assert "FCNBOOK_RESULTS" not in os.environ
