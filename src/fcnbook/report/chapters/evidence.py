"""What several chapters compute alike: paired comparisons as a family, single runs against the prediction
interval, the over-fitting gap, seeds that stand apart, the choice by validation, the report's figures.

Each function returns a frame of numbers and the category that :mod:`fcnbook.stats.verdicts` gives them; the
sentences (:mod:`fcnbook.report.text`) only write what is here. Rules:

- Choices (the best optimizer cell, the best dropout rate) use the VALIDATION split: the final-epoch validation
  accuracy, mean over seeds, among configurations none of whose runs diverged.
- Over- and under-fitting is read from the final-epoch gap between training accuracy measured in evaluation
  mode on the fixed training probe and validation accuracy, never from training-mode running means.
- A paired comparison's verdict rests on the paired-by-seed t-test, Holm-adjusted within the chapter's family;
  McNemar's test is reported seed pair by seed pair, never pooled over seeds.
- A single run is set against :func:`fcnbook.stats.prediction.single_run`, the one prediction interval.

Imports neither torch nor matplotlib.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fcnbook.config import RunConfig
from fcnbook.report import paper
from fcnbook.stats import verdicts
from fcnbook.stats.multiplicity import holm
from fcnbook.stats.prediction import single_run
from fcnbook.stats.seed_pairs import mcnemar_by_seed
from fcnbook.store.frames import Results, display_names, paired_differences


def paper_rows(config: RunConfig) -> list[paper.Row]:
    """The rows of the seed report's Table 1 whose original code ran ``config`` (any epochs and subset)."""
    return [row for row in paper.ROWS
            if row.config.replace(epochs=config.epochs, subset=config.subset).key() == config.key()]


def paper_accuracy(config: RunConfig) -> list[float]:
    """The seed report's Table 1 accuracies of ``config`` (see :func:`paper_rows`)."""
    return [row.accuracy for row in paper_rows(config)]


def validation_choice(runs: pd.DataFrame, keys) -> tuple[str | None, pd.Series]:
    """The key with the highest final-epoch validation accuracy (mean over seeds) among those without a diverged
    run, and every key's mean validation accuracy (NaN where a run diverged before finishing one epoch)."""
    keys = list(keys)
    r = runs[runs["key"].isin(keys)]
    val = r.groupby("key", sort=False)["final_val_accuracy"].agg(lambda v: v.mean(skipna=False)).reindex(keys)
    bad = set(r.loc[r["diverged"].astype(bool), "key"])
    ok = val[[k not in bad for k in val.index]].dropna()
    return (ok.idxmax() if len(ok) else None), val


def with_gap(runs: pd.DataFrame) -> pd.DataFrame:
    """``runs`` plus ``gap``: final-epoch training accuracy (evaluation mode, fixed probe) minus validation."""
    return runs.assign(gap=runs["final_train_accuracy"] - runs["final_val_accuracy"])


def fits(runs: pd.DataFrame, names: dict[str, str], best_train: float | None = None) -> pd.DataFrame:
    """Per configuration (``names``: key -> name, in order): mean final ``train`` (eval mode) and ``val``
    accuracy, their ``gap`` and its SD over seeds (``gap_sd``), ``best_train`` (the best mean training accuracy
    of these configurations, or the one given) and the :func:`fcnbook.stats.verdicts.fit` ``category``."""
    g = with_gap(runs[runs["key"].isin(list(names))])
    agg = g.groupby("key", sort=False).agg(train=("final_train_accuracy", "mean"), val=("final_val_accuracy", "mean"),
                                           gap_sd=("gap", lambda x: x.std(ddof=1) if len(x) > 1 else np.nan))
    agg = agg.reindex([k for k in names if k in agg.index])
    agg["gap"] = agg["train"] - agg["val"]
    agg["best_train"] = float(agg["train"].max()) if best_train is None else best_train
    agg["category"] = [verdicts.fit(r["train"], r["val"], r["best_train"]) for _, r in agg.iterrows()]
    agg.index = pd.Index([names[k] for k in agg.index], name="configuration")
    return agg[["train", "val", "gap", "gap_sd", "best_train", "category"]]


