"""Figures and tables shared by the sections, so that no notebook carries its own plotting logic.

Conventions (the seed report's, kept): training loss solid, validation loss dashed; validation accuracy in its
own panel beside the losses. Curves are the mean over seeds with a band of plus/minus one SD.

Every figure of the book uses one seaborn theme, :data:`THEME`, set by :func:`theme` when this module is imported;
a section that draws its own figure imports ``fcnbook.plots`` (or calls ``plots.theme()``) and gets the same look.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .results import summarize

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


def _band(ax, frame: pd.DataFrame, metric: str, color, linestyle="-", label=None) -> None:
    """Mean over seeds per epoch with a +/- 1 SD band (no band for a single seed)."""
    d = frame[frame["metric"] == metric].groupby("epoch")["value"].agg(["mean", "std", "count"])
    if d.empty:
        return
    ax.plot(d.index, d["mean"], color=color, linestyle=linestyle, label=label)
    if (d["count"] > 1).any():
        sd = d["std"].fillna(0)
        ax.fill_between(d.index, d["mean"] - sd, d["mean"] + sd, color=color, alpha=0.18, linewidth=0)


def _draw(ax_loss, ax_acc, history: pd.DataFrame, labels: Sequence[str], names: dict | None) -> None:
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, label in enumerate(labels):
        f = history[history["label"] == label]
        c = colors[i % len(colors)]
        name = (names or {}).get(label, label)
        _band(ax_loss, f, "train_loss", c, "-", name)
        _band(ax_loss, f, "val_loss", c, "--")
        _band(ax_acc, f, "val_accuracy", c, "-", name)
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("cross-entropy loss (solid: training, dashed: validation)")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("validation accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)


def learning_curves(history: pd.DataFrame, labels: Sequence[str] | None = None, names: dict | None = None,
                    title: str | None = None, log_loss: bool = False):
    """Loss (training solid, validation dashed) and validation accuracy against epoch, one colour per config.

    Parameters
    ----------
    history : DataFrame
        ``Results.history`` (long form).
    labels : sequence of str, optional
        Which configuration labels to draw, in order (default: all, in order of appearance).
    names : dict, optional
        Display name per label for the legend.
    """
    labels = list(labels) if labels is not None else list(dict.fromkeys(history["label"]))
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    _draw(ax_loss, ax_acc, history, labels, names)
    if log_loss:
        ax_loss.set_yscale("log")
    ax_acc.legend(fontsize=8, loc="lower right")
    if title:
        fig.suptitle(title)
    return fig


def curves_by_panel(history: pd.DataFrame, panels: dict[str, Sequence[str]], names: dict | None = None,
                    log_loss: bool = True):
    """One column per panel (e.g. per optimizer), each with its own set of configuration labels.

    Top row: losses (log scale by default, since a diverging learning rate dwarfs the others); bottom row:
    validation accuracy.
    """
    n = len(panels)
    fig, axes = plt.subplots(2, n, figsize=(4.2 * n, 7), squeeze=False, constrained_layout=True, sharex=True)
    for j, (title, labels) in enumerate(panels.items()):
        _draw(axes[0, j], axes[1, j], history, labels, names)
        axes[0, j].set_title(title)
        if log_loss:
            axes[0, j].set_yscale("log")
        if j:
            axes[0, j].set_ylabel("")
            axes[1, j].set_ylabel("")
        axes[1, j].legend(fontsize=8, loc="lower right")
        axes[1, j].set_ylim(0, 1)
    return fig


def accuracy_table(runs: pd.DataFrame, names: dict | None = None) -> pd.DataFrame:
    """Test accuracy per configuration: mean, SD, n, 95 % CI, diverged runs, final train-validation gap."""
    s = summarize(runs).reset_index()
    extra = runs.groupby("key", sort=False).agg(
        diverged=("diverged", "sum"), train_acc=("final_train_accuracy", "mean"),
        val_acc=("final_val_accuracy", "mean"))
    s = s.join(extra, on="key")
    s["configuration"] = [(names or {}).get(label, label) for label in s["label"]]
    s["95% CI"] = [f"[{lo:.4f}, {hi:.4f}]" if np.isfinite(lo) else "n/a" for lo, hi in zip(s["ci_low"], s["ci_high"],
                                                                                           strict=True)]
    s["train - val"] = s["train_acc"] - s["val_acc"]
    out = s[["configuration", "mean", "sd", "n", "95% CI", "diverged", "train - val"]]
    return out.rename(columns={"mean": "test acc (mean)", "sd": "SD"}).set_index("configuration")


def style(table: pd.DataFrame, digits: int = 4):
    """A pandas Styler with fixed decimals, for display in the book."""
    numeric = table.select_dtypes("number").columns
    styler = table.style.format({c: f"{{:.{digits}f}}" for c in numeric if c not in ("n", "diverged")})
    return styler.set_table_styles([{"selector": "th, td", "props": "padding: 0.15em 0.7em;"}])


def example_grid(images: np.ndarray, labels: np.ndarray, classes: Sequence[str], per_class: int = 8):
    """A grid of ``per_class`` example images for every class (rows = classes)."""
    k = len(classes)
    fig, axes = plt.subplots(k, per_class, figsize=(per_class * 0.9, k * 0.95), constrained_layout=True)
    for c in range(k):
        idx = np.flatnonzero(labels == c)[:per_class]
        for j in range(per_class):
            ax = axes[c, j]
            ax.axis("off")
            if j < len(idx):
                ax.imshow(images[idx[j]].reshape(28, 28), cmap="gray_r")
        axes[c, 0].set_title(classes[c], fontsize=8, loc="left")
    return fig


def confusion(y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str], normalize: bool = True):
    """Confusion matrix heat map (rows: true class, normalised per row by default)."""
    from sklearn.metrics import confusion_matrix

    cm = confusion_matrix(y_true, y_pred, labels=range(len(classes)), normalize="true" if normalize else None)
    fig, ax = plt.subplots(figsize=(7, 6), constrained_layout=True)
    im = ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(classes)):
        for j in range(len(classes)):
            v = cm[i, j]
            ax.text(j, i, f"{v:.2f}" if normalize else f"{v:d}", ha="center", va="center", fontsize=7,
                    color="white" if v > cm.max() / 2 else "black")
    fig.colorbar(im, ax=ax, shrink=0.8)
    return fig, cm


def most_confused(cm: np.ndarray, classes: Sequence[str], top: int = 5) -> pd.DataFrame:
    """The ``top`` off-diagonal (true, predicted) pairs of a confusion matrix, largest first."""
    off = cm.astype(float).copy()
    np.fill_diagonal(off, -np.inf)
    order = np.argsort(off, axis=None)[::-1][:top]
    rows = [(classes[i], classes[j], off[i, j]) for i, j in zip(*np.unravel_index(order, cm.shape), strict=True)]
    return pd.DataFrame(rows, columns=["true", "predicted", "rate"])


def per_class_accuracy(y_true: np.ndarray, predictions: Sequence[Sequence[int]], classes: Sequence[str]):
    """Test accuracy per class: mean and SD over runs (one prediction vector per seed)."""
    y = np.asarray(y_true)
    acc = np.array([[np.mean(np.asarray(p)[y == c] == c) for c in range(len(classes))] for p in predictions])
    sd = acc.std(axis=0, ddof=1) if len(acc) > 1 else np.full(len(classes), np.nan)
    return pd.DataFrame({"accuracy (mean)": acc.mean(axis=0), "SD": sd}, index=list(classes))


def confused_examples(images: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, pairs: pd.DataFrame,
                      classes: Sequence[str], per_pair: int = 6):
    """For each (true, predicted) pair of ``pairs``, the first ``per_pair`` test images so misclassified."""
    index = {name: i for i, name in enumerate(classes)}
    fig, axes = plt.subplots(len(pairs), per_pair, figsize=(per_pair * 1.0, len(pairs) * 1.15),
                             squeeze=False, constrained_layout=True)
    for r, (true, pred) in enumerate(zip(pairs["true"], pairs["predicted"], strict=True)):
        idx = np.flatnonzero((y_true == index[true]) & (y_pred == index[pred]))[:per_pair]
        for j in range(per_pair):
            ax = axes[r, j]
            ax.axis("off")
            if j < len(idx):
                ax.imshow(images[idx[j]].reshape(28, 28), cmap="gray_r")
        axes[r, 0].set_title(f"{true} -> {pred}", fontsize=8, loc="left")
    return fig
