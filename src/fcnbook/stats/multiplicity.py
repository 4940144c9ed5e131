"""Multiplicity: Holm's step-down adjustment of a chapter's family of comparisons.

A chapter that makes several comparisons (every dropout rate against none, every initialiser against the default,
every protocol variant against ours, every Table 1 row against the report) adjusts their p-values together with
:func:`holm` before any of them is called "detectable"; the family is named in the chapter's text.
"""

from __future__ import annotations

import numpy as np


def holm(p) -> np.ndarray:
    """Holm's step-down adjusted p-values of ``p``, in its order; NaN entries stay NaN and do not count.

    The family's size is the number of finite p-values (:func:`statsmodels.stats.multitest.multipletests`,
    ``method="holm"``).
    """
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="holm")[1]
    return out
