"""The "Beyond the report" chapter: the stored study, how its recipe is chosen, and the recipe's numbers.

The chapter shows a validation-only Optuna study (:mod:`fcnbook.tuning.study`), warm-started with named recipes;
its finalists re-scored on seeds 1-3 and the recipe chosen by the best mean (:mod:`fcnbook.report.selection`); and
that recipe evaluated once on the test set, on seeds 5-9, which played no part in any choice, beside the report's
tuned network on the same seeds. In the full profile nothing here trains (``fcnbook tune --select`` does); the
quick profile's lab runs a tiny study and its selection, only to exercise the code path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fcnbook.config import RunConfig
from fcnbook.report import ladder, selection
from fcnbook.report.paper import MNIST_TUNED_ACCURACY, ROWS
from fcnbook.report.settings import Settings, Stored
from fcnbook.store.frames import Results, paired_differences
from fcnbook.tuning import recipes, show, worker
from fcnbook.tuning import space as search_space

TUNED_ACCURACY = ROWS[-1].accuracy  # Table 1, row 16: the report's tuned network

STUDY = selection.STUDY  # the shipped study of the full profile, and the quick profile's tiny one
QUICK_TRIALS = 6
#: The best public fully connected network known to us (hunter-lybbert/uw-central: 1024-256, batch norm, dropout
#: 0.5, Adam 1e-3, 50 epochs): its reported FashionMNIST test accuracy, mean, SD and number of runs.
PUBLIC_REFERENCE = ladder.PEER_REPORTED
HOW_TO_RUN = ("fcnbook tune --study fashion --timeout 2700 --precision bf16   # the study (validation only)\n"
              "fcnbook tune --select fashion   # finalists on seeds 1-3, then the recipe on seeds 5-9\n"
              "make book")


def study_for(S: Settings, root: Path | None = None):
    """The study of profile ``S``: the stored one (full; ``None`` when missing), or a tiny one (quick) that
    ``S``'s lab runs (:meth:`fcnbook.lab.Lab.study`) or reads."""
    try:
        return S.lab.study(STUDY[S.profile], QUICK_TRIALS, S.profile, root)
    except KeyError:
        return None


@dataclass
class Outcome:
    """What the chapter shows: the study's facts, the finalists' scores, the recipe (None until the selection is
    complete) and, once its test seeds are stored, the results of the recipe (FashionMNIST, MNIST) and of the
    report's tuned network on those seeds."""

    facts: dict
    scores: pd.DataFrame
    number: int | None
    recipe: RunConfig | None = None
    mnist_recipe: RunConfig | None = None
    res: Results | None = None
    tuned: RunConfig | None = None


def outcome(S: Settings, study) -> Outcome:
    """The chapter's numbers for ``study`` under ``S`` (in the full profile, stored runs only)."""
    from fcnbook.report import experiments
    from fcnbook.store.frames import MissingRuns

    scores = selection.scores(S, study)
    number = selection.chosen_number(scores)
    out = Outcome(study_facts(study), scores, number)
    if number is None:
        return out
    out.recipe, out.mnist_recipe = (selection.config_of(study.trials[number], ds) for ds in ("fashion", "mnist"))
    out.tuned = experiments.tuned(S)
    lab = Stored(getattr(S.lab, "root", None)) if S.profile == "full" else S.lab  # the full profile never trains
    try:
        out.res = lab.results([out.recipe, out.mnist_recipe, out.tuned], list(selection.test_seeds(S)))
    except MissingRuns:
        pass
    return out


def space_table(profile: str = "full", dataset: str = "fashion", study=None) -> pd.DataFrame:
    """The search space as a table: parameter, range, when it is sampled.

    With ``study``, each range is the one its trials were drawn from (:func:`fcnbook.tuning.sampling.searched`),
    which differs from today's declaration for a study run before a range was widened.
    """
    from fcnbook.tuning.sampling import searched

    drawn = searched(study) if study is not None else {}
    return pd.DataFrame([{"parameter": p.name, "sampled": p.when or "always",
                          "values": search_space.Param.of(p.name, drawn[p.name]).describe() if p.name in drawn
                          else p.describe()}
                         for p in search_space.space(profile, dataset)]).set_index("parameter")[["values", "sampled"]]


