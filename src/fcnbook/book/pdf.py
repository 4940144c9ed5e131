"""Print the whole book to one PDF: Jupyter Book's ``singlehtml`` build, printed by headless Chromium.

Jupyter Book's own ``pdfhtml`` builder downloads a browser (pyppeteer) and fails offline, so the book is built
with the ``singlehtml`` builder (every chapter on one page, the same ``_config.yml``, MathJax served from the
book itself) and printed by Debian's Chromium through Playwright for Python, which downloads nothing when it
is given ``executable_path``. Before printing, the page gets a title page and a table of contents, every
chapter starts on a new page, and the print waits until MathJax has typeset every equation and every figure
has loaded. The PDF has page numbers in the footer and an outline (bookmarks) of the chapters.

``fcnbook book --pdf`` (and ``make pdf``) writes ``book/_build/pdf/fcnbook.pdf``.
"""

from __future__ import annotations

import datetime
import os
import shutil
import time
from pathlib import Path

from fcnbook.book.jupyterbook import CONFIG, BookError, jupyter_book
from fcnbook.book.sections import BOOK

PDF_NAME = "fcnbook.pdf"
#: Chromium's arguments: no sandbox (root in containers), no GPU, nothing that phones home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def chromium() -> str:
    """Path of the Chromium that prints the PDF: ``$FCNBOOK_CHROMIUM``, else ``chromium`` on the PATH."""
    exe = os.environ.get("FCNBOOK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(exe).is_file():
        raise BookError(f"Chromium is missing ({exe}); install it with `apt-get install -y chromium` "
                        "(`make chromium` does it as root)")
    return exe


# Print layout: the theme's navigation and buttons go, each chapter starts a page, wide content wraps.
_CSS = """
@page { size: A4; margin: 16mm 15mm 18mm 15mm; }
html { font-size: 10.5pt; }
.bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .header-article, .prev-next-area, .bd-footer,
.bd-footer-article, .bd-footer-content, .headerlink, .toggle-button, .copybtn, .skip-link, .bd-header-announcement,
.search-button-field, #pst-back-to-top, .bd-search, .bd-article-container > .bd-header-article {
  display: none !important; }
.bd-main, .bd-content, .bd-article-container, .bd-article, .bd-container, .bd-container__inner, .bd-page-width {
  max-width: none !important; width: auto !important; margin: 0 !important; padding: 0 !important;
  display: block !important; }
.fcnbook-chapter { break-before: page; }
.bd-main .bd-content .bd-article h1:first-of-type { display: block !important; }
.bd-article h1, .fcnbook-chapter > h2 { font-size: 2em; margin-top: 0 !important; }
pre, code { white-space: pre-wrap !important; word-break: break-word; }
img, svg, mjx-container { max-width: 100%; }
figure, img, table, .cell_output, mjx-container[display="true"] { break-inside: avoid; }
h1, h2, h3 { break-after: avoid; }
table { font-size: 0.78em; width: auto !important; max-width: 100% !important; table-layout: auto; }
th, td { padding: 0.15em 0.4em !important; white-space: normal !important; }
.bd-article div, .bd-article section, .bd-article figure { overflow: visible !important; }
details.above-input, details.below-input { display: none !important; }
.fcnbook-title-page { height: 230mm; display: flex; flex-direction: column; justify-content: center;
  text-align: center; break-after: page; }
.fcnbook-title-page .title { font-size: 28pt; font-weight: 700; line-height: 1.25; margin-bottom: 14mm; }
.fcnbook-title-page .meta { font-size: 12pt; color: #444; line-height: 1.8; }
#jb-print-docs-body { display: block !important; break-after: page; }
#jb-print-docs-body > h1 { display: none; }
#jb-print-docs-body a { text-decoration: none; }
"""

# A title page in front of the theme's print-only table of contents (``#jb-print-docs-body``, which lists the
# parts and chapters); every included document (``<span id="document-NAME">`` + its section) starts a page.
# Returns the number of chapters marked.
_FRONT_MATTER = """
([title, meta]) => {
  const page = document.createElement('div');
  page.className = 'fcnbook-title-page';
  const head = document.createElement('div');
  head.className = 'title';
  head.textContent = title;
  page.appendChild(head);
  const lines = document.createElement('div');
  lines.className = 'meta';
  for (const m of meta) { const d = document.createElement('div'); d.textContent = m; lines.appendChild(d); }
  page.appendChild(lines);
  const toc = document.querySelector('#jb-print-docs-body');
  const article = document.querySelector('article.bd-article');
  (toc || article).parentNode.insertBefore(page, toc || article);
  const chapters = Array.from(document.querySelectorAll('article.bd-article span[id^="document-"] + section'));
  chapters.forEach(s => {
    s.classList.add('fcnbook-chapter');
    s.prepend(s.previousElementSibling);  // the anchor goes inside: left before the break, it can add a blank page
  });
  return chapters.length;
}
"""

# Resolves once MathJax has typeset the page, every image has loaded and the fonts are ready.
_SETTLED = """
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  await Promise.all(Array.from(document.images).map(img => img.complete ? null :
    new Promise(done => { img.onload = img.onerror = done; })));
  await document.fonts.ready;
  return {math: document.querySelectorAll('mjx-container').length,
          raw: Array.from(document.querySelectorAll('.math')).filter(e => !e.querySelector('mjx-container')).length,
          broken: Array.from(document.images).filter(i => !(i.naturalWidth > 0)).map(i => i.src)};
}
"""


def _book_config(config: Path) -> dict:
    import yaml

    return yaml.safe_load(config.read_text()) or {}


def print_pdf(index: Path, out: Path, *, title: str, meta: list[str]) -> Path:
    """Print the one-page book ``index`` (a ``singlehtml`` build) to ``out`` with Chromium; return ``out``.

    Runs in a thread of its own: Playwright's sync API refuses to run where an asyncio loop is running (as it is
    in the thread that executed the sections with papermill, e.g. in the test suite).
    """
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(_print_pdf, index, out, title=title, meta=meta).result()


def _print_pdf(index: Path, out: Path, *, title: str, meta: list[str]) -> Path:
    """Print the one-page book ``index`` (a ``singlehtml`` build) to ``out`` with Chromium; return ``out``.

    Raises
    ------
    BookError
        Chromium is missing, MathJax did not typeset, a figure did not load, or raw TeX is left on the page.
    """
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.stem}.partial-{os.getpid()}.pdf")
    footer = ('<div style="width:100%;font-size:8pt;color:#555;text-align:center;font-family:sans-serif">'
              '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')
    header = ('<div style="width:100%;font-size:7pt;color:#888;text-align:right;padding-right:15mm;'
              f'font-family:sans-serif">{_escape(title)}</div>')
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.route("http*://**", lambda route: route.abort())  # the book loads nothing from the network
                page.goto(index.resolve().as_uri(), wait_until="load", timeout=120_000)
                page.wait_for_function("() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)",
                                       timeout=60_000)
                state = page.evaluate(_SETTLED)
                if state["broken"]:
                    raise BookError(f"PDF: figures did not load: {', '.join(state['broken'][:5])}")
                if state["math"] == 0 or state["raw"]:
                    raise BookError(f"PDF: MathJax did not typeset the book ({state['math']} equations typeset, "
                                    f"{state['raw']} formulas left as TeX)")
                page.add_style_tag(content=_CSS)
                if page.evaluate(_FRONT_MATTER, [title, meta]) == 0:
                    raise BookError(f"PDF: {index} is not a singlehtml book (no included chapters found)")
                page.emulate_media(media="print")
                page.pdf(path=str(partial), format="A4", print_background=True, display_header_footer=True,
                         header_template=header, footer_template=footer, prefer_css_page_size=True,
                         outline=True, tagged=True)
            finally:
                browser.close()
        os.replace(partial, out)
    except PlaywrightError as e:
        raise BookError(f"PDF: Chromium failed: {str(e).splitlines()[0]}") from e
    finally:
        partial.unlink(missing_ok=True)
    return out