def family(res: Results, baseline: RunConfig, configs: dict, labels) -> pd.DataFrame:
    """Every configuration of ``configs`` (name -> config; one equal to ``baseline`` is left out) against
    ``baseline``, paired by seed, as one family.

    Columns: :func:`fcnbook.store.frames.paired_differences` of test accuracy (``mean``, ``sd``, ``n``, ``ci_low``,
    ``ci_high``, ``p``), ``p_holm`` (Holm over the family), ``effect`` (:func:`fcnbook.stats.verdicts.effect`),
    the seed pairs whose McNemar test gives ``p < 0.05`` in favour of the configuration (``favour_config``) and of
    the baseline (``favour_baseline``) out of ``pairs``, and the ``diverged`` runs of the configuration.
    """
    names = display_names(configs)
    keys = [k for k in names if k != baseline.key()]
    paired = paired_differences(res.runs, baseline.key(), keys)
    preds = {(r["key"], r["seed"]): r["test_predictions"] for r in res.records}
    rows = []
    for key in keys:
        seeds = sorted(s for (k, s) in preds if k == key and (baseline.key(), s) in preds)
        m = mcnemar_by_seed([preds[key, s] for s in seeds], [preds[baseline.key(), s] for s in seeds], labels)
        rows.append({"name": names[key], **paired.loc[key].drop("label").to_dict(), "favour_config": m.favour_a,
                     "favour_baseline": m.favour_b, "pairs": m.n,
                     "diverged": int(res.runs.loc[res.runs["key"] == key, "diverged"].sum())})
    out = pd.DataFrame(rows).set_index("name")
    out.insert(out.columns.get_loc("p") + 1, "p_holm", holm(out["p"]))
    out.insert(out.columns.get_loc("p_holm") + 1, "effect",
               [verdicts.effect(m, p) for m, p in zip(out["mean"], out["p_holm"], strict=True)])
    return out


def single_runs(figures: dict[str, tuple]) -> pd.DataFrame:
    """Single-run figures against the prediction interval of our runs, as one family: ``figures`` maps a name to
    ``(our runs' test accuracies, the single run's accuracy)``. Columns ``y``, ``mean``, ``sd``, ``n``, ``low``,
    ``high``, ``z``, ``p``, ``p_holm`` (Holm over the figures) and the :func:`fcnbook.stats.verdicts.single_run`
    ``verdict``."""
    rows = []
    for name, (values, y) in figures.items():
        t = single_run(list(values), y)
        rows.append({"figure": name, "y": y, "mean": t.interval.mean, "sd": t.interval.sd, "n": t.interval.n,
                     "low": t.interval.low, "high": t.interval.high, "z": t.z, "p": t.p})
    out = pd.DataFrame(rows, columns=["figure", "y", "mean", "sd", "n", "low", "high", "z", "p"]).set_index("figure")
    out["p_holm"] = holm(out["p"])
    out["verdict"] = [verdicts.single_run(p, q) for p, q in zip(out["p"], out["p_holm"], strict=True)]
    return out


def by_seed(runs: pd.DataFrame, config: RunConfig) -> pd.Series:
    """The test accuracies of ``config``'s runs, by seed."""
    return runs.loc[runs["key"] == config.key()].set_index("seed")["test_accuracy"].astype(float)


def outliers(runs: pd.DataFrame, configs) -> pd.DataFrame:
    """The seeds whose test accuracy stands apart from the other seeds of their configuration
    (:func:`fcnbook.stats.verdicts.outlying_seeds`): ``configuration``, ``key``, ``seed``, ``value``, ``mean``,
    ``low``, ``high``, ``sd``, ``z``."""
    rows = []
    for key, name in display_names(configs).items():
        acc = runs.loc[runs["key"] == key].set_index("seed")["test_accuracy"]
        rows += [{"configuration": name, "key": key, **o} for o in verdicts.outlying_seeds(acc.to_dict())]
    return pd.DataFrame(rows, columns=["configuration", "key", "seed", "value", "mean", "low", "high", "sd", "z"])


def load_test_set(dataset: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """The verified test images (uint8, one row per image, file order), their labels and the class names."""
    from fcnbook.data.files import CLASS_NAMES, raw_dir, verify
    from fcnbook.data.idx import read_idx

    verify(dataset)
    images = read_idx(raw_dir(dataset) / "t10k-images-idx3-ubyte")
    return images.reshape(len(images), -1), read_idx(raw_dir(dataset) / "t10k-labels-idx1-ubyte").astype(np.int64), \
        CLASS_NAMES[dataset]


def choice_sentence(best: str | None, val: float, grid, summary: pd.DataFrame, noun: str) -> str:
    """The sentence of a validation choice (:func:`validation_choice`) among ``noun``s ("cell", "setting") of
    ``grid``: the chosen one, its validation accuracy, and its test accuracy, looked at only after the choice."""
    from fcnbook.report import text
    from fcnbook.store.frames import display_names

    if best is None:
        return f"Every {noun} had a diverged run, so none is chosen."
    key = next(k for k, n in display_names(grid).items() if n == best)
    return (f"Chosen by validation accuracy (final epoch, mean over seeds, among {noun}s without a diverged run), the "
            f"best {noun} is **{best}** ({val:.4f} on the validation split); its test accuracy, looked at only "
            f"after the choice, is {text.accuracy(summary.loc[key])}.")
