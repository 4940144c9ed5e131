"""The sentences of the experiment sections, computed from their results: every verdict and threshold lives here.

Each function takes what a section holds (its :class:`~fcnbook.store.frames.Results`, the configurations
:mod:`fcnbook.report.experiments` declared, the table of :func:`fcnbook.store.frames.effects`) and returns Markdown.
Rules:

- Choices (the best optimizer cell, the best dropout rate) use the VALIDATION split: the final-epoch validation
  accuracy, mean over seeds, among configurations none of whose runs diverged. The chosen one's test accuracy is
  then reported once. The sentences name the split behind each statement.
- Over- and under-fitting is read from the final-epoch gap between training accuracy measured in evaluation
  mode on the fixed training probe and validation accuracy, never from training-mode running means.
- An effect against the baseline is "detectable" when the 95 % t interval of its paired per-seed differences
  excludes zero; the sentence quotes the interval and the McNemar p-value (pooled over seeds).

Imports neither torch nor matplotlib.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from fcnbook.config import RunConfig
from fcnbook.report import paper
from fcnbook.report.text import p_value
from fcnbook.store.frames import Results, display_names, divergence, paired_differences, welch_difference

#: A final-epoch train - validation gap (evaluation mode) above this reads as over-fitting: two points, about three
#: binomial standard errors of the difference of two accuracies near 0.9 measured on 6 000 images each.
OVERFIT_GAP = 0.02
#: Validation accuracy below this counts as "near chance" (guessing among ten classes gives 0.1).
CHANCE = 0.2
#: A cell more than this far below the chosen one on validation counts as clearly behind.
BEHIND = 0.05


# --------------------------------------------------------------------------------------------------- helpers

def _ci(lo: float, hi: float, signed: bool = False) -> str:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "no interval with one seed"
    f = "+.4f" if signed else ".4f"
    return f"95 % CI [{lo:{f}}, {hi:{f}}]"


def _accuracy(res: Results, key: str, bold: bool = False) -> str:
    """``0.8630 (SD 0.0077, 95 % CI [0.8535, 0.8725], n = 5)`` of a configuration's test accuracy."""
    s = res.summary().loc[key]
    sd = f"SD {s['sd']:.4f}, " if math.isfinite(s["sd"]) else ""
    mean = f"**{s['mean']:.4f}**" if bold else f"{s['mean']:.4f}"
    return f"{mean} ({sd}{_ci(s['ci_low'], s['ci_high'])}, n = {int(s['n'])})"


def _effect(e: pd.Series) -> str:
    """``+0.0036 (95 % CI [..], n = 5; McNemar p = 0.03)`` of one row of :func:`fcnbook.store.frames.effects`."""
    return (f"{e['mean']:+.4f} ({_ci(e['ci_low'], e['ci_high'], signed=True)}, n = {int(e['n'])}; "
            f"McNemar p {p_value(e['p_mcnemar'], True)} pooled over seeds)")


def _direction(lo: float, hi: float, up: str, down: str, none: str) -> str:
    """``up`` when the interval lies above zero, ``down`` below it, ``none`` when it holds zero or is undefined."""
    if math.isfinite(lo) and lo > 0:
        return up
    if math.isfinite(hi) and hi < 0:
        return down
    return none


def with_gap(runs: pd.DataFrame) -> pd.DataFrame:
    """``runs`` plus ``gap``: final-epoch training accuracy (evaluation mode, fixed probe) minus validation."""
    return runs.assign(gap=runs["final_train_accuracy"] - runs["final_val_accuracy"])


def _gap(runs: pd.DataFrame, key: str) -> tuple[float, float, float, float]:
    """Mean eval-mode training accuracy, validation accuracy, gap and the gap's SD over seeds (final epoch)."""
    g = with_gap(runs[runs["key"] == key])
    sd = float(g["gap"].std(ddof=1)) if len(g) > 1 else float("nan")
    return float(g["final_train_accuracy"].mean()), float(g["final_val_accuracy"].mean()), float(g["gap"].mean()), sd


