"""The parameters of a section notebook: what its cell tagged ``parameters`` admits, and ``-p`` values.

:func:`parse_parameters_cell` reads the cell with ``ast`` (nothing is executed): each assignment's literal
default, its trailing comment and the kinds of value it admits. :func:`check_parameters` refuses, in one line,
an unknown name or a value of the wrong kind before papermill starts a kernel (``-p seeds 5`` would otherwise
end deep in the notebook in ``TypeError: 'int' object is not iterable``).

Values on the command line follow papermill's CLI: :func:`parse_parameter_value` reads ``-p NAME VALUE`` as
papermill's ``-p`` does (``True``/``False``/``None``, int, float, else the text), and a value in brackets or
braces as YAML, as papermill's ``-y`` does (``"[0, 1]"`` -> ``[0, 1]``).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass


@dataclass(frozen=True)
class Parameter:
    """One name of a parameters cell: its default, its trailing comment and the kinds of value it admits.

    ``kinds`` holds ``"None"``, ``"bool"``, ``"int"``, ``"number"`` (int or float), ``"str"``, ``"dict"``,
    ``"list"`` or ``"list of int|number|str"``; ``"any"`` admits everything.
    """

    name: str
    default: object
    comment: str
    kinds: tuple[str, ...]

    def admits(self, value) -> bool:
        return any(_is_kind(value, k) for k in self.kinds)

    def describe(self) -> str:
        """``"a list of int or None"``."""
        return " or ".join(_PHRASES.get(k, f"a {k}") for k in self.kinds)


_PHRASES = {"None": "None", "int": "an integer", "str": "a string", "bool": "True or False", "any": "anything",
            "list of int": "a list of integers", "list of str": "a list of strings",
            "list of number": "a list of numbers"}


class Expression(str):
    """A default that is not a literal (``list(experiments.REPORT_OPTIMIZERS)``): its source text, not checked."""

    def __repr__(self) -> str:
        return str(self)


def profiles() -> dict[str, dict]:
    """The run profiles' settings by profile name (``fcnbook.report.experiments.PROFILES``)."""
    from fcnbook.report.experiments import PROFILES

    return PROFILES


def _is_kind(value, kind: str) -> bool:
    if kind == "any":
        return True
    if kind == "None":
        return value is None
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    if kind == "dict":
        return isinstance(value, dict)
    if kind.startswith("list"):
        item = kind.removeprefix("list of ").removeprefix("list")
        return isinstance(value, list) and all(_is_kind(v, item or "any") for v in value)
    raise ValueError(f"unknown parameter kind {kind!r}")


def _kind_of(value) -> str:
    """The kind of a default value (``[500, 50]`` -> ``"list of int"``)."""
    if isinstance(value, list | tuple):
        for item in ("int", "number", "str"):
            if value and all(_is_kind(v, item) for v in value):
                return f"list of {item}"
        return "list"
    for kind in ("bool", "int", "number", "str", "dict"):
        if _is_kind(value, kind):
            return kind
    return "any"


_TYPES = {"bool": "bool", "int": "int", "float": "number", "str": "str", "dict": "dict", "list": "list"}


