"""The summary chapter's logic: Table 1 beside our runs, its verdicts, the over-fitting analysis, the sentences.

``notebooks/10_summary.py`` reads its parameters, calls :func:`study`, shows :func:`styled_table1` and
:func:`table1_figure`, and prints the sentences of :func:`sentences`. Every function but :func:`study` works on
plain frames, so the tests feed them small hand-made inputs.

The consistency test. The report's figure ``y`` is one run; ours are ``n`` runs with mean ``m`` and SD ``s``.
If ``y`` were one more run of our configuration, ``(y - m) / (s * sqrt(1 + 1/n))`` would follow Student's t with
``n - 1`` degrees of freedom, so the 95 % prediction interval is ``m ± t(0.975, n-1) * s * sqrt(1 + 1/n)``
(``± 3.04 s`` for ``n = 5``; ``± 2 s`` holds only about 86 % of new runs there). To that variance we add
``y (1 - y) / 10 000``, the binomial sampling error of one accuracy measured on the 10 000 test images: the
report's run is scored on the same images as ours, but under a protocol that differs in details (validation
split, pixel scaling, per-batch averaging), so the part of the test-set noise that our seeds share need not
cancel. Our seed-to-seed SD already holds the part that differs between runs, so the added term is a
conservative allowance (it can only widen the interval). The degrees of freedom follow Welch-Satterthwaite
(the added term is known, so they are at least ``n - 1``); ``z`` is the standardised difference, ``p`` its
two-sided t probability, and Holm's step-down adjustment controls the family of all tested rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fcnbook.report import experiments, paper
from fcnbook.report.chapters.findings import CHANCE, OVERFIT_GAP, validation_choice
from fcnbook.report.settings import Settings
from fcnbook.report.text import p_value
from fcnbook.store.frames import summarize

LEVEL = 0.95
N_TEST = 10_000
#: Ten classes: chance is 0.1; a configuration whose every run (or the report's figure) stays below this is "at chance".
AT_CHANCE = CHANCE
#: The report's test set in batches of 256: 39 full ones and one of 16, whose accuracies its "SD" column took np.var of.
PAPER_BATCHES = 40
GAP = OVERFIT_GAP  # final train (eval mode) - validation accuracy above this: a sign of over-fitting
RISE = 0.02  # validation loss ending this far above its minimum: later epochs made it worse
UNDERFIT = 0.05  # final training accuracy this far below the best configuration's: under-fitting
YES, NO, BOTH_CHANCE, NA = "yes", "no", "both at chance", "n/a (one seed)"


def prediction_test(mean, sd, n, y, *, level=LEVEL, n_test=N_TEST, test_noise=True) -> dict:
    """Where the single run ``y`` lies against ``n`` runs of mean ``mean`` and SD ``sd`` (module docstring).

    Returns ``se``, ``df``, ``z`` (ours minus ``y``, in units of ``se``), ``p`` (two-sided) and the prediction
    interval ``low``, ``high`` (clipped to [0, 1], where accuracies live); NaN for ``n < 2``.
    ``test_noise=False`` leaves out ``y (1 - y) / n_test``: the plain t prediction interval.
    """
    from scipy import stats

    a = sd * sd * (1 + 1 / n) if n > 1 and sd == sd else math.nan
    b = y * (1 - y) / n_test if test_noise else 0.0
    if a != a or a + b == 0:
        return {"se": math.nan, "df": math.nan, "z": math.nan, "p": math.nan, "low": math.nan, "high": math.nan}
    df = math.inf if a == 0 else (a + b) ** 2 / (a * a / (n - 1))
    se = math.sqrt(a + b)
    z = (mean - y) / se
    half = float(stats.t.ppf(0.5 + level / 2, df)) * se
    return {"se": se, "df": df, "z": z, "p": float(2 * stats.t.sf(abs(z), df)), "low": max(0.0, mean - half),
            "high": min(1.0, mean + half)}


def holm(p) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN entries stay NaN and do not count)."""
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    idx = np.flatnonzero(~np.isnan(p))
    order = idx[np.argsort(p[idx], kind="stable")]
    m, running = len(order), 0.0
    for i, j in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[j]))
        out[j] = running
    return out


def verdict(ours_max: float, y: float, n: int, p: float, level: float = LEVEL) -> str:
    """``both at chance`` when every run and the report's figure lie below :data:`AT_CHANCE`; ``n/a`` with one
    seed; else ``yes`` when ``p >= 1 - level`` (inside the prediction interval), ``no`` otherwise."""
    if ours_max < AT_CHANCE and y < AT_CHANCE:
        return BOTH_CHANCE
    if n < 2 or p != p:
        return NA
    return YES if p >= 1 - level else NO