def study_facts(study, journal: Path | None = None) -> dict:
    """Counts by state, the summed training time of its trials (a study may run over several sessions), the stored
    size, the study's own pick by one seed, the named recipes' trials and every worker's recorded stop."""
    durations = [(t.datetime_complete - t.datetime_start).total_seconds() for t in study.trials
                 if t.datetime_start and t.datetime_complete]
    best = selection.study_pick(study)
    return {"counts": show.counts(study), "trials": len(study.trials), "trial_minutes": sum(durations) / 60,
            "journal_mb": journal.stat().st_size / 1e6 if journal is not None and journal.exists() else float("nan"),
            "best_number": best.number if best else None, "best_value": best.value if best else float("nan"),
            "recipes": recipes.trials(study), "stops": worker.stop_reasons(study),
            "unrecorded": sum("worker" not in t.user_attrs for t in study.trials)}


def top_trials(study, n: int = 8) -> pd.DataFrame:
    """The ``n`` best complete trials by their one validation accuracy: recipe name, training seconds, configuration."""
    rows = []
    for r in show.table(study, n):
        c = RunConfig.from_dict(r["config"])
        trial = study.trials[r["trial"]]
        rows.append({"trial": r["trial"], "recipe": trial.user_attrs.get("recipe", ""), "val. acc.": r["val_accuracy"],
                     "train s": round(trial.user_attrs.get("seconds", float("nan"))),
                     "configuration": f"{c.label().removesuffix(' bf16')}, {c.epochs} ep., batch {c.batch_size}"})
    return pd.DataFrame(rows).set_index("trial")


def selection_table(out: Outcome) -> pd.DataFrame:
    """The finalists as shown: seed-0 score, mean and SD over the selection seeds, counted compute, the choice."""
    t = out.scores
    seeds = f"{selection.SELECTION_SEEDS[0]}-{selection.SELECTION_SEEDS[-1]}"
    return pd.DataFrame({
        "recipe": t["recipe"], "val. acc. seed 0": t["seed 0"], f"val. mean, seeds {seeds}": t["mean"],
        "SD": t["sd"], "GFLOP per seed": [f"{g:,.0f}" for g in t["gflop"]],
        "configuration": [f"{lb.removesuffix(' bf16')}, {ep} ep." for lb, ep in zip(t["label"], t["epochs"],
                                                                                 strict=True)],
        "chosen": ["yes" if n == out.number else "" for n in t.index]}, index=t.index)


def drop_table(out: Outcome) -> pd.DataFrame:
    """Validation (selection seeds and test seeds) and test accuracy of the recipe and of the report's tuned network,
    means over seeds, and the drop from validation to test on the same seeds."""
    rows = []
    for name, config in (("recipe", out.recipe), ("report's 700-200-50", out.tuned)):
        runs = out.res.runs[out.res.runs["key"] == config.key()]
        picked = out.scores.loc[out.number, "mean"] if name == "recipe" else math.nan
        val, test = runs["final_val_accuracy"].astype(float).mean(), runs["test_accuracy"].astype(float).mean()
        rows.append({"network": name, "val. mean, seeds 1-3 (selection)": picked, "val. mean, test seeds": val,
                     "test mean": test, "val. - test": val - test})
    return pd.DataFrame(rows).set_index("network")


def _mean_sd(values) -> tuple[float, float, int]:
    v = np.asarray([x for x in values if x is not None], dtype=float)
    return (float(v.mean()) if len(v) else math.nan, float(v.std(ddof=1)) if len(v) > 1 else math.nan, len(v))


