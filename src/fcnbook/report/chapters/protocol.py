"""The protocol chapter's logic: the report's original protocol beside this book's, measured.

``notebooks/11_protocol.py`` calls :func:`study`, shows the figures of :mod:`fcnbook.report.summary_plots` and prints
:func:`sentences`. The pieces:

- :func:`original_accuracy`: the test accuracy the report's code printed, the unweighted mean of per-batch
  accuracies over test batches of 256 (the last holds 16 images), and the ``np.var`` of those accuracies, its
  "SD" column; computed from a run's stored test predictions.
- :func:`paired_differences`: each protocol variant minus ours, seed by seed (a seed fixes the initial weights,
  the batch order and the dropout masks), with a t interval (:func:`fcnbook.store.frames.paired_differences`) and
  Holm's adjustment over the variants, one family.
- :func:`run_gap`: how likely two single runs of the original protocol land as far apart as the report's rows 1
  and 2, from the spread of the pooled original-protocol runs (every split seed times every seed).
- :func:`batch_norm_bias_check`: the report's code put a bias before batch norm, this book does not; the check
  trains both side by side and measures how far their outputs ever get apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fcnbook.data import indices
from fcnbook.report import experiments, paper, text
from fcnbook.report.settings import Settings
from fcnbook.stats import verdicts as v
from fcnbook.stats.multiplicity import holm

LEVEL = 0.95
TEST_BATCH = 256
#: The report's rows 1 and 2: one configuration, two unseeded runs.
REPORT_PAIR = tuple(paper.ROWS[i - 1].accuracy for i in paper.IDENTICAL_ROWS)
REPORT_GAP = round(abs(REPORT_PAIR[0] - REPORT_PAIR[1]), 4)
BN_MOMENTUM = 0.1  # nn.BatchNorm1d's default


def batch_accuracies(predictions, labels, batch: int = TEST_BATCH) -> np.ndarray:
    """Accuracy of every consecutive block of ``batch`` images (the last one may be smaller), in file order."""
    hit = np.asarray(predictions) == np.asarray(labels)
    return np.array([hit[i:i + batch].mean() for i in range(0, len(hit), batch)])


def original_accuracy(predictions, labels, batch: int = TEST_BATCH) -> tuple[float, float]:
    """``(unweighted mean, np.var)`` of the per-batch accuracies: the report's accuracy and its "SD" column."""
    acc = batch_accuracies(predictions, labels, batch)
    return float(acc.mean()), float(np.var(acc))


