"""Figures and tables shared by the sections, so that no notebook carries its own plotting logic.

Every figure of the book uses one seaborn theme, :data:`THEME`, set by :func:`theme` when this module is imported;
a section that draws its own figure imports ``fcnbook.report.plots`` (or calls ``plots.theme()``) and gets the same
look.

Learning curves are drawn by seaborn from the long-form history (:attr:`fcnbook.store.frames.Results.history`): the
mean over seeds with a band of plus/minus one SD (``errorbar="sd"``). Training figures are the evaluation-mode
ones on the fixed training probe (solid), validation dashed; the training-mode running means are left out unless
asked for (dotted). Every legend entry says over how many seeds its mean is taken and which seeds diverged; a
cross on the epoch axis marks the epoch in which a run diverged. Importing this module does not import torch.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from fcnbook.report.text import interval, p_value
from fcnbook.stats import confusion as confusion_stats
from fcnbook.stats.verdicts import ALPHA
from fcnbook.store.frames import display_names, divergence, summarize

#: The one look of every figure in the book: passed to :func:`seaborn.set_theme` by :func:`theme`.
THEME: dict = {
    "context": "notebook", "style": "whitegrid", "palette": "colorblind", "font_scale": 0.9,
    "rc": {"figure.dpi": 110, "savefig.dpi": 110, "axes.titlesize": "medium", "legend.fontsize": "small",
           "legend.frameon": False, "grid.alpha": 0.4},
}


def theme() -> None:
    """Apply :data:`THEME` (seaborn's ``set_theme``); called on import, callable again after a reset."""
    sns.set_theme(**THEME)


theme()

#: How each part of a history is named in figures (``<split>_<quantity>`` metrics of the record).
SPLITS = {"train": "training (eval mode, fixed probe)", "val": "validation",
          "running": "training (running mean, training mode)"}
DASHES = {SPLITS["train"]: "", SPLITS["val"]: (4, 2), SPLITS["running"]: (1, 2)}
YLABELS = {"loss": "cross-entropy loss", "accuracy": "accuracy"}


def long_curves(res, configs, running: bool = False) -> pd.DataFrame:
    """``res.history`` of the configurations of ``configs`` with the columns seaborn needs.

    Adds ``configuration`` (display name and how many seeds the mean is over, see
    :func:`fcnbook.store.frames.divergence`), ``measured on`` (a value of :data:`SPLITS`) and ``quantity`` (``loss`` or
    ``accuracy``); drops the running means unless ``running``.
    """
    names, notes = display_names(configs), divergence(res.runs)["note"]
    h = res.history[res.history["key"].isin(list(names))].copy()
    parts = h["metric"].str.rsplit("_", n=1)
    h["measured on"], h["quantity"] = parts.str[0].map(SPLITS), parts.str[1]
    h["configuration"] = h["key"].map({k: f"{v} ({notes[k]})" for k, v in names.items() if k in notes})
    return h if running else h[h["measured on"] != SPLITS["running"]]


def _palette(res, configs) -> dict[str, tuple]:
    """Config key -> colour, in declaration order."""
    keys = [k for k in display_names(configs) if k in set(res.runs["key"])]
    return dict(zip(keys, sns.color_palette(n_colors=len(keys)), strict=True))


def _mark_divergence(ax, runs: pd.DataFrame, colors: dict) -> None:
    """A cross on the epoch axis, in the configuration's colour, for every run that diverged."""
    on_axis = blended_transform_factory(ax.transData, ax.transAxes)
    hit = runs[runs["diverged"].astype(bool) & runs["key"].isin(list(colors))]
    for key, epoch in zip(hit["key"], hit["diverged_epoch"], strict=True):
        ax.plot([epoch], [0.04], marker="x", markersize=8, mew=2, color=colors[key], transform=on_axis,
                clip_on=False, linestyle="none")


def learning_curves(res, configs, running: bool = False, log_loss: bool = False, title: str | None = None):
    """Loss and accuracy against epoch: training (eval mode) solid, validation dashed, one colour per config.

    Parameters
    ----------
    res : Results
    configs : dict of name -> RunConfig, or list of RunConfig
        What to draw, in order, as :mod:`fcnbook.report.experiments` declares it.
    running : bool
        Also draw the training-mode running means (dotted).
    """
    d, colors = long_curves(res, configs, running), _palette(res, configs)
    names = dict(zip(d["key"], d["configuration"], strict=False))
    palette = {names[k]: c for k, c in colors.items() if k in names}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    for ax, q in zip(axes, ("loss", "accuracy"), strict=True):
        sns.lineplot(data=d[d["quantity"] == q], x="epoch", y="value", hue="configuration",
                     hue_order=list(palette), palette=palette, style="measured on",
                     style_order=[s for s in DASHES if s in set(d["measured on"])], dashes=DASHES, errorbar="sd",
                     err_kws={"alpha": 0.15}, ax=ax, legend=q == "accuracy")
        ax.set_ylabel(YLABELS[q])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        _mark_divergence(ax, res.runs, colors)
    if log_loss:
        axes[0].set_yscale("log")
    sns.move_legend(axes[1], "upper left", bbox_to_anchor=(1.02, 1), title=None)
    if title:
        fig.suptitle(title)
    return fig


def curves_by_optimizer(res, grid: dict, log_loss: bool = True):
    """One column per optimizer, one colour per learning rate; top row losses (log scale), bottom accuracies.

    ``grid`` is :func:`fcnbook.report.experiments.optimizer_grid`'s ``{(optimizer, lr): RunConfig}``. Each panel lists
    the learning rates whose runs diverged, with the seed counts behind each mean.
    """
    d = long_curves(res, grid)
    cell = {c.key(): key for key, c in grid.items()}
    d["optimizer"] = d["key"].map(lambda k: cell[k][0])
    d["learning rate"] = d["key"].map(lambda k: f"{cell[k][1]:g}")
    optimizers, lrs = list(dict.fromkeys(k[0] for k in grid)), list(dict.fromkeys(f"{k[1]:g}" for k in grid))
    colors = dict(zip(lrs, sns.color_palette(n_colors=len(lrs)), strict=True))
    g = sns.relplot(data=d, kind="line", x="epoch", y="value", row="quantity", row_order=["loss", "accuracy"],
                    col="optimizer", col_order=optimizers, hue="learning rate", hue_order=lrs, palette=colors,
                    style="measured on", style_order=[SPLITS["train"], SPLITS["val"]], dashes=DASHES,
                    errorbar="sd", err_kws={"alpha": 0.15},
                    height=3.0, aspect=1.15, facet_kws={"sharey": "row"})
    g.set_titles(template="{col_name}")
    for ax in g.axes[1]:
        ax.set_title("")
    notes = divergence(res.runs)
    for j, opt in enumerate(optimizers):
        keys = {grid[opt, lr].key(): colors[f"{lr:g}"] for (o, lr) in grid if o == opt}
        for i in range(2):
            g.axes[i, j].xaxis.set_major_locator(MaxNLocator(integer=True))
            _mark_divergence(g.axes[i, j], res.runs, keys)
        text = [f"lr {cell[k][1]:g}: {notes.loc[k, 'note']}" for k in keys if notes.loc[k, "diverged"]]
        if text:
            g.axes[1, j].text(0.03, 0.97, "\n".join(text), transform=g.axes[1, j].transAxes, va="top",
                              fontsize="x-small", color="0.25")
    g.axes[0, 0].set_ylabel(YLABELS["loss"])
    g.axes[1, 0].set_ylabel(YLABELS["accuracy"])
    if log_loss:
        g.axes[0, 0].set_yscale("log")
    g.axes[1, 0].set_ylim(0, 1)
    return g.figure


def accuracy_table(runs: pd.DataFrame, configs) -> pd.DataFrame:
    """Per configuration: final validation accuracy, test accuracy (mean, SD, n, 95 % CI), diverged runs and the
    final train - validation gap, training measured in evaluation mode on the fixed probe (means over seeds).
    """
    names = display_names(configs)
    s = summarize(runs[runs["key"].isin(list(names))]).reindex([k for k in names if k in set(runs["key"])])
    final = runs.groupby("key", sort=False)[["final_val_accuracy", "final_train_accuracy"]].mean()
    out = pd.DataFrame({
        "configuration": [names[k] for k in s.index],
        "val acc (final epoch)": final.loc[s.index, "final_val_accuracy"].to_numpy(),
        "test acc (mean)": s["mean"].to_numpy(), "SD": s["sd"].to_numpy(), "n": s["n"].to_numpy(),
        "95% CI": [interval(lo, hi) for lo, hi in zip(s["ci_low"], s["ci_high"], strict=True)],
        "diverged": divergence(runs).loc[s.index, "diverged"].to_numpy(),
        "train - val (eval mode)": (final["final_train_accuracy"] - final["final_val_accuracy"]).loc[s.index]
        .to_numpy(),
    })
    return out.set_index("configuration")


def effects_table(family: pd.DataFrame) -> pd.DataFrame:
    """A chapter's family of paired comparisons (:func:`fcnbook.report.chapters.evidence.family`) as the book shows
    it: the paired test-accuracy differences, their t-test with Holm's adjustment over the family, the verdict, and
    McNemar's test seed pair by seed pair (how many pairs differ at 0.05, in whose favour)."""
    e = family
    return pd.DataFrame({
        "difference in test acc (mean)": e["mean"], "SD": e["sd"], "n": e["n"].astype(int),
        "95% CI": [interval(lo, hi, signed=True) for lo, hi in zip(e["ci_low"], e["ci_high"], strict=True)],
        "paired t p": e["p"], "Holm p": e["p_holm"], "verdict": e["effect"],
        f"seed pairs McNemar-significant at {ALPHA:g}: this / baseline better": [
            f"{int(a)} / {int(b)} of {int(n)}" for a, b, n in zip(e["favour_config"], e["favour_baseline"], e["pairs"],
                                                                  strict=True)],
        "diverged": e["diverged"],
    }, index=e.index.rename("against the baseline"))


#: A p-value column: the word "p" on its own ("p", "paired t p", "Holm p", "p (pooled)"), never "pixels".
_P_COLUMN = re.compile(r"(^|\s)p($|\s|\()")


def style(table: pd.DataFrame, digits: int = 4, caption: str | None = None):
    """A pandas Styler: counts as integers, p-values as :func:`fcnbook.report.text.p_value` writes them, the rest
    ``digits`` decimals; ``caption`` above the table (every table of the book's chapters has one)."""
    fmt = {}
    for c in table.select_dtypes("number").columns:
        if pd.api.types.is_integer_dtype(table[c]) or c in ("n", "diverged") or c.endswith(" s"):  # seconds
            fmt[c] = "{:.0f}"
        else:
            fmt[c] = (lambda p: html.escape(p_value(p))) if _P_COLUMN.search(c) else f"{{:.{digits}f}}"
    styler = table.style.format(fmt, na_rep="n/a", escape="html")
    styles = [{"selector": "th, td", "props": "padding: 0.15em 0.7em; white-space: nowrap;"}]
    if caption:
        styler = styler.set_caption(caption)
        styles.append({"selector": "caption", "props": "caption-side: top; text-align: left; white-space: normal;"})
    return styler.set_table_styles(styles)


def seed_accuracies(runs: pd.DataFrame, configs, outliers: pd.DataFrame | None = None):
    """Every seed's test accuracy, one row of dots per configuration, with its mean (a bar); a seed that stands
    apart (``outliers``: :func:`fcnbook.report.chapters.evidence.outliers`) is circled and labelled."""
    names = display_names(configs)
    d = runs[runs["key"].isin(list(names))].assign(configuration=lambda x: x["key"].map(names))
    order = [n for k, n in names.items() if k in set(d["key"])]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(order) + 1.3), constrained_layout=True)
    sns.stripplot(data=d, x="test_accuracy", y="configuration", order=order, hue="seed", palette="colorblind",
                  jitter=False, size=6, alpha=0.85, ax=ax)
    means = d.groupby("configuration")["test_accuracy"].mean().reindex(order)
    ax.scatter(means, range(len(order)), marker="|", s=400, color="0.2", zorder=3, label="mean over seeds")
    for _, o in (outliers if outliers is not None else pd.DataFrame()).iterrows():
        y = order.index(o["configuration"])
        ax.scatter([o["value"]], [y], s=180, facecolors="none", edgecolors="C3", linewidths=1.5, zorder=4)
        ax.annotate(f"seed {int(o['seed'])}", (o["value"], y), xytext=(0, 9), textcoords="offset points",
                    ha="center", fontsize="x-small", color="C3")
    ax.set(xlabel="test accuracy", ylabel="")
    sns.move_legend(ax, "upper left", bbox_to_anchor=(1.02, 1), title="seed")
    return fig