def accuracy_rows(res, config: RunConfig, label: str) -> list[dict]:
    """Rows of the results table for ``config``'s stored runs: single network, flip averaging, ensemble."""
    records = [r for r in res.records if r["key"] == config.key()]
    seconds = sum(r["seconds"] for r in records)
    rows = []
    mean, sd, n = _mean_sd(r["test_accuracy"] for r in records)
    rows.append({"model": f"{label}, one network", "test acc.": mean, "SD": sd, "n": n,
                 "train s": seconds / max(n, 1)})
    # Flip averaging only makes sense for a network that saw mirrored images in training (augment="shift_flip").
    flipped = config.augment == "shift_flip"
    flips = [r.get("extra", {}).get("tta_flip_test_accuracy") for r in records] if flipped else []
    if any(f is not None for f in flips):
        mean, sd, n = _mean_sd(flips)
        rows.append({"model": f"{label}, one network, flip avg.", "test acc.": mean, "SD": sd, "n": n,
                     "train s": seconds / max(n, 1)})
    ens = next((r["extra"]["ensemble"] for r in records if r.get("extra", {}).get("ensemble")), None)
    if ens is not None:
        k = len(ens["seeds"])
        rows.append({"model": f"{label}, ensemble of {k}", "test acc.": ens["test_accuracy"],
                     "SD": math.nan, "n": 1, "train s": seconds})
        if flipped and "tta_flip_test_accuracy" in ens:
            rows.append({"model": f"{label}, ensemble of {k}, flip avg.",
                         "test acc.": ens["tta_flip_test_accuracy"], "SD": math.nan, "n": 1,
                         "train s": seconds})
    return rows


def comparison_table(out: Outcome) -> pd.DataFrame:
    """The recipe on the test seeds against the report's network on the same seeds, the report's single run and the
    public reference; then the recipe on MNIST."""
    res = out.res
    rows = accuracy_rows(res, out.recipe, "recipe")
    mean, sd, n = _mean_sd(res.runs.loc[res.runs["key"] == out.tuned.key(), "test_accuracy"])
    secs = res.runs.loc[res.runs["key"] == out.tuned.key(), "seconds"].mean()
    rows.append({"model": "report's 700-200-50, same seeds", "test acc.": mean, "SD": sd, "n": n, "train s": secs})
    rows.append({"model": "report's single run", "test acc.": TUNED_ACCURACY, "SD": math.nan,
                 "n": 1, "train s": math.nan})
    rows.append({"model": "best public FCN (1024-256, as reported)", "test acc.": PUBLIC_REFERENCE[0],
                 "SD": PUBLIC_REFERENCE[1], "n": PUBLIC_REFERENCE[2], "train s": math.nan})
    rows += accuracy_rows(res, out.mnist_recipe, "MNIST: recipe")
    rows.append({"model": "MNIST: report's single run", "test acc.": MNIST_TUNED_ACCURACY, "SD": math.nan,
                 "n": 1, "train s": math.nan})
    return pd.DataFrame(rows).set_index("model")


def ensemble_accuracy(table: pd.DataFrame) -> float | None:
    """The test accuracy of the recipe's ensemble of seeds (mean softmax, no flip averaging) in
    :func:`comparison_table`'s table, or ``None`` when the table has none (one seed)."""
    rows = [m for m in table.index if m.startswith("recipe, ensemble of") and "flip" not in m]
    return float(table.loc[rows[0], "test acc."]) if rows else None


def gain_over_tuned(out: Outcome) -> dict:
    """The recipe minus the report's tuned network on the test seeds, paired by seed (mean, 95 % CI, p, n)."""
    return dict(paired_differences(out.res.runs, out.tuned.key(), [out.recipe.key()]).iloc[0])


