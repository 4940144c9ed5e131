"""The frontier chapter's numbers: the ingredient ladder with paired gains, counted compute, the Pareto front.

Every rung of :func:`fcnbook.report.ladder.ladder` is trained on the same fresh seeds, so a rung is compared with the
one before it seed by seed (:func:`fcnbook.store.frames.paired_differences`); the ladder is one family of
comparisons, so its p-values are adjusted with Holm's method and an ingredient "helps" or "hurts" only when its
adjusted p is below :data:`ALPHA`. Compute is the counted matrix-multiply work of one seed's run
(:func:`fcnbook.stats.flops.run_flops`), so that rungs trained on other machines or in other precisions compare.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fcnbook.report import budget, ladder
from fcnbook.report.settings import Settings
from fcnbook.report.text import p_value
from fcnbook.stats.flops import run_flops
from fcnbook.store.frames import paired_differences

ALPHA = 0.05  # the family-wise error rate of the ladder's comparisons


@dataclass(frozen=True)
class Frontier:
    """Everything the chapter shows: see :func:`study`."""

    S: Settings
    rungs: pd.DataFrame  # one row per rung: name, ingredient, key, mean, sd, n, gain, ci_low, ci_high, p, p_holm, gflop
    front: tuple[str, ...]  # rung names on the accuracy-compute Pareto front, cheapest first
    ensemble: float | None  # the best rung's ensemble of its seeds (mean of their probabilities), if stored


def compute_gflop(config) -> float:
    """Counted training and evaluation work of one seed's run of ``config``, in GFLOP."""
    n_train, n_val, n_test = budget.split_sizes(config)
    return run_flops(config, n_train, n_val, n_test, n_probe=n_val) / 1e9


def holm(p: pd.Series) -> pd.Series:
    """Holm's step-down adjustment of ``p`` (NaN stays NaN; the family is the finite ones)."""
    from statsmodels.stats.multitest import multipletests

    out = pd.Series(np.nan, index=p.index)
    ok = p.notna()
    if ok.any():
        out[ok] = multipletests(p[ok].to_numpy(), method="holm")[1]
    return out


def pareto_front(points: pd.DataFrame, x: str = "gflop", y: str = "mean") -> list:
    """Index labels of ``points`` that no other point beats on both: at most the compute and at least the accuracy,
    strictly better in one. Cheapest first."""
    front = []
    for i, row in points.sort_values([x, y], ascending=[True, False]).iterrows():
        if not front or row[y] > points.loc[front[-1], y]:
            front.append(i)
    return front


def verdict(p_holm: float, gain: float) -> str:
    """``helps`` / ``hurts`` when Holm's adjusted p is below :data:`ALPHA` (by the sign of the gain), else ``no
    detectable change``: the three are exclusive, and an unadjusted p never decides."""
    if not np.isfinite(p_holm) or p_holm >= ALPHA:
        return "no detectable change"
    return "helps" if gain > 0 else "hurts"


def rung_table(rungs: list, runs: pd.DataFrame) -> pd.DataFrame:
    """Per rung: test accuracy over seeds, the paired gain over the rung before (95 % CI, p, Holm's p), compute."""
    rows = []
    for i, r in enumerate(rungs):
        acc = runs.loc[runs["key"] == r.config.key(), "test_accuracy"].astype(float)
        row = {"rung": r.name, "ingredient": r.ingredient, "key": r.config.key(), "mean": acc.mean(),
               "sd": acc.std(ddof=1), "n": len(acc), "gflop": compute_gflop(r.config)}
        if i:
            d = paired_differences(runs, rungs[i - 1].config.key(), [r.config.key()]).iloc[0]
            row |= {"gain": d["mean"], "ci_low": d["ci_low"], "ci_high": d["ci_high"], "p": d["p"]}
        rows.append(row)
    table = pd.DataFrame(rows).set_index("rung")
    for col in ("gain", "ci_low", "ci_high", "p"):
        if col not in table:
            table[col] = np.nan
    table["p_holm"] = holm(table["p"])
    return table


def _ensemble(records: list[dict], key: str, seeds) -> float | None:
    """The stored ensemble accuracy of ``key``'s seeds trained as one stack (``extra["ensemble"]``), if any."""
    for r in records:
        ens = (r.get("extra") or {}).get("ensemble")
        if r["key"] == key and ens and sorted(ens["seeds"]) == sorted(seeds):
            return float(ens["test_accuracy"])
    return None


def study(S: Settings) -> Frontier:
    """The ladder's results on the frontier's seeds (from ``S``'s lab), its gains and its front."""
    rungs, seeds = ladder.ladder(S), ladder.seeds(S)
    res = S.lab.results([r.config for r in rungs], list(seeds))
    table = rung_table(rungs, res.runs)
    best = table["mean"].idxmax()
    return Frontier(S, table, tuple(pareto_front(table)), _ensemble(res.records, table.loc[best, "key"], seeds))


def _gain(row) -> str:
    return (f"{row['gain']:+.4f} (95 % CI [{row['ci_low']:+.4f}, {row['ci_high']:+.4f}], Holm's p "
            f"{p_value(row['p_holm'])}): {verdict(row['p_holm'], row['gain'])}")


def sentences(f: Frontier) -> dict[str, str]:
    """The chapter's Markdown: ``ladder`` (what each ingredient buys) and ``best``."""
    t = f.rungs
    steps = [f"- **{name}** ({row['ingredient']}): {_gain(row)}" for name, row in t.iloc[1:].iterrows()]
    first, best = t.iloc[0], t.loc[t["mean"].idxmax()]
    total = best["mean"] - first["mean"]
    text = {"ladder": (f"Each rung adds one ingredient to the one before and is compared with it seed by seed "
                       f"({int(first['n'])} seeds); the {len(t) - 1} comparisons are one family, adjusted with "
                       f"Holm's method, and a change counts only when its adjusted p is below {ALPHA}.\n\n"
                       + "\n".join(steps)),
            "best": (f"The best rung, **{best.name}**, reaches {best['mean']:.4f} (SD {best['sd']:.4f}), "
                     f"{total:+.4f} over the report's tuned network as its code ran it ({first['mean']:.4f}), at "
                     f"{best['gflop'] / first['gflop']:.1f} times its counted compute."
                     + (f" The ensemble of its {int(best['n'])} seeds scores {f.ensemble:.4f}; it is compared only "
                        "with other ensembles." if f.ensemble is not None else ""))}
    return text