def _fit_sentence(runs: pd.DataFrame, key: str) -> str:
    """The over-fitting sentence of one configuration, from its eval-mode train - validation gap."""
    train, val, gap, sd = _gap(runs, key)
    spread = f" (SD {sd:.4f} over seeds)" if math.isfinite(sd) else ""
    head = (f"At the last epoch, training accuracy measured in evaluation mode on a fixed sample of training images "
            f"is {train:.4f} against {val:.4f} on the validation split, a gap of {gap:+.4f}{spread}: ")
    if gap > OVERFIT_GAP:
        return head + ("the network fits its training images more than two points better than unseen ones, a sign "
                       "of over-fitting.")
    if gap < -OVERFIT_GAP:
        return head + "validation accuracy is more than two points higher than training accuracy."
    return head + "the two are within two points, so the network is not over-fitting at this budget."


def validation_choice(runs: pd.DataFrame, keys) -> tuple[str | None, pd.Series]:
    """The key with the highest final-epoch validation accuracy (mean over seeds) among those without a diverged
    run, and every key's mean validation accuracy (NaN where a run diverged before finishing one epoch)."""
    keys = list(keys)
    r = runs[runs["key"].isin(keys)]
    val = r.groupby("key", sort=False)["final_val_accuracy"].agg(lambda v: v.mean(skipna=False)).reindex(keys)
    bad = set(r.loc[r["diverged"].astype(bool), "key"])
    ok = val[[k not in bad for k in val.index]].dropna()
    return (ok.idxmax() if len(ok) else None), val


def _choice_sentence(res: Results, names: dict, what: str) -> tuple[str | None, str]:
    best, val = validation_choice(res.runs, names)
    if best is None:
        return None, f"Every {what} had a diverged run, so none is chosen."
    return best, (f"Chosen by validation accuracy (final epoch, mean over seeds, among settings without a diverged "
                  f"run), the best {what} is **{names[best]}** ({val[best]:.4f} on the validation split); its test "
                  f"accuracy, looked at only after the choice, is {_accuracy(res, best)}.")


def paper_rows(config: RunConfig) -> list[paper.Row]:
    """The rows of the seed report's Table 1 whose original code ran ``config`` (any epochs and subset)."""
    return [row for row in paper.ROWS
            if row.config.replace(epochs=config.epochs, subset=config.subset).key() == config.key()]


def paper_accuracy(config: RunConfig) -> list[float]:
    """The seed report's Table 1 accuracies of ``config`` (see :func:`paper_rows`)."""
    return [row.accuracy for row in paper_rows(config)]


def _within_seeds(res: Results, key: str, values: list[float]) -> str:
    acc = res.runs.loc[res.runs["key"] == key, "test_accuracy"]
    lo, hi = float(acc.min()), float(acc.max())
    inside = [v for v in values if lo <= v <= hi]
    where = ("inside" if len(inside) == len(values) else "outside" if not inside else "partly inside")
    return f"{'it lies' if len(values) == 1 else 'they lie'} {where} the range of our seeds [{lo:.4f}, {hi:.4f}]"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# ------------------------------------------------------------------------------------------------ sections

def baseline(res: Results, config: RunConfig) -> str:
    """Section 02: the baseline's test accuracy against the report's runs, and its over-fitting gap."""
    key, reported = config.key(), paper_accuracy(config)
    text = f"The baseline reaches a mean test accuracy of {_accuracy(res, key, True)} after {config.epochs} epochs."
    if reported:
        text += (f" The seed report printed {_and([f'{v:.4f}' for v in reported])} for "
                 f"{'its run' if len(reported) == 1 else 'two runs'} of this configuration; "
                 f"{_within_seeds(res, key, reported)}.")
    return text + " " + _fit_sentence(res.runs, key)


