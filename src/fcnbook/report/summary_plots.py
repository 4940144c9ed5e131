"""Figures and styled tables of the summary chapter (Table 1) and the protocol chapter.

Kept apart from :mod:`fcnbook.report.chapters.summary` and :mod:`fcnbook.report.chapters.protocol`, which compute, so
that those stay small and testable without drawing anything; like :mod:`fcnbook.report.plots`, this module reads
no chapter.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fcnbook.report import paper
from fcnbook.report.plots import theme
from fcnbook.report.text import p_value
from fcnbook.stats.verdicts import BOTH_CHANCE, NO, YES

theme()  # the book's one look (fcnbook.report.plots.THEME)

VERDICT_COLOURS = {YES: "#e3f2e1", NO: "#fbe3e1", BOTH_CHANCE: "#eeeeee"}
CONSISTENT = "Consistent?"


def _fmt(x, spec=".4f") -> str:
    return "" if pd.isna(x) else format(x, spec)


def table1_frame(table: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """:func:`fcnbook.report.chapters.summary.compare`'s table with the columns and formatting the chapter shows."""
    return pd.DataFrame({
        "Row": table.index,
        "Configuration": table["configuration"],
        "Paper": table["paper"].map(_fmt),
        'Paper "SD"': table["paper_sd_column"].map(lambda v: f"{v:.5f}"),
        "Paper SE": table["paper_se"].map(_fmt),
        "Our mean": table["mean"].map(_fmt),
        "Our SD": table["sd"].map(_fmt),
        "n": table["n"],
        "95 % CI": [f"[{max(lo, 0):.4f}, {min(hi, 1):.4f}]" if lo == lo else "" for lo, hi in
                    zip(table["ci_low"], table["ci_high"], strict=True)],
        f"{level * 100:g} % PI": [f"[{lo:.4f}, {hi:.4f}]" if lo == lo else "" for lo, hi in
                            zip(table["pi_low"], table["pi_high"], strict=True)],
        "Ours − paper": table["diff"].map(lambda d: f"{d:+.4f}"),
        "z": table["z"].map(lambda z: _fmt(z, "+.2f")),
        "Holm p": table["p_holm"].map(lambda p: "" if pd.isna(p) else p_value(p)),
        CONSISTENT: table["verdict"],
        "Diverged": [f"{d}/{n}" for d, n in zip(table["diverged"], table["n"], strict=True)],
    })


def styled_table1(table: pd.DataFrame, level: float = 0.95):
    """The Table 1 comparison as a pandas Styler (class ``table1-reproduced``), verdicts coloured."""
    shown = table1_frame(table, level)
    return (
        shown.style.hide(axis="index")
        .map(lambda v: f"background-color: {VERDICT_COLOURS[v]}" if v in VERDICT_COLOURS else "", subset=[CONSISTENT])
        .set_caption(
            'Table 1 of the seed report (paper: its accuracy; its "SD" column, a variance of per-batch accuracies; '
            "the test-set SE that variance implies, √(SD/39)) against this book (ours: mean and SD over n seeds, "
            f"95 % CI of the mean, {level * 100:g} % prediction interval (PI) for one more run, including the test-set "
            "sampling error; both clipped to [0, 1]). z: ours − paper in units of that interval's SE; Holm p: its "
            "two-sided p adjusted for every tested row. Rows 1 and 2 are one configuration and share their runs.")
        .set_table_attributes('class="dataframe table1-reproduced"')
        .set_table_styles([
            {"selector": "", "props": "font-size: 0.78em;"},
            {"selector": "td", "props": "padding: 0.2em 0.35em; text-align: right; white-space: nowrap;"},
            {"selector": "th", "props": "padding: 0.2em 0.35em; text-align: right; vertical-align: bottom;"},
            {"selector": "td.col1", "props": "text-align: left; white-space: normal; min-width: 10em;"},
            # The intervals and the verdict may wrap ("[0.8534," over "0.8726]"), so that the table fits a
            # 1300-pixel window and the printed page without a horizontal scroll bar.
            {"selector": "td.col8, td.col9, td.col13", "props": "white-space: normal; min-width: 4.7em;"},
            {"selector": "th.col1", "props": "text-align: left;"},
            {"selector": "caption", "props": "caption-side: top; text-align: left; white-space: normal;"},
        ])
    )


