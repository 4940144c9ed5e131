"""The book's opening page: what the book finds, one bullet per finding, each computed by the chapter that owns it.

``notebooks/00_findings.py`` (the root of ``book/_toc.yml``, executed after every other section) calls
:func:`gather` and shows :func:`bullets`. Nothing here trains or fits: the numbers are read from the results folder
through the chapters' own studies (:func:`fcnbook.report.chapters.summary.study`,
:func:`fcnbook.report.chapters.protocol.study`, the beyond chapter's stored study) with a lab that only reads, and
from the SVD chapter's cache. A finding whose results are not in the store says so and names its chapter.

Every bullet ends with a link to its chapter (``{doc}`` roles, which the book renders because Markdown outputs are
parsed as MyST).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fcnbook.report import experiments, ladder, paper
from fcnbook.report.chapters import beyond, distill_check, frontier, protocol, summary
from fcnbook.report.settings import Settings, Stored
from fcnbook.report.text import and_
from fcnbook.stats import verdicts as v
from fcnbook.stats.prediction import single_run
from fcnbook.store.frames import MissingRuns

LEVEL = summary.LEVEL
#: Each finding's chapter (the page its bullet links to).
CHAPTERS = {"table1": "10_summary", "choice": "03_optimizers", "noise": "11_protocol", "svd": "09_svd_classifier",
            "beyond": "07b_beyond", "mnist": "08_mnist_transfer", "frontier": "13_frontier"}


class Reader(Stored):
    """The store, read only; the protocol chapter's bias check (computed, never stored) is not needed here."""

    def bias_check(self):
        return None


def _link(name: str) -> str:
    return f"({{doc}}`{CHAPTERS[name]}`)"


def _missing(name: str, why: Exception) -> str:
    return (f"- *Not available:* the results of {{doc}}`{CHAPTERS[name]}` are not in this results folder "
            f"({type(why).__name__}); build the book (`fcnbook book`) to compute them.")


# ----------------------------------------------------------------------------------------------- the bullets


def table1_bullet(s: summary.Summary) -> str:
    """How many of Table 1's rows the report's single runs agree with, from the summary chapter's verdicts."""
    counts = s.table["verdict"].value_counts()
    yes, no = int(counts.get(summary.YES, 0)), int(counts.get(summary.NO, 0))
    chance = [str(r) for r in s.table.index[s.table["verdict"] == summary.BOTH_CHANCE]]
    text = (f"- **Table 1 reproduced.** Every row of the report's Table 1 was retrained with {len(s.S.seeds)} "
            f"seeds; the report's single run lies inside our {LEVEL * 100:g} % {{term}}`prediction interval` for "
            f"one more run in **{yes} of the {yes + no} rows** that can be tested")
    if chance:
        text += (f" (row {chance[0]} stays at chance" if len(chance) == 1 else
                 f" (rows {', '.join(chance)} stay at chance") + " here and in the report, and is not tested)"
    if no:
        outside = ", ".join(str(r) for r in s.table.index[s.table["verdict"] == summary.NO])
        held = int((s.table["p_holm"] < 1 - LEVEL).sum())
        text += (f"; outside: row(s) {outside}, of which {held} still differ(s) after {{term}}`Holm's adjustment` "
                 f"for {yes + no} tests")
    return text + f". {_link('table1')}"


def choice_bullet(s: summary.Summary) -> str:
    """The best of Table 1's baseline variations by validation accuracy, and the rows that diverged."""
    base_rows = [r.number for r in paper.ROWS if not r.tuned]
    best = summary.best_by_validation(s.table, s.runs, base_rows)
    distinct = s.table.drop_duplicates("key")
    bad = distinct[(distinct["diverged"] > 0) | (distinct["mean"] < v.CHANCE)]
    text = "- **What the choices do.** "
    if best is not None:
        text += (f"Chosen on the validation split, the best of the fifteen variations of the baseline is row "
                 f"{best.name} ({best['configuration']}), {best['mean']:.4f} on the test set against "
                 f"{s.table.loc[1, 'mean']:.4f} for the baseline. ")
    if len(bad):
        text += ("Diverged or at chance: " + "; ".join(
            f"row {r} ({x['configuration']}): mean {x['mean']:.4f}"
            + (f", {x['diverged']} of {x['n']} runs diverged" if x["diverged"] else "") for r, x in bad.iterrows())
            + ". ")
    return text + _link("choice")


