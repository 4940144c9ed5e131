"""How numbers are written in the book's sentences and tables (one place, so that every chapter writes them alike)."""

from __future__ import annotations

import math


def p_value(p: float, relation: bool = False) -> str:
    """``0.032``, ``< 0.0001`` (never a bare 0 from underflow) or ``n/a``; with ``relation``, ``= 0.032``."""
    if not math.isfinite(p):
        return "n/a"
    if p < 1e-4:
        return "< 0.0001"
    return f"= {p:.2g}" if relation else f"{p:.2g}"
