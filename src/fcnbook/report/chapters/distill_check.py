"""Why a distilled network keeps none of its ensemble's gain: the numbers of the frontier's distillation check.

The frontier's distilled networks score no better than one network of their rung. The check tests two suspects on
the teacher rung (:func:`fcnbook.report.ladder.checks`, in bf16): the teacher's label smoothing, which keeps its
probabilities away from 0 and 1 on every image, and the temperature 4, which flattens them further; at worst the
soft labels say little beyond "the right class, a bit more likely". Two teachers (the rung with and without label
smoothing, each the ensemble of five seeds that no student uses) times two temperatures (4 and 1) give four
students on the frontier's seeds. Each is compared seed by seed with one network of the same shape and arithmetic
trained on the hard labels (the rung in bf16, :func:`fcnbook.report.ladder.bf16`); the four comparisons are one
family, adjusted with Holm's method. Which student is best is said by validation accuracy, never by the test set.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from fcnbook.report import ladder
from fcnbook.report.chapters.frontier import ALPHA, comparisons, ensemble_accuracy, mean_sd, stored, val_mean, verdict
from fcnbook.report.settings import Settings
from fcnbook.report.text import difference, interval, p_value, share_closed
from fcnbook.stats.multiplicity import holm

#: How each teacher of :func:`fcnbook.report.ladder.check_teachers` is named in the chapter.
TEACHER_WORDS = {"smoothed": "with label smoothing", "plain": "without label smoothing"}
#: A teacher's training accuracy from which its soft labels are said to repeat the hard labels' most likely class.
FITTED = 0.99
#: What the chapter shows when the check's runs are not stored.
HOW_TO_TRAIN = ("The distillation check's runs (full profile) are not stored. Train them (each teacher first, "
                "once, on its own seeds; bf16 needs AMX, AVX512-BF16 or a recent GPU), then rebuild the chapter:"
                "\n\n```\nfcnbook frontier --train check-smoothed-t4,check-smoothed-t1,check-plain-t4,check-plain-t1"
                "\nfcnbook book --only 13_frontier\n```")


@dataclass(frozen=True)
class Check:
    """The check's students and the one network they are measured against: see :func:`study`."""

    students: pd.DataFrame  # per student: teacher, T, teacher_one, teacher_ensemble, teacher_train (its members'
    #                         training accuracy), val, mean, sd, n, gain, ci_low, ci_high, p, p_holm, share (of the
    #                         gap between one network and the teacher's ensemble)
    single: dict  # the one network on the hard labels: label, val, mean, sd, n
    effects: pd.DataFrame  # paired a - b between students (temperature, label smoothing): mean, ci_low, ci_high, p


def study(S: Settings) -> Check | None:
    """The stored students of the check, their teachers and the one network (all stored only: nothing is trained);
    None when no student or not the one network is stored."""
    students, single, seeds = ladder.checks(S), ladder.bf16(S), ladder.seeds(S)
    have = {c.key() for c in stored(S, [single, *students.values()], seeds)} if single is not None else set()
    shown = {name: c for name, c in students.items() if c.key() in have}
    if single is None or single.key() not in have or not shown:
        return None
    res = S.lab.results([single, *shown.values()], list(seeds))
    teachers = {c.key(): (name, c) for name, c in ladder.check_teachers(S).items()}
    taught = S.lab.results([teachers[c.teacher][1] for c in shown.values()], list(ladder.CHECK_TEACHER_SEEDS))
    keys = {"one": single.key()} | {name: c.key() for name, c in shown.items()}
    gains = comparisons(res.runs, keys, [(name, "one") for name in shown]).set_index("a")
    one = {"label": single.label(), "val": val_mean(res.runs, single.key()), **mean_sd(res.runs, single.key())}
    rows = []
    for name, c in shown.items():
        teacher = teachers[c.teacher][1].key()
        ensemble = ensemble_accuracy(taught.records, teacher, ladder.CHECK_TEACHER_SEEDS)
        row = {"name": name, "teacher": teachers[c.teacher][0], "T": c.distill_temperature,
               "teacher_one": mean_sd(taught.runs, teacher)["mean"], "teacher_ensemble": ensemble,
               "teacher_train": taught.runs.loc[taught.runs["key"] == teacher, "final_train_accuracy"].mean(),
               "val": val_mean(res.runs, c.key()), **mean_sd(res.runs, c.key()), "gain": gains.loc[name, "mean"],
               **gains.loc[name, ["ci_low", "ci_high", "p"]]}
        gap = (ensemble - one["mean"]) if ensemble is not None else float("nan")
        row["share"] = row["gain"] / gap if gap > 0 else float("nan")
        rows.append(row)
    table = pd.DataFrame(rows).set_index("name")
    table["p_holm"] = holm(table["p"])
    pairs = [(f"check-{t}-t1", f"check-{t}-t4") for t in TEACHER_WORDS] + \
            [(f"check-plain-t{T:g}", f"check-smoothed-t{T:g}") for T in ladder.CHECK_TEMPERATURES]
    return Check(table, one, comparisons(res.runs, keys, pairs))