def noise_bullet(p: protocol.Protocol) -> str:
    """The run-to-run spread of the report's own protocol, and what it says about rows 1 and 2 (the verdict of
    :func:`fcnbook.report.chapters.protocol.gap_sentence`)."""
    from scipy import stats

    g, alpha = p.gap, 1 - p.level
    a, b = protocol.REPORT_PAIR
    spread = float(stats.t.ppf(1 - alpha / 2, g["n"] - 1)) * g["sd_diff"]
    verdict = {  # the protocol chapter's rule (fcnbook.stats.verdicts.run_gap), in this page's words
        v.BEYOND: "more than run-to-run variation explains, so something else differed between the two runs",
        v.UNUSUAL: "unusual for two runs of one configuration, though chance cannot be ruled out",
        v.WITHIN: "within run-to-run variation"}[v.run_gap(g["p"], g["p_high"])]
    return (f"- **The noise floor.** Under the report's own protocol (a validation split drawn without a seed, "
            f"MNIST's pixel scaling) one run of the baseline varies with an SD of {g['sd']:.4f}, so two runs of one "
            f"configuration land more than {spread:.4f} apart one time in twenty: a smaller difference between two "
            f"single runs says nothing about the settings. The report's rows 1 and 2, one configuration run twice "
            f"({a:.4f} and {b:.4f}), are {g['gap']:.4f} apart: {verdict} (probability {g['p']:.2g}). "
            f"{_link('noise')}")


def svd_bullet(fit: dict) -> str:
    """What the report's "SVD classifier" figure was, from the SVD chapter's cached refit of ``SVC()``."""
    P = paper.SVD_CLASSIFIER_ACCURACY
    n = f"{int(fit['n_train']):,}".replace(",", "\u2009")
    return (f"- **The \"SVD classifier\" was not a test accuracy.** The report's {P:.4f} came from scikit-learn's "
            f"default `SVC()` scored on the images it was fitted on. Refitted on {n} training images it scores "
            f"{fit['train_accuracy']:.4f} on those same images (the report's figure is "
            f"{abs(P - fit['train_accuracy']):.4f} away) but {fit['test_accuracy']:.4f} on the test set. "
            f"{_link('svd')}")


def beyond_bullet(out: beyond.Outcome) -> str:
    """The recipe the validation-only search chose, and its paired gain over the report's tuned network."""
    table = beyond.comparison_table(out)
    one, d, config = table.iloc[0], beyond.gain_over_tuned(out), out.recipe
    named = next((r["recipe"] for r in out.facts["recipes"] if r["trial"] == out.number), None)
    known = f", one of the {len(out.facts['recipes'])} known recipes it started from (`{named}`)" if named else ""
    text = (f"- **The best fully connected network the search found.** A validation-only search of "
            f"{out.facts['trials']} trials, its finalists re-scored on three more seeds, chose {config.label()} "
            f"({config.epochs} epochs){known}: {one['test acc.']:.4f} on the test set (mean of {int(one['n'])} "
            f"fresh seeds, SD {one['SD']:.4f}), {d['mean']:+.4f} over the report's tuned network on the same seeds "
            f"(95 % CI [{d['ci_low']:+.4f}, {d['ci_high']:+.4f}], paired) and "
            f"{one['test acc.'] - beyond.TUNED_ACCURACY:+.4f} against the report's single run, "
            f"{beyond.TUNED_ACCURACY:.4f}")
    ens = beyond.ensemble_accuracy(table)
    if ens is not None:
        text += f"; the {{term}}`ensemble` of its seeds scores {ens:.4f}"
    return text + f". {_link('beyond')}"