def compare(pairs, runs: pd.DataFrame, *, level=LEVEL, n_test=N_TEST, test_noise=True) -> pd.DataFrame:
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
        t = prediction_test(s["mean"], s["sd"], int(s["n"]), row.accuracy, level=level, n_test=n_test,
                            test_noise=test_noise)
        ours_max = float(by_key.get_group(k)["test_accuracy"].max())
        out.append({"row": row.number, "configuration": row.describe(), "paper": row.accuracy,
                    "paper_sd_column": row.sd_column, "paper_se": math.sqrt(row.sd_column / (PAPER_BATCHES - 1)),
                    **{c: float(s[c]) for c in ("mean", "sd", "ci_low", "ci_high")}, "n": int(s["n"]),
                    "diff": float(s["mean"]) - row.accuracy, "pi_low": t["low"], "pi_high": t["high"], "z": t["z"],
                    "df": t["df"], "p": t["p"], "verdict": verdict(ours_max, row.accuracy, int(s["n"]), t["p"], level),
                    "diverged": int(by_key.get_group(k)["diverged"].sum()), "ours_max": ours_max,
                    "val": float(val[k]), "key": k})
    table = pd.DataFrame(out).set_index("row")
    tested = table["verdict"].isin([YES, NO])
    table["p_holm"] = holm(table["p"].where(tested))
    return table


def best_by_validation(table: pd.DataFrame, runs: pd.DataFrame, rows=None) -> pd.Series | None:
    """The Table 1 row chosen by :func:`fcnbook.report.chapters.findings.validation_choice` (highest mean final-epoch
    validation
    accuracy among configurations without a diverged run) among ``rows`` (default all); the lower row number
    where two rows share the configuration; ``None`` if every candidate had a diverged run."""
    t = table if rows is None else table.loc[list(rows)]
    key = validation_choice(runs, list(dict.fromkeys(t["key"])))[0]
    return None if key is None else t[t["key"] == key].iloc[0]


def fitting(runs: pd.DataFrame, history: pd.DataFrame, names: dict) -> pd.DataFrame:
    """Final-epoch eval-mode training accuracy, validation accuracy, test accuracy, their gap and the
    validation loss's rise from its minimum; mean over the runs that did not diverge, per configuration.

    ``names``: display name per key, in the order to show (keys without finished runs are dropped). Uses
    ``final_train_accuracy``: evaluation mode on a fixed training sample, never the training-mode running means.
    """
    ok = runs[~runs["diverged"].astype(bool)]
    finished = pd.MultiIndex.from_frame(ok[["key", "seed"]])
    vl = history[history["metric"] == "val_loss"]
    vl = vl[pd.MultiIndex.from_frame(vl[["key", "seed"]]).isin(finished)]
    rise = vl.groupby(["key", "seed"])["value"].agg(lambda v: float(v.iloc[-1] - v.min())).groupby("key").mean()
    fit = ok.groupby("key", sort=False).agg(train=("final_train_accuracy", "mean"),
                                             val=("final_val_accuracy", "mean"), test=("test_accuracy", "mean"))
    fit["gap"] = fit["train"] - fit["val"]
    fit["val_loss_rise"] = rise.reindex(fit.index)
    fit = fit.loc[[k for k in names if k in fit.index]]
    fit.index = [names[k] for k in fit.index]
    fit.index.name = "Row: configuration"
    return fit


# ----------------------------------------------------------------------------------------------- sentences


def _pct(level: float) -> str:
    return f"{level * 100:g} %"


def _acc(r) -> str:
    sd = "" if pd.isna(r["sd"]) else f" ± {r['sd']:.4f} (SD)"
    ci = "" if pd.isna(r["ci_low"]) else f", 95 % CI [{r['ci_low']:.4f}, {r['ci_high']:.4f}]"
    return f"{r['mean']:.4f}{sd}{ci}, n = {r['n']}"