def table(c: Check) -> pd.DataFrame:
    """One row per student: its teacher and temperature, the teacher's one network and ensemble (test), the
    student's validation and test means, the paired gain over one network with its 95 % CI, Holm's p, the verdict
    and the share of the gap closed."""
    s = c.students
    return pd.DataFrame({
        "teacher smoothed": s["teacher"].map({"smoothed": "yes", "plain": "no"}), "T": s["T"].map("{:g}".format),
        "teacher: training acc.": s["teacher_train"], "teacher: one network": s["teacher_one"],
        "teacher: ensemble": s["teacher_ensemble"],
        "val. mean": s["val"], "test mean": s["mean"], "SD": s["sd"], "gain": s["gain"],
        "95 % CI": [interval(lo, hi, signed=True) for lo, hi in zip(s["ci_low"], s["ci_high"], strict=True)],
        "Holm p": s["p_holm"], "verdict": [verdict(p, g) for p, g in zip(s["p_holm"], s["gain"], strict=True)],
        "gap closed": [share_closed(x) for x in s["share"]]}, index=s.index)


def _beating(s: pd.DataFrame) -> pd.Index:
    """The students whose gain over one network holds after Holm's adjustment."""
    return s.index[(s["p_holm"] < ALPHA) & (s["gain"] > 0)]


def sentences(c: Check) -> dict[str, str]:
    """The check in Markdown (key ``check``): what each student gains over one network, what each factor changes
    (paired), and the student with the best validation mean."""
    s, one = c.students, c.single
    lines = [f"Against one network of the same shape and arithmetic trained on the hard labels ({one['mean']:.4f}, "
             f"SD {one['sd']:.4f}, n {one['n']}), seed by seed (Holm's method over the {len(s)} students):"]
    for _, r in s.iterrows():
        gain = {"mean": r["gain"], "ci_low": r["ci_low"], "ci_high": r["ci_high"], "p": r["p"]}
        lines.append(f"- taught by the ensemble {TEACHER_WORDS[r['teacher']]} ({r['teacher_ensemble']:.4f}) at "
                     f"T = {r['T']:g}: {r['mean']:.4f}, a gain of {difference(gain)} before Holm, adjusted p "
                     f"{p_value(r['p_holm'])}: {verdict(r['p_holm'], r['gain'])}; gap closed: "
                     f"{share_closed(r['share'])}")
    fit = s.groupby("teacher")["teacher_train"].first()
    rates = " and ".join(f"{fit[t]:.4f} {TEACHER_WORDS[t]}" for t in TEACHER_WORDS if t in fit.index)
    lines.append(f"\nThe teachers' members classify a probe of their own training images {rates} right" + (
        ", so on the images the students are taught on, the soft labels almost always put their largest "
        "probability on the hard label." if fit.min() >= FITTED else "."))
    e = c.effects.set_index(["a", "b"])
    said = []
    for t in TEACHER_WORDS:
        if (f"check-{t}-t1", f"check-{t}-t4") in e.index:
            said.append(f"T = 1 instead of 4 changes the student taught {TEACHER_WORDS[t]} by "
                        f"{difference(e.loc[(f'check-{t}-t1', f'check-{t}-t4')])}")
    for T in ladder.CHECK_TEMPERATURES:
        if (f"check-plain-t{T:g}", f"check-smoothed-t{T:g}") in e.index:
            said.append(f"a teacher without label smoothing instead of with it changes the student at T = {T:g} by "
                        f"{difference(e.loc[(f'check-plain-t{T:g}', f'check-smoothed-t{T:g}')])}")
    out = "\n".join(lines)
    if said:
        out += "\n\nSeed by seed between students (not adjusted): " + "; ".join(said) + "."
    best = s["val"].idxmax()
    helped = _beating(s)
    out += (f"\n\nBy validation accuracy the best student is the one taught {TEACHER_WORDS[s.loc[best, 'teacher']]} "
            f"at T = {s.loc[best, 'T']:g} ({s.loc[best, 'val']:.4f} on validation against {one['val']:.4f} for one "
            f"network); it closes {share_closed(s.loc[best, 'share'])} of the gap on the test set. ")
    out += (f"{len(helped)} of the {len(s)} students beat one network after Holm's adjustment." if len(helped) else
            f"None of the {len(s)} students beats one network after Holm's adjustment.")
    if not len(helped) and fit.min() >= FITTED:
        out += (" Neither the teacher's label smoothing nor the temperature accounts for the missing gain; what all "
                "the teachers share is that they fit the very images they teach on.")
    return {"check": out}


def finding(c: Check) -> str:
    """The check in one clause for the opening page: how many students beat one network after Holm's adjustment,
    the range of their gains, and how well the teachers fit their own training images."""
    s = c.students
    helped = len(_beating(s))
    who = f"none of its {len(s)} students beats" if not helped else \
        f"{helped} of its {len(s)} students beat{'s' * (helped == 1)}"
    return (f"a check on the label-smoothing rung (teachers with and without label smoothing, temperatures 4 and 1) "
            f"finds that {who} one network after Holm's adjustment (gains {s['gain'].min():+.4f} to "
            f"{s['gain'].max():+.4f}), while the teachers classify their own training images "
            f"{s['teacher_train'].min():.4f} right or better")