def optimizers(res: Results, grid: dict) -> str:
    """Section 03: the best (optimizer, lr) cell by validation, cells near chance, diverged or behind, and SGD's
    trend over learning rates."""
    names = display_names(grid)
    best, first = _choice_sentence(res, names, "cell")
    lines = [first]
    _, val = validation_choice(res.runs, names)
    reported = {k: paper_accuracy(c) for k, c in grid.items() if paper_accuracy(c)}
    if reported:
        top = max(reported, key=lambda k: reported[k][0])
        lines.append(f"The seed report's highest cell (chosen by its test accuracy) was {names[grid[top].key()]}, "
                     f"with {reported[top][0]:.4f}.")
    near = [names[k] for k, v in val.items() if v < CHANCE]
    if near:
        lines.append(f"Near chance on validation (below {CHANCE:g}; guessing gives 0.1): {_and(near)}.")
    div = divergence(res.runs[res.runs["key"].isin(list(names))])
    hit = [f"{names[k]} ({d['note']})" for k, d in div.iterrows() if d["diverged"]]
    if hit:
        lines.append(f"Runs whose training loss became non-finite: {_and(hit)}. Their test accuracy comes from their "
                     "last finite weights, and each curve averages only the seeds still running (legend).")
    if best is not None:
        behind = [names[k] for k, v in val.items() if CHANCE <= v < val[best] - BEHIND]
        if behind:
            lines.append(f"More than {BEHIND * 100:g} points below the chosen cell on validation after "
                         f"{grid[next(iter(grid))].epochs} epochs: {_and(behind)}.")
    lines.append(_sgd_trend(res, grid))
    return " ".join(x for x in lines if x)


def _sgd_trend(res: Results, grid: dict) -> str:
    """A sentence only when SGD's validation accuracy falls with every step down in learning rate."""
    cells = sorted(((lr, c.key()) for (opt, lr), c in grid.items() if opt == "sgd"), reverse=True)
    _, val = validation_choice(res.runs, [k for _, k in cells])
    v = [val[k] for _, k in cells]
    if len(v) < 2 or not all(np.isfinite(v)) or not all(a > b for a, b in zip(v, v[1:], strict=False)):
        return ""
    steps = ", ".join(f"lr {lr:g}: {x:.4f}" for (lr, _), x in zip(cells, v, strict=True))
    text = f"For SGD, validation accuracy falls with every step down in learning rate ({steps})"
    h = res.history
    h = h[(h["key"] == cells[-1][1]) & (h["metric"] == "val_accuracy")].groupby("epoch")["value"].mean()
    if len(h) < 2:
        return text + "."
    rise = float(h.iloc[-1] - h.iloc[-2])
    if rise > 0:
        return text + (f": smaller steps get less far in the same epochs, and at lr {cells[-1][0]:g} validation "
                       f"accuracy was still rising in the last epoch ({rise:+.4f}).")
    return text + (f"; at lr {cells[-1][0]:g} validation accuracy did not rise in the last epoch ({rise:+.4f}), "
                   "so more epochs alone may not close the gap.")


