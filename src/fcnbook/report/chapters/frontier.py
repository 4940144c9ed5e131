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
from fcnbook.report.settings import Settings
from fcnbook.report.text import p_value
from fcnbook.stats.multiplicity import holm
from fcnbook.stats.pareto import pareto_front
from fcnbook.store.frames import MissingRuns, paired_differences, stored_results

ALPHA = 0.05  # the family-wise error rate of the ladder's comparisons
#: The issue's targets (test accuracy, mean of the frontier's seeds): one network, the ensemble of five, MNIST.
TARGETS = {"single": 0.915, "ensemble": 0.920, "mnist": 0.988}
OTHER_COLUMNS = ["name", "label", "key", "dataset", "epochs", "mean", "sd", "n", "gflop"]


@dataclass(frozen=True)
class Frontier:
    """Everything the chapter shows: see :func:`study`."""

    S: Settings
    rungs: pd.DataFrame  # one row per trained rung: ingredient, key, mean, sd, n, gain, ci_low, ci_high, p, p_holm,
    #                      gflop, hours (measured wall-clock time of all its seeds)
    pending: pd.DataFrame  # the rungs after the first untrained one: ingredient, key, gflop, hours (estimated)
    others: pd.DataFrame  # the extras (comparators, distilled, MNIST) that are stored: label, key, mean, sd, n, gflop
    front: tuple[str, ...]  # names (rungs and others, FashionMNIST) on the accuracy-compute Pareto front
    ensembles: dict  # name (rung or extra) -> test accuracy of its seeds' ensemble (mean of their probabilities)
    comparisons: pd.DataFrame  # paired-by-seed differences "a - b": a, b, mean, ci_low, ci_high, p, n
    search: dict | None = None  # the search's recipe on the book's seeds against the best rung (:func:`search`)


def chosen(table: pd.DataFrame) -> str:
    """The rung the chapter calls best: the highest mean validation accuracy (never the test set's choice)."""
    return table["val"].idxmax()


def verdict(p_holm: float, gain: float) -> str:
    """``helps`` / ``hurts`` when Holm's adjusted p is below :data:`ALPHA` (by the sign of the gain), else ``no
    detectable change``: the three are exclusive, and an unadjusted p never decides."""
    if not np.isfinite(p_holm) or p_holm >= ALPHA:
        return "no detectable change"
    return "helps" if gain > 0 else "hurts"


def rung_table(rungs: list, runs: pd.DataFrame) -> pd.DataFrame:
    """Per rung: validation and test accuracy over seeds, the paired gain over the rung before (95 % CI, p, Holm's
    p), counted compute and the measured hours of all its seeds (each record holds its share of its stack's)."""
    rows = []
    for i, r in enumerate(rungs):
        mine = runs.loc[runs["key"] == r.config.key()].reindex(
            columns=list(dict.fromkeys([*runs.columns, "final_val_accuracy", "seconds"])))
        acc = mine["test_accuracy"].astype(float)
        row = {"rung": r.name, "ingredient": r.ingredient, "key": r.config.key(), "val": mine["final_val_accuracy"]
               .astype(float).mean(), "mean": acc.mean(), "sd": acc.std(ddof=1), "n": len(acc),
               "gflop": compute_gflop(r.config), "hours": mine["seconds"].astype(float).sum() / 3600}
        if i:
            d = paired_differences(runs, rungs[i - 1].config.key(), [r.config.key()]).iloc[0]
            row |= {"gain": d["mean"], "ci_low": d["ci_low"], "ci_high": d["ci_high"], "p": d["p"]}
        rows.append(row)
    table = pd.DataFrame(rows, columns=[*rows[0], "gain", "ci_low", "ci_high", "p"]).set_index("rung")
    table["p_holm"] = holm(table["p"])
    return table