def findings(table: pd.DataFrame, runs: pd.DataFrame, level: float = LEVEL) -> str:
    """The chapter's main findings as a Markdown list, every number from ``table`` (:func:`compare`) and ``runs``."""
    base_rows = [r.number for r in paper.ROWS if not r.tuned]
    best, best_base = best_by_validation(table, runs), best_by_validation(table, runs, base_rows)
    report = ("The report's best figure, row 16 at 0.9011, belongs to a network whose settings the report tuned "
              "while looking at test accuracies, so it is an optimistic estimate of that network's accuracy on new "
              "images.")
    if best is None:
        lines = ["- **Best configuration:** every configuration had a diverged run, so none is chosen. " + report]
    else:
        lines = [f"- **Best configuration, chosen by validation accuracy** (final epoch, mean over seeds, among "
                 f"configurations without a diverged run): row {best.name} ({best['configuration']}), "
                 f"{best['val']:.4f} on the validation split; its test accuracy, read once: {_acc(best)}. " + report]
    if best_base is not None and best is not None and best_base.name != best.name:
        lines.append(f"- Among the fifteen variations of the baseline the best by validation is row {best_base.name} "
                     f"({best_base['configuration']}): test accuracy {_acc(best_base)}.")
    distinct = table.drop_duplicates("key")
    bad = distinct[(distinct["diverged"] > 0) | (distinct["mean"] < AT_CHANCE)]
    if len(bad):
        lines.append("- **Diverged or at chance** (chance is 0.1): " + "; ".join(
            f"row {r} ({x['configuration']}): mean {x['mean']:.4f}, {x['diverged']} of {x['n']} runs diverged, "
            f"report {x['paper']:.4f}" for r, x in bad.iterrows()) + ".")
    else:
        lines.append(f"- No configuration diverged or stayed at chance (mean below {AT_CHANCE}).")
    lines.append(agreement(table, level))
    one, two = (table.loc[i] for i in paper.IDENTICAL_ROWS)
    lines.append(f"- **Rows 1 and 2** are one configuration, printed as {one['paper']:.4f} and {two['paper']:.4f} "
                 f"({abs(one['paper'] - two['paper']):.4f} apart). Whether two runs of the original code differ "
                 "that much by chance is measured in the next chapter, on the original protocol.")
    return "\n".join(lines)


def agreement(table: pd.DataFrame, level: float = LEVEL) -> str:
    """One list item: how many rows agree, how many "no" verdicts chance alone would give, Holm's verdict."""
    counts = table["verdict"].value_counts()
    m = int(counts.get(YES, 0) + counts.get(NO, 0))
    if m == 0:
        return "- **Agreement with the report:** no row can be tested (one seed, or every row at chance)."
    no = table[table["verdict"] == NO]
    alpha = 1 - level
    text = (f"- **Agreement with the report:** the report's single run lies inside our {_pct(level)} prediction "
            f"interval for {counts.get(YES, 0)} of the {m} rows tested")
    if counts.get(BOTH_CHANCE, 0):
        both = [str(r) for r in table.index[table["verdict"] == BOTH_CHANCE]]
        text += (f"; row {both[0]} is" if len(both) == 1 else f"; rows {', '.join(both)} are") + \
            " at chance both here and in the report and not tested"
    text += (f". If every report figure were one more run of our configuration, about {alpha * m:.1f} of {m} rows "
             f"would still fall outside by chance (each with probability {alpha:.2f}); here {len(no)} do.")
    if len(no):
        worst = no.loc[no["z"].abs().idxmax()]
        held = no[no["p_holm"] < alpha]
        text += (f" The farthest is row {worst.name} ({worst['configuration']}): ours − report = "
                 f"{worst['diff']:+.4f}, z = {worst['z']:+.2f}. After Holm's adjustment for {m} tests, ")
        rows = ", ".join(f"row {r} (adjusted p {p_value(x['p_holm'], relation=True)})" for r, x in held.iterrows())
        text += (f"{len(held)} row(s) still differ at the {alpha:.2f} level: {rows}." if len(held)
                 else f"no row differs at the family-wise {alpha:.2f} level.")
    return text


def fitting_sentences(fit: pd.DataFrame) -> str:
    """Over- and under-fitting statements from :func:`fitting`'s table, each conditional on its numbers."""
    if fit.empty:
        return "Every run diverged, so there is no training history to compare."
    over, rising = fit[fit["gap"] > GAP], fit[fit["val_loss_rise"] > RISE]
    top = fit["train"].max()
    under = fit[fit["train"] <= top - UNDERFIT]
    lines = [f"- The median final train − validation gap is {fit['gap'].median():+.4f}; the largest is "
             f"{fit['gap'].max():+.4f}, for row {fit['gap'].idxmax()}."]
    lines.append(f"- {len(over)} configuration(s) fit their training images more than {GAP} better than the validation "
                 "images, a sign of over-fitting: " + "; ".join(f"row {i} ({g:+.4f})" for i, g in over["gap"].items())
                 + "." if len(over) else f"- No configuration's gap exceeds {GAP}: none over-fits by that measure.")
    lines.append(f"- In {len(rising)} configuration(s) the validation loss ended more than {RISE} above its "
                 "minimum, so later epochs made predictions on unseen images worse: "
                 + "; ".join(f"row {i} (+{v:.3f})" for i, v in rising["val_loss_rise"].items()) + "."
                 if len(rising) else f"- In no configuration did the validation loss end more than {RISE} above its "
                 "minimum.")
    lines.append(f"- Under-fitting (final training accuracy at least {UNDERFIT} below the best, {top:.4f}): "
                 + "; ".join(f"row {i} ({v:.4f})" for i, v in under["train"].items()) + "; these networks do not "
                 "fit even their training images, too slow a learning for the epochs they get, or stuck."
                 if len(under) else f"- Every configuration's final training accuracy is within {UNDERFIT} of the best "
                 f"({top:.4f}): none under-fits markedly against the others.")
    return "\n".join(lines)


