"""The frontier chapter's words: every sentence is generated from :func:`fcnbook.report.chapters.frontier.study`.

The ladder's verdicts come from Holm's adjusted p (:func:`~fcnbook.report.chapters.frontier.verdict`); the
comparisons with the peer, the study's first recipe and the search's recipe are paired by seed; the targets are the
issue's, each stated as met or missed by how much.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fcnbook.report import ladder, paper
from fcnbook.report.chapters.frontier import (
    ALPHA,
    DISTILL_TARGET,
    TARGETS,
    Frontier,
    against_target,
    by_verdict,
    chosen,
    distilled_against_target,
    gap_closed,
    search_against,
    taught_by,
    verdict,
)
from fcnbook.report.text import and_, difference, p_value, share_closed


def _gain(row) -> str:
    return (f"{row['gain']:+.4f} (95 % CI [{row['ci_low']:+.4f}, {row['ci_high']:+.4f}], Holm's p "
            f"{p_value(row['p_holm'])}): {verdict(row['p_holm'], row['gain'])}")


def _pair(f: Frontier, a: str, b: str) -> pd.Series | None:
    """The stored paired difference ``a - b`` (mean, ci_low, ci_high, p, n), else None."""
    rows = f.comparisons[(f.comparisons["a"] == a) & (f.comparisons["b"] == b)]
    return None if rows.empty else rows.iloc[0]


def _difference(f: Frontier, a: str, b: str) -> str | None:
    """``+0.0042 (95 % CI [..], p ..)`` for the stored pair ``a - b``, else None."""
    return None if (d := _pair(f, a, b)) is None else difference(d)


def _peer(f: Frontier, best: str) -> str:
    if "peer" not in f.others.index:
        return "The public peer's recipe is not trained on the frontier's seeds yet (`fcnbook frontier --train peer`)."
    peer, (m, sd, n) = f.others.loc["peer"], ladder.PEER_REPORTED
    return (f"Under this protocol the public peer's recipe {{cite:p}}`lybbert_uw_central` ({peer['label']}, "
            f"{int(peer['epochs'])} epochs) scores {peer['mean']:.4f} (SD {peer['sd']:.4f}, "
            f"n {int(peer['n'])}); its repository reports {m:.4f} +/- {sd:.4f} over {n} trials. The best rung minus "
            f"the peer, seed by seed: {_difference(f, best, 'peer')}; the peer minus the report's network: "
            f"{_difference(f, 'peer', f.rungs.index[0])}.")


#: How the sentences name the search's comparators (the rungs go by their own names).
KNOWN = {"peer": "the public peer's recipe", "previous": "the study's first recipe"}


def _search(f: Frontier, best: str) -> str:
    previous = "" if "previous" not in f.others.index else (
        f"The study's first recipe ({f.others.loc['previous', 'label']}, chosen by one seed before its finalists "
        f"were re-scored) scores {f.others.loc['previous', 'mean']:.4f} here; the **{best}** rung minus it: "
        f"{_difference(f, best, 'previous')}. ")
    if f.search is None:
        return previous + ("The {doc}`validation-only search <07b_beyond>` has not yet chosen a recipe and tested it "
                           "on these seeds (`fcnbook tune --select fashion`).")
    s, report = f.search, f.rungs.index[0]
    against = [(b, _difference(f, "search", b)) for b in search_against(best, report)]
    named = {best: f"the **{best}** rung", report: "the report's network", **KNOWN}
    listed = "; ".join(f"{named[b]} {d}" for b, d in against if d)
    d = _pair(f, "search", best)
    return previous + (
            f"The {{doc}}`validation-only search <07b_beyond>` chose {s['label']} ({s['epochs']} epochs), which "
            f"scores {s['mean']:.4f} (SD {s['sd']:.4f}) on the same seeds. The recipe minus each network it is "
            f"measured against, seed by seed: {listed}. Against the **{best}** rung: "
            + ("the ladder's network is the better one." if d["ci_high"] < 0 else
               "the search's recipe is the better one." if d["ci_low"] > 0 else "no detectable difference."))


def _distilled(f: Frontier) -> str:
    """Per stored distilled extra: its teacher's ensemble (once per teacher), what distillation kept, which images the
    soft labels are of; which of a rung's two distillations the target counts; the best rung's distillation, when it
    is not stored yet, named with the command that trains it."""
    said, told = [], set()
    for name, teacher in ladder.TEACHERS.items():
        if not np.isfinite(share := gap_closed(f, name)):
            continue
        d, rung, ensemble = f.others.loc[name], f.rungs.loc[teacher], f.ensembles[teacher]
        if teacher not in told:
            told.add(teacher)
            said.append(f"The {{term}}`ensemble` of the **{teacher}** rung's {int(rung['n'])} seeds (mean of their "
                        f"softmax outputs) scores {ensemble:.4f}, against {rung['mean']:.4f} for one of its networks.")
        said.append(f"Distilled into one network of the same shape ({{term}}`distillation`, temperature "
                    f"{ladder.DISTILL_TEMPERATURE:g}, weight {ladder.DISTILL_WEIGHT:g} on the soft labels"
                    f"{_views(f, name, teacher)}), each seed scores {d['mean']:.4f} on average (SD {d['sd']:.4f}): a "
                    f"paired gain of {_difference(f, name, teacher)} over the rung: it closes {share_closed(share)} of "
                    "the gap between one network and the ensemble.")
        if (clean := ladder.AUGMENTED_VIEWS.get(name)) in f.others.index:
            counted = taught_by(teacher, ladder.TEACHERS, f.others)
            said.append(f"Against the student taught on the clean images, seed by seed: {_difference(f, name, clean)}. "
                        f"The targets count the student with the better validation mean, the one taught on "
                        f"{'each augmented image' if counted == name else 'the clean images'} "
                        f"({f.others.loc[counted, 'val']:.4f} against "
                        f"{f.others.loc[clean if counted == name else name, 'val']:.4f}).")
    if name := _best_untrained(f, ladder.TEACHERS):
        said.append(f"The **{chosen(f.rungs)}** rung's ensemble distilled into one network is not trained yet "
                    f"(`fcnbook frontier --train {name}`).")
    return " ".join(said)


def _views(f: Frontier, name: str, teacher: str) -> str:
    """Which images a distilled extra's soft labels are of, said only when its teacher trains on augmented ones."""
    rung = ladder.rung(f.S, teacher)
    if rung.augment == "none":
        return ""
    if name in ladder.AUGMENTED_VIEWS:
        views = ladder.extras(f.S)[name].soft_label_views()
        return (f"; the soft labels are the teacher's outputs on each shifted or flipped image exactly as the student "
                f"sees it, tabulated for all {views} views of every training image before training")
    return ("; the soft labels are the teacher's outputs on the un-augmented training images, so a shifted or flipped "
            "image is taught the soft label of its original")


