"""The summary chapter's logic: Table 1 beside our runs, its verdicts, the over-fitting analysis, the sentences.

``notebooks/10_summary.py`` calls :func:`study`, shows :func:`fcnbook.report.summary_plots.styled_table1` and
:func:`fcnbook.report.summary_plots.table1_figure`, and prints the sentences of :func:`sentences`. Every function
but :func:`study` works on plain frames, so the tests feed them small hand-made inputs.

The consistency test is the book's one yardstick for a single run, :func:`fcnbook.stats.prediction.single_run`
(its construction: :func:`fcnbook.report.text.prediction_interval_method`); the verdicts come from
:mod:`fcnbook.stats.verdicts`, and Holm's adjustment (:func:`fcnbook.stats.multiplicity.holm`) controls the family
of every tested row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from fcnbook.report import experiments, paper, text
from fcnbook.report.chapters.evidence import single_runs, validation_choice
from fcnbook.report.settings import Settings
from fcnbook.stats import verdicts as v
from fcnbook.stats.multiplicity import holm
from fcnbook.stats.prediction import LEVEL, single_run
from fcnbook.stats.verdicts import BOTH_CHANCE, NO, ONE_SEED, YES
from fcnbook.store.frames import summarize

NA = ONE_SEED
#: The report's test set in batches of 256: 39 full ones and one of 16, whose accuracies its "SD" column took np.var of.
PAPER_BATCHES = 40
#: The tuned row of Table 1 (row 16) and the fifteen variations of the baseline.
TUNED_ROW = next(r for r in paper.ROWS if r.tuned)
BASE_ROWS = tuple(r.number for r in paper.ROWS if not r.tuned)


def compare(pairs, runs: pd.DataFrame) -> pd.DataFrame:
    """Table 1 beside our runs, one row per Table 1 row (indexed by row number).

    ``pairs``: :func:`fcnbook.report.experiments.table1`; ``runs``: ``Results.runs`` (``key``, ``label``,
    ``test_accuracy``, ``diverged``, ``final_val_accuracy``). Columns: ``configuration``, ``paper``,
    ``paper_sd_column`` (a variance), ``paper_se`` (its test-set SE, ``sqrt(var / 39)``), ``mean``, ``sd``,
    ``n``, ``ci_low``, ``ci_high``, ``diff`` (ours - paper), ``pi_low``, ``pi_high``, ``z``, ``df``, ``p``,
    ``p_holm``, ``verdict``, ``diverged``, ``ours_max``, ``val`` (mean final validation accuracy), ``key``.
    """
    summary = summarize(runs)
    by_key = runs.groupby("key", sort=False)
    val = validation_choice(runs, list(dict.fromkeys(c.key() for _, c in pairs)))[1]
    out = []
    for row, config in pairs:
        k, s = config.key(), summary.loc[config.key()]
        t = single_run(by_key.get_group(k)["test_accuracy"], row.accuracy)
        ours_max = float(by_key.get_group(k)["test_accuracy"].max())
        out.append({"row": row.number, "configuration": row.describe(), "paper": row.accuracy,
                    "paper_sd_column": row.sd_column, "paper_se": math.sqrt(row.sd_column / (PAPER_BATCHES - 1)),
                    **{c: float(s[c]) for c in ("mean", "sd", "ci_low", "ci_high")}, "n": int(s["n"]),
                    "diff": float(s["mean"]) - row.accuracy, "pi_low": t.interval.low, "pi_high": t.interval.high,
                    "z": t.z, "df": t.interval.df, "p": t.p,
                    "verdict": v.table1(ours_max, row.accuracy, int(s["n"]), t.p),
                    "diverged": int(by_key.get_group(k)["diverged"].sum()), "ours_max": ours_max,
                    "val": float(val[k]), "key": k})
    table = pd.DataFrame(out).set_index("row")
    tested = table["verdict"].isin([YES, NO])
    table["p_holm"] = holm(table["p"].where(tested))
    return table


def best_by_validation(table: pd.DataFrame, runs: pd.DataFrame, rows=None) -> pd.Series | None:
    """The Table 1 row chosen by :func:`fcnbook.report.chapters.evidence.validation_choice` (highest mean
    final-epoch validation accuracy among configurations without a diverged run) among ``rows`` (default all); the
    lower row number where two rows share the configuration; ``None`` if every candidate had a diverged run."""
    t = table if rows is None else table.loc[list(rows)]
    key = validation_choice(runs, list(dict.fromkeys(t["key"])))[0]
    return None if key is None else t[t["key"] == key].iloc[0]


def fitting(runs: pd.DataFrame, history: pd.DataFrame, names: dict, reference=None) -> pd.DataFrame:
    """Final-epoch eval-mode training accuracy, validation accuracy, test accuracy, their gap, the validation
    loss's rise from its minimum and the :func:`fcnbook.stats.verdicts.fit` category; mean over the runs that did
    not diverge, per configuration.

    ``names``: display name per key, in the order to show (keys without finished runs are dropped);
    ``reference``: the keys whose best training accuracy defines under-fitting (default: all of ``names``). Uses
    ``final_train_accuracy``: evaluation mode on a fixed training sample, never the training-mode running means.
    """
    ok = runs[~runs["diverged"].astype(bool)]
    finished = pd.MultiIndex.from_frame(ok[["key", "seed"]])
    vl = history[history["metric"] == "val_loss"]
    vl = vl[pd.MultiIndex.from_frame(vl[["key", "seed"]]).isin(finished)]
    rise = vl.groupby(["key", "seed"])["value"].agg(lambda x: float(x.iloc[-1] - x.min())).groupby("key").mean()
    fit = ok.groupby("key", sort=False).agg(train=("final_train_accuracy", "mean"),
                                             val=("final_val_accuracy", "mean"), test=("test_accuracy", "mean"))
    fit["gap"] = fit["train"] - fit["val"]
    fit["val_loss_rise"] = rise.reindex(fit.index)
    fit = fit.loc[[k for k in names if k in fit.index]]
    ref = fit.loc[[k for k in (reference if reference is not None else names) if k in fit.index], "train"]
    fit["best_train"] = float(ref.max()) if len(ref) else float("nan")
    fit["category"] = [v.fit(r["train"], r["val"], r["best_train"]) for _, r in fit.iterrows()]
    fit.index = [names[k] for k in fit.index]
    fit.index.name = "Row: configuration"
    return fit


# ----------------------------------------------------------------------------------------------- sentences


def _acc(r) -> str:
    sd = "" if pd.isna(r["sd"]) else f" ± {r['sd']:.4f} (SD)"
    ci = "" if pd.isna(r["ci_low"]) else f", 95 % CI [{r['ci_low']:.4f}, {r['ci_high']:.4f}]"
    return f"{r['mean']:.4f}{sd}{ci}, n = {r['n']}"


def findings(table: pd.DataFrame, runs: pd.DataFrame) -> str:
    """The chapter's main findings as a Markdown list, every number from ``table`` (:func:`compare`) and ``runs``."""
    best, best_base = best_by_validation(table, runs), best_by_validation(table, runs, BASE_ROWS)
    report = (f"The report's best figure, row {TUNED_ROW.number} at {TUNED_ROW.accuracy:.4f}, belongs to a network "
              "whose settings the report tuned while looking at test accuracies, so it is an optimistic estimate of "
              "that network's accuracy on new images.")
    if best is None:
        lines = ["- **Best configuration:** every configuration had a diverged run, so none is chosen. " + report]
    else:
        lines = [f"- **Best configuration, chosen by validation accuracy** (final epoch, mean over seeds, among "
                 f"configurations without a diverged run): row {best.name} ({best['configuration']}), "
                 f"{best['val']:.4f} on the validation split; its test accuracy, read once: {_acc(best)}. " + report]
    if best_base is not None and best is not None and best_base.name != best.name:
        lines.append(f"- Among the {text.number(len(BASE_ROWS))} variations of the baseline the best by validation is "
                     f"row {best_base.name} ({best_base['configuration']}): test accuracy {_acc(best_base)}.")
    distinct = table.drop_duplicates("key")
    bad = distinct[(distinct["diverged"] > 0) | (distinct["mean"].round(v.DIGITS) < v.CHANCE)]
    if len(bad):
        lines.append("- **Diverged or at chance** (chance is 0.1): " + "; ".join(
            f"row {r} ({x['configuration']}): mean {x['mean']:.4f}, {x['diverged']} of {x['n']} runs diverged, "
            f"report {x['paper']:.4f}" for r, x in bad.iterrows()) + ".")
    else:
        lines.append(f"- No configuration diverged or stayed at chance (mean below {v.CHANCE:g}).")
    lines.append(agreement(table))
    one, two = (table.loc[i] for i in paper.IDENTICAL_ROWS)
    lines.append(f"- **Rows 1 and 2** are one configuration, printed as {one['paper']:.4f} and {two['paper']:.4f} "
                 f"({abs(one['paper'] - two['paper']):.4f} apart). Whether two runs of the original code differ "
                 "that much by chance is measured in the next chapter, on the original protocol.")
    return "\n".join(lines)


