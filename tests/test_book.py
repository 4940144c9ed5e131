"""The book machinery: sections and their parameters, papermill execution, the Jupyter Book build, the browser.

Fast tests run throwaway notebooks listed in a throwaway ``_toc.yml``. The ``slow`` tests build the whole book
with the quick profile, ``fcnbook book --profile quick`` as ``make quick`` runs it, in a fresh clone of the project
(the user's ``book/`` and ``results/`` are never touched, and the clone's ``git status`` stays empty); the
``browser`` tests then open every built page in headless Chromium.
"""

from __future__ import annotations

import html
import html.parser
import os
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import nbformat
import pytest

from fcnbook.book import build as bookbuild
from fcnbook.book import sections
from fcnbook.book.parameters import Expression, parse_parameter_value, parse_parameters_cell
from fcnbook.paths import data_dir

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
TINY_TOC = "format: jb-book\nroot: intro\nchapters:\n" + "".join(
    f"  - file: sections/{n}\n" for n in ("t_tiny", "t_failing", "t_plot", "t_params")
)


@pytest.fixture
def tiny(tmp_path):
    """(notebooks folder, book folder with a _toc.yml listing the throwaway sections)."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    (folder / "t_tiny.py").write_text(TINY)
    (folder / "t_failing.py").write_text(FAILING)
    book = tmp_path / "book"
    book.mkdir()
    (book / "_toc.yml").write_text(TINY_TOC)
    return folder, book


def _stdout(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def _tags(path: Path) -> list[list[str]]:
    nb = nbformat.read(path, as_version=4)
    return [c.metadata.get("tags", []) for c in nb.cells if c.cell_type == "code"]


# -- the sections: book/_toc.yml is the one list ----------------------------------------------------------


def test_toc_is_the_one_list_of_sections():
    names = sections.toc_sections()
    assert names[:2] == ["00_findings", "01_data"] and "10_summary" in names and len(names) == len(set(names))
    # The root, the opening page, states what the others found: a build executes it last.
    assert sections.execution_order() == [*names[1:], "00_findings"]
    # Every listed section has its source, and every source is listed: nothing else names sections.
    assert sorted(names) == sorted(p.stem for p in sections.NOTEBOOKS.glob("*.py"))


def test_toc_sections_reads_nested_entries(tmp_path):
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nparts:\n  - caption: A\n    chapters:\n      - file: methods\n"
        "      - file: sections/a_one\n        sections:\n          - file: sections/b_two.ipynb\n"
    )
    assert sections.toc_sections(tmp_path) == ["a_one", "b_two"]
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: sections/opening\nchapters:\n  - file: sections/a\n")
    assert sections.toc_sections(tmp_path) == ["opening", "a"]
    assert sections.execution_order(tmp_path) == ["a", "opening"]
    with pytest.raises(ValueError, match="does not exist"):
        sections.toc_sections(tmp_path / "nowhere")


def test_unknown_section_is_a_one_line_error(tiny):
    allowed = r"unknown section 'nope'; allowed \(book/_toc.yml\): 00_findings, 01_data, 02_"
    with pytest.raises(ValueError, match=allowed) as e:
        sections.run_section("nope")
    assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match="unknown section"):
        sections.section_parameters("nope")
    with pytest.raises(ValueError, match="unknown section"):
        bookbuild.build_book("quick", only=["nope"])
    # Listed in the toc but without a source: named, one line.
    with pytest.raises(ValueError, match=r"t_params' is listed in book/_toc.yml but its source .* does not exist"):
        sections.run_section("t_params", notebooks=tiny[0], book=tiny[1])


def test_unknown_parameter_lists_the_allowed_ones(tiny, tmp_path):
    notebooks, book = tiny
    expected = r"unknown parameter\(s\) bogus for section t_tiny; allowed: x, label, values$"
    with pytest.raises(ValueError, match=expected):
        sections.run_section("t_tiny", {"bogus": 1}, out=tmp_path / "o.ipynb", notebooks=notebooks, book=book)
    assert not (tmp_path / "o.ipynb").exists()  # refused before anything ran


@pytest.mark.parametrize(
    "name, value, allowed",
    [
        ("x", "3", "an integer"),
        ("x", 1.5, "an integer"),
        ("x", True, "an integer"),
        ("label", 3, "a string"),
        ("values", 5, "a list of integers"),
        ("values", [0, "a"], "a list of integers"),
    ],
)
def test_a_value_of_the_wrong_kind_is_refused_before_running(tiny, tmp_path, name, value, allowed):
    notebooks, book = tiny
    with pytest.raises(ValueError) as e:
        sections.run_section("t_tiny", {name: value}, out=tmp_path / "o.ipynb", notebooks=notebooks, book=book)
    message = str(e.value)
    assert message.startswith(f"parameter {name} of section t_tiny must be {allowed} (default ")
    assert f"got {value!r}" in message and "\n" not in message
    assert not (tmp_path / "o.ipynb").exists()


def test_section_parameters_follow_the_convention():
    p = sections.section_parameters("10_summary")
    assert p == {"profile": "full", "epochs": None, "long_epochs": None, "seeds": None, "subset": None,
                 "device": "auto", "precision": None}
    kinds = {q.name: q.kinds for q in sections.section_parameter_specs("02_baseline")}
    assert kinds["seeds"] == ("None", "list of int")  # a profile setting: the profiles' type
    assert kinds["epochs"] == ("None", "int") and kinds["hidden"] == ("list of int",) and kinds["lr"] == ("number",)
    with pytest.raises(ValueError, match="allowed: profile, epochs"):
        sections.run_section("10_summary", {"epoch": 3})
    with pytest.raises(ValueError, match=r"parameter seeds of section 02_baseline must be None or a list of integers"):
        sections.run_section("02_baseline", {"seeds": 5})
    with pytest.raises(ValueError, match=r"parameter profile of section 02_baseline must be 'quick' or 'full'"):
        sections.run_section("02_baseline", {"profile": "fast"})
    assert kinds["precision"] == ("None", "str")
    with pytest.raises(ValueError, match=r"parameter precision of section 02_baseline must be None or 'fp32' or "):
        sections.run_section("02_baseline", {"precision": "fp16"})


def test_parse_parameters_cell_reads_without_executing():
    source = (
        'a = 1  # an int\n'
        'b = "x # not a comment"\n'
        'c: list[int] | None = None  # papermill\'s annotation convention\n'
        'd = None  # None: 1, 2, 3, 5, ..., 150\n'
        'e = None  # None: 20 000 in full\n'
        'f = None  # None: whatever the section picks\n'
        'g = sorted(OPTIONS)  # not a literal\n'
        'h: Optional[float] = 0.5\n'
        '_private = 3\n'
        'import os\n'
    )
    got = {p.name: (p.default, p.comment, p.kinds) for p in parse_parameters_cell(source)}
    assert got["a"] == (1, "an int", ("int",))
    assert got["b"] == ("x # not a comment", "", ("str",))
    assert got["c"][2] == ("list of int", "None")
    assert got["d"][2] == ("None", "list of int") and got["e"][2] == ("None", "int") and got["f"][2] == ("any",)
    assert isinstance(got["g"][0], Expression) and got["g"][2] == ("any",)
    assert got["h"][2] == ("number", "None")
    assert list(got) == ["a", "b", "c", "d", "e", "f", "g", "h"]


@pytest.mark.parametrize(
    "text, value",
    [
        # papermill's -p (papermill.cli._resolve_type)
        ("3", 3),
        ("-2", -2),
        ("0.1", 0.1),
        ("1e-4", 1e-4),
        ("None", None),
        ("True", True),
        ("False", False),
        ("null", "null"),
        ("true", "true"),
        ("quick", "quick"),
        ('"3"', '"3"'),
        ("a b", "a b"),
        # papermill's -y (YAML) for collections; list items that YAML leaves as text go through -p's rule
        ("[0, 1]", [0, 1]),
        ("[0,1,2]", [0, 1, 2]),
        ("[1e-4, 0.1]", [1e-4, 0.1]),
        ("[cpu, cuda]", ["cpu", "cuda"]),
        ("[]", []),
        ("{a: 1}", {"a": 1}),
        ("[unclosed", "[unclosed"),
    ],
)
def test_parse_parameter_value_follows_papermill(text, value):
    got = parse_parameter_value(text)
    assert got == value and type(got) is type(value)
    if text[:1] not in "[{":
        from papermill.cli import _resolve_type

        assert got == _resolve_type(text)


# -- executing sections ----------------------------------------------------------------------------


def test_figures_survive_a_non_inline_mplbackend(tiny, tmp_path, monkeypatch):
    notebooks, book = tiny
    monkeypatch.setenv("MPLBACKEND", "Agg")
    (notebooks / "t_plot.py").write_text(
        '# %% tags=["parameters"]\nn = 3\n\n# %%\nimport matplotlib.pyplot as plt\nplt.plot(range(n))\n'
    )
    out = sections.run_section("t_plot", out=tmp_path / "p.ipynb", notebooks=notebooks, book=book)
    nb = nbformat.read(out, as_version=4)
    assert any("image/png" in o.get("data", {}) for o in nb.cells[-1].outputs)
    assert os.environ["MPLBACKEND"] == "Agg"  # restored


def test_run_section_injects_hides_and_rereads_the_source(tiny, tmp_path):
    notebooks, book = tiny
    out = tmp_path / "run" / "t.ipynb"
    got = sections.run_section("t_tiny", {"x": 7, "values": [2]}, out=out, notebooks=notebooks, book=book)
    assert got == out.resolve()
    assert "x=7 label=plain values=[2] VERSION-A" in _stdout(out)
    tags = _tags(out)
    assert ["parameters", "remove-cell"] in tags and ["injected-parameters", "remove-cell"] in tags
    assert nbformat.read(out, as_version=4).metadata["kernelspec"]["name"] == "python3"

    # The .py is the source of truth: an edit shows up in the next run without any other step.
    source = notebooks / "t_tiny.py"
    source.write_text(source.read_text().replace("VERSION-A", "VERSION-B"))
    sections.run_section("t_tiny", out=out, notebooks=notebooks, book=book)
    text = _stdout(out)
    assert "VERSION-B" in text and "VERSION-A" not in text and "x=1 label=plain" in text
    assert sorted(p.name for p in out.parent.iterdir()) == ["t.ipynb"]  # no temporary file left


def test_an_interrupted_run_never_leaves_a_half_written_notebook(tiny, tmp_path, monkeypatch):
    notebooks, book = tiny
    out = tmp_path / "run" / "t.ipynb"
    out.parent.mkdir()
    out.write_text("previous execution")
    seen = []

    def interrupted(nb, path, **kwargs):  # papermill saves after every cell; stop it half way
        nbformat.write(nb, path)
        seen.append(Path(path))
        raise KeyboardInterrupt

    monkeypatch.setattr("papermill.execute_notebook", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sections.run_section("t_tiny", out=out, notebooks=notebooks, book=book)
    assert seen and seen[0] != out.resolve() and seen[0].parent == out.parent.resolve()
    assert out.read_text() == "previous execution"  # untouched
    assert sorted(p.name for p in out.parent.iterdir()) == ["t.ipynb"]  # and the partial file is gone


def test_a_failing_cell_names_the_section_and_keeps_the_notebook(tiny, tmp_path):
    notebooks, book = tiny
    out = tmp_path / "failed.ipynb"
    with pytest.raises(sections.SectionError) as e:
        sections.run_section("t_failing", out=out, notebooks=notebooks, book=book)
    message = str(e.value)
    assert "t_failing" in message and str(out.resolve()) in message
    assert "boom from the test notebook" in message
    assert "RuntimeError" in nbformat.read(out, as_version=4).cells[-1].outputs[0]["ename"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".ipynb") == ["failed.ipynb"]


def _trivial(name: str, text: str) -> str:
    return f'# %% [markdown]\n# # Section {name}\n\n# %% tags=["parameters"]\nprofile = "full"\n\n# %%\n{text}\n'


@pytest.mark.slow
def test_build_continues_past_a_failing_section_and_only_keeps_the_rest(tmp_path, monkeypatch, capsys):
    from fcnbook.report import budget

    monkeypatch.setenv("FCNBOOK_RESULTS", str(tmp_path / "results"))  # the build's timing record goes there
    src = tmp_path / "notebooks"
    src.mkdir()
    names = sections.toc_sections()
    with pytest.raises(ValueError, match="lists sections whose source does not exist"):
        bookbuild.build_book("quick", notebooks=src, workdir=tmp_path / "none")
    assert not (tmp_path / "none" / "book" / "sections").exists()  # refused before anything ran
    for name in names:
        (src / f"{name}.py").write_text(_trivial(name, f'print("OK-1 {name}")'))
    (src / "10_summary.py").write_text(_trivial("10_summary", 'raise ValueError("summary broke")'))
    work = tmp_path / "work"
    with pytest.raises(bookbuild.BookError) as e:
        bookbuild.build_book("quick", notebooks=src, workdir=work)
    assert e.value.failed == ["10_summary"] and "summary broke" in str(e.value)
    html_dir = work / "book" / "_build" / "html"
    assert (html_dir / "index.html").is_file()  # the book was still built, -W and all
    assert "OK-1 02_baseline" in (html_dir / "sections" / "02_baseline.html").read_text()
    assert "summary broke" in (html_dir / "sections" / "10_summary.html").read_text()
    (timed,) = budget.builds(tmp_path / "results")
    assert timed["failed"] == ["10_summary"] and timed["problems"] and sorted(timed["sections"]) == sorted(names)

    # --only: the named section is re-executed, the others keep their last execution; one never executed
    # (its notebook removed here) runs too.
    (src / "02_baseline.py").write_text(_trivial("02_baseline", 'print("OK-2")'))
    (src / "10_summary.py").write_text(_trivial("10_summary", 'print("SUMMARY-OK")'))
    (src / "05_initialization.py").write_text(_trivial("05_initialization", 'print("RAN-AGAIN")'))
    (work / "book" / "sections" / "05_initialization.ipynb").unlink()
    # A build whose timing cannot be made is still built (and says so).
    monkeypatch.setattr(bookbuild, "_start_timing", lambda *a: 1 / 0)
    index = bookbuild.build_book("quick", only=["10_summary"], notebooks=src, workdir=work)
    assert "this build is not timed (ZeroDivisionError" in capsys.readouterr().out
    assert len(budget.builds(tmp_path / "results")) == 1
    assert "SUMMARY-OK" in (index.parent / "sections" / "10_summary.html").read_text()
    assert "OK-1 02_baseline" in (index.parent / "sections" / "02_baseline.html").read_text()
    assert "RAN-AGAIN" in (index.parent / "sections" / "05_initialization.html").read_text()


# -- the whole book (slow) -------------------------------------------------------------------------


def _fresh_checkout(dest: Path) -> Path:
    """A fresh clone of the project in ``dest``: its tracked files and the untracked ones git does not ignore,
    committed as the first commit of a new repository, and the project's MathJax (node_modules/, git-ignored)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=sections.ROOT,
                            capture_output=True, check=True).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if (sections.ROOT / name).is_file():  # a tracked file deleted in the work tree is left out
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(sections.ROOT / name, dest / name)
    mathjax = sections.ROOT / "node_modules" / "mathjax" / "es5"
    if mathjax.is_dir():
        (dest / "node_modules" / "mathjax").mkdir(parents=True)
        (dest / "node_modules" / "mathjax" / "es5").symlink_to(mathjax.resolve())
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=fcnbook", "-c", "user.email=fcnbook@localhost",
                                                  "commit", "-q", "-m", "fresh clone"]):
        subprocess.run(["git", *args], cwd=dest, check=True, capture_output=True)
    return dest


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The quick book built once for this module, as `make quick` builds it, in a fresh clone of the project.

    The clone's own ``fcnbook`` runs (``PYTHONPATH``), with no ``FCNBOOK_RESULTS``: the results go where the
    quick profile puts them, ``results-quick/`` of the clone. The user's ``book/`` and ``results/`` are never
    touched. Returns (html folder, seconds, the clone).
    """
    if shutil.which("git") is None or not (sections.ROOT / ".git").exists():
        pytest.skip("the project is not a git checkout")
    clone = _fresh_checkout(tmp_path_factory.mktemp("quickbook") / "clone")
    env = {k: v for k, v in os.environ.items() if k != "FCNBOOK_RESULTS"}
    env |= {"PYTHONPATH": os.pathsep.join([str(clone / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]),
            "FCNBOOK_DATA": str(data_dir())}
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "fcnbook", "book", "--profile", "quick"], cwd=clone, env=env,
                       capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - t0
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    print(f"\nquick book: {seconds:.0f} s wall time")
    return clone / "book" / "_build" / "html", seconds, clone


@pytest.mark.slow
def test_quick_book_builds_every_section(built):
    html_dir, seconds, clone = built
    assert (html_dir / "index.html").is_file()
    for name in sections.toc_sections():
        assert (html_dir / "sections" / f"{name}.html").is_file(), name
        assert (html_dir.parent.parent / "sections" / f"{name}.ipynb").is_file(), name
    assert (html_dir / "_static" / "mathjax" / "tex-chtml.js").is_file()
    # Figures made it into the pages (the kernel's inline backend, whatever MPLBACKEND says).
    assert "<img" in (html_dir / "sections" / "10_summary.html").read_text()
    # No parameter cell reaches a page.
    summary = (html_dir / "sections" / "10_summary.html").read_text()
    assert 'long_epochs = None' not in summary and "# Parameters" not in summary
    # The build timed itself into the quick profile's results folder (fcnbook.report.budget): it started empty.
    from fcnbook.report import budget

    (entry,) = budget.builds(clone / "results-quick")
    assert entry["profile"] == "quick" and sorted(entry["sections"]) == sorted(sections.toc_sections())
    assert entry["runs_stored_at_start"] == 0 and entry["runs"] > 0 and not entry["failed"]
    assert entry["total_s"] == pytest.approx(seconds, abs=10.0)
    assert "sgemm_gflops_before" not in entry  # the peak is measured for full builds that train, only


@pytest.mark.slow
def test_a_quick_build_leaves_the_shipped_store_and_the_checkout_alone(built):
    """`make quick` in a fresh clone: its records, SVD cache and timing go to results-quick/ (git-ignored);
    `git status` shows nothing, so neither results/ nor results/timings/book.jsonl changed."""
    _, _, clone = built
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=clone,
                            capture_output=True, text=True, check=True).stdout
    assert status == "", status
    quick = clone / "results-quick"
    assert any(quick.glob("runs/*/seed-*.json")) and any(quick.glob("svd/*.json"))


@pytest.mark.slow
def test_the_opening_page_links_every_finding_to_its_chapter(built):
    html_dir, _, _ = built
    page = (html_dir / "sections" / "00_findings.html").read_text()
    body = page[page.index('<section id="what-this-book-finds">'):page.index('<section id="what-this-book-is">')]
    assert body.count("<li>") >= 5
    from fcnbook.report.chapters import headlines

    for chapter in headlines.CHAPTERS.values():
        assert f'href="{chapter}.html' in body, chapter


@pytest.mark.slow
def test_pages_have_math_typeset_meaningful_alt_texts_and_no_process_words(built):
    """No $...$ left as text, every image's alt text is a caption's first sentence or names its section (never a
    file name or hash), and no page speaks of the project's issues or budgets."""
    html_dir, _, _ = built
    problems = []
    for page in _pages(html_dir):
        text = page.read_text(encoding="utf-8")
        name = str(page.relative_to(html_dir))
        visible = re.sub(r"<(script|style)\b.*?</\1>|<[^>]+>", " ", text, flags=re.S)
        if re.search(r"\$[^$\s][^$]*\$", html.unescape(visible)):
            problems.append(f"{name}: a literal $...$")
        for alt in re.findall(r'<img[^>]*\balt="([^"]*)"', text):
            if not alt or "/" in alt or re.search(r"[0-9a-f]{16,}", alt) or alt.endswith((".png", ".svg")):
                problems.append(f"{name}: alt text {alt!r}")
        # "at this budget" (of epochs, in a chapter's sentence) is training vocabulary, not the project's process
        words = re.findall(r"\b(issues?|(?<!this )budgets?)\b", html.unescape(visible), flags=re.I)
        if words and name not in ("genindex.html", "search.html"):
            problems.append(f"{name}: speaks of {sorted(set(words))}")
    assert not problems, "\n".join(problems)


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
    html_dir, _, _ = built
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
    html_dir, _, _ = built
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
    html_dir, _, _ = built
    page = browser.new_page()
    page.goto((html_dir / "sections" / "10_summary.html").as_uri(), wait_until="load")
    assert page.evaluate("document.querySelectorAll('table.table1-reproduced tbody tr').length") == 16
    assert page.evaluate("document.querySelectorAll('table.table1-reproduced').length") == 1
    page.goto((html_dir / "methods.html").as_uri(), wait_until="load")
    page.wait_for_selector("mjx-container", timeout=20_000)  # MathJax, from _static/mathjax, typeset the page
    assert page.evaluate("document.querySelectorAll('mjx-container').length") > 20