def _mnist(f: Frontier) -> str:
    """The stored MNIST extras in one sentence, the best rung's first, beside the report's printed MNIST figure; the
    best rung's, when not stored, named as pending."""
    best = chosen(f.rungs)
    stored = sorted((n for n in ladder.ON_MNIST if n in f.others.index), key=lambda n: ladder.ON_MNIST[n] != best)
    scores = [f"{f.others.loc[n, 'mean']:.4f} for the **{ladder.ON_MNIST[n]}** rung (SD {f.others.loc[n, 'sd']:.4f}, "
              f"n {int(f.others.loc[n, 'n'])})" for n in stored]
    said = [f"On MNIST (shifts without flips: a mirrored digit is another symbol) the test accuracy is {and_(scores)}; "
            f"the report printed {paper.MNIST_TUNED_ACCURACY:.4f} for its tuned network {{cite:p}}`hippe_hw4` "
            "({doc}`08_mnist_transfer` retrains that network under this book's protocol)."] if scores else []
    if name := _best_untrained(f, ladder.ON_MNIST):
        said.append(f"The **{best}** rung on MNIST is not trained yet (`fcnbook frontier --train {name}`).")
    return " ".join(said)


def _best_untrained(f: Frontier, table: dict) -> str | None:
    """The extra of ``table`` that carries the best rung when it is declared but not stored, else None."""
    name = taught_by(chosen(f.rungs), table, f.others)
    return name if name and name not in f.others.index else None


def _bf16(f: Frontier) -> str:
    """What bf16 matrix products cost in accuracy and buy in time on the teacher rung, seed by seed."""
    if "bf16" not in f.others.index or ladder.TEACHER_RUNG not in f.rungs.index:
        return ""
    b, rung = f.others.loc["bf16"], f.rungs.loc[ladder.TEACHER_RUNG]
    d = _pair(f, "bf16", rung.name)
    cost = ("no detectable change" if d["p"] >= ALPHA else "a detectable loss" if d["mean"] < 0 else
            "a detectable gain")
    return (f"With its matrix products in {{term}}`bf16` (weights, optimizer and loss in float32) the "
            f"**{rung.name}** rung scores {b['mean']:.4f} (SD {b['sd']:.4f}) against {rung['mean']:.4f} in float32: "
            f"{_difference(f, 'bf16', rung.name)}, {cost}; its {int(b['n'])} seeds trained in {b['hours']:.2f} h "
            f"against {rung['hours']:.2f} h ({rung['hours'] / b['hours']:.1f} times as fast, measured wall-clock "
            "time; the ladder stays in float32 so that neighbouring rungs differ by one ingredient).")


