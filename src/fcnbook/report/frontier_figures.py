"""The frontier chapter's figure and tables: test accuracy against counted compute with the Pareto front, the
ladder table and the extras' table. The numbers are in :mod:`fcnbook.report.chapters.frontier`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from fcnbook.report import ladder
from fcnbook.report.chapters.frontier import Frontier, verdict

#: How each extra is named in the figure and the tables.
NAMES = {"peer": "public peer (1024-256)", "previous": "study's first recipe (697-833)",
         **{name: f"{rung}, distilled" + (" on augmented views" if name in ladder.AUGMENTED_VIEWS else "")
            for name, rung in ladder.TEACHERS.items()},
         "bf16": f"{ladder.TEACHER_RUNG} in bf16",
         **{name: f"{rung} on MNIST" for name, rung in ladder.ON_MNIST.items()}, "search": "search's recipe"}
#: How a data set is named in the tables.
DATASETS = {"fashion": "FashionMNIST", "mnist": "MNIST"}


def compute_figure(f: Frontier):
    """Test accuracy (mean over seeds, bar of one SD) against counted training compute per seed (log axis): the
    ladder's rungs joined in order, the extras on FashionMNIST as their own markers, the Pareto front dashed."""
    fig, ax = plt.subplots(figsize=(8, 4.8))
    t = f.rungs
    ax.plot(t["gflop"], t["mean"], "-", color="0.75", zorder=1)
    ax.errorbar(t["gflop"], t["mean"], yerr=t["sd"], fmt="o", color="C0", capsize=3, label="ladder rung", zorder=3)
    at: dict = {}  # rungs that land on one point (same compute, same mean to the shown digits) share one label
    for name, row in t.iterrows():
        at.setdefault((round(row["gflop"]), round(row["mean"], 4)), []).append(name)
    for (gflop, mean), names in at.items():
        ax.annotate(", ".join(names), (gflop, mean), textcoords="offset points", xytext=(6, -10), fontsize=8)
    others = f.others[f.others["dataset"] == "fashion"]
    for i, (name, row) in enumerate(others.iterrows()):
        ax.errorbar(row["gflop"], row["mean"], yerr=row["sd"], fmt="s^Dv"[i % 4], color=f"C{i + 1}", capsize=3,
                    label=NAMES.get(name, name), zorder=3)
    points = pd.concat([t[["gflop", "mean"]], others[["gflop", "mean"]]])
    if f.search is not None:  # the validation-only search's recipe, on the same seeds
        s = f.search
        ax.errorbar(s["gflop"], s["mean"], yerr=s["sd"], fmt="*", ms=10, color="k", capsize=3,
                    label="search's recipe", zorder=3)
        points.loc["search"] = [s["gflop"], s["mean"]]
    front = points.loc[list(f.front)].sort_values("gflop")
    ax.step(front["gflop"], front["mean"], where="post", ls="--", color="C3", lw=1, label="Pareto front", zorder=2)
    ax.set_xscale("log")
    ax.set_xlabel("counted training and evaluation compute per seed (GFLOP, log scale)")
    ax.set_ylabel("test accuracy (mean over seeds)")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def ladder_table(f: Frontier) -> pd.DataFrame:
    """One row per trained rung: ingredient, validation mean, test mean and SD, paired gain over the rung before
    with its 95 % CI, Holm's adjusted p, the verdict, counted compute and measured hours; then the untrained rungs
    (estimated hours)."""
    t = f.rungs
    rows = [{"rung": name, "ingredient": row["short"], "val. mean": row["val"], "test mean": row["mean"],
             "SD": row["sd"], "gain": row["gain"], "95 % CI": _ci(row), "Holm p": row["p_holm"],
             "verdict": "" if i == 0 else verdict(row["p_holm"], row["gain"]), "GFLOP": f"{row['gflop']:,.0f}",
             "hours": f"{row['hours']:.2f}"} for i, (name, row) in enumerate(t.iterrows())]
    rows += [{"rung": name, "ingredient": row["short"], "verdict": "not trained yet",
              "GFLOP": f"{row['gflop']:,.0f}", "hours": f"{row['hours']:.2f} (est.)"}
             for name, row in f.pending.iterrows()]
    return pd.DataFrame(rows).set_index("rung")


def extras_table(f: Frontier) -> pd.DataFrame:
    """The comparators, the distilled network, the bf16 run and MNIST beside the ladder (same seeds): configuration,
    test mean, SD, n, counted compute per seed and measured hours of all seeds."""
    o = f.others
    table = pd.DataFrame({"configuration": o["label"] + ", " + o["epochs"].astype(int).astype(str) + " epochs",
                          "test mean": o["mean"], "SD": o["sd"], "n": o["n"].astype(int),
                          "GFLOP": [f"{g:,.0f}" for g in o["gflop"]], "hours": [f"{h:.2f}" for h in o["hours"]]},
                         index=o.index)
    return table.rename(index=lambda n: NAMES.get(n, n))


def _ci(row) -> str:
    return f"[{row['ci_low']:+.4f}, {row['ci_high']:+.4f}]" if pd.notna(row.get("ci_low")) else ""


def ensembles_table(f: Frontier) -> pd.DataFrame:
    """Every stored ensemble of five (mean of the seeds' probabilities) beside the mean of its single networks, with
    its data set (FashionMNIST rows first): ensembles are compared with ensembles only, on one data set."""
    single = pd.concat([f.rungs["mean"], f.others["mean"]] + ([pd.Series({"search": f.search["mean"]})] if f.search
                                                               else []))
    rows = [{"ensemble of": NAMES.get(n, n), "data set": _dataset(f, n), "ensemble test acc.": acc,
             "its networks' mean": single[n], "ensemble - mean": acc - single[n]} for n, acc in f.ensembles.items()]
    table = pd.DataFrame(rows)
    if len(table):  # a stable sort keeps the ladder's order within each data set
        table = table.sort_values("data set", key=lambda d: d != DATASETS["fashion"], kind="stable")
    return table.set_index("ensemble of")


def _dataset(f: Frontier, name: str) -> str:
    """The data set of a rung (always FashionMNIST), an extra or the search's recipe (FashionMNIST)."""
    if name in f.others.index and "dataset" in f.others:
        return DATASETS.get(f.others.loc[name, "dataset"], f.others.loc[name, "dataset"])
    return DATASETS["fashion"]