def _image_grid(rows: Sequence[tuple[str, np.ndarray]], images: np.ndarray, per_row: int, size=(0.9, 0.95)):
    """One row of up to ``per_row`` images per ``(title, indices)``."""
    fig, axes = plt.subplots(len(rows), per_row, figsize=(per_row * size[0], len(rows) * size[1]),
                             squeeze=False, constrained_layout=True)
    for r, (title, idx) in enumerate(rows):
        for j in range(per_row):
            ax = axes[r, j]
            ax.axis("off")
            if j < len(idx):
                ax.imshow(images[idx[j]].reshape(28, 28), cmap="gray_r")
        axes[r, 0].set_title(title, fontsize=8, loc="left")
    return fig


def example_grid(images: np.ndarray, labels: np.ndarray, classes: Sequence[str], per_class: int = 8):
    """A grid of ``per_class`` example images for every class (rows = classes)."""
    rows = [(name, np.flatnonzero(labels == c)[:per_class]) for c, name in enumerate(classes)]
    return _image_grid(rows, images, per_class)


def heatmap(cm: np.ndarray, classes: Sequence[str], normalize: bool = True):
    """A confusion matrix (rows: true class) as a heat map."""
    fig, ax = plt.subplots(figsize=(7, 6), constrained_layout=True)
    sns.heatmap(cm, annot=True, fmt=".2f" if normalize else "d", annot_kws={"fontsize": 7}, cmap="Blues",
                xticklabels=classes, yticklabels=classes, square=True, cbar_kws={"shrink": 0.8}, ax=ax)
    ax.set_xticklabels(ax.get_xticklabels(), rotation=45, ha="right")
    ax.set(xlabel="predicted", ylabel="true")
    return fig


def confusion(y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str], normalize: bool = True):
    """Confusion matrix heat map (rows: true class, normalised per row by default); returns ``(fig, matrix)``.

    ``y_pred`` of shape (seeds, N) pools the seeds' predictions of the same ``N`` images
    (:func:`fcnbook.stats.confusion.confusion_matrix`).
    """
    cm = confusion_stats.confusion_matrix(y_true, y_pred, len(classes), normalize)
    return heatmap(cm, classes, normalize), cm


most_confused = confusion_stats.most_confused
per_class_accuracy = confusion_stats.per_class_accuracy


def confused_examples(images: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, pairs: pd.DataFrame,
                      classes: Sequence[str], per_pair: int = 6):
    """For each (true, predicted) pair of ``pairs``, the first ``per_pair`` test images so misclassified."""
    index = {name: i for i, name in enumerate(classes)}
    rows = [(f"{t} -> {p}", np.flatnonzero((y_true == index[t]) & (y_pred == index[p]))[:per_pair])
            for t, p in zip(pairs["true"], pairs["predicted"], strict=True)]
    return _image_grid(rows, images, per_pair, size=(1.0, 1.15))