def _conclusion(f: Frontier) -> str:
    """What the chapter found so far, in one paragraph: what each ingredient buys by Holm's rule, the best network
    against the report, the peer and the study's first recipe, the ensemble and its distillation, the search."""
    t, best = f.rungs, chosen(f.rungs)
    words = {v: [f"{n} ({t.loc[n, 'gain']:+.4f}, 95 % CI [{t.loc[n, 'ci_low']:+.4f}, {t.loc[n, 'ci_high']:+.4f}])"
                 for n in names] for v, names in by_verdict(t).items()}
    said = [f"{and_(words['helps'])} bought points" if words["helps"] else "",
            f"{and_(words['hurts'])} cost points" if words["hurts"] else "",
            f"{and_(words['no detectable change'])} made no change the seeds can detect"
            if words["no detectable change"] else ""]
    against = [f"{d} against {name}" for name, d in (("the report's network", _difference(f, best, t.index[0])),
                                                     ("the public peer's recipe", _difference(f, best, "peer")),
                                                     ("the study's first recipe", _difference(f, best, "previous")))
               if d]
    so_far = " trained so far" if len(f.pending) else ""  # the ladder's rungs not all stored yet
    text = ((f"Of the {len(t) - 1} ingredients{so_far}, " + "; ".join(filter(None, said)) + ". "
             if len(t) > 1 else "") +
            f"The best network by validation accuracy, the **{best}** rung, scores {t.loc[best, 'mean']:.4f}"
            + (": " + and_(against) + ", seed by seed." if against else "."))
    if best in f.ensembles:
        text += f" Its {int(t.loc[best, 'n'])} seeds' networks together score {f.ensembles[best]:.4f}"
        name = taught_by(best, ladder.TEACHERS, f.others)
        share = gap_closed(f, name) if name else float("nan")
        if np.isfinite(share):
            d = _difference(f, name, best)
            text += (f"; distilled back into one network they keep {f'{share:.0%}' if share > 0 else 'none'} of "
                     "that gain" + (f" ({d} against one network, seed by seed)" if d else ""))
        text += "."
    if (mnist := taught_by(best, ladder.ON_MNIST)) in f.others.index:
        text += f" On MNIST the same network scores {f.others.loc[mnist, 'mean']:.4f}."
    d = _pair(f, "search", best)
    if f.search is not None and d is not None:
        text += (" The validation-only search found " + (
            "a better network than the ladder" if d["ci_low"] > 0 else
            "nothing better than the ladder: its recipe scores below the best rung" if d["ci_high"] < 0 else
            "nothing better than the ladder: its recipe and the best rung are indistinguishable")
                 + f" ({d['mean']:+.4f}, 95 % CI [{d['ci_low']:+.4f}, {d['ci_high']:+.4f}]).")
    return text


def _carrier(f: Frontier, best: str, table: dict) -> tuple[str | None, str]:
    """The stored extra of ``table`` that carries the best rung, else the first stored one with a note saying
    whose it is and how to train the best rung's; ``(None, "")`` when none is stored."""
    mine = taught_by(best, table, f.others)
    if mine in f.others.index:
        return mine, ""
    other = next((name for name in table if name in f.others.index), None)
    how = f"`fcnbook frontier --train {mine}`" if mine else "not declared"
    note = f" (the **{table[other]}** rung's; the **{best}** rung's is not trained yet: {how})" if other else ""
    return other, note


def _targets(f: Frontier) -> str:
    best = chosen(f.rungs)
    mnist, mnist_note = _carrier(f, best, ladder.ON_MNIST)
    taught, taught_note = _carrier(f, best, ladder.TEACHERS)
    measured = {"single": f.rungs.loc[best, "mean"], "ensemble": f.ensembles.get(best),
                "mnist": f.others.loc[mnist, "mean"] if mnist else None}
    words = {"single": "one network", "ensemble": "the ensemble of five", "mnist": "MNIST, one network"}
    lines = []
    for name, target in TARGETS.items():
        got = measured[name]
        figure = f"{got:.4f}: " if got is not None and np.isfinite(got) else ""  # none yet: the words say so
        lines.append(f"- {words[name]}: target {target:.3f}, {figure}{against_target(got, name)}"
                     + (mnist_note if name == "mnist" else ""))
    share = gap_closed(f, taught) if taught else float("nan")
    closed = f"{share_closed(share)}: " if np.isfinite(share) else ""
    lines.append(f"- the distilled network: target {DISTILL_TARGET:.0%} of the gap to its ensemble closed, {closed}"
                 f"{distilled_against_target(share)}{taught_note}")
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
    rungs = f"{first}-{first + len(f.pending) - 1}" if len(f.pending) > 1 else f"{first}"
    return (f"Not trained yet: {names}, estimated from the trained rungs' measured hours per counted GFLOP on the "
            f"machines that trained them (two CPU cores); `fcnbook frontier --train {rungs}` trains them, resuming "
            "from epoch checkpoints.")


def sentences(f: Frontier) -> dict[str, str]:
    """The chapter's Markdown: ``ladder``, ``best``, ``peer``, ``distilled``, ``bf16``, ``mnist``, ``conclusion``,
    ``targets``, ``pending``."""
    t = f.rungs
    steps = [f"- **{name}** ({row['ingredient']}): {_gain(row)}" for name, row in t.iloc[1:].iterrows()]
    first, best = t.iloc[0], t.loc[chosen(t)]
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
            "distilled": _distilled(f), "bf16": _bf16(f), "mnist": _mnist(f), "conclusion": _conclusion(f),
            "targets": _targets(f), "pending": _pending(f)}