def anchors(table: pd.DataFrame, mnist: pd.Series, level: float = LEVEL) -> str:
    """The report's other figures: tuned on MNIST, the tuned network's notebook output, the "SVD classifier"."""
    def against(y, s):
        t = prediction_test(s["mean"], s["sd"], int(s["n"]), y, level=level)
        if t["p"] != t["p"]:
            return "one seed, so no interval"
        inside = "inside" if t["p"] >= 1 - level else "outside"
        return (f"{inside} our {_pct(level)} prediction interval [{t['low']:.4f}, {t['high']:.4f}], "
                f"z = {t['z']:+.2f}")

    tuned = table.loc[16]
    sd = math.sqrt(paper.MNIST_TUNED_SD_COLUMN)
    return "\n".join([
        f"- **MNIST, tuned network:** the report gives {paper.MNIST_TUNED_ACCURACY:.4f} (its \"SD\" "
        f"{paper.MNIST_TUNED_SD_COLUMN:g} is again a variance, i.e. an SD of {sd:.4f} between test batches); here "
        f"{_acc(mnist)}; the report's figure is {against(paper.MNIST_TUNED_ACCURACY, mnist)}.",
        f"- **Tuned network, the report's own notebook:** it printed {paper.TUNED_NOTEBOOK_ACCURACY:.4f} for the "
        f"configuration of row 16 (the PDF's 0.9011 came from another run); that figure is "
        f"{against(paper.TUNED_NOTEBOOK_ACCURACY, tuned)}.",
        f"- **The \"SVD classifier\" ({paper.SVD_CLASSIFIER_ACCURACY:.4f}):** an RBF support vector machine scored "
        "on its own training images in the report's code, so not a test accuracy; the SVD classifier chapter "
        "measures it both ways."])


def settings_note(S: Settings) -> str:
    """What the results below were computed with, and a warning for shortened runs."""
    images = "all training images" if S.subset is None else f"a stratified subset of {S.subset} images"
    short = experiments.is_shortened(S)
    return (f"Results below: profile **{S.profile}**: {S.epochs} epochs ({S.long_epochs} for the tuned "
            f"network), seeds {', '.join(map(str, S.seeds))}, {images}."
            + (" This is a shortened run, so its numbers are **not** comparable with the report's; build the book "
               "with the full profile for the real comparison." if short else ""))


# ----------------------------------------------------------------------------------------------- study


@dataclass
class Summary:
    """Everything the summary chapter shows: see :func:`study`."""

    S: Settings
    table: pd.DataFrame
    runs: pd.DataFrame
    fit: pd.DataFrame
    mnist: pd.Series
    level: float = LEVEL


def study(S: Settings, level: float = LEVEL) -> Summary:
    """Table 1's configurations and the tuned network on MNIST, from ``S``'s lab, compared with the report."""
    pairs = experiments.table1(S)
    res = S.results(c for _, c in pairs)
    names = {c.key(): f"{r.number}: {r.describe()}" for r, c in reversed(pairs)}  # row 1 names the shared key
    names = {k: names[k] for k in dict.fromkeys(c.key() for _, c in pairs)}
    mnist = S.results([experiments.tuned(S, "mnist")]).summary().iloc[0]
    return Summary(S, compare(pairs, res.runs, level=level), res.runs, fitting(res.runs, res.history, names), mnist,
                   level)


def sentences(s: Summary) -> dict[str, str]:
    """The chapter's Markdown: ``settings``, ``findings``, ``fitting`` and ``anchors``."""
    return {"settings": settings_note(s.S), "findings": findings(s.table, s.runs, s.level),
            "fitting": fitting_sentences(s.fit), "anchors": anchors(s.table, s.mnist, s.level)}