def table1_figure(table: pd.DataFrame, level: float = 0.95, runs: pd.DataFrame | None = None):
    """Each row's single report run (cross) against our mean (dot) and prediction interval (bar); with ``runs``,
    every seed's test accuracy too (small grey dots), so that a seed standing apart shows."""
    fig, ax = plt.subplots(figsize=(8.5, 5.4), constrained_layout=True)
    short = {r.number: ("tuned 700-200-50" if r.tuned else r.describe()) for r in paper.ROWS}
    y = np.arange(len(table))[::-1]
    if runs is not None:
        for yi, key in zip(y, table["key"], strict=True):
            acc = runs.loc[runs["key"] == key, "test_accuracy"]
            ax.plot(acc, np.full(len(acc), yi + 0.25), ".", color="0.45", markersize=4, zorder=1)
        ax.plot([], [], ".", color="0.45", label="ours: each seed")
    lo = (table["mean"] - table["pi_low"]).fillna(0).to_numpy()
    hi = (table["pi_high"] - table["mean"]).fillna(0).to_numpy()
    ax.errorbar(table["mean"], y, xerr=[lo, hi], fmt="o", color="C0", capsize=3,
                label=f"ours: mean, {level * 100:g} % prediction interval")
    colour = {YES: "C2", NO: "C3"}
    for v, group in table.assign(y=y).groupby("verdict"):
        ax.plot(group["paper"], group["y"], "x", color=colour.get(v, "0.4"), markersize=8, mew=2,
                label=f"paper, verdict: {v}")
    ax.set_yticks(y, [f"{r}: {short[r]}" for r in table.index], fontsize=8)
    ax.set_xlabel("test accuracy")
    ax.set_xlim(-0.02, 1.02)
    ax.axvline(0.1, color="grey", lw=0.8, ls=":")
    ax.text(0.1, y.max() + 0.6, " chance", color="grey", fontsize=8, va="bottom")
    ax.set_ylim(-0.8, y.max() + 1.4)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return fig


def differences_figure(diffs: pd.DataFrame, gap: float):
    """Paired differences (variant - ours) with their t intervals; dotted lines at ± the report's gap."""
    fig, ax = plt.subplots(figsize=(7.5, 0.6 * len(diffs) + 1.4), constrained_layout=True)
    y = np.arange(len(diffs))[::-1]
    err = [(diffs["mean"] - diffs["ci_low"]).fillna(0), (diffs["ci_high"] - diffs["mean"]).fillna(0)]
    ax.errorbar(diffs["mean"], y, xerr=err, fmt="o", capsize=3, color="C0")
    ax.axvline(0, color="k", lw=0.8)
    for s in (-gap, gap):
        ax.axvline(s, color="C3", lw=0.8, ls=":")
    ax.text(gap, y.max() + 0.45, " report's rows 1-2 gap", color="C3", fontsize=8)
    ax.set_yticks(y, [f"{v} − ours" for v in diffs.index], fontsize=8)
    ax.set_ylim(-0.7, y.max() + 0.9)
    ax.set_xlabel("difference in test accuracy, paired by seed (95 % t interval)")
    ax.grid(axis="x", alpha=0.3)
    return fig


def runs_figure(way: pd.DataFrame, pair: tuple[float, float]):
    """Every run's test accuracy computed the report's way, one line per protocol variant, and the report's
    two runs of the same configuration (vertical lines)."""
    variants = list(dict.fromkeys(way["variant"]))
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(variants) + 1.5), constrained_layout=True)
    for i, v in enumerate(variants):
        x = way.loc[way["variant"] == v, "original"]
        ax.plot(x, np.full(len(x), len(variants) - 1 - i), "o", color="C0" if v == "ours" else "C1", alpha=0.8)
    pooled = way.loc[way["variant"] != "ours", "original"].mean()
    gap = abs(pair[0] - pair[1])
    ax.errorbar([pooled], [len(variants) - 0.45], xerr=[[gap / 2], [gap / 2]], color="C3", capsize=4, lw=1.5)
    ax.text(pooled, len(variants) - 0.35, f"report's gap ({gap:.4f}) around the original runs' mean", color="C3",
            fontsize=8, ha="center", va="bottom")
    for a, style in zip(pair, ("--", ":"), strict=True):
        ax.axvline(a, color="C3", ls=style, lw=1, label=f"report, {a:.4f}")
    ax.set_yticks(range(len(variants)), variants[::-1], fontsize=8)
    ax.set_ylim(-0.7, len(variants) + 0.2)
    ax.set_xlabel("test accuracy, mean of per-batch accuracies (batches of 256)")
    ax.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return fig


def style_fit(fit: pd.DataFrame):
    """:func:`fcnbook.report.chapters.summary.fitting`'s table, renamed and rounded for the page."""
    columns = {"train": "Final train acc. (eval mode)", "val": "Final val. acc.", "test": "Test acc.",
               "gap": "Train − val.", "val_loss_rise": "Val. loss rise from its minimum", "category": "Category"}
    shown = fit[[c for c in columns if c in fit.columns]].rename(columns=columns)
    return (shown.style.format({c: "{:.4f}" for c in shown.columns if c != "Category"})
            .set_caption("Final-epoch training accuracy (evaluation mode, on a fixed training sample) and validation "
                         "accuracy, mean over the runs that did not diverge, and each configuration's one category "
                         "(the rule is stated below the table).")
            .set_table_styles([{"selector": "caption",
                                "props": "caption-side: top; text-align: left; white-space: normal;"}]))
