"""The frontier chapter's numbers: the ingredient ladder with paired gains, counted compute, the Pareto front.

Every rung of :func:`fcnbook.report.ladder.ladder` is trained on the same fresh seeds and compared with the one
before it seed by seed; the ladder is one family, adjusted with Holm's method, and an ingredient "helps" or "hurts"
only when its adjusted p is below :data:`ALPHA`. Compute is counted matrix-multiply work (:mod:`fcnbook.stats.flops`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fcnbook.report import ladder
from fcnbook.report.budget import run_gflop as compute_gflop
from fcnbook.report.budget import split_sizes
from fcnbook.report.settings import Settings
from fcnbook.stats.flops import layer_sizes, matmul_flops
from fcnbook.stats.multiplicity import holm
from fcnbook.stats.pareto import pareto_front
from fcnbook.store.frames import MissingRuns, paired_differences, stored_results

ALPHA = 0.05  # the family-wise error rate of the ladder's comparisons
#: The issue's targets (test accuracy, mean of the frontier's seeds): one network, the ensemble of five, MNIST.
TARGETS = {"single": 0.915, "ensemble": 0.920, "mnist": 0.988}
#: The distilled network's target: the share of the gap between one network and its ensemble that it closes.
DISTILL_TARGET = 0.5
OTHER_COLUMNS = ["name", "label", "key", "dataset", "epochs", "val", "mean", "sd", "n", "gflop", "hours"]


@dataclass(frozen=True)
class Frontier:
    """Everything the chapter shows: see :func:`study`."""

    S: Settings
    rungs: pd.DataFrame  # one row per trained rung: ingredient, key, mean, sd, n, gain, ci_low, ci_high, p, p_holm,
    #                      gflop, hours (measured wall-clock time of all its seeds)
    pending: pd.DataFrame  # the rungs after the first untrained one: ingredient, key, gflop, hours (estimated)
    others: pd.DataFrame  # the stored extras (comparators, distilled, bf16, MNIST): label, key, mean, sd, n, gflop,
    #                       hours
    front: tuple[str, ...]  # names (rungs and others, FashionMNIST) on the accuracy-compute Pareto front
    ensembles: dict  # name (rung or extra) -> test accuracy of its seeds' ensemble (mean of their probabilities)
    comparisons: pd.DataFrame  # paired-by-seed differences "a - b": a, b, mean, ci_low, ci_high, p, n
    search: dict | None = None  # the search's recipe on the book's seeds (:func:`search`); compared as "search"


def chosen(table: pd.DataFrame) -> str:
    """The rung the chapter calls best: the highest mean validation accuracy (never the test set's choice)."""
    return table["val"].idxmax()


def verdict(p_holm: float, gain: float) -> str:
    """``helps`` / ``hurts`` when Holm's adjusted p is below :data:`ALPHA` (by the sign of the gain), else ``no
    detectable change``: the three are exclusive, and an unadjusted p never decides."""
    if not np.isfinite(p_holm) or p_holm >= ALPHA:
        return "no detectable change"
    return "helps" if gain > 0 else "hurts"


def by_verdict(table: pd.DataFrame) -> dict[str, list[str]]:
    """The rungs after the first, by :func:`verdict` (``helps``, ``hurts``, ``no detectable change``), in order."""
    out: dict[str, list[str]] = {"helps": [], "hurts": [], "no detectable change": []}
    for name, row in table.iloc[1:].iterrows():
        out[verdict(row["p_holm"], row["gain"])].append(name)
    return out


def rung_table(rungs: list, runs: pd.DataFrame) -> pd.DataFrame:
    """Per rung: validation and test accuracy over seeds, the paired gain over the rung before (95 % CI, p, Holm's
    p), counted compute and the measured hours of all its seeds (each record holds its share of its stack's)."""
    rows = []
    for i, r in enumerate(rungs):
        mine = runs.loc[runs["key"] == r.config.key()].reindex(
            columns=list(dict.fromkeys([*runs.columns, "final_val_accuracy", "seconds"])))
        acc = mine["test_accuracy"].astype(float)
        row = {"rung": r.name, "short": r.short, "ingredient": r.ingredient, "key": r.config.key(),
               "val": mine["final_val_accuracy"].astype(float).mean(), "mean": acc.mean(), "sd": acc.std(ddof=1),
               "n": len(acc),
               "gflop": compute_gflop(r.config), "hours": mine["seconds"].astype(float).sum() / 3600}
        if i:
            d = paired_differences(runs, rungs[i - 1].config.key(), [r.config.key()]).iloc[0]
            row |= {"gain": d["mean"], "ci_low": d["ci_low"], "ci_high": d["ci_high"], "p": d["p"]}
        rows.append(row)
    table = pd.DataFrame(rows, columns=[*rows[0], "gain", "ci_low", "ci_high", "p"]).set_index("rung")
    table["p_holm"] = holm(table["p"])
    return table


def ensemble_accuracy(records: list[dict], key: str, seeds) -> float | None:
    """The stored ensemble accuracy of ``key``'s seeds trained as one stack (``extra["ensemble"]``), if any."""
    for r in records:
        ens = (r.get("extra") or {}).get("ensemble")
        if r["key"] == key and ens and sorted(ens["seeds"]) == sorted(seeds):
            return float(ens["test_accuracy"])
    return None


def stored(S: Settings, configs, seeds) -> list:
    """The ``configs`` that the chapter shows. In the full profile only those whose every seed is stored (the
    frontier's runs take hours: ``fcnbook frontier --train`` trains them, the book never does); in any other
    profile all of them (its lab trains what is missing, in minutes)."""
    if S.profile != "full":
        return list(configs)
    return [c for c in configs if _is_stored(c, seeds, getattr(S.lab, "root", None))]


def _is_stored(config, seeds, root) -> bool:
    try:
        stored_results([config], list(seeds), root=root)
    except MissingRuns:
        return False
    return True


def _with_teacher(config, rungs, seeds) -> float:
    """Counted compute per seed of ``config``; a distilled one also carries its share of its teacher's members:
    their training and their evaluation passes over the training images for the soft labels (one per view)."""
    own = compute_gflop(config)
    teacher = next((r.config for r in rungs if r.config.key() == config.teacher), None)
    if teacher is None:
        return own
    labels = matmul_flops(layer_sizes(teacher.hidden), split_sizes(config)[0], backward=False) / 1e9
    member = compute_gflop(teacher) + labels * config.soft_label_views()
    return own + member * len(config.teacher_seeds) / len(seeds)


def study(S: Settings) -> Frontier | None:
    """The ladder's results on the frontier's seeds (from ``S``'s lab), its gains, the extras and the front; None
    when not even the first rung is stored (full profile: see :data:`fcnbook.report.ladder.HOW_TO_TRAIN`)."""
    rungs, seeds, extras = ladder.ladder(S), ladder.seeds(S), ladder.extras(S)
    have = {c.key() for c in stored(S, [r.config for r in rungs] + list(extras.values()), seeds)}
    n = next((i for i, r in enumerate(rungs) if r.config.key() not in have), len(rungs))  # the trained prefix
    shown = {name: c for name, c in extras.items() if c.key() in have}
    if n == 0:
        return None
    res = S.lab.results([r.config for r in rungs[:n]] + list(shown.values()), list(seeds))
    table = rung_table(rungs[:n], res.runs)
    rate = (table["hours"] / table["gflop"]).median()  # measured hours per counted GFLOP, this store's machines
    pending = pd.DataFrame([{"rung": r.name, "short": r.short, "ingredient": r.ingredient, "key": r.config.key(),
                             "gflop": compute_gflop(r.config)} for r in rungs[n:]],
                           columns=["rung", "short", "ingredient", "key", "gflop"]).set_index("rung")
    pending["hours"] = pending["gflop"] * rate
    others = pd.DataFrame([{"name": name, "label": c.label(), "key": c.key(), "dataset": c.dataset,
                            "epochs": c.epochs, "val": val_mean(res.runs, c.key()), **mean_sd(res.runs, c.key()),
                            "gflop": _with_teacher(c, rungs, seeds),
                            "hours": res.runs.loc[res.runs["key"] == c.key(), "seconds"].astype(float).sum() / 3600}
                           for name, c in shown.items()], columns=OTHER_COLUMNS).set_index("name")
    best = chosen(table)
    keys = dict(table["key"]) | dict(others["key"])
    found, found_res = search(S)
    runs, records = res.runs, res.records
    if found:  # the search's recipe joins the paired comparisons and the ensembles under the name "search"
        keys["search"] = found["key"]
        runs, records = pd.concat([runs, found_res.runs]), res.records + found_res.records
    points = pd.concat([table[["mean", "gflop"]], others.loc[others["dataset"] == "fashion", ["mean", "gflop"]],
                        pd.DataFrame([found] if found else [], index=["search"] if found else [],
                                     columns=["mean", "gflop"])])
    pairs = [(best, "peer"), (best, table.index[0]), ("peer", table.index[0]), *ladder.TEACHERS.items(),
             *ladder.AUGMENTED_VIEWS.items(),
             ("bf16", ladder.TEACHER_RUNG), (best, "previous"),
             *[("search", b) for b in search_against(best, table.index[0])]]
    ensembles = {name: ensemble_accuracy(records, key, seeds) for name, key in keys.items()}
    ensembles = {name: acc for name, acc in ensembles.items() if acc is not None}
    return Frontier(S, table, pending, others, tuple(pareto_front(points)), ensembles,
                    comparisons(runs, keys, pairs), found)


def search_against(best: str, report: str) -> list[str]:
    """What the search's recipe is compared with, seed by seed: the best rung, then the known recipes the study was
    warm-started with as the frontier trains them (the report's network, the peer's, the study's first recipe)."""
    return list(dict.fromkeys([best, report, "peer", "previous"]))


def search(S: Settings):
    """The validation-only search's recipe (:mod:`fcnbook.report.selection`) on the frontier's seeds: its summary
    (label, epochs, key, mean, sd, n, gflop) and its stored results; ``(None, None)`` until it is chosen and stored."""
    from fcnbook.report import selection

    recipe = next(iter(selection.recipes(S, getattr(S.lab, "root", None))), None)  # FashionMNIST's first
    seeds = ladder.seeds(S)
    if recipe is None or not stored(S, [recipe], seeds):
        return None, None
    res = S.lab.results([recipe], list(seeds))
    return ({"label": recipe.label(), "epochs": recipe.epochs, "key": recipe.key(), **mean_sd(res.runs, recipe.key()),
             "gflop": compute_gflop(recipe)}, res)


def comparisons(runs: pd.DataFrame, keys: dict[str, str], pairs) -> pd.DataFrame:
    """Paired-by-seed differences ``a - b`` for each pair ``(a, b)`` of names in ``keys`` (pairs with a name that is
    not there are left out)."""
    rows = []
    for a, b in pairs:
        if a in keys and b in keys and a != b:
            d = paired_differences(runs, keys[b], [keys[a]]).iloc[0]
            rows.append({"a": a, "b": b, **{k: d[k] for k in ("mean", "ci_low", "ci_high", "p", "n")}})
    return pd.DataFrame(rows, columns=["a", "b", "mean", "ci_low", "ci_high", "p", "n"])


def val_mean(runs: pd.DataFrame, key: str) -> float:
    """Mean final validation accuracy of ``key``'s stored seeds (NaN where a record has none)."""
    mine = runs.loc[runs["key"] == key].reindex(columns=list(dict.fromkeys([*runs.columns, "final_val_accuracy"])))
    return mine["final_val_accuracy"].astype(float).mean()


def mean_sd(runs: pd.DataFrame, key: str) -> dict:
    acc = runs.loc[runs["key"] == key, "test_accuracy"].astype(float)
    return {"mean": acc.mean(), "sd": acc.std(ddof=1), "n": len(acc)}


def gap_closed(f: Frontier, name: str = "distilled") -> float:
    """(distilled - teacher rung) / (its ensemble - teacher rung), test means, for the distilled extra ``name`` of
    :data:`~fcnbook.report.ladder.TEACHERS` (0 without a gap, NaN if it or its teacher's ensemble is not stored)."""
    teacher = ladder.TEACHERS[name]
    if name not in f.others.index or teacher not in f.ensembles or teacher not in f.rungs.index:
        return float("nan")
    one, ensemble = f.rungs.loc[teacher, "mean"], f.ensembles[teacher]
    return (f.others.loc[name, "mean"] - one) / (ensemble - one) if ensemble > one else 0.0


def taught_by(rung: str, table: dict, others: pd.DataFrame | None = None) -> str | None:
    """The extra of ``table`` (:data:`~fcnbook.report.ladder.TEACHERS` or :data:`~fcnbook.report.ladder.ON_MNIST`)
    that carries ``rung``, else None. Where several do (two distillations of one rung), the one stored in ``others``
    (:attr:`Frontier.others`) with the best validation mean, a choice the test set plays no part in; with none of
    them stored, the first declared."""
    names = [name for name, r in table.items() if r == rung]
    kept = [name for name in names if others is not None and name in others.index]
    return max(kept, key=lambda name: others.loc[name, "val"]) if kept else next(iter(names), None)


def against_target(got: float | None, name: str) -> str:
    """``got`` against :data:`TARGETS` ``[name]`` in words: ``"met"``, ``"missed by 0.0014"`` or ``"not trained
    yet"`` (None or NaN)."""
    target = TARGETS[name]
    if got is None or not np.isfinite(got):
        return "not trained yet"
    return "met" if got >= target else f"missed by {target - got:.4f}"


def distilled_against_target(share: float) -> str:
    """:func:`gap_closed`'s ``share`` against :data:`DISTILL_TARGET` in words: ``"met"``, ``"missed"`` or ``"not
    trained yet"`` (NaN)."""
    return "not trained yet" if not np.isfinite(share) else "met" if share >= DISTILL_TARGET else "missed"
