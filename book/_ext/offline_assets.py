"""Sphinx extension: serve MathJax from the built book, so that no page loads it from a CDN.

MathJax 3 comes from npm (``package.json``; ``make setup`` runs ``npm install``). It is copied into
``_build/html/_static/mathjax`` when the build finishes, and ``mathjax_path`` (in ``_config.yml``) points
there. It deliberately does not live in ``book/_static``: Jupyter Book 1 adds every ``.js`` and ``.css`` file
found there to every page, which would load all of MathJax's components on every page.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.errors import ExtensionError

_ES5 = Path("node_modules", "mathjax", "es5")
# The SVG output, the Node.js entry point and the other combined bundles are never loaded by tex-chtml.js.
_SKIP = shutil.ignore_patterns("*svg*", "node-main.js", "tex-mml-*", "mml-*", "tex-chtml-full*")


def _source(app) -> Path:
    """``offline_mathjax_dir`` if set, else the project's ``node_modules/mathjax/es5``.

    The project root is the book's parent folder, or (for a copy of the book built elsewhere, as the tests do)
    the checkout the ``fcnbook`` package is installed from.
    """
    if app.config.offline_mathjax_dir:
        return (Path(app.srcdir) / app.config.offline_mathjax_dir).resolve()
    candidates = [Path(app.srcdir).resolve().parent]
    try:
        from fcnbook.paths import project_root

        candidates.append(project_root())
    except ImportError:  # the book built without the package installed: only the first candidate
        pass
    for root in candidates:
        if (root / _ES5).is_dir():
            return root / _ES5
    return candidates[0] / _ES5


def _check(app) -> None:
    if app.builder.format != "html":
        return
    if "://" in (app.config.mathjax_path or ""):
        raise ExtensionError(f"mathjax_path must be a path under _static, not {app.config.mathjax_path}")
    entry = _source(app) / Path(app.config.mathjax_path).relative_to("mathjax")
    if not entry.is_file():
        raise ExtensionError(
            f"MathJax is missing ({entry}); run `npm install` in the project root (`make setup` does it)"
        )


def _copy(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    shutil.copytree(_source(app), Path(app.outdir) / "_static" / "mathjax", ignore=_SKIP, dirs_exist_ok=True)


def setup(app):
    # Empty: look for the project's node_modules (see _source); else a path relative to the book's sources.
    app.add_config_value("offline_mathjax_dir", "", "html")
    app.connect("builder-inited", _check)
    app.connect("build-finished", _copy)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