def agreement(table: pd.DataFrame) -> str:
    """One list item: how many rows agree, how many "no" verdicts chance alone would give, Holm's verdict."""
    counts = table["verdict"].value_counts()
    m = int(counts.get(YES, 0) + counts.get(NO, 0))
    if m == 0:
        return "- **Agreement with the report:** no row can be tested (one seed, or every row at chance)."
    no, alpha = table[table["verdict"] == NO], v.ALPHA
    out = (f"- **Agreement with the report:** the report's single run lies inside our {text.pct(LEVEL)} prediction "
           f"interval for {counts.get(YES, 0)} of the {m} rows tested")
    if counts.get(BOTH_CHANCE, 0):
        both = [str(r) for r in table.index[table["verdict"] == BOTH_CHANCE]]
        out += ((f"; row {both[0]} is" if len(both) == 1 else f"; rows {', '.join(both)} are")
                + " at chance both here and in the report and not tested")
    out += (f". If every report figure were one more run of our configuration, about {alpha * m:.1f} of {m} rows "
            f"would still fall outside by chance (each with probability {alpha:g}); here {len(no)} do.")
    if len(no):
        worst = no.loc[no["z"].abs().idxmax()]
        held = no[[v.detectable(p) for p in no["p_holm"]]]
        out += (f" The farthest is row {worst.name} ({worst['configuration']}): ours − report = "
                f"{worst['diff']:+.4f}, z = {worst['z']:+.2f}. After Holm's adjustment over the {m} rows tested, ")
        rows = ", ".join(f"row {r} (adjusted p {text.p_value(x['p_holm'], True)})" for r, x in held.iterrows())
        out += (f"{len(held)} row(s) still differ at the family-wise {alpha:g} level: {rows}." if len(held)
                else f"no row differs at the family-wise {alpha:g} level.")
    return out


