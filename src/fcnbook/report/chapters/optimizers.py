"""Section 03: the best (optimizer, learning rate) cell by validation, the cells near chance, diverged or behind,
and SGD's trend over learning rates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fcnbook.report import experiments, text
from fcnbook.report.chapters import evidence
from fcnbook.report.settings import Settings
from fcnbook.stats import verdicts as v
from fcnbook.store.frames import Results, display_names, divergence


@dataclass(frozen=True)
class Optimizers:
    """What section 03 shows: see :func:`study`. ``cells``: per display name, mean final validation accuracy
    and its :func:`fcnbook.stats.verdicts.cell` category against the chosen cell; ``sgd``: SGD's cells by
    falling learning rate (``lr``, ``val``) and the last epoch's change of the smallest rate's validation
    accuracy (``rise``)."""

    S: Settings
    grid: dict
    res: Results
    best: str | None
    cells: pd.DataFrame
    summary: pd.DataFrame
    report_top: tuple[str, float] | None
    diverged: pd.DataFrame
    sgd: pd.DataFrame
    rise: float
    outliers: pd.DataFrame


def study(S: Settings, optimizers=experiments.REPORT_OPTIMIZERS, lrs=experiments.LRS) -> Optimizers:
    """Every (optimizer, lr) cell of ``optimizers`` x ``lrs`` on ``S``'s seeds, from ``S``'s lab."""
    grid = experiments.optimizer_grid(S, optimizers, lrs)
    res = S.results(grid.values())
    names = display_names(grid)
    best, val = evidence.validation_choice(res.runs, names)
    cells = pd.DataFrame({"val": val.to_numpy()}, index=[names[k] for k in val.index])
    cells["category"] = [v.cell(x, val[best] if best else np.nan) for x in cells["val"]]
    reported = {k: evidence.paper_accuracy(c) for k, c in grid.items() if evidence.paper_accuracy(c)}
    top = max(reported, key=lambda k: reported[k][0]) if reported else None
    div = divergence(res.runs[res.runs["key"].isin(list(names))])
    div = div[div["diverged"] > 0].rename(index=names)
    sgd = sorted(((lr, c.key()) for (opt, lr), c in grid.items() if opt == "sgd"), reverse=True)
    sgd = pd.DataFrame({"lr": [lr for lr, _ in sgd], "val": [val[k] for _, k in sgd]})
    h = res.history
    last = grid.get(("sgd", min(sgd["lr"]))) if len(sgd) else None
    curve = (h[(h["key"] == last.key()) & (h["metric"] == "val_accuracy")].groupby("epoch")["value"].mean()
             if last is not None else pd.Series(dtype=float))
    rise = float(curve.iloc[-1] - curve.iloc[-2]) if len(curve) > 1 else np.nan
    return Optimizers(S, grid, res, names[best] if best else None, cells, res.summary(),
                      (names[grid[top].key()], reported[top][0]) if top else None, div, sgd, rise,
                      evidence.outliers(res.runs, grid))


def _choice(o: Optimizers) -> str:
    return evidence.choice_sentence(o.best, o.cells.loc[o.best, "val"] if o.best else float("nan"), o.grid,
                                    o.summary, "cell")

def _cells(o: Optimizers) -> str:
    near = list(o.cells.index[o.cells["category"] == v.NEAR_CHANCE])
    behind = list(o.cells.index[o.cells["category"] == v.BEHIND_CELL])
    out = []
    if near:
        out.append(f"Near chance on validation (below {v.CHANCE:g}; guessing gives 0.1): {text.and_(near)}.")
    if behind:
        epochs = next(iter(o.grid.values())).epochs
        out.append(f"More than {v.BEHIND:g} below the chosen cell on validation after {epochs} epochs: "
                   f"{text.and_(behind)}.")
    if len(o.diverged):
        hit = [f"{n} ({d['note']})" for n, d in o.diverged.iterrows()]
        out.append(f"Runs whose training loss became non-finite: {text.and_(hit)}. Their test accuracy comes from "
                   "their last finite weights, and each curve averages only the seeds still running (legend).")
    return " ".join(out)


def _sgd(o: Optimizers) -> str:
    """A sentence only when SGD's validation accuracy falls with every step down in learning rate."""
    x = list(o.sgd["val"])
    if len(x) < 2 or not all(np.isfinite(x)) or not all(v.compare(a, b) == v.MORE for a, b in zip(x, x[1:],
                                                                                                    strict=False)):
        return ""
    steps = ", ".join(f"lr {lr:g}: {val:.4f}" for lr, val in zip(o.sgd["lr"], x, strict=True))
    head, lr = f"For SGD, validation accuracy falls with every step down in learning rate ({steps})", o.sgd["lr"].min()
    if not np.isfinite(o.rise):
        return head + "."
    if v.compare(o.rise, 0) == v.MORE:
        return head + (f": smaller steps get less far in the same epochs, and at lr {lr:g} validation accuracy was "
                       f"still rising in the last epoch ({o.rise:+.4f}).")
    return head + (f"; at lr {lr:g} validation accuracy did not rise in the last epoch ({o.rise:+.4f}), so more "
                   "epochs alone may not close the gap.")


def sentences(o: Optimizers) -> dict[str, str]:
    """``choice``, ``report``, ``cells``, ``sgd`` and ``seeds``."""
    report = (f"The seed report's highest cell (chosen by its test accuracy, one run each) was {o.report_top[0]}, "
              f"with {o.report_top[1]:.4f}; the summary chapter sets each of its cells against ours."
              if o.report_top else "")
    return {"choice": _choice(o), "report": report, "cells": _cells(o), "sgd": _sgd(o),
            "seeds": text.outliers(o.outliers, len(o.S.seeds))}
