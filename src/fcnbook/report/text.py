"""How numbers are written in the book's sentences and tables (one place, so that every chapter writes them alike)."""

from __future__ import annotations

import math


def p_value(p: float, relation: bool = False) -> str:
    """``0.032``, ``< 0.0001`` (never a bare 0 from underflow) or ``n/a``; with ``relation``, ``= 0.032``.

    >>> p_value(0.0321), p_value(3e-7), p_value(float("nan"))
    ('0.032', '< 0.0001', 'n/a')
    >>> f"McNemar's test: p {p_value(0.0321, relation=True)}, p {p_value(3e-7, relation=True)}"
    "McNemar's test: p = 0.032, p < 0.0001"
    """
    if not math.isfinite(p):
        return "n/a"
    if p < 1e-4:
        return "< 0.0001"
    return f"= {p:.2g}" if relation else f"{p:.2g}"