def _rows(fit: pd.DataFrame, category: str, column: str, fmt: str) -> str:
    return "; ".join(f"row {i} ({x:{fmt}})" for i, x in fit.loc[fit["category"] == category, column].items())


def fitting_sentences(fit: pd.DataFrame) -> str:
    """Over- and under-fitting statements from :func:`fitting`'s table: one category per configuration
    (:func:`fcnbook.stats.verdicts.fit`), so the lists never overlap."""
    if fit.empty:
        return "Every run diverged, so there is no training history to compare."
    n = fit["category"].value_counts()
    rising = fit[[v.loss_rose(x) for x in fit["val_loss_rise"]]]
    top = fit["best_train"].iloc[0]
    lines = [f"- Each configuration falls in one category, tested in this order: *at chance* (training accuracy "
             f"below {v.CHANCE:g}), *over-fitting* (train − validation gap above {v.OVERFIT_GAP:g}), *under-fitting* "
             f"(training accuracy at least {v.UNDERFIT:g} below the best of the {text.number(len(BASE_ROWS))} "
             f"variations of the baseline, {top:.4f}: the same network and epochs), else neither.",
             f"- The median final train − validation gap is {fit['gap'].median():+.4f}; the largest is "
             f"{fit['gap'].max():+.4f}, for row {fit['gap'].idxmax()}."]
    lines.append(f"- Over-fitting, {n.get(v.OVER, 0)} configuration(s): " + _rows(fit, v.OVER, "gap", "+.4f") + "."
                 if n.get(v.OVER, 0) else f"- No configuration's gap exceeds {v.OVERFIT_GAP:g}: none over-fits.")
    lines.append(f"- Under-fitting, {n.get(v.UNDER, 0)} configuration(s): " + _rows(fit, v.UNDER, "train", ".4f")
                 + "; these networks fit even their training images markedly worse than the best, too slow a "
                 "learning for the epochs they get, or stuck." if n.get(v.UNDER, 0) else
                 "- No configuration under-fits by this rule.")
    if n.get(v.AT_CHANCE, 0):
        lines.append("- At chance: " + _rows(fit, v.AT_CHANCE, "train", ".4f") + ".")
    lines.append(f"- In {len(rising)} configuration(s) the validation loss ended more than {v.LOSS_RISE:g} above its "
                 "minimum, so later epochs made predictions on unseen images worse: "
                 + "; ".join(f"row {i} (+{x:.3f})" for i, x in rising["val_loss_rise"].items()) + "."
                 if len(rising) else f"- In no configuration did the validation loss end more than {v.LOSS_RISE:g} "
                 "above its minimum.")
    return "\n".join(lines)