@pytest.mark.slow
@pytest.mark.browser
def test_every_table_fits_a_1300_pixel_window(built, browser):
    """No table needs a horizontal scroll bar in a 1300-pixel-wide window (Table 1 included)."""
    html_dir, _, _ = built
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    wide = []
    for path in _pages(html_dir):
        if path.name == "index.html" and path.parent == html_dir:  # a redirect to the opening page
            continue
        page.goto(path.as_uri(), wait_until="load")
        found = page.evaluate("""() => Array.from(document.querySelectorAll('table'))
            .map(t => [Math.round(t.getBoundingClientRect().width), t.parentElement.clientWidth])
            .filter(([w, room]) => w > room + 1)""")
        wide += [f"{path.relative_to(html_dir)}: a table {w} px wide in {room} px" for w, room in found]
    assert not wide, "\n".join(wide)


# -- the PDF (slow): the quick book above, printed by Chromium, checked with poppler-utils ----------------

POPPLER = ("pdfinfo", "pdftotext", "pdftoppm")


@pytest.fixture(scope="module")
def book_pdf(built):
    """The quick book's PDF (``fcnbook.book.pdf.build_pdf`` on the book built above), and its build time."""
    if not Path(CHROMIUM).exists() or not all(shutil.which(t) for t in POPPLER):
        if os.geteuid() != 0:
            pytest.skip("Chromium or poppler-utils missing and we are not root: sudo apt-get install -y chromium "
                        "poppler-utils")
        pytest.fail("Chromium or poppler-utils is not installed; run `make chromium poppler`")
    from fcnbook.book.pdf import build_pdf

    html_dir, _, _ = built
    book_dir = html_dir.parents[1]
    t0 = time.perf_counter()
    path = build_pdf(book_dir, book_dir.parent / "_config.yml")
    seconds = time.perf_counter() - t0
    print(f"\nPDF of the quick book: {seconds:.0f} s")
    assert path == book_dir / "_build" / "pdf" / "fcnbook.pdf"
    return path, seconds


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def _pages_of(path: Path) -> int:
    info = dict(line.split(":", 1) for line in _run("pdfinfo", str(path)).splitlines() if ":" in line)
    assert "A4" in info["Page size"], info["Page size"]
    return int(info["Pages"])


