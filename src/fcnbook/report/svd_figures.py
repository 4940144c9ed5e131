"""The SVD chapter's figures and styled tables (its numbers and sentences are :mod:`fcnbook.report.chapters.svd`'s)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from fcnbook.report.chapters.svd import NAMES, images
from fcnbook.report.plots import theme

theme()


def rank_figure(choice: dict):
    """Validation accuracy against rank (log scale) per dataset, the chosen rank starred."""
    fig, ax = plt.subplots(figsize=(7, 3.6), constrained_layout=True)
    for ds, c in choice.items():
        line, = ax.plot(c["ranks"], c["val_accuracy"], marker="o", markersize=3, label=NAMES[ds])
        ax.plot([c["best_rank"]], [c["best_val_accuracy"]], marker="*", markersize=14, color=line.get_color(),
                linestyle="none")
        ax.annotate(f"r = {c['best_rank']}", (c["best_rank"], c["best_val_accuracy"]), textcoords="offset points",
                    xytext=(6, 6), color=line.get_color())
    ax.set(xscale="log", xlabel="rank r of every class subspace", ylabel="validation accuracy")
    ax.margins(y=0.12)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower center")
    return fig


def compare_figure(table: pd.DataFrame):
    """Test accuracy of every method per dataset; networks with a bar of one SD between seeds."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), constrained_layout=True)
    for ax, name in zip(axes, NAMES.values(), strict=True):
        d = table[table["dataset"] == name].sort_values("test accuracy")
        colors = ["C1" if m.startswith("FCN") else "C0" for m in d["model"]]
        bars = ax.barh(d["model"], d["test accuracy"], xerr=d["SD"].fillna(0), color=colors)
        ax.bar_label(bars, labels=[f"{a:.4f}" for a in d["test accuracy"]], padding=3, fontsize=8)
        ax.set_xlim(max(0.0, float(d["test accuracy"].min()) - 0.05), 1.04)
        ax.set(title=name, xlabel="test accuracy")
        ax.grid(axis="x", alpha=0.3)
    return fig


def forensic_figure(forensic: pd.DataFrame, extrapolated: dict | None, P: float, full: dict | None = None):
    """Resubstitution and test accuracy of ``SVC()`` against training-set size, the extrapolation hollow, the
    fit on the whole training split (``full``) as stars."""
    fig, ax = plt.subplots(figsize=(7, 3.8), constrained_layout=True)
    f = forensic.sort_values("n_train")
    for col, marker, label in (("train_accuracy", "o", "on its training images"), ("test_accuracy", "s",
                                                                                    "on the test set")):
        line, = ax.plot(f["n_train"], f[col], marker=marker, label=label)
        if extrapolated is not None:
            xs = [f["n_train"].iloc[-1], *(e["n"] for e in extrapolated.values())]
            ys = [f[col].iloc[-1], *(e[col] for e in extrapolated.values())]
            ax.plot(xs, ys, linestyle=":", marker=marker, markerfacecolor="none", color=line.get_color())
        if full is not None:
            ax.plot([full["n_train"]], [full[col]], marker="*", markersize=13, linestyle="none",
                    color=line.get_color(), label=f"{label}, all {images(full['n_train'])} (measured)")
    ax.axhline(P, color="k", linestyle="--", linewidth=1, label="seed report")
    ax.set_xscale("log")
    # 54k and 60k would overlap: the measured whole split is named when there is one, else all 60k
    last = [full["n_train"]] if full is not None else [extrapolated["all"]["n"]] if extrapolated else []
    ticks = [*f["n_train"], *last]
    ax.set_xticks(ticks, [f"{t / 1000:g}k" for t in ticks])
    ax.minorticks_off()
    ax.set(xlabel="training images", ylabel="accuracy")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return fig


#: The book's table padding (``fcnbook.report.plots.style``): numbers in adjacent columns never run together.
PADDING = [{"selector": "th, td", "props": "padding: 0.15em 0.7em;"}]


def styled_accuracy_table(table: pd.DataFrame, devices: str):
    return (table.set_index(["dataset", "model"]).style
            .format({"training images": images, "test accuracy": "{:.4f}", "SD": "{:.4f}", "fit s": "{:.1f}",
                     "predict s": "{:.2f}"}, na_rep="")
            .set_caption("Test accuracy of every method on both datasets. SD: between seeds (networks only). fit s: "
                         f"training time (networks: per seed, on {devices}); predict s: time to classify the 10 000 "
                         "test images.")
            .set_table_styles(PADDING))


def styled_forensic_table(forensic: pd.DataFrame, P: float, full: dict | None = None):
    rows = forensic if full is None else pd.concat([forensic, pd.DataFrame([full])], ignore_index=True)
    t = rows.sort_values("n_train")[["n_train", "train_accuracy", "test_accuracy", "n_support", "fit_seconds",
                                          "predict_train_seconds", "predict_test_seconds"]].copy()
    t.insert(3, "seed report", P)
    t.columns = ["training images", "accuracy on its training images", "test accuracy", "seed report",
                 "support vectors", "fit s", "predict train s", "predict test s"]
    return (t.style.hide(axis="index")
            .format({"training images": images, "support vectors": images, "fit s": "{:.1f}",
                     "predict train s": "{:.1f}", "predict test s": "{:.1f}"}
                    | {c: "{:.4f}" for c in t.columns[1:4]})
            .set_caption("Default SVC() on raw FashionMNIST pixels, scored on the images it was fitted on "
                         f"(resubstitution) and on the test set, next to the seed report's {P:.4f}. predict train "
                         "s: the time to score the training images (only the support vectors and a check sample "
                         "of the rest need classifying, unless the entry was made before that shortcut).")
            .set_table_styles(PADDING))


# ----------------------------------------------------------------------------------------------- study