def anchors(tuned_runs, mnist_runs) -> str:
    """The report's other figures as one family, each against the prediction interval of our runs: the tuned
    network on MNIST (``mnist_runs``) and the tuned network's notebook output (``tuned_runs``, row 16's); and the
    "SVD classifier", which is no test accuracy."""
    mnist_runs, tuned_runs = list(mnist_runs), list(tuned_runs)
    figures = single_runs({"MNIST": (mnist_runs, paper.MNIST_TUNED_ACCURACY),
                           "notebook": (tuned_runs, paper.TUNED_NOTEBOOK_ACCURACY)})
    mnist, nb = (text.single_run(r, "the report") for _, r in figures.iterrows())
    note = " (Holm over the report's two other figures)" if (figures["verdict"] != v.CONSISTENT).any() else ""
    sd = math.sqrt(paper.MNIST_TUNED_SD_COLUMN)
    return "\n".join([
        f"- **MNIST, tuned network:** the report gives {paper.MNIST_TUNED_ACCURACY:.4f} (its \"SD\" "
        f"{paper.MNIST_TUNED_SD_COLUMN:g} is again a variance, i.e. an SD of {sd:.4f} between test batches); our "
        f"{len(mnist_runs)} seeds average {figures.loc['MNIST', 'mean']:.4f}; {mnist}{note}.",
        f"- **Tuned network, the report's own notebook:** it printed {paper.TUNED_NOTEBOOK_ACCURACY:.4f} for the "
        f"configuration of row {TUNED_ROW.number} (the PDF's {TUNED_ROW.accuracy:.4f} came from another run); {nb}"
        f"{note}.",
        f"- **The \"SVD classifier\" ({paper.SVD_CLASSIFIER_ACCURACY:.4f}):** an RBF support vector machine scored "
        "on its own training images in the report's code, so not a test accuracy; the SVD classifier chapter "
        "measures it both ways."])


def method(table: pd.DataFrame) -> str:
    """How the comparison is made: the prediction interval's construction and the family's size."""
    m = int(table["verdict"].isin([YES, NO]).sum())
    n = int(table["n"].max()) if len(table) else 0
    return (text.prediction_interval_method(LEVEL, max(n, 2))
            + f" Here {m} rows are tested, each at the {v.ALPHA:g} level, so about {v.ALPHA * m:.1f} \"no\" verdicts "
            "would appear by chance alone; the table therefore also gives Holm's adjusted $p$ over those rows. Rows "
            f"where every run of ours and the report's figure sit below {v.CHANCE:g} are \"both at chance\" and not "
            "tested.")


# ----------------------------------------------------------------------------------------------- study


@dataclass(frozen=True)
class Summary:
    """Everything the summary chapter shows: see :func:`study`."""

    S: Settings
    table: pd.DataFrame
    runs: pd.DataFrame
    fit: pd.DataFrame
    mnist: pd.Series  # the tuned network's MNIST test accuracies, by seed


def study(S: Settings) -> Summary:
    """Table 1's configurations and the tuned network on MNIST, from ``S``'s lab, compared with the report."""
    pairs = experiments.table1(S)
    res = S.results(c for _, c in pairs)
    names = {c.key(): f"{r.number}: {r.describe()}" for r, c in reversed(pairs)}  # row 1 names the shared key
    names = {k: names[k] for k in dict.fromkeys(c.key() for _, c in pairs)}
    reference = [c.key() for r, c in pairs if r.number in BASE_ROWS]
    mnist = S.results([experiments.tuned(S, "mnist")]).runs.set_index("seed")["test_accuracy"]
    return Summary(S, compare(pairs, res.runs), res.runs, fitting(res.runs, res.history, names, reference), mnist)


def sentences(s: Summary) -> dict[str, str]:
    """The chapter's Markdown: ``settings``, ``method``, ``findings``, ``fitting`` and ``anchors``."""
    tuned = s.runs.loc[s.runs["key"] == s.table.loc[TUNED_ROW.number, "key"], "test_accuracy"]
    return {"settings": text.settings_note(s.S, experiments.is_shortened(s.S)), "method": method(s.table),
            "findings": findings(s.table, s.runs), "fitting": fitting_sentences(s.fit),
            "anchors": anchors(tuned, s.mnist)}