def _ensemble(records: list[dict], key: str, seeds) -> float | None:
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
    """Counted compute per seed of ``config``; a distilled one also carries its share of its teacher's members."""
    own = compute_gflop(config)
    teacher = next((r.config for r in rungs if r.config.key() == config.teacher), None)
    return own + (compute_gflop(teacher) * len(config.teacher_seeds) / len(seeds) if teacher else 0.0)


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
    pending = pd.DataFrame([{"rung": r.name, "ingredient": r.ingredient, "key": r.config.key(),
                             "gflop": compute_gflop(r.config)} for r in rungs[n:]],
                           columns=["rung", "ingredient", "key", "gflop"]).set_index("rung")
    pending["hours"] = pending["gflop"] * rate
    others = pd.DataFrame([{"name": name, "label": c.label(), "key": c.key(), "dataset": c.dataset,
                            "epochs": c.epochs, **_mean_sd(res.runs, c.key()), "gflop": _with_teacher(c, rungs, seeds)}
                           for name, c in shown.items()], columns=OTHER_COLUMNS).set_index("name")
    best = chosen(table)
    keys = dict(table["key"]) | dict(others["key"])
    found = search(S, res.runs, keys[best])
    points = pd.concat([table[["mean", "gflop"]], others.loc[others["dataset"] == "fashion", ["mean", "gflop"]],
                        pd.DataFrame([found] if found else [], index=["search"] if found else [],
                                     columns=["mean", "gflop"])])
    pairs = [(best, "peer"), (best, table.index[0]), ("peer", table.index[0]), ("distilled", ladder.TEACHER_RUNG),
             (best, "previous")]
    ensembles = {name: _ensemble(res.records, key, seeds) for name, key in keys.items()}
    ensembles = {name: acc for name, acc in ensembles.items() if acc is not None}
    return Frontier(S, table, pending, others, tuple(pareto_front(points)), ensembles,
                    comparisons(res.runs, keys, pairs), found)


def search(S: Settings, runs: pd.DataFrame, best_key: str) -> dict | None:
    """The validation-only search's recipe (:mod:`fcnbook.report.selection`), if chosen and stored on the frontier's
    seeds, against the best rung ``best_key`` of ``runs``: paired by seed, as the ladder's gains are."""
    from fcnbook.report import selection

    recipe = next(iter(selection.recipes(S, getattr(S.lab, "root", None))), None)  # FashionMNIST's first
    seeds = ladder.seeds(S)
    if recipe is None or not stored(S, [recipe], seeds):
        return None
    res = S.lab.results([recipe], list(seeds)).runs
    d = paired_differences(pd.concat([runs, res]), recipe.key(), [best_key]).iloc[0]
    return {"label": recipe.label(), "epochs": recipe.epochs, "key": recipe.key(), **_mean_sd(res, recipe.key()),
            "gflop": compute_gflop(recipe),
            "mean_diff": d["mean"], "ci_low": d["ci_low"], "ci_high": d["ci_high"], "p": d["p"]}


def comparisons(runs: pd.DataFrame, keys: dict[str, str], pairs) -> pd.DataFrame:
    """Paired-by-seed differences ``a - b`` for each pair ``(a, b)`` of names in ``keys`` (pairs with a name that is
    not there are left out)."""
    rows = []
    for a, b in pairs:
        if a in keys and b in keys and a != b:
            d = paired_differences(runs, keys[b], [keys[a]]).iloc[0]
            rows.append({"a": a, "b": b, **{k: d[k] for k in ("mean", "ci_low", "ci_high", "p", "n")}})
    return pd.DataFrame(rows, columns=["a", "b", "mean", "ci_low", "ci_high", "p", "n"])


def _mean_sd(runs: pd.DataFrame, key: str) -> dict:
    acc = runs.loc[runs["key"] == key, "test_accuracy"].astype(float)
    return {"mean": acc.mean(), "sd": acc.std(ddof=1), "n": len(acc)}


def _gain(row) -> str:
    return (f"{row['gain']:+.4f} (95 % CI [{row['ci_low']:+.4f}, {row['ci_high']:+.4f}], Holm's p "
            f"{p_value(row['p_holm'])}): {verdict(row['p_holm'], row['gain'])}")


def _difference(f: Frontier, a: str, b: str) -> str | None:
    """``+0.0042 (95 % CI [..], p ..)`` for the stored pair ``a - b``, else None."""
    rows = f.comparisons[(f.comparisons["a"] == a) & (f.comparisons["b"] == b)]
    if rows.empty:
        return None
    d = rows.iloc[0]
    return f"{d['mean']:+.4f} (95 % CI [{d['ci_low']:+.4f}, {d['ci_high']:+.4f}], p {p_value(d['p'])})"