def _annotation_kinds(node: ast.expr) -> tuple[str, ...]:
    """``int``, ``list[int]``, ``list[int] | None``, ``Optional[float]`` -> kinds; anything else -> ``("any",)``."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return tuple(dict.fromkeys(_annotation_kinds(node.left) + _annotation_kinds(node.right)))
    if isinstance(node, ast.Constant) and node.value is None:
        return ("None",)
    if isinstance(node, ast.Name) and node.id in _TYPES:
        return (_TYPES[node.id],)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        inner = _annotation_kinds(node.slice)
        if node.value.id == "Optional":
            return (*inner, "None")
        if node.value.id == "list" and len(inner) == 1 and inner[0] in ("int", "number", "str"):
            return (f"list of {inner[0]}",)
        if node.value.id == "list":
            return ("list",)
    return ("any",)


_NUMBER = r"\d+(?: \d{3})*(?:\.\d+)?"  # 3, 0.1, 54 000
_LISTED = re.compile(rf"\[[^\]]*\]|{_NUMBER},\s*{_NUMBER},\s*{_NUMBER}")


def _none_kinds(name: str, comment: str) -> tuple[str, ...]:
    """What a parameter whose default is ``None`` admits besides ``None``.

    The sections' convention: the comment says what ``None`` stands for (``# None: the profile's seeds``).
    A name that is a profile setting (:func:`profiles`) admits the type of the profiles'
    values (``seeds`` -> list of int, ``epochs`` -> int). Otherwise the comment decides: a bracketed list or
    three comma-separated numbers (``None: 1, 2, 3, 5, ..., 150``) -> list of int, one number -> int, no number
    -> anything.
    """
    values = [p[name] for p in profiles().values() if p.get(name) is not None]
    if values:
        return ("None", *dict.fromkeys(_kind_of(v) for v in values))
    described = comment.split(":", 1)[1] if comment.startswith("None:") else comment
    if _LISTED.search(described):
        return ("None", "list of int")
    if re.search(r"\d", described):
        return ("None", "int")
    return ("any",)


def _comments(source: str) -> dict[int, str]:
    """Line number -> text of the comment ending that line (tokenize: a ``#`` inside a string is no comment)."""
    found: dict[int, str] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                found[tok.start[0]] = tok.string.lstrip("#").strip()
    except (tokenize.TokenError, SyntaxError):
        pass
    return found


def parse_parameters_cell(source: str, where: str = "parameters cell") -> list[Parameter]:
    """The assignments of a parameters cell, in order, read with ``ast`` (nothing is executed).

    Each target needs a literal default. A type annotation, papermill's ``name: type = default`` convention
    (``seeds: list[int] | None = None``), says what the name admits; otherwise the default does (a list admits
    lists of the same item type, an int ints, a float numbers, a str strings) and a ``None`` default follows
    :func:`_none_kinds`.
    """
    comments = _comments(source)
    params: list[Parameter] = []
    for node in ast.parse(source, filename=where).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, annotation = node.targets[0], None
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, annotation = node.target, node.annotation
        else:
            continue
        if not isinstance(target, ast.Name) or target.id.startswith("_"):
            continue
        try:
            default = ast.literal_eval(node.value)
        except ValueError:
            default = Expression(ast.unparse(node.value))
        comment = comments.get(node.end_lineno, "")
        if annotation is not None:
            kinds = _annotation_kinds(annotation)
        elif default is None:
            kinds = _none_kinds(target.id, comment)
        elif isinstance(default, Expression):
            kinds = ("any",)
        else:
            kinds = (_kind_of(default),)
        params.append(Parameter(target.id, default, comment, kinds))
    return params


def check_parameters(name: str, params: dict, specs: list[Parameter]) -> None:
    """``ValueError`` with one line for the first unknown name or value of the wrong kind."""
    known = {p.name: p for p in specs}
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {', '.join(unknown)} for section {name}; allowed: "
            + (", ".join(known) or "none (the notebook has no cell tagged parameters)")
        )
    for key, value in params.items():
        p = known[key]
        from fcnbook.config import PRECISIONS

        choices = {"profile": tuple(profiles()), "precision": (None, *PRECISIONS)}.get(key)
        ok = p.admits(value) and (choices is None or value in choices)
        if not ok:
            allowed = " or ".join(map(repr, choices)) if choices else p.describe()
            note = f"; {p.comment}" if p.comment else ""
            raise ValueError(
                f"parameter {key} of section {name} must be {allowed} (default {p.default!r}{note}); "
                f"got {value!r} ({type(value).__name__})"
            )


def parse_parameter_value(text: str):
    """A ``-p NAME VALUE`` string -> the value papermill passes.

    As papermill's ``-p`` (``papermill.cli._resolve_type``): ``True``, ``False``, ``None``, an int, a float,
    else the text itself. As papermill's ``-y`` (YAML): a value starting with ``[`` or ``{``, so
    ``"[0, 1]"`` -> ``[0, 1]``; string items of such a list go through ``-p``'s rule too (YAML 1.1 reads
    ``1e-4`` as a string). Text that is not valid YAML stays text.
    """
    from papermill.cli import _resolve_type

    if text.strip()[:1] in ("[", "{"):
        import yaml

        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            return text
        if isinstance(value, list):
            return [_resolve_type(v) if isinstance(v, str) else v for v in value]
        return value
    return _resolve_type(text)