def _escape(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def _print_page(folder: Path, root: str) -> Path:
    """The one page of a ``singlehtml`` build to print (its ``index.html`` only redirects to it).

    Sphinx writes the root document to ``<root>.html`` but makes every link relative to the output folder, and
    its links to itself ``<root>.html#...``: a root in a subfolder (``sections/00_findings``) would miss its
    scripts, styles and images. It is then printed from a copy in the output folder whose links to itself are
    plain anchors, which the PDF keeps as links within the document.
    """
    page = folder / f"{root}.html"
    if "/" not in root:
        return page
    copy = folder / "fcnbook-print.html"
    copy.write_text(page.read_text(encoding="utf-8").replace(f'href="{root}.html#', 'href="#'), encoding="utf-8")
    return copy


def build_pdf(book: Path = BOOK, config: Path = CONFIG, out: Path | None = None) -> Path:
    """Build the ``singlehtml`` book from the executed sections and print it to one PDF.

    Parameters
    ----------
    book, config : path
        The book folder (with executed ``sections/``) and its ``_config.yml``.
    out : path, optional
        The PDF; default ``book/_build/pdf/fcnbook.pdf``.

    Returns
    -------
    Path
        The PDF, written atomically (a failed print leaves the previous PDF, if any).
    """
    t0 = time.perf_counter()
    import yaml

    built = jupyter_book(book, config, builder="singlehtml")
    index = _print_page(built.parent, yaml.safe_load((book / "_toc.yml").read_text())["root"])
    cfg = _book_config(config)
    title = cfg.get("title", "fcnbook")
    meta = [m for m in (cfg.get("author"), datetime.date.today().isoformat()) if m]
    out = Path(out) if out else book / "_build" / "pdf" / PDF_NAME
    print_pdf(index, out, title=title, meta=meta)
    print(f"[book] PDF: {out} ({out.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - t0:.1f} s)", flush=True)
    return out