def dropout(res: Results, grid: dict, effects: pd.DataFrame, report_rate: float = 0.5) -> str:
    """Section 04: the gap without dropout, the report's rate against the baseline, the rates whose effect is
    detectable, and the best rate by validation. ``grid`` is :func:`fcnbook.report.experiments.dropout_grid`'s."""
    if 0.0 not in grid:
        raise ValueError("the dropout grid needs rate 0 (the baseline) to compare against")
    names, base = display_names(grid), grid[0.0]
    runs = with_gap(res.runs)
    _, _, gap0, _ = _gap(runs, base.key())
    text = [f"Without dropout, training accuracy (evaluation mode, fixed training sample) exceeds validation "
            f"accuracy by {gap0:+.4f} at the last epoch."]
    rate = report_rate if report_rate in grid else max(grid)
    if rate > 0:
        cfg = grid[rate]
        name = names[cfg.key()]
        e = effects.loc[name]
        gaps = paired_differences(runs, base, [cfg], value="gap").iloc[0]
        fit = paired_differences(runs, base, [cfg], value="final_train_accuracy").iloc[0]
        text.append(
            f"With $p = {rate:g}$ the gap is {_gap(runs, cfg.key())[2]:+.4f}: paired by seed it changes by "
            f"{gaps['mean']:+.4f} ({_ci(gaps['ci_low'], gaps['ci_high'], True)}), so dropout "
            + _direction(gaps["ci_low"], gaps["ci_high"], "widens the train-validation gap",
                         "narrows the train-validation gap, as a regulariser should",
                         "changes the gap by no more than the seeds vary")
            + f". Its eval-mode training accuracy changes by {fit['mean']:+.4f} "
            f"({_ci(fit['ci_low'], fit['ci_high'], True)}) and its test accuracy by {_effect(e)}: "
            + _direction(e["ci_low"], e["ci_high"], "a detectable gain", "a detectable loss",
                         "not distinguishable from no change at this number of seeds") + ".")
        reported, reported0 = paper_accuracy(cfg), paper_accuracy(base)
        if reported and reported0:
            text.append(f"The seed report found {reported[0]:.4f} against {reported0[0]:.4f} without dropout.")
    clear = [f"{i} ({_effect(e)})" for i, e in effects.iterrows()
             if _direction(e["ci_low"], e["ci_high"], "y", "y", "") and i != names.get(grid[rate].key())]
    if clear:
        text.append(f"Other rates whose effect on test accuracy is detectable (interval excludes zero): {_and(clear)}.")
    return " ".join([*text, _choice_sentence(res, names, "setting")[1]])


def initializers(res: Results, inits: dict, effects: pd.DataFrame) -> str:
    """Section 05: how far apart the initialisers start, and each group's effects against the first (default)."""
    names, keys = display_names(inits), [c.key() for c in inits.values()]
    h = res.history
    first = (h[(h["metric"] == "val_accuracy") & (h["epoch"] == 1) & h["key"].isin(keys)]
             .groupby("key")["value"].mean().rename(index=names))
    text = []
    if len(first):
        text.append(f"After the first epoch validation accuracy ranges from {first.min():.4f} ({first.idxmin()}) "
                    f"to {first.max():.4f} ({first.idxmax()}).")
    base_name = names[keys[0]]
    groups = dict.fromkeys(n[n.rfind("("):] if n.endswith(")") else "" for n in effects.index)
    for group in groups:
        rows = effects[[n.endswith(group) for n in effects.index]] if group else effects
        parts = [f"{n.removesuffix(' ' + group) if group else n} {_effect(e)}" for n, e in rows.iterrows()]
        clear = [n for n, e in rows.iterrows() if _direction(e["ci_low"], e["ci_high"], "y", "y", "")]
        who = f"the variants in the {group.strip('()')}" if group else "the variants"
        text.append(f"Against the {base_name} initialisation, {who} change test accuracy by: {'; '.join(parts)}. "
                    + (f"Detectable (interval excludes zero): {_and(clear)}." if clear else
                       "None of them is distinguishable from the default at this number of seeds."))
    reported = {n: paper_accuracy(c) for n, c in inits.items() if paper_accuracy(c)}
    if len(reported) > 1:
        text.append("The seed report's single runs of these configurations gave "
                    + _and([f"{v[0]:.4f} ({n})" for n, v in reported.items()]) + ".")
    return " ".join(text)


def batch_norm(res: Results, variants: dict, effects: pd.DataFrame) -> str:
    """Section 06: batch norm against the baseline (first entry): test accuracy, gap and steadiness."""
    (base_name, base), (bn_name, bn) = list(variants.items())[:2]
    e = effects.loc[bn_name]
    runs = with_gap(res.runs)
    gaps = paired_differences(runs, base, [bn], value="gap").iloc[0]
    text = [f"Batch norm changes the test accuracy by {_effect(e)}: "
            + _direction(e["ci_low"], e["ci_high"], "a detectable gain", "a detectable loss",
                         "not distinguishable from no change at this number of seeds")
            + f" (mean {_accuracy(res, bn.key())} against {_accuracy(res, base.key())})."]
    reported, reported0 = paper_accuracy(bn), paper_accuracy(base)
    if reported and reported0:
        text.append(f"The seed report saw {reported[0]:.4f} against {reported0[0]:.4f}.")
    text.append(f"The final train-validation gap (training in evaluation mode) is {_gap(runs, bn.key())[2]:+.4f} "
                f"with batch norm and {_gap(runs, base.key())[2]:+.4f} without; paired by seed the difference is "
                f"{gaps['mean']:+.4f} ({_ci(gaps['ci_low'], gaps['ci_high'], True)}).")
    w = {name: steadiness(res.history, c.key()) for name, c in ((bn_name, bn), (base_name, base))}
    if all(math.isfinite(v) for v in w.values()):
        more = "more" if w[bn_name] > w[base_name] else "less"
        text.append(f"Over the second half of training validation accuracy moves by {w[bn_name]:.4f} per epoch on "
                    f"average with batch norm against {w[base_name]:.4f} without: the curve is {more} jumpy.")
    return " ".join(text)


