"""The book machinery: section lookup, parameters, papermill execution, the Jupyter Book build, the browser.

Fast tests run throwaway notebooks in a temporary folder. The ``slow`` tests build the whole book with the
quick profile, through :func:`fcnbook.book.build_book` exactly as ``fcnbook book --profile quick`` does, into
a temporary copy of the book (the user's ``book/`` and ``results/`` are never touched); the ``browser`` tests
then open every built page in headless Chromium.
"""

from __future__ import annotations

import html.parser
import os
import shutil
import time
from pathlib import Path

import nbformat
import pytest

from fcnbook import book

TINY = '''# %% [markdown]
# # A tiny section

# %% tags=["parameters"]
x = 1
label = "plain"
values = [0, 1]

# %%
print(f"x={x} label={label} values={values} VERSION-A")
'''
FAILING = '''# %% tags=["parameters"]
x = 1

# %%
raise RuntimeError("boom from the test notebook")
'''


@pytest.fixture
def tiny(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    (folder / "t_tiny.py").write_text(TINY)
    (folder / "t_failing.py").write_text(FAILING)
    return folder


def _stdout(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def _tags(path: Path) -> list[list[str]]:
    nb = nbformat.read(path, as_version=4)
    return [c.metadata.get("tags", []) for c in nb.cells if c.cell_type == "code"]


# -- names and parameters --------------------------------------------------------------------------


def test_toc_lists_the_sections_in_order():
    assert book.toc_sections() == list(book.SECTIONS)
    assert book.SECTIONS[0] == "01_data" and book.SECTIONS[-1] == "10_summary"


def test_unknown_section_is_a_one_line_error():
    with pytest.raises(ValueError, match=r"unknown section 'nope'; allowed: 01_data, 02_baseline") as e:
        book.run_section("nope")
    assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match="unknown section"):
        book.section_parameters("nope")
    with pytest.raises(ValueError, match="unknown section"):
        book.build_book("quick", only=["nope"])


def test_unknown_parameter_lists_the_allowed_ones(tiny, tmp_path):
    expected = r"unknown parameter\(s\) bogus for section t_tiny; allowed: x, label, values$"
    with pytest.raises(ValueError, match=expected):
        book.run_section("t_tiny", {"bogus": 1}, out=tmp_path / "o.ipynb", notebooks=tiny)
    assert not (tmp_path / "o.ipynb").exists()  # refused before anything ran


def test_summary_parameters_follow_the_convention():
    p = book.section_parameters("10_summary")
    assert p == {"profile": "full", "epochs": None, "long_epochs": None, "seeds": None, "subset": None,
                 "device": "auto"}
    with pytest.raises(ValueError, match="allowed: profile, epochs"):
        book.run_section("10_summary", {"epoch": 3})


def test_section_parameters_reads_the_defaults(tiny):
    assert book.section_parameters("t_tiny", tiny) == {"x": 1, "label": "plain", "values": [0, 1]}


@pytest.mark.parametrize(
    "text, value",
    [
        ("3", 3),
        ("-2", -2),
        ("0.1", 0.1),
        ("1e-4", 1e-4),
        ("None", None),
        ("null", None),
        ("~", None),
        ("true", True),
        ("False", False),
        ("[0, 1]", [0, 1]),
        ("[0,1,2]", [0, 1, 2]),
        ("[1e-4, 0.1]", [1e-4, 0.1]),
        ("[cpu, cuda]", ["cpu", "cuda"]),
        ("[]", []),
        ("quick", "quick"),
        ('"3"', "3"),
        ("'full'", "full"),
        ("yes", "yes"),
        ("nan", "nan"),
        ("a b", "a b"),
        ("[unclosed", "[unclosed"),
    ],
)
def test_parse_parameter_value(text, value):
    got = book.parse_parameter_value(text)
    assert got == value and type(got) is type(value)


# -- executing sections ----------------------------------------------------------------------------


def test_figures_survive_a_non_inline_mplbackend(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    (tiny / "t_plot.py").write_text(
        '# %% tags=["parameters"]\nn = 3\n\n# %%\nimport matplotlib.pyplot as plt\nplt.plot(range(n))\n'
    )
    out = book.run_section("t_plot", out=tmp_path / "p.ipynb", notebooks=tiny)
    nb = nbformat.read(out, as_version=4)
    assert any("image/png" in o.get("data", {}) for o in nb.cells[-1].outputs)
    assert os.environ["MPLBACKEND"] == "Agg"  # restored


def test_run_section_injects_hides_and_rereads_the_source(tiny, tmp_path):
    out = tmp_path / "run" / "t.ipynb"
    assert book.run_section("t_tiny", {"x": 7, "values": [2]}, out=out, notebooks=tiny) == out.resolve()
    assert "x=7 label=plain values=[2] VERSION-A" in _stdout(out)
    tags = _tags(out)
    assert ["parameters", "remove-cell"] in tags and ["injected-parameters", "remove-cell"] in tags

    # The .py is the source of truth: an edit shows up in the next run without any other step.
    source = tiny / "t_tiny.py"
    source.write_text(source.read_text().replace("VERSION-A", "VERSION-B"))
    book.run_section("t_tiny", out=out, notebooks=tiny)
    text = _stdout(out)
    assert "VERSION-B" in text and "VERSION-A" not in text and "x=1 label=plain" in text


def test_a_failing_cell_names_the_section_and_keeps_the_notebook(tiny, tmp_path):
    out = tmp_path / "failed.ipynb"
    with pytest.raises(book.SectionError) as e:
        book.run_section("t_failing", out=out, notebooks=tiny)
    message = str(e.value)
    assert "t_failing" in message and str(out.resolve()) in message
    assert "boom from the test notebook" in message
    assert "RuntimeError" in nbformat.read(out, as_version=4).cells[-1].outputs[0]["ename"]


def test_stub_page(tmp_path):
    out = book.write_stub("03_optimizers", tmp_path / "s.ipynb", "has not been executed yet")
    nb = nbformat.read(out, as_version=4)
    assert nb.metadata["fcnbook"]["stub"] and "fcnbook section 03_optimizers" in nb.cells[0].source


SECTION_OK = '# %% [markdown]\n# # Fine section\n\n# %% tags=["parameters"]\nprofile = "full"\n\n# %%\nprint("OK-1")\n'
SECTION_BAD = '# %% tags=["parameters"]\nprofile = "full"\n\n# %%\nraise ValueError("summary broke")\n'


@pytest.mark.slow
def test_build_continues_past_a_failing_section_and_only_keeps_the_rest(tmp_path):
    src = tmp_path / "notebooks"
    src.mkdir()
    (src / "02_baseline.py").write_text(SECTION_OK)
    (src / "10_summary.py").write_text(SECTION_BAD)
    work = tmp_path / "work"
    with pytest.raises(book.BookError) as e:
        book.build_book("quick", notebooks=src, workdir=work)
    assert e.value.failed == ["10_summary"] and "summary broke" in str(e.value)
    html_dir = work / "book" / "_build" / "html"
    assert (html_dir / "index.html").is_file()  # the book was still built, -W and all, stubs included
    assert "OK-1" in (html_dir / "sections" / "02_baseline.html").read_text()
    assert "has not been written yet" in (html_dir / "sections" / "05_initialization.html").read_text()

    # --only: the named section is re-executed, the others keep their last execution.
    (src / "02_baseline.py").write_text(SECTION_OK.replace("OK-1", "OK-2"))
    (src / "10_summary.py").write_text(SECTION_OK.replace("OK-1", "SUMMARY-OK"))
    index = book.build_book("quick", only=["10_summary"], notebooks=src, workdir=work)
    assert "SUMMARY-OK" in (index.parent / "sections" / "10_summary.html").read_text()
    assert "OK-1" in (index.parent / "sections" / "02_baseline.html").read_text()


# -- the whole book (slow) -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The quick book built once for this module, with results in a temporary run store."""
    tmp = tmp_path_factory.mktemp("quickbook")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FCNBOOK_RESULTS", str(tmp / "results"))  # inherited by every papermill kernel
        t0 = time.perf_counter()
        index = book.build_book(profile="quick", workdir=tmp / "work")
        seconds = time.perf_counter() - t0
    print(f"\nquick book: {seconds:.0f} s wall time")
    (tmp / "seconds.txt").write_text(f"{seconds:.1f}\n")
    return index.parent, seconds


@pytest.mark.slow
def test_quick_book_builds_every_section(built):
    html_dir, seconds = built
    assert (html_dir / "index.html").is_file()
    for name in book.SECTIONS:
        page = html_dir / "sections" / f"{name}.html"
        assert page.is_file(), name
        notebook = html_dir.parent.parent / "sections" / f"{name}.ipynb"
        stub = nbformat.read(notebook, as_version=4).metadata.get("fcnbook", {}).get("stub")
        if (book.NOTEBOOKS / f"{name}.py").is_file():
            assert not stub, f"{name} was not executed"
    assert (html_dir / "_static" / "mathjax" / "tex-chtml.js").is_file()
    # Figures made it into the pages (the kernel's inline backend, whatever MPLBACKEND says).
    assert "<img" in (html_dir / "sections" / "10_summary.html").read_text()
    # No parameter cell reaches a page.
    summary = (html_dir / "sections" / "10_summary.html").read_text()
    assert 'long_epochs = None' not in summary and "# Parameters" not in summary


_LOADING_RELS = {"stylesheet", "preload", "icon", "modulepreload", "prefetch"}


class _Refs(html.parser.HTMLParser):
    """Collects what a page *loads*: script src, stylesheet/icon links, img src (plain links don't count)."""

    def __init__(self):
        super().__init__()
        self.loads: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.loads.append(a["src"])
        elif tag == "link" and a.get("href") and set((a.get("rel") or "").split()) & _LOADING_RELS:
            self.loads.append(a["href"])
        elif tag in ("img", "iframe", "source") and a.get("src"):
            self.loads.append(a["src"])


def _pages(html_dir: Path) -> list[Path]:
    return sorted(p for p in html_dir.rglob("*.html") if "_static" not in p.parts)


@pytest.mark.slow
def test_no_page_loads_anything_from_the_network(built):
    html_dir, _ = built
    offenders = []
    for page in _pages(html_dir):
        refs = _Refs()
        refs.feed(page.read_text(encoding="utf-8"))
        remote = [u for u in refs.loads if u.startswith(("http:", "https:", "//"))]
        offenders += [f"{page.relative_to(html_dir)}: {u}" for u in remote]
    assert not offenders, "\n".join(offenders)


# -- the browser -----------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.geteuid() != 0:
            pytest.skip("Chromium is not installed and we are not root: sudo apt-get install -y chromium")
        pytest.fail("Chromium is not installed; run `make chromium` (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _not_blank(png: bytes) -> bool:
    from io import BytesIO

    from PIL import Image

    colours = Image.open(BytesIO(png)).convert("RGB").getcolors(maxcolors=1 << 20)
    return colours is None or len(colours) > 20


@pytest.mark.slow
@pytest.mark.browser
def test_every_page_renders_in_chromium(built, browser):
    html_dir, _ = built
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    remote: list[str] = []
    page.on("request", lambda r: remote.append(r.url) if r.url.startswith(("http:", "https:")) else None)
    problems = []
    for path in _pages(html_dir):
        name = str(path.relative_to(html_dir))
        page.goto(path.as_uri(), wait_until="load")
        if not _not_blank(page.screenshot(full_page=True)):
            problems.append(f"{name}: blank screenshot")
        broken = page.evaluate(
            "Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
        )
        problems += [f"{name}: broken image {src}" for src in broken]
    assert not problems, "\n".join(problems)
    assert not remote, f"pages requested network resources: {remote}"


@pytest.mark.slow
@pytest.mark.browser
def test_summary_table_and_local_mathjax(built, browser):
    html_dir, _ = built
    page = browser.new_page()
    page.goto((html_dir / "sections" / "10_summary.html").as_uri(), wait_until="load")
    assert page.evaluate("document.querySelectorAll('table.table1-reproduced tbody tr').length") == 16
    assert page.evaluate("document.querySelectorAll('table.table1-reproduced').length") == 1
    page.goto((html_dir / "methods.html").as_uri(), wait_until="load")
    page.wait_for_selector("mjx-container", timeout=20_000)  # MathJax, from _static/mathjax, typeset the page
    assert page.evaluate("document.querySelectorAll('mjx-container').length") > 20