def frontier_bullet(f: frontier.Frontier, check: distill_check.Check | None = None) -> str:
    """The ladder's best single network, what helped by Holm's rule, the peer under the same protocol, the targets,
    and the distillation ``check`` when it is stored."""
    t = f.rungs
    first, best = t.iloc[0], t.loc[frontier.chosen(t)]
    said = frontier.by_verdict(t)
    so_far = " so far" if len(f.pending) else ""  # rungs still to train
    text = (f"- **How far one fully connected network goes.** Adding one ingredient at a time to the report's tuned "
            f"network, on fresh seeds 5-9, the best single network{so_far} by validation accuracy (the "
            f"**{best.name}** rung) scores {best['mean']:.4f} (SD {best['sd']:.4f}), "
            f"{best['mean'] - first['mean']:+.4f} over the report's network as its code ran it; of the "
            f"{len(t) - 1} ingredients trained{so_far}, {and_(said['helps']) or 'none'} helped by Holm's rule"
            + (f"; {and_(said['hurts'])} cost accuracy" if said["hurts"] else ""))
    if "peer" in f.others.index:
        text += f"; the public peer's recipe scores {f.others.loc['peer', 'mean']:.4f} under the same protocol"
    mnist = frontier.taught_by(best.name, ladder.ON_MNIST, f.others)
    measured = {"one network": ("single", best["mean"]),  # ensembles are held to the ensemble target only
                "the ensemble of its seeds": ("ensemble", f.ensembles.get(best.name)),
                "the same network on MNIST": ("mnist", f.others.loc[mnist, "mean"] if mnist in f.others.index
                                              else None)}
    text += ". Against the frontier's targets: " + "; ".join(
        f"{words} {got:.4f} (target {frontier.TARGETS[name]:.3f}, {frontier.against_target(got, name)})"
        for words, (name, got) in measured.items() if got is not None)
    taught = frontier.taught_by(best.name, ladder.TEACHERS, f.others)
    share = frontier.gap_closed(f, taught) if taught else float("nan")
    if np.isfinite(share):
        text += (f"; distilled back into one network, the ensemble keeps {f'{share:.0%}' if share > 0 else 'none'} "
                 f"of its gain over one network (target {frontier.DISTILL_TARGET:.0%}, "
                 f"{frontier.distilled_against_target(share)})")
    if check is not None:
        text += "; " + distill_check.finding(check)
    left = len(f.pending)
    return text + (f", with {left} rung{'s' if left > 1 else ''} still to train" if left else "") + ". " + \
        _link("frontier")


def mnist_bullet(mnist: pd.Series, recipe: pd.Series | None) -> str:
    """The tuned configuration on MNIST (``mnist``: its test accuracies by seed) against the report's figure, by the
    book's one yardstick (:func:`fcnbook.stats.prediction.single_run`), and the searched recipe on MNIST."""
    y = paper.MNIST_TUNED_ACCURACY
    t = single_run(mnist.to_numpy(), y, level=LEVEL)
    pi = t.interval
    where = {True: "inside", False: "outside", None: "(one seed: no interval)"}[t.inside]
    text = (f"- **The transfer to MNIST.** The report's tuned configuration, trained from scratch on the digits, "
            f"scores {pi.mean:.4f} (SD {pi.sd:.4f}, {pi.n} seeds); the report's {y:.4f} is "
            f"{where} our {LEVEL * 100:g} % prediction interval")
    if t.inside is not None:
        text += f" [{pi.low:.4f}, {pi.high:.4f}]"
    if recipe is not None:
        text += f". The searched recipe, unchanged but for its flips, reaches {recipe['mean']:.4f} there"
    return text + f". {_link('mnist')}"


# ----------------------------------------------------------------------------------------------- reading


