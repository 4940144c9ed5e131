"""The SVD chapter's figures, tables, extrapolation and sentences, on top of :mod:`fcnbook.svd.study`.

``notebooks/09_svd_classifier.py`` calls :func:`study` once, then the figure and table functions, then
:func:`sentences`. Everything but :func:`study` works on plain dicts and frames (tested with hand-made inputs).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fcnbook.data import indices
from fcnbook.report import experiments, paper
from fcnbook.report.settings import Settings
from fcnbook.store.frames import summarize
from fcnbook.svd import study as svd_study

NAMES = {"fashion": "FashionMNIST", "mnist": "MNIST"}
NETWORK_NAMES = {"baseline": "FCN baseline 500-50", "tuned": "FCN tuned 700-200-50"}


def images(n) -> str:
    """``54 000`` with a thin space as the thousands separator."""
    return f"{int(n):,}".replace(",", "\u2009")


# ----------------------------------------------------------------------------------------------- numbers


def forensic_verdict(paper_value: float, train_accuracy: float, test_accuracy: float) -> dict:
    """Which of two accuracies a reported figure is closer to: ``closer`` ("train", "test" or "tie"),
    ``d_train``, ``d_test`` (absolute differences) and ``ratio`` (larger over smaller; inf if the smaller is 0)."""
    d_train, d_test = abs(paper_value - train_accuracy), abs(paper_value - test_accuracy)
    closer = "tie" if math.isclose(d_train, d_test, abs_tol=1e-12) else ("train" if d_train < d_test else "test")
    small, large = sorted([d_train, d_test])
    return {"closer": closer, "d_train": d_train, "d_test": d_test, "ratio": math.inf if small == 0 else large / small}


def log_linear_extrapolation(n: Sequence[float], y: Sequence[float], at: float, last: int = 3) -> float:
    """Value at ``at`` of the least-squares line through ``(log n, y)`` over the ``last`` largest ``n``.

    A rough guide for how an accuracy measured on training subsets would continue to a larger training set;
    using only the largest sizes follows a curve that bends. Needs at least two points.
    """
    n, y = np.asarray(n, dtype=float), np.asarray(y, dtype=float)
    if n.shape != y.shape or n.size < 2 or last < 2:
        raise ValueError("need at least two (n, y) points of equal count and last >= 2")
    order = np.argsort(n)[-last:]
    slope, intercept = np.polyfit(np.log(n[order]), y[order], 1)
    return float(intercept + slope * np.log(at))


def extrapolate(forensic: pd.DataFrame, targets: dict[str, int]) -> dict | None:
    """Both forensic curves continued to each target size (``{name: {"n", "train_accuracy", "test_accuracy"}}``);
    ``None`` with fewer than three sizes, too few for a line through the three largest."""
    if len(forensic) < 3:
        return None
    return {name: {"n": at, **{col: log_linear_extrapolation(forensic["n_train"], forensic[col], at)
                               for col in ("train_accuracy", "test_accuracy")}} for name, at in targets.items()}


def accuracy_table(models: dict, raw_svc: dict, networks: dict, runs: pd.DataFrame, n_train: dict) -> pd.DataFrame:
    """One row per (dataset, model): ``training images``, ``test accuracy``, ``SD`` (networks, between seeds),
    ``fit s`` (networks: mean training time per seed) and ``predict s``.

    ``models[ds]``: :func:`svd_study.evaluate_models`; ``raw_svc[ds]``: :func:`svd_study.forensic_svc`;
    ``networks[(ds, name)]``: RunConfig (:func:`fcnbook.report.experiments.svd_networks`); ``runs``: their runs.
    """
    summary, rows = summarize(runs), []
    for ds in NAMES:
        for model, r in models[ds].iterrows():
            rows.append({"dataset": NAMES[ds], "model": model, "training images": r["n_train"],
                         "test accuracy": r["test_accuracy"], "SD": np.nan, "fit s": r["fit_seconds"],
                         "predict s": r["predict_seconds"]})
        rs = raw_svc[ds]
        rows.append({"dataset": NAMES[ds], "model": svd_study.RAW_SVC_LABEL, "training images": rs["n_train"],
                     "test accuracy": rs["test_accuracy"], "SD": np.nan, "fit s": rs["fit_seconds"],
                     "predict s": rs["predict_test_seconds"]})
        for (d, name), cfg in networks.items():
            if d != ds:
                continue
            s = summary.loc[cfg.key()]
            rows.append({"dataset": NAMES[ds], "model": f"{NETWORK_NAMES[name]}, {cfg.epochs} epoch"
                         + ("s" if cfg.epochs != 1 else ""),
                         "training images": n_train[ds] if cfg.subset is None else cfg.subset,
                         "test accuracy": s["mean"], "SD": s["sd"],
                         "fit s": float(runs.loc[runs["key"] == cfg.key(), "seconds"].mean()), "predict s": np.nan})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------- sentences


def rank_sentence(c: dict, name: str) -> str:
    """The rank chosen on validation, how flat the curve is around it (one binomial SE), and its shape."""
    acc, best = np.asarray(c["val_accuracy"]), c["best_val_accuracy"]
    se = math.sqrt(best * (1 - best) / c["n_val"])
    near = [r for r, a in zip(c["ranks"], acc, strict=True) if a >= best - se]
    text = (f"On {name} the best rank is **{c['best_rank']}**, with a validation accuracy of {best:.4f} on "
            f"{images(c['n_val'])} images (binomial standard error about {se:.4f}). ")
    text += (f"Every rank tried from {min(near)} to {max(near)} comes within one standard error of it, so the choice "
             "among those makes little difference. " if len(near) > 1
             else "No other rank tried comes within one standard error of it. ")
    if acc[0] < best and acc[-1] < best:
        text += (f"Accuracy climbs from {acc[0]:.4f} at rank {c['ranks'][0]} and drops again to {acc[-1]:.4f} at rank "
                 f"{c['ranks'][-1]}. ")
    return text


def rank_sentences(choice: dict) -> str:
    """:func:`rank_sentence` per dataset, then why accuracy peaks, where it does for some dataset."""
    text = " ".join(rank_sentence(choice[ds], NAMES[ds]).strip() for ds in NAMES if ds in choice) + " "
    if any(c["val_accuracy"][0] < c["best_val_accuracy"] > c["val_accuracy"][-1] for c in choice.values()):
        text += ("Small subspaces miss much of how the images of a class vary; large ones start to fit the images of "
                 "other classes too, so the residuals stop telling the classes apart.")
    return text.strip()


def compare_sentence(table: pd.DataFrame, name: str, svd_model: str) -> str:
    """The subspace classifier against the tuned network and the most accurate method, on one dataset."""
    d = table[table["dataset"] == name].set_index("model")
    svd_acc, tuned = d.loc[svd_model, "test accuracy"], next(m for m in d.index if m.startswith(NETWORK_NAMES["tuned"]))
    t_acc, best = d.loc[tuned, "test accuracy"], d["test accuracy"].idxmax()
    ratio = d.loc[tuned, "fit s"] / d.loc[svd_model, "fit s"]
    cost = f"{ratio:.0f} times less than" if ratio >= 1 else f"{1 / ratio:.1f} times as long as"
    return (f"On {name} the subspace classifier, {svd_model}, reaches **{svd_acc:.4f}**, {abs(t_acc - svd_acc):.4f} "
            f"{'below' if svd_acc < t_acc else 'above'} the tuned network ({t_acc:.4f}), and fits in "
            f"{d.loc[svd_model, 'fit s']:.1f} s, {cost} one training run of that network. "
            + ("No other method in the table is more accurate." if best == svd_model else
               f"The most accurate method in the table is {best} ({d.loc[best, 'test accuracy']:.4f})."))


def trend(values) -> str:
    d = np.diff(np.asarray(values, dtype=float))
    return "rises" if np.all(d > 0) else "falls" if np.all(d < 0) else "moves up and down"


def forensic_sentence(forensic: pd.DataFrame, extrapolated: dict | None, P: float, shortened: bool,
                      full: dict | None = None) -> str:
    """What the report's figure resembles: resubstitution or test accuracy, every claim conditional on numbers.

    With ``full`` (the fit on the whole training split, measured once) the verdict rests on it, and the subset
    curve's extrapolation is set beside it.
    """
    last = pd.Series(full) if full is not None else forensic.sort_values("n_train").iloc[-1]
    v = forensic_verdict(P, last["train_accuracy"], last["test_accuracy"])
    text = (f"Fitted on {images(last['n_train'])} training images, the default `SVC()` classifies "
            f"**{last['train_accuracy']:.4f}** of those same images correctly but **{last['test_accuracy']:.4f}** "
            f"of the test images. The seed report's {P:.4f} differs by {v['d_train']:.4f} from the first figure and "
            f"by {v['d_test']:.4f} from the second")
    if v["closer"] == "tie":
        text += ", so this comparison cannot tell which kind of accuracy it is."
    else:
        first, kind = (("first", "an accuracy on the training images (resubstitution) than a test-set accuracy")
                       if v["closer"] == "train" else
                       ("second", "a test-set accuracy than an accuracy on the training images"))
        other = "second" if first == "first" else "first"
        text += (f"; the {first} difference is {v['ratio']:.1f} times smaller than the {other}"
                 if np.isfinite(v["ratio"]) else "") + (f". The report's figure looks "
                                                        f"{'much more' if v['ratio'] >= 3 else 'more'} like {kind}.")
    if extrapolated is not None:
        f = forensic.sort_values("n_train")
        n, tr, te = f["n_train"].to_numpy(), f["train_accuracy"].to_numpy(), f["test_accuracy"].to_numpy()
        ex_s, ex_a = extrapolated["split"], extrapolated["all"]
        text += (f" From {images(n[0])} to {images(n[-1])} training images the accuracy on the training images "
                 f"{trend(tr)} ({tr[0]:.4f} to {tr[-1]:.4f}) and the test accuracy {trend(te)} ({te[0]:.4f} to "
                 f"{te[-1]:.4f}). As a rough guide, a straight line in the logarithm of the training-set size through "
                 f"the three largest sizes reaches {ex_s['train_accuracy']:.4f} on the training images and "
                 f"{ex_s['test_accuracy']:.4f} on the test set at {images(ex_s['n'])} images (the whole training "
                 f"split), and {ex_a['train_accuracy']:.4f} and {ex_a['test_accuracy']:.4f} at all "
                 f"{images(ex_a['n'])} training images.")
        heading = np.sign(ex_a["train_accuracy"] - tr[-1])
        if heading != 0 and (P - tr[-1]) * heading > 0:
            text += (f" The report's {P:.4f} lies beyond the largest subset's training-image accuracy in the "
                     "direction that curve moves with more images, as it would if the seed's fit used more images.")
        else:
            text += (f" The report's {P:.4f} does not lie in the direction the training-image curve moves with more "
                     "images, so a larger training set alone would not explain the difference.")
        ve = forensic_verdict(P, ex_a["train_accuracy"], ex_a["test_accuracy"])
        if ve["closer"] == v["closer"] and ve["closer"] != "tie":
            which = "training-image" if ve["closer"] == "train" else "test"
            text += (f" The extrapolation points the same way: {P:.4f} is {min(ve['d_train'], ve['d_test']):.4f} "
                     f"from the extrapolated {which} accuracy at {images(ex_a['n'])} images.")
        else:
            text += " The extrapolation does not point the same way, so the verdict is less certain than it looks."
    if full is not None:
        where = full.get("machine") or {}
        on = f" on {where['cpu']} with {where['cores']} cores" if where else ""
        classified = full.get("train_images_classified") or full["n_train"]
        how = "to classify its own training images" if classified >= full["n_train"] else (
            f"to score its own training images (it classified {images(classified)} of them: the support vectors, "
            "and others as a check; an image that is a support vector of none of the pairwise classifiers is "
            "always classified correctly)")
        text += (f" The fit on all {images(full['n_train'])} images of the training split was measured, not "
                 f"extrapolated, once{on}: {full['fit_seconds'] / 60:.1f} min to fit and "
                 f"{full['predict_train_seconds'] / 60:.1f} min {how}, {images(full['n_support'])} support vectors")
        if extrapolated is not None:
            ex = extrapolated["split"]
            text += (f"; the subset curve's straight line had predicted {ex['train_accuracy']:.4f} and "
                     f"{ex['test_accuracy']:.4f} for it, {full['train_accuracy'] - ex['train_accuracy']:+.4f} and "
                     f"{full['test_accuracy'] - ex['test_accuracy']:+.4f} off")
        text += "."
    if shortened:
        text += " (Shortened run: repeat with the full profile before drawing a conclusion.)"
    return text


# ----------------------------------------------------------------------------------------------- figures, tables


@dataclass
class SVDReport:
    """Everything the SVD chapter shows: see :func:`study`."""

    S: Settings
    n_train: dict
    n_svc: dict
    choice: dict
    table: pd.DataFrame
    forensic: pd.DataFrame
    extrapolated: dict | None
    devices: str
    shortened: bool
    full: dict | None = None  # the default SVC() fitted on the whole training split (full profile; cached)


def study(S: Settings, *, svc_subset: int | None = None, ranks=None, forensic_sizes=None,
          energy: float = 0.85) -> SVDReport:
    """Rank choice, model evaluation, the forensic SVC curve (each cached) and the networks (from ``S``'s lab)."""

    svc_n = experiments.svc_subset(S, svc_subset)
    sizes = list(forensic_sizes) if forensic_sizes is not None else experiments.forensic_sizes(S, svc_n)
    splits = {ds: indices.pixels(ds, subset=S.svd_subset) for ds in NAMES}
    n_train = {ds: len(s.y_train) for ds, s in splits.items()}
    choice = {ds: svd_study.choose_rank(s, ranks) for ds, s in splits.items()}
    models = {ds: svd_study.evaluate_models(ds, choice[ds]["best_rank"], S.svd_subset, svc_subset=svc_n,
                                            energy=energy) for ds in NAMES}
    # FashionMNIST's row shares its fit with the forensic check; MNIST's skips the costly resubstitution.
    raw_svc = {ds: svd_study.forensic_svc(ds, svc_n, resubstitution=ds == "fashion") for ds in NAMES}
    forensic = pd.DataFrame([svd_study.forensic_svc("fashion", n) for n in sizes]).sort_values("n_train")
    extrapolated = None
    if len(forensic) >= 3:
        whole = indices.pixels("fashion")
        extrapolated = extrapolate(forensic, {"split": len(whole.y_train),
                                              "all": len(whole.y_train) + len(whole.y_val)})
    full = svd_study.forensic_svc("fashion", None) if S.forensic_full and S.svd_subset is None else None
    networks = experiments.svd_networks(S)
    fcn = S.results(networks.values())
    table = accuracy_table(models, raw_svc, networks, fcn.runs, n_train)
    return SVDReport(S, n_train, {ds: n_train[ds] if svc_n is None else min(svc_n, n_train[ds]) for ds in NAMES},
                     choice, table, forensic, extrapolated, ", ".join(sorted(set(fcn.runs["device"].astype(str)))),
                     experiments.is_shortened(S), full)


def sentences(r: SVDReport) -> dict[str, str]:
    """The chapter's Markdown: ``settings``, ``rank``, ``compare`` and ``forensic``."""
    settings = (f"Settings: profile **{r.S.profile}**; the SVD classifier and the PCA pipelines are fitted on "
                + " and ".join(f"{images(r.n_train[ds])} {NAMES[ds]}" for ds in NAMES)
                + f" training images, every RBF-SVC on a stratified subset of {images(r.n_svc['fashion'])} of them; "
                f"the networks use seeds {', '.join(map(str, r.S.seeds))}."
                + (" This is a shortened run: its numbers show that the section works, not what the methods can do."
                   if r.shortened else ""))
    return {"settings": settings, "rank": rank_sentences(r.choice),
            "compare": " ".join(compare_sentence(r.table, NAMES[ds], svd_study.SVD_LABEL.format(
                rank=r.choice[ds]["best_rank"])) for ds in NAMES),
            "forensic": forensic_sentence(r.forensic, r.extrapolated, paper.SVD_CLASSIFIER_ACCURACY, r.shortened,
                                          r.full)}
