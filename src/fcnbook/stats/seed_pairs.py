"""McNemar's test seed by seed: two networks trained with the same seed, scored on the same test images.

Each seed pair of networks gives one textbook exact McNemar test (the images that exactly one of the two classifies
correctly, tested against a fair coin). The pairs are not pooled: every test image recurs in every seed, so pooling
the seeds' discordant images would count the same images five times. What the chapters report is how many of the
pairs differ at the 0.05 level and in which direction; the verdict on an effect rests on the paired t-test of the
per-seed accuracies (:func:`fcnbook.store.frames.paired_differences`), adjusted for the chapter's family.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ALPHA = 0.05


@dataclass(frozen=True)
class SeedPairs:
    """Per seed pair: ``only_a`` (a right, b wrong), ``only_b`` and the exact two-sided ``p``; and the counts of
    pairs with ``p < alpha`` in favour of ``a`` (``favour_a``) and of ``b`` (``favour_b``), out of ``n``."""

    only_a: tuple[int, ...]
    only_b: tuple[int, ...]
    p: tuple[float, ...]
    alpha: float = ALPHA

    @property
    def n(self) -> int:
        return len(self.p)

    @property
    def favour_a(self) -> int:
        return sum(p < self.alpha and a > b for p, a, b in zip(self.p, self.only_a, self.only_b, strict=True))

    @property
    def favour_b(self) -> int:
        return sum(p < self.alpha and b > a for p, a, b in zip(self.p, self.only_a, self.only_b, strict=True))


def mcnemar_by_seed(pred_a, pred_b, y, alpha: float = ALPHA) -> SeedPairs:
    """Exact McNemar test of every seed pair: row ``i`` of ``pred_a`` (shape (seeds, N)) against row ``i`` of
    ``pred_b`` on the labels ``y`` (N,); p = 1 for a pair without discordant images."""
    from scipy.stats import binomtest

    a, b = np.atleast_2d(np.asarray(pred_a)), np.atleast_2d(np.asarray(pred_b))
    y = np.asarray(y)
    if a.shape != b.shape or a.shape[1] != len(y):
        raise ValueError(f"predictions of shapes {a.shape} and {b.shape} do not pair up with {len(y)} labels")
    ra, rb = a == y, b == y
    only_a, only_b = (ra & ~rb).sum(axis=1), (rb & ~ra).sum(axis=1)
    p = [float(binomtest(int(k), int(k + m), 0.5).pvalue) if k + m else 1.0 for k, m in zip(only_a, only_b,
                                                                                             strict=True)]
    return SeedPairs(tuple(map(int, only_a)), tuple(map(int, only_b)), tuple(p), alpha)