def batch_mean_se_factor(n: int = 10_000, batch: int = TEST_BATCH) -> float:
    """Sampling SE of the unweighted per-batch mean over that of the pooled accuracy (independent errors).

    The mean of ``k`` batch accuracies with sizes ``b_i`` has variance ``p(1-p) sum(1/b_i) / k^2``; the pooled
    accuracy has ``p(1-p) / n``. For 10 000 images in batches of 256 the last batch of 16 makes it about 1.16.
    """
    sizes = [batch] * (n // batch) + ([n % batch] if n % batch else [])
    return math.sqrt(n * sum(1 / b for b in sizes)) / len(sizes)


def original_way(records: list[dict], labels, batch: int = TEST_BATCH) -> pd.DataFrame:
    """Per run (``key``, ``seed``): the ``pooled`` test accuracy, the ``original`` per-batch mean, ``diff``
    (original - pooled) and ``batch_var`` (the report's "SD" column for that run)."""
    rows = []
    for r in records:
        mean, var = original_accuracy(r["test_predictions"], labels, batch)
        rows.append({"key": r["key"], "seed": r["seed"], "pooled": r["test_accuracy"], "original": mean,
                     "diff": mean - r["test_accuracy"], "batch_var": var})
    return pd.DataFrame(rows)


def paired_differences(runs: pd.DataFrame, reference: str, others: dict[str, str]) -> pd.DataFrame:
    """:func:`fcnbook.store.frames.paired_differences` of ``others`` (name -> key) against ``reference``'s key,
    indexed by name: ``n``, ``mean``, ``sd``, ``ci_low``, ``ci_high``, ``p``, ``p_holm`` (Holm over the variants)
    and ``effect`` (:func:`fcnbook.stats.verdicts.effect`)."""
    from fcnbook.store.frames import paired_differences as paired

    d = paired(runs, reference, list(others.values()))
    d.index = pd.Index(list(others), name="variant")
    d = d.drop(columns="label")
    d["p_holm"] = holm(d["p"])
    d["effect"] = [v.effect(m, p) for m, p in zip(d["mean"], d["p_holm"], strict=True)]
    return d


def run_gap(values, gap: float = REPORT_GAP, level: float = LEVEL) -> dict:
    """How often two single runs differ by ``gap`` or more, from the spread of ``values`` (single runs).

    The SD ``s`` of one run is their sample SD; the difference of two independent runs has SD ``sqrt(2) s``;
    ``p`` is the two-sided t probability (``n - 1`` df) of a difference at least ``gap``. ``sd_high`` is the upper
    ``level`` confidence limit of the SD (chi-square) and ``p_high`` the same probability at that SD: the most a
    larger true spread could make of it. ``pairs``: the share of pairs of the runs themselves at least ``gap``
    apart (descriptive; the pairs share runs).
    """
    from scipy import stats

    x = np.asarray(values, dtype=float)
    n = len(x)
    if n < 3:
        raise ValueError("need at least three runs to estimate the spread of one run")
    s = float(x.std(ddof=1))
    sd_high = s * math.sqrt((n - 1) / stats.chi2.ppf(1 - level, n - 1))

    def prob(sd: float) -> float:
        return float(2 * stats.t.sf(gap / (math.sqrt(2) * sd), n - 1)) if sd > 0 else 0.0

    i, j = np.triu_indices(n, 1)
    return {"n": n, "mean": float(x.mean()), "sd": s, "sd_diff": math.sqrt(2) * s, "gap": gap,
            "z": gap / (math.sqrt(2) * s) if s > 0 else math.inf, "p": prob(s), "sd_high": sd_high,
            "p_high": prob(sd_high), "pairs": float(np.mean(np.abs(x[i] - x[j]) >= gap - 1e-12))}


# ----------------------------------------------------------------------------------------------- sentences


def _ci(r) -> str:
    return f"{r['mean']:+.4f} (95 % CI [{r['ci_low']:+.4f}, {r['ci_high']:+.4f}], n = {int(r['n'])})"


def _pairing(diffs: pd.DataFrame, sd: float) -> str:
    """What pairing by seed does to the spread, per variant (:func:`fcnbook.stats.verdicts.pairing`)."""
    unpaired = math.sqrt(2) * sd
    says = {v.REMOVES_PART: f"removes part of the spread (paired SD below {v.PAIRING_HELPS:g} times that)",
            v.REMOVES_LITTLE: f"removes little of it (paired SD between {v.PAIRING_HELPS:g} and 1 times that)",
            v.REMOVES_NONE: "removes none of it (paired SD at least that): the change reshuffles what each seed gives"}
    groups = {c: [] for c in says}
    for name, r in diffs.iterrows():
        groups.setdefault(v.pairing(r["sd"], unpaired), []).append(f"{name} (SD {r['sd']:.4f})")
    parts = [f"for {text.and_(names)} pairing {says[c]}" for c, names in groups.items() if c in says and names]
    if not parts:
        return ""
    return (f"- Two unrelated runs differ with an SD of about √2 × {sd:.4f} = {unpaired:.4f}; "
            + "; ".join(parts) + ".")


def difference_sentences(diffs: pd.DataFrame, sd: float, gap: float = REPORT_GAP) -> str:
    """Which protocol changes move the accuracy: one list item per variant of ``diffs`` (:func:`paired_differences`:
    its Holm-adjusted paired t-test over the variants), then what pairing does to the spread."""
    family = f"Holm over the {text.number(len(diffs))} variants against ours"
    lines = []
    for name, r in diffs.iterrows():
        if r["n"] < 2:
            lines.append(f"- **{name}** − ours: {r['mean']:+.4f} from a single pair; no interval.")
        elif r["effect"] != v.NONE:
            lines.append(f"- **{name}** − ours: {_ci(r)}, adjusted p {text.p_value(r['p_holm'], True)} ({family}): "
                         f"this change moves the test accuracy, by {abs(r['mean']) / gap:.0%} of the report's "
                         "rows-1-and-2 gap.")
        else:
            lines.append(f"- **{name}** − ours: {_ci(r)}, adjusted p {text.p_value(r['p_holm'], True)} ({family}): "
                         f"no shift is detectable with these seeds (the interval is "
                         f"{r['ci_high'] - r['ci_low']:.4f} wide).")
    lines.append(_pairing(diffs, sd))
    return "\n".join(x for x in lines if x)


def original_way_sentence(way: pd.DataFrame, sd: float, factor: float, report_var: float) -> str:
    """How much the report's per-batch averaging changes our accuracies, against the run-to-run SD ``sd``."""
    d, p = way["diff"], way["pooled"]
    size = {v.NEGLIGIBLE_SHIFT: f"negligible next to the SD of one run, {sd:.4f} (the largest is below "
                                f"{v.NEGLIGIBLE:g} times it)",
            v.NOT_NEGLIGIBLE_SHIFT: f"not negligible against the SD of one run, {sd:.4f} (the largest is at least "
                                    f"{v.NEGLIGIBLE:g} times it)"}[v.shift(d.abs().max(), sd)]
    return (f"Averaged per test batch of {TEST_BATCH}, the report's way, our runs' accuracies move by "
            f"{d.min():+.4f} to {d.max():+.4f} (mean {d.mean():+.4f}) from the pooled figures: {size}. "
            f"The per-batch mean also has {factor:.2f} times the sampling error of the pooled "
            f"accuracy, because the last batch of {10_000 % TEST_BATCH} images weighs as much as a full one. The "
            f"variance of our per-batch accuracies (the report's \"SD\" column) is {way['batch_var'].mean():.5f} on "
            f"average (report, row 1: {report_var:.4f}). Divided by 39 (40 batches), its square root, "
            f"{math.sqrt(way['batch_var'].mean() / 39):.4f}, estimates the test-set sampling error of one run's "
            f"per-batch mean; the binomial formula gives {factor * math.sqrt((p * (1 - p)).mean() / 10_000):.4f} "
            f"({factor:.2f} √(p(1 − p)/10 000)). This is how the summary chapter reads the report's \"SD\" column.")


def gap_sentence(g: dict) -> str:
    """The verdict on the report's two runs of one configuration, from :func:`run_gap`'s numbers
    (:func:`fcnbook.stats.verdicts.run_gap`)."""
    a, b = REPORT_PAIR
    text_ = (f"Pooled over every split seed and seed, {g['n']} original-protocol runs (accuracies computed the "
             f"report's way) have an SD of **{g['sd']:.4f}** for one run, so two independent runs differ with an SD "
             f"of √2 × {g['sd']:.4f} = {g['sd_diff']:.4f}. The report's {a:.4f} and {b:.4f} are {g['gap']:.4f} "
             f"apart, {g['z']:.1f} times that; two runs differ at least this much with probability "
             f"**{g['p']:.3g}** (t, {g['n'] - 1} degrees of freedom), and {g['pairs']:.0%} of the pairs among our "
             f"own runs do. ")
    level = f"{LEVEL * 100:g} %"
    return text_ + {
        v.BEYOND: f"Even at the upper {level} confidence limit of the SD ({g['sd_high']:.4f}) the probability is "
                  f"{g['p_high']:.3g}, below {v.ALPHA:g}: the gap is larger than run-to-run variation explains, so "
                  "something else likely differed between the report's two runs.",
        v.UNUSUAL: f"That is unusual (below {v.ALPHA:g}), but at the upper {level} confidence limit of the SD "
                   f"({g['sd_high']:.4f}) it would be {g['p_high']:.3g}: with these runs, chance cannot be ruled out.",
        v.WITHIN: f"That is not below {v.ALPHA:g}: the gap is within run-to-run variation, two unseeded runs of the "
                  "same code can land this far apart, and a difference of this size between single runs says "
                  "nothing about the settings.",
    }[v.run_gap(g["p"], g["p_high"])]


def bias_sentence(check: pd.DataFrame) -> str:
    """What the side-by-side training of a bias before batch norm showed."""
    last, epoch = check.iloc[-1], check.loc[106] if 106 in check.index else check.iloc[0]
    return (f"Trained side by side for up to {check.index.max()} SGD steps, the two networks never differ by more "
            f"than {check['train_diff'].max():.1e} in training mode (rounding): batch norm subtracts the batch mean "
            f"and with it the bias, whose gradient stays at {check['bias_grad_max'].max():.1e}, i.e. zero. In "
            f"evaluation mode the running mean starts at zero and takes the bias up at rate {BN_MOMENTUM}, so the "
            f"outputs differ by {epoch['eval_diff']:.1e} after {epoch.name} steps (one epoch of the baseline) and "
            f"by {last['eval_diff']:.1e} after {last.name} (fifteen epochs). The bias the report's code kept before "
            "batch norm does not change its results.")


# ----------------------------------------------------------------------------------------------- study


@dataclass(frozen=True)
class Protocol:
    """Everything the protocol chapter shows: see :func:`study`."""

    S: Settings
    names: dict  # config key -> variant name
    runs: pd.DataFrame
    way: pd.DataFrame  # original_way, with ``variant``
    diffs: pd.DataFrame
    gap: dict
    bias: pd.DataFrame
    level: float = LEVEL


def study(S: Settings, level: float = LEVEL) -> Protocol:
    """:func:`fcnbook.report.experiments.protocol_ablation`'s results from ``S``'s lab, measured."""
    configs = experiments.protocol_ablation(S)
    res = S.results(configs.values())
    names = {c.key(): name for name, c in configs.items()}
    labels = indices.labels(configs["ours"].dataset, train=False)
    way = original_way(res.records, labels)
    way["variant"] = way["key"].map(names)
    diffs = paired_differences(res.runs, configs["ours"].key(),
                               {name: c.key() for name, c in configs.items() if name != "ours"})
    gap = run_gap(way.loc[way["variant"] != "ours", "original"], REPORT_GAP, level)
    return Protocol(S, names, res.runs, way, diffs, gap, S.lab.bias_check(), level)



def sentences(p: Protocol) -> dict[str, str]:
    """The chapter's Markdown: ``settings``, ``differences``, ``original_way``, ``gap`` and ``bias``."""
    return {"settings": text.settings_note(p.S, experiments.is_shortened(p.S), tuned=False),
            "differences": difference_sentences(p.diffs, p.gap["sd"]),
            "original_way": original_way_sentence(p.way, p.gap["sd"], batch_mean_se_factor(),
                                                  paper.ROWS[0].sd_column),
            "gap": gap_sentence(p.gap), "bias": bias_sentence(p.bias)}
