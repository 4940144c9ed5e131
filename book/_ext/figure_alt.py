"""Sphinx extension: every image gets a meaningful alt text, in one place for the whole book.

A figure made by a notebook cell (myst-nb's ``mystnb.figure`` metadata, or a ``glue:figure``) has a caption but its
image has no alt text, so the HTML falls back to the file name, a content hash. Here, once the doctree is resolved,
every image inside a figure takes the first sentence of the figure's caption as its alt text; an image outside any
figure (a cell's plain output) takes "Figure: " and the title of the section it belongs to. An alt text set by
hand is kept.
"""

from __future__ import annotations

import re

from docutils import nodes

# The first sentence: up to a full stop (or ! ?) followed by the end or by a space and a capital or an opening
# bracket; "0.9128" or "e.g. a" do not end it.
_SENTENCE = re.compile(r"^(.+?[.!?])(?:\s+(?=[A-Z(\[\"'])|\s*$)", re.S)


def first_sentence(text: str) -> str:
    """The first sentence of ``text``, whitespace collapsed (all of it when no sentence ends)."""
    text = " ".join(text.split())
    m = _SENTENCE.match(text)
    return (m.group(1) if m else text).strip()


def _generated(image: nodes.image) -> bool:
    """Whether the alt text is missing or only repeats the file (what the HTML writer would fall back to)."""
    alt = image.get("alt", "")
    uri = image.get("uri", "")
    return not alt or alt == uri or alt.rsplit("/", 1)[-1] == uri.rsplit("/", 1)[-1] or bool(
        re.fullmatch(r"[\w./-]*[0-9a-f]{16,}[\w.-]*", alt))


def _section_title(node: nodes.Node) -> str | None:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, nodes.section) and parent.children and isinstance(parent[0], nodes.title):
            return parent[0].astext()
        parent = parent.parent
    return None


def set_alt(app, doctree: nodes.document, docname: str) -> None:
    for figure in doctree.findall(nodes.figure):
        captions = [c for c in figure.children if isinstance(c, nodes.caption)]
        if not captions:
            continue
        alt = first_sentence(captions[0].astext())
        for image in figure.findall(nodes.image):
            if _generated(image):
                image["alt"] = alt
    for image in doctree.findall(nodes.image):
        if _generated(image):
            title = _section_title(image)
            image["alt"] = f"Figure: {title}" if title else "Figure"


def setup(app):
    app.connect("doctree-resolved", set_alt)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