def _chapter_titles(book_dir: Path) -> list[str]:
    """The first heading of every executed section (what the PDF must show as a chapter title)."""
    titles = []
    for name in sections.toc_sections(book_dir):
        nb = nbformat.read(book_dir / "sections" / f"{name}.ipynb", as_version=4)
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        titles.append(re.search(r"^#\s+(.+?)\s*$", text, re.M).group(1))
    return titles


def _words(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


@pytest.mark.slow
@pytest.mark.browser
def test_pdf_is_the_whole_book_with_table_1_and_page_numbers(book_pdf):
    from fcnbook.report import paper

    path, _ = book_pdf
    pages = _pages_of(path)
    assert 20 <= pages <= 150, pages
    text = _words(_run("pdftotext", str(path), "-"))
    assert text.count("Fully connected networks on FashionMNIST and MNIST") >= 2  # title page, running header
    assert "Contents" in text and "References" in text
    for title in _chapter_titles(path.parents[2]):
        assert _words(title) in text, f"chapter {title!r} is not in the PDF"
    missing = [f"{r.accuracy:.4f}" for r in paper.ROWS if f"{r.accuracy:.4f}" not in text]
    assert not missing, f"Table 1's accuracies missing from the PDF: {missing}"
    assert f"1 / {pages}" in text and f"{pages} / {pages}" in text  # the footer's page numbers
    # MathJax typeset every formula: no TeX source left in the text.
    assert not re.search(r"\\(frac|sum|mathcal|theta|left|right)\b|\$\$|\\\(|\\\[", text)


@pytest.mark.slow
@pytest.mark.browser
def test_every_pdf_page_has_content(book_pdf, tmp_path):
    import numpy as np
    from PIL import Image

    path, _ = book_pdf
    _run("pdftoppm", "-r", "30", "-png", str(path), str(tmp_path / "page"))
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) == _pages_of(path)
    blank = []
    for png in pngs:
        grey = np.asarray(Image.open(png).convert("L"))
        body = grey[int(0.07 * len(grey)):int(0.93 * len(grey))]  # without the running header and the footer
        if (body < 200).mean() < 0.001:
            blank.append(png.stem)
    assert not blank, f"blank pages: {blank}"
    # Figures were printed: at least one page is mostly picture (dark pixels well above any text page).
    assert max((np.asarray(Image.open(p).convert("L")) < 200).mean() for p in pngs) > 0.12