def _peer(f: Frontier, best: str) -> str:
    if "peer" not in f.others.index:
        return "The public peer's recipe is not trained on the frontier's seeds yet (`fcnbook frontier --train peer`)."
    peer, (m, sd, n) = f.others.loc["peer"], ladder.PEER_REPORTED
    return (f"Under this protocol the public peer's recipe {{cite:p}}`lybbert_uw_central` ({peer['label']}, "
            f"{int(peer['epochs'])} epochs) scores {peer['mean']:.4f} (SD {peer['sd']:.4f}, "
            f"n {int(peer['n'])}); its repository reports {m:.4f} +/- {sd:.4f} over {n} trials. The best rung minus "
            f"the peer, seed by seed: {_difference(f, best, 'peer')}; the peer minus the report's network: "
            f"{_difference(f, 'peer', f.rungs.index[0])}.")


def _search(f: Frontier, best: str) -> str:
    previous = "" if "previous" not in f.others.index else (
        f"The study's first recipe ({f.others.loc['previous', 'label']}, chosen by one seed before its finalists "
        f"were re-scored) scores {f.others.loc['previous', 'mean']:.4f} here; the **{best}** rung minus it: "
        f"{_difference(f, best, 'previous')}. ")
    if f.search is None:
        return previous + ("The validation-only search of {doc}`07b_beyond` has not yet chosen a recipe and tested it "
                           "on these seeds (`fcnbook tune --select fashion`).")
    s = f.search
    return previous + (
            f"The validation-only search of {{doc}}`07b_beyond` chose {s['label']} ({s['epochs']} epochs), which "
            f"scores {s['mean']:.4f} (SD {s['sd']:.4f}) on the same seeds. The **{best}** rung minus that recipe, "
            f"seed by seed: {s['mean_diff']:+.4f} (95 % CI [{s['ci_low']:+.4f}, {s['ci_high']:+.4f}], p "
            f"{p_value(s['p'])}): " + ("the ladder's network is the better one." if s["ci_low"] > 0 else
                                       "the search's recipe is the better one." if s["ci_high"] < 0 else
                                       "no detectable difference."))


def _distilled(f: Frontier) -> str:
    if not np.isfinite(share := gap_closed(f)):
        return "The distilled network is not trained yet (`fcnbook frontier --train distilled`)."
    d, rung = f.others.loc["distilled"], f.rungs.loc[ladder.TEACHER_RUNG]
    ensemble = f.ensembles[ladder.TEACHER_RUNG]
    return (f"The {{term}}`ensemble` of the **{ladder.TEACHER_RUNG}** rung's {int(rung['n'])} seeds (mean of their "
            f"softmax outputs) scores {ensemble:.4f}, against {rung['mean']:.4f} for one of its networks. "
            f"Distilled into one network of the same shape ({{term}}`distillation`, temperature "
            f"{ladder.DISTILL_TEMPERATURE:g}, weight {ladder.DISTILL_WEIGHT:g} on the soft labels), each seed scores "
            f"{d['mean']:.4f} on average (SD {d['sd']:.4f}): a paired gain of {_difference(f, 'distilled', rung.name)} "
            f"over the rung: it closes {f'{share:.0%} of' if share > 0 else f'none ({share:.0%}) of'} the gap "
            "between one network and the ensemble.")


def gap_closed(f: Frontier) -> float:
    """(distilled - teacher rung) / (its ensemble - teacher rung), test means (0 without a gap, NaN if not stored)."""
    if "distilled" not in f.others.index or ladder.TEACHER_RUNG not in f.ensembles:
        return float("nan")
    one, ensemble = f.rungs.loc[ladder.TEACHER_RUNG, "mean"], f.ensembles[ladder.TEACHER_RUNG]
    return (f.others.loc["distilled", "mean"] - one) / (ensemble - one) if ensemble > one else 0.0