def steadiness(history: pd.DataFrame, key: str) -> float:
    """Mean absolute epoch-to-epoch change of validation accuracy over the second half of training, averaged over
    seeds (NaN with fewer than two epochs in that half)."""
    h = history[(history["key"] == key) & (history["metric"] == "val_accuracy")]
    h = h[h["epoch"] > h["epoch"].max() // 2]
    changes = h.sort_values("epoch").groupby("seed")["value"].apply(lambda v: v.diff().abs().mean())
    return float(changes.mean()) if changes.notna().any() else float("nan")


def tuned(res: Results, config: RunConfig, per_class: pd.DataFrame, pairs: pd.DataFrame) -> str:
    """Section 07: the tuned network's accuracy against the report, its classes and its over-fitting gap."""
    key, acc = config.key(), per_class["accuracy (mean)"]
    reported = paper_accuracy(config) + ([paper.TUNED_NOTEBOOK_ACCURACY] if config.dataset == "fashion" else [])
    text = (f"The tuned configuration reaches a mean test accuracy of {_accuracy(res, key, True)} after "
            f"{config.epochs} epochs.")
    if reported:
        text += (f" The seed report printed {_and([f'{v:.4f}' for v in reported])} (PDF and original notebook); "
                 f"{_within_seeds(res, key, reported)}.")
    top = pairs.iloc[0]
    text += (f" Its hardest class is *{acc.idxmin()}* ({acc.min():.4f}), its easiest *{acc.idxmax()}* "
             f"({acc.max():.4f}); the most frequent confusion is *{top['true']}* taken for *{top['predicted']}* "
             f"({top['rate']:.1%} of that class). ")
    return text + _fit_sentence(res.runs, key)


def mnist_transfer(res: Results, variants: dict, pairs: pd.DataFrame) -> str:
    """Section 08: the tuned network against the baseline on MNIST (unpaired: the architectures differ)."""
    (base_name, base), (tuned_name, tuned_cfg) = list(variants.items())[:2]
    acc = {c.key(): res.runs.loc[res.runs["key"] == c.key(), "test_accuracy"] for c in (base, tuned_cfg)}
    d = welch_difference(acc[tuned_cfg.key()], acc[base.key()])
    top = pairs.iloc[0]
    text = (f"On MNIST the {tuned_name.split(' on ')[0]} configuration reaches {_accuracy(res, tuned_cfg.key(), True)} "
            f"against {_accuracy(res, base.key())} for the {base_name.split(' on ')[0]}, a difference of "
            f"{d['mean']:+.4f} ({_ci(d['ci_low'], d['ci_high'], True)}, Welch; the two networks share no initial "
            f"weights, so seeds do not pair). ")
    if any(row.tuned for row in paper_rows(tuned_cfg.replace(dataset="fashion"))):
        text += (f"The seed report's single run gave {paper.MNIST_TUNED_ACCURACY:.4f}; "
                 f"{_within_seeds(res, tuned_cfg.key(), [paper.MNIST_TUNED_ACCURACY])}. ")
    return text + (f"The most frequent confusion left is {top['true']} read as {top['predicted']} "
                   f"({top['rate']:.1%} of the {top['true']}s).")