def cached_forensic(S: Settings) -> dict | None:
    """The SVD chapter's refit of the report's ``SVC()`` on FashionMNIST, read from its cache without fitting:
    on the whole training split where the profile fits it there (full), else on its ``svc_subset`` images."""
    from fcnbook.report.budget import split_sizes
    from fcnbook.svd import cache as svd_cache

    whole = S.forensic_full and S.svd_subset is None
    n = split_sizes(experiments.baseline(S).replace(subset=None))[0] if whole else experiments.svc_subset(S)
    found = None
    for path in sorted(svd_cache.cache_dir().glob("forensic-*.json")):
        try:
            entry = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        key, result = entry.get("key", {}), entry.get("result", {})
        if (key.get("dataset"), key.get("n_train"), key.get("resubstitution"), key.get("code_version")) == (
                "fashion", n, True, svd_cache.CODE_VERSION) and result.get("train_accuracy") is not None:
            found = result
    return found


@dataclass
class Findings:
    """What the opening page states; ``None`` where the results are missing (with the reason in ``missing``)."""

    S: Settings
    summary: summary.Summary | None = None
    protocol: protocol.Protocol | None = None
    forensic: dict | None = None
    beyond: tuple | None = None  # (table, tuned accuracies, recipe accuracies, facts, recipe, MNIST summary row)
    frontier: frontier.Frontier | None = None
    check: distill_check.Check | None = None  # the frontier's distillation check, when stored
    missing: dict = field(default_factory=dict)


def gather(profile: str = "full", seeds=None) -> Findings:
    """Read every finding of ``profile`` from the results folder (:func:`fcnbook.paths.results_dir`)."""
    S = experiments.settings(profile, seeds=seeds, lab=Reader())
    f = Findings(S)
    try:
        f.summary = summary.study(S)
    except MissingRuns as e:
        f.missing["table1"] = f.missing["choice"] = f.missing["mnist"] = e
    try:
        f.protocol = protocol.study(S)
    except MissingRuns as e:
        f.missing["noise"] = e
    f.forensic = cached_forensic(S)
    if f.forensic is None:
        f.missing["svd"] = FileNotFoundError("no cached SVC() refit")
    try:
        f.beyond = _beyond(S)
    except (MissingRuns, KeyError) as e:
        f.missing["beyond"] = e
    f.frontier = frontier.study(S) if S.profile == "full" else None  # the quick profile's rungs are not stored
    if f.frontier is None:
        f.missing["frontier"] = MissingRuns("the frontier's rungs are not stored")
    else:
        f.check = distill_check.study(S)
    return f


def _beyond(S: Settings) -> beyond.Outcome:
    """The search chapter's outcome; ``MissingRuns`` until its recipe is chosen and tested, ``KeyError`` without a
    study."""
    study = beyond.study_for(S)
    if study is None:
        raise KeyError(f"no stored study {beyond.STUDY[S.profile]!r}")
    out = beyond.outcome(S, study)
    if out.res is None:
        raise MissingRuns("the search's recipe is not yet chosen and tested on its seeds (fcnbook tune --select "
                          f"{beyond.STUDY[S.profile]})")
    return out


def _mnist_recipe(out: beyond.Outcome | None) -> pd.Series | None:
    """The searched recipe's MNIST test accuracy (mean, SD, n) on its test seeds, if shown."""
    if out is None:
        return None
    return out.res.summary().loc[out.mnist_recipe.key()]


def bullets(f: Findings) -> str:
    """The opening page's list, in the order of the findings' importance to a reader of the report."""
    lines = []
    for name, make in (("table1", lambda: table1_bullet(f.summary)), ("svd", lambda: svd_bullet(f.forensic)),
                       ("noise", lambda: noise_bullet(f.protocol)),
                       ("beyond", lambda: beyond_bullet(f.beyond)),
                       ("frontier", lambda: frontier_bullet(f.frontier, f.check)),
                       ("mnist", lambda: mnist_bullet(f.summary.mnist, _mnist_recipe(f.beyond))),
                       ("choice", lambda: choice_bullet(f.summary))):
        lines.append(_missing(name, f.missing[name]) if name in f.missing else make())
    if experiments.is_shortened(f.S):
        lines.insert(0, f"*Profile **{f.S.profile}**: a shortened preview. These numbers show that the book works, "
                        "not what the methods can do; build with the full profile before quoting any.*\n")
    return "\n".join(lines)