def _targets(f: Frontier) -> str:
    best = chosen(f.rungs)
    measured = {"single": f.rungs.loc[best, "mean"], "ensemble": f.ensembles.get(best),
                "mnist": f.others.loc["mnist", "mean"] if "mnist" in f.others.index else None}
    words = {"single": "one network", "ensemble": "the ensemble of five", "mnist": "MNIST, one network"}
    lines = []
    for name, target in TARGETS.items():
        got = measured[name]
        state = ("not trained yet" if got is None or not np.isfinite(got) else
                 f"{got:.4f}: met" if got >= target else f"{got:.4f}: missed by {target - got:.4f}")
        lines.append(f"- {words[name]}: target {target:.3f}, {state}")
    share = gap_closed(f)
    lines.append("- the distilled network: target half the gap to its ensemble closed, " + (
        "not trained yet" if not np.isfinite(share) else f"{share:.0%}: " + ("met" if share >= 0.5 else "missed")))
    return (f"Against the targets this chapter set itself (test accuracy, mean of the frontier's seeds; the "
            f"**{best}** rung, the best by validation accuracy):\n\n" + "\n".join(lines))


def _drops(t: pd.DataFrame, best: pd.Series) -> str:
    top = t.loc[t["mean"].idxmax()]
    drop = ", ".join(f"{t.loc[n, 'val'] - t.loc[n, 'mean']:+.4f} for **{n}**"
                     for n in dict.fromkeys([best.name, top.name, t.index[0]]))
    return (f" Validation minus test accuracy (means): {drop}." + (
        f" The highest test mean, {top['mean']:.4f}, is the **{top.name}** rung's; choosing by it would let the "
        "test set choose." if top.name != best.name else ""))


def _pending(f: Frontier) -> str:
    if f.pending.empty:
        return ""
    names = ", ".join(f"**{n}** ({row['hours']:.1f} h)" for n, row in f.pending.iterrows())
    first = len(f.rungs)
    rungs = f"{first}-{first + len(f.pending) - 1}"
    return (f"Not trained yet: {names}, estimated from the trained rungs' measured hours per counted GFLOP on the "
            f"machines that trained them (two CPU cores); `fcnbook frontier --train {rungs}` trains them, resuming "
            "from epoch checkpoints.")


def sentences(f: Frontier) -> dict[str, str]:
    """The chapter's Markdown: ``ladder``, ``best``, ``peer``, ``distilled``, ``mnist``, ``targets``, ``pending``."""
    t = f.rungs
    steps = [f"- **{name}** ({row['ingredient']}): {_gain(row)}" for name, row in t.iloc[1:].iterrows()]
    first, best = t.iloc[0], t.loc[chosen(t)]
    mnist = (f"On MNIST the **{ladder.TEACHER_RUNG}** rung scores {f.others.loc['mnist', 'mean']:.4f} (SD "
             f"{f.others.loc['mnist', 'sd']:.4f}, n {int(f.others.loc['mnist', 'n'])})."
             if "mnist" in f.others.index else "The MNIST run is not trained yet (`fcnbook frontier --train mnist`).")
    return {"ladder": (f"Each rung adds one ingredient to the one before and is compared with it seed by seed "
                       f"({int(first['n'])} seeds); the {len(t) - 1} comparisons are one family, adjusted with "
                       f"Holm's method, and a change counts only when its adjusted p is below {ALPHA}.\n\n"
                       + "\n".join(steps)),
            "best": (f"The best rung by validation accuracy, **{best.name}** ({best['val']:.4f} on validation), "
                     f"reaches {best['mean']:.4f} on the test set (SD {best['sd']:.4f}), "
                     f"{best['mean'] - first['mean']:+.4f} over the report's tuned network as its code ran it "
                     f"({first['mean']:.4f}), at {best['gflop'] / first['gflop']:.1f} times its counted compute."
                     + (f" The ensemble of its {int(best['n'])} seeds scores {f.ensembles[best.name]:.4f}; it is "
                        "compared only with other ensembles." if best.name in f.ensembles else "") + _drops(t, best)),
            "peer": " ".join(filter(None, [_peer(f, best.name), _search(f, best.name)])),
            "distilled": _distilled(f), "mnist": mnist, "targets": _targets(f), "pending": _pending(f)}
