"""The Pareto front of points scored on a cost (lower is better) and a score (higher is better)."""

from __future__ import annotations

import pandas as pd


def pareto_front(points: pd.DataFrame, x: str = "gflop", y: str = "mean") -> list:
    """Index labels of ``points`` that no other point beats on both: at most the cost ``x`` and at least the score
    ``y``, strictly better in one. Cheapest first.

    >>> pareto_front(pd.DataFrame({"gflop": [1, 2, 3], "mean": [0.8, 0.7, 0.9]}, index=list("abc")))
    ['a', 'c']
    """
    front = []
    for i, row in points.sort_values([x, y], ascending=[True, False]).iterrows():
        if not front or row[y] > points.loc[front[-1], y]:
            front.append(i)
    return front