def study_sentence(out: Outcome) -> str:
    """How the study ran and stopped, which recipes it started from, and how the recipe was chosen."""
    f, c = out.facts, out.facts["counts"]
    text = (f"The study holds {f['trials']} trials ({c.get('COMPLETE', 0)} complete, {c.get('PRUNED', 0)} pruned"
            f"{', ' + str(c['FAIL']) + ' failed' if c.get('FAIL') else ''}), {f['trial_minutes']:.1f} minutes of "
            "training in all.")
    if f["recipes"]:
        done = [f"{r['recipe']} (trial {r['trial']}" + (f", {r['val_accuracy']:.4f})" if r["val_accuracy"] is not None
                                                        else f", {r['state'].lower()})") for r in f["recipes"]]
        text += f" It was warm-started with the named recipes {', '.join(done)}."
    if f["stops"]:
        words = {"trials": "it held the trials asked for", "timeout": "its time-out passed",
                 "interrupted": "it was interrupted", "error": "an error stopped it"}
        last = f["stops"][-1]
        n = len(f["stops"])
        text += (f" Worker stops recorded: {n}; the last ({last['at'][:10]}): "
                 f"{words.get(last['reason'], last['reason'])}{' (' + last['detail'] + ')' if last['detail'] else ''}"
                 + (" (the workers of its first trials predate this record)." if f["unrecorded"] else "."))
    else:
        text += " Its first session predates the record of why a study stops."
    t = out.scores
    if not selection.complete(t):
        todo = int((t["n"] < len(selection.SELECTION_SEEDS)).sum())
        return text + (f" **The selection is not complete**: {todo} of {len(t)} finalists are not yet re-scored on "
                       f"seeds {selection.SELECTION_SEEDS[0]}-{selection.SELECTION_SEEDS[-1]} "
                       "(`fcnbook tune --select fashion` trains them), so no recipe is chosen yet.")
    pick, chosen = f["best_number"], t.loc[out.number]
    moved = ("the same trial as the study's own pick by one seed" if pick == out.number else
             f"not the study's own pick by one seed (trial {pick}, {t.loc[pick, 'mean']:.4f} over seeds 1-3 after "
             f"{t.loc[pick, 'seed 0']:.4f} on seed 0)" if pick in t.index else f"not the study's pick, trial {pick}")
    return text + (f" Re-scored on seeds 1-3, the {len(t)} finalists' means span {t['mean'].min():.4f} to "
                   f"{t['mean'].max():.4f}; the recipe is trial {out.number} ({chosen['mean']:.4f}, SD "
                   f"{chosen['sd']:.4f}; {chosen['seed 0']:.4f} on seed 0), {moved}.")


def pending(out: Outcome) -> str:
    """What is not yet trained for the chapter's last part (empty once the recipe's test seeds are stored)."""
    if out.res is not None or not selection.complete(out.scores):
        return ""
    return (" **The chosen recipe is not yet trained on its test seeds** (`fcnbook tune --select fashion` trains "
            "it), so its test accuracy is not shown.")


def sentence(out: Outcome, table: pd.DataFrame, shortened: bool) -> str:
    """What the chapter found, in words, from the numbers above."""
    one, config, d = table.iloc[0], out.recipe, gain_over_tuned(out)
    used = {0, *selection.SELECTION_SEEDS}  # the study's seed and the selection's
    fresh = "seeds that played no part in any choice" if not used & set(out.res.runs["seed"]) else "seeds"
    text = (f"The recipe is {config.label()}, {config.epochs} epochs, batch {config.batch_size}. Evaluated on the "
            f"test set once, over {int(one['n'])} {fresh}, one such network scores "
            f"{one['test acc.']:.4f} (SD {one['SD']:.4f}). Against the report's tuned network on the same seeds it "
            f"gains {d['mean']:+.4f}, paired by seed (95 % CI [{d['ci_low']:+.4f}, {d['ci_high']:+.4f}]). "
            f"The report's single run scored {TUNED_ACCURACY:.4f}; the best public fully connected network we know "
            f"{{cite:p}}`lybbert_uw_central` reports {PUBLIC_REFERENCE[0]:.4f} +/- {PUBLIC_REFERENCE[1]:.4f} over "
            f"{PUBLIC_REFERENCE[2]} runs (the chapter {{doc}}`13_frontier` trains it under this protocol).")
    ens = ensemble_accuracy(table)
    if ens is not None:
        text += f" The ensemble of the {int(one['n'])} networks (mean of their softmax outputs) scores {ens:.4f}."
    if config.augment != "shift_flip":
        text += (" The recipe was trained without mirrored images, so test-time flip averaging does not apply to it "
                 "(a network that never saw a mirrored garment misreads it) and is not reported.")
    if "MNIST: recipe, one network" in table.index:
        row = table.loc["MNIST: recipe, one network"]
        text += (f" On MNIST the same recipe scores {row['test acc.']:.4f} (SD {row['SD']:.4f}) against the "
                 f"report's {MNIST_TUNED_ACCURACY:.4f}.")
    if shortened:
        text = ("**Quick profile:** a tiny study on a subset; these numbers show that the chapter works, not what "
                "the recipe can do. " + text)
    return text
