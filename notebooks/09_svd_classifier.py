# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
#   language_info:
#     name: python
# ---

# %% [markdown]
# # Linear-algebra baselines: the SVD classifier
#
# The seed report {cite:p}`hippe_hw4` ends its study of fully connected networks by bringing back the best
# classifier of the previous assignment, which it calls an "SVD classifier", with an accuracy of 0.9128 on
# FashionMNIST, above every network in its Table 1. This section does three things with that claim:
#
# 1. It builds the classifier the name describes, a subspace classifier with one truncated SVD per class,
#    chooses its rank on the validation split, and scores it once on the test set.
# 2. It puts that classifier, three PCA pipelines of the kind the course used and the networks of the
#    earlier sections side by side, on FashionMNIST and on MNIST, with what each costs to fit and to predict.
# 3. It checks what 0.9128 measured. The seed's notebook shows that the model behind it was scikit-learn's
#    `SVC()` with its default settings on raw pixels, and that it was scored on the images it had been
#    fitted on (see {doc}`../reproduction-notes`). Refitting that estimator and scoring it both ways shows
#    which kind of number 0.9128 resembles.

# %% tags=["remove-cell"]
# Imports come before the parameters cell so that the parameters are what a reader sees first.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from fcnbook import paper, store, svd_study
from fcnbook.config import RunConfig
from fcnbook.data import load
from fcnbook.profiles import resolve

# %% tags=["parameters"]
profile = "full"  # "quick" or "full"
svd_subset = None  # None: the profile's training images for the SVD classifier and PCA pipelines (full: all)
svc_subset = None  # None: training images for every RBF-SVC fit, 20 000 in full, 1 000 in quick (at most svd_subset)
ranks = None  # None: 1, 2, 3, 5, ..., 150 (fcnbook.svd_study.DEFAULT_RANKS)
forensic_sizes = None  # None: 2 000, 5 000, 10 000 and svc_subset images in full; svc_subset alone otherwise
energy = 0.85  # fraction of variance PCA keeps in the pipelines
device = "auto"  # for the networks, when they are not in the run store yet
epochs = None  # None: the profile's; the baseline network
long_epochs = None  # None: the profile's; the tuned network
seeds = None  # None: the profile's seeds
subset = None  # None: the profile's training subset for the networks

# %% tags=["remove-cell"]
S = resolve(profile, epochs=epochs, long_epochs=long_epochs, seeds=seeds, subset=subset, svd_subset=svd_subset)
svc_n = svd_study.svc_subset_for(S["profile"], S["svd_subset"], svc_subset)
sizes = list(forensic_sizes) if forensic_sizes is not None else svd_study.forensic_sizes(svc_n, S["profile"])
NAMES = {"fashion": "FashionMNIST", "mnist": "MNIST"}

splits = {ds: load(ds, normalization=svd_study.PIXELS, subset=S["svd_subset"]) for ds in NAMES}
n_train = {ds: len(s.y_train) for ds, s in splits.items()}
n_svc = {ds: n_train[ds] if svc_n is None else min(svc_n, n_train[ds]) for ds in NAMES}
choice = {ds: svd_study.choose_rank(s, ranks) for ds, s in splits.items()}
models = {
    ds: svd_study.evaluate_models(ds, choice[ds]["best_rank"], S["svd_subset"], svc_subset=svc_n, energy=energy)
    for ds in NAMES
}
# FashionMNIST's row shares its fit with the forensic check below; MNIST's skips the costly resubstitution.
raw_svc = {ds: svd_study.forensic_svc(ds, svc_n, resubstitution=ds == "fashion") for ds in NAMES}
forensic = pd.DataFrame([svd_study.forensic_svc("fashion", n) for n in sizes]).sort_values("n_train")
extrapolated = None  # with three sizes or more: the curves continued to the whole training split and to 60 000
if len(forensic) >= 3:
    whole = load("fashion", normalization=svd_study.PIXELS)
    targets = {"split": len(whole.y_train), "all": len(whole.y_train) + len(whole.y_val)}
    extrapolated = {
        name: {col: svd_study.log_linear_extrapolation(forensic["n_train"], forensic[col], at)
               for col in ("train_accuracy", "test_accuracy")} | {"n": at}
        for name, at in targets.items()
    }

baseline = RunConfig(epochs=S["epochs"], subset=S["subset"])
tuned = RunConfig(hidden=(700, 200, 50), optimizer="rmsprop", lr=1e-4, dropout=0.15, init="kaiming_uniform",
                  epochs=S["long_epochs"], subset=S["subset"])
networks = {(ds, name): cfg.replace(dataset=ds) for ds in NAMES
            for name, cfg in (("baseline", baseline), ("tuned", tuned))}
fcn = store.run(list(networks.values()), S["seeds"], device=device, progress=False)
fcn_summary = fcn.summary()


def images(n):
    return f"{int(n):,}".replace(",", "\u2009")  # thin space as the thousands separator


shortened = S["profile"] != "full" or S["svd_subset"] is not None
display(Markdown(
    f"Settings: profile **{S['profile']}**; the SVD classifier and the PCA pipelines are fitted on "
    + " and ".join(f"{images(n_train[ds])} {NAMES[ds]}" for ds in NAMES)
    + f" training images, every RBF-SVC on a stratified subset of {images(n_svc['fashion'])} of them; "
    f"the networks use seeds {', '.join(map(str, S['seeds']))}."
    + (" This is a shortened run: its numbers show that the section works, not what the methods can do."
       if shortened else "")
))

# %% [markdown]
# ## Two methods behind one name
#
# **Subspace classifier.** Stack the training images of class $k$ as the columns of a matrix
# $A_k \in \mathbb{R}^{784 \times n_k}$ and take its singular value decomposition
# $A_k = U_k \Sigma_k V_k^\top$. The first $r$ columns of $U_k$ form an orthonormal basis $U_{k,r}$ of the
# $r$-dimensional subspace that best approximates the class's images in the least-squares sense. A new image
# $x$ is assigned to the class whose subspace it is closest to,
#
# $$
# \hat y(x) = \arg\min_k \; \lVert x - U_{k,r} U_{k,r}^\top x \rVert_2 ,
# $$
#
# the classical method for handwritten digits described in Eldén's *Matrix Methods in Data Mining and Pattern
# Recognition* (chapter 10). The matrices are not centred, so a class's first singular vector is close to its
# mean image. One rank $r$ is used for all classes and chosen on the validation split. Fixing a fraction of
# the squared singular values per class instead looks natural but works badly here: the first singular value
# dominates each spectrum to a different degree, so the classes end up with very different ranks. Pixels are
# used as they are, scaled to $[0, 1]$, so the black background stays at the origin of every subspace.
#
# **PCA pipelines.** Principal component analysis of the (centred) training images keeps the fewest components
# that explain a fixed fraction of the variance; a classifier then works in that low-dimensional space. The
# pipelines here use ridge regression on one-hot targets (a linear classifier), the five nearest neighbours,
# or an RBF support vector machine, all from scikit-learn {cite:p}`pedregosa2011scikit`. Training an RBF
# SVM costs time that grows faster than linearly with the number of training images, so every SVC in this
# section is fitted on a stratified subset (stated above) rather than on the whole training split.

# %% [markdown]
# ## Choosing the rank on the validation split

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Validation accuracy of the subspace classifier against the rank of each class subspace (log scale), with the chosen rank marked. Only the training and validation splits are used.", "name": "fig-svd-rank"}}
fig, ax = plt.subplots(figsize=(7, 3.6), constrained_layout=True)
for ds, c in choice.items():
    line, = ax.plot(c["ranks"], c["val_accuracy"], marker="o", markersize=3, label=NAMES[ds])
    ax.plot([c["best_rank"]], [c["best_val_accuracy"]], marker="*", markersize=14, color=line.get_color(),
            linestyle="none")
    ax.annotate(f"r = {c['best_rank']}", (c["best_rank"], c["best_val_accuracy"]), textcoords="offset points",
                xytext=(6, 6), color=line.get_color())
ax.set_xscale("log")
ax.margins(y=0.12)
ax.set_xlabel("rank r of every class subspace")
ax.set_ylabel("validation accuracy")
ax.grid(alpha=0.3)
ax.legend(loc="lower center")
plt.show()

# %% tags=["remove-input"]
def rank_sentence(ds):
    c = choice[ds]
    acc = np.asarray(c["val_accuracy"])
    best = c["best_val_accuracy"]
    se = np.sqrt(best * (1 - best) / c["n_val"])
    near = [r for r, a in zip(c["ranks"], acc, strict=True) if a >= best - se]
    text = (
        f"On {NAMES[ds]} the best rank is **{c['best_rank']}**, with a validation accuracy of {best:.4f} on "
        f"{images(c['n_val'])} images (binomial standard error about {se:.4f}). "
    )
    if len(near) > 1:
        text += (f"Every rank tried from {min(near)} to {max(near)} comes within one standard error of it, so the "
                 "choice among those makes little difference. ")
    else:
        text += "No other rank tried comes within one standard error of it. "
    if acc[0] < best and acc[-1] < best:
        text += (f"Accuracy climbs from {acc[0]:.4f} at rank {c['ranks'][0]} and drops again to {acc[-1]:.4f} at "
                 f"rank {c['ranks'][-1]}.")
    return text


display(Markdown(
    " ".join(rank_sentence(ds) for ds in NAMES)
    + " Small subspaces miss much of how the images of a class vary; large ones start to overlap, so that a"
    " class subspace also approximates images of other classes well and the residuals stop telling the classes"
    " apart."
))

# %% [markdown]
# ## Test accuracy and cost
#
# Every model below is fitted once on the training split and scored once on the 10 000 test images. The
# networks are the baseline (500-50, SGD) and the tuned model (700-200-50, RMSProp, dropout 0.15, He uniform)
# of the earlier sections, read from the run store; their accuracy is the mean over seeds with the SD
# between seeds. Times are wall-clock seconds on the machine that filled the results cache (for the
# networks, the training time recorded in the store); they show orders of magnitude, not precise costs.

# %% tags=["remove-cell"]
rows = []
for ds in NAMES:
    for model, r in models[ds].iterrows():
        rows.append({"dataset": NAMES[ds], "model": model, "training images": r["n_train"],
                     "test accuracy": r["test_accuracy"], "SD": np.nan, "fit s": r["fit_seconds"],
                     "predict s": r["predict_seconds"]})
    rs = raw_svc[ds]
    rows.append({"dataset": NAMES[ds], "model": svd_study.RAW_SVC_LABEL, "training images": rs["n_train"],
                 "test accuracy": rs["test_accuracy"], "SD": np.nan, "fit s": rs["fit_seconds"],
                 "predict s": rs["predict_test_seconds"]})
    for name in ("baseline", "tuned"):
        cfg = networks[(ds, name)]
        s = fcn_summary.loc[cfg.key()]
        runs = fcn.runs[fcn.runs["key"] == cfg.key()]
        label = ("FCN baseline 500-50" if name == "baseline" else "FCN tuned 700-200-50") + (
            f", {cfg.epochs} epoch" + ("s" if cfg.epochs != 1 else ""))
        rows.append({"dataset": NAMES[ds], "model": label,
                     "training images": n_train[ds] if cfg.subset is None else cfg.subset,
                     "test accuracy": s["mean"], "SD": s["sd"], "fit s": float(runs["seconds"].mean()),
                     "predict s": np.nan})
results = pd.DataFrame(rows)
fcn_devices = ", ".join(sorted(set(fcn.runs["device"].astype(str))))

# %% tags=["remove-input"]
shown = results.set_index(["dataset", "model"])
(shown.style
 .format({"training images": images, "test accuracy": "{:.4f}", "SD": "{:.4f}", "fit s": "{:.1f}",
          "predict s": "{:.2f}"}, na_rep="")
 .set_caption("Test accuracy of every method on both datasets. SD: between seeds (networks only). "
              "fit s: training time (networks: per seed, on " + fcn_devices + "); predict s: time to classify "
              "the 10 000 test images."))

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Test accuracy of every method; networks show the mean over seeds with a bar of one SD. The RBF-SVC rows were fitted on a subset of the training images (see the table). The axis starts well above zero to make the differences visible.", "name": "fig-svd-compare"}}
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), constrained_layout=True)
for ax, ds in zip(axes, NAMES.values(), strict=True):
    d = results[results["dataset"] == ds].sort_values("test accuracy")
    colors = ["tab:orange" if m.startswith("FCN") else "tab:blue" for m in d["model"]]
    bars = ax.barh(d["model"], d["test accuracy"], xerr=d["SD"].fillna(0), color=colors)
    ax.bar_label(bars, labels=[f"{a:.4f}" for a in d["test accuracy"]], padding=3, fontsize=8)
    lo = max(0.0, float(d["test accuracy"].min()) - 0.05)
    ax.set_xlim(lo, 1.04)
    ax.set_title(ds)
    ax.set_xlabel("test accuracy")
    ax.grid(axis="x", alpha=0.3)
plt.show()


# %% tags=["remove-input"]
def compare_sentence(ds):
    d = results[results["dataset"] == NAMES[ds]].set_index("model")
    svd_name = svd_study.SVD_LABEL.format(rank=choice[ds]["best_rank"])
    svd_acc = d.loc[svd_name, "test accuracy"]
    tuned_name = next(m for m in d.index if m.startswith("FCN tuned"))
    best = d["test accuracy"].idxmax()
    ratio = d.loc[tuned_name, "fit s"] / d.loc[svd_name, "fit s"]
    cost = f"{ratio:.0f} times less than" if ratio >= 1 else f"{1 / ratio:.1f} times as long as"
    return (
        f"On {NAMES[ds]} the subspace classifier with rank {choice[ds]['best_rank']} reaches "
        f"**{svd_acc:.4f}**, {abs(d.loc[tuned_name, 'test accuracy'] - svd_acc):.4f} "
        f"{'below' if svd_acc < d.loc[tuned_name, 'test accuracy'] else 'above'} the tuned network "
        f"({d.loc[tuned_name, 'test accuracy']:.4f}), and fits in {d.loc[svd_name, 'fit s']:.1f} s, "
        f"{cost} one training run of that network. "
        + ("No other method in the table is more accurate." if best == svd_name else
           f"The most accurate method in the table is {best} ({d.loc[best, 'test accuracy']:.4f}).")
    )


display(Markdown(" ".join(compare_sentence(ds) for ds in NAMES)))

# %% [markdown]
# ## What was 0.9128?
#
# The seed report's 0.9128 is printed next to test accuracies, but the notebook behind it fitted `SVC()` and
# then measured accuracy on the same training images. A fitted SVM classifies its own training images better
# than new ones, so the two ways of scoring give different numbers; which of the two the report's figure
# matches says what it measured. Below, the same estimator (scikit-learn's `SVC()`: RBF kernel, $C = 1$,
# `gamma="scale"`) is fitted on FashionMNIST training sets of increasing size and scored both ways. With
# `gamma="scale"` the model does not change if all pixels are rescaled by a common factor, so the result does
# not depend on whether the seed fed it pixels in $[0, 255]$, in $[0, 1]$ or standardised.

# %% tags=["remove-input"]
ftable = forensic[["n_train", "train_accuracy", "test_accuracy", "n_support", "fit_seconds",
                   "predict_train_seconds", "predict_test_seconds"]].copy()
ftable.insert(3, "seed report", paper.SVD_CLASSIFIER_ACCURACY)
ftable.columns = ["training images", "accuracy on its training images", "test accuracy", "seed report",
                  "support vectors", "fit s", "predict train s", "predict test s"]
(ftable.style.hide(axis="index")
 .format({"training images": images, "support vectors": images, "fit s": "{:.1f}",
          "predict train s": "{:.1f}", "predict test s": "{:.1f}", "accuracy on its training images": "{:.4f}",
          "test accuracy": "{:.4f}", "seed report": "{:.4f}"})
 .set_caption("Default SVC() on raw FashionMNIST pixels, scored on the images it was fitted on "
              "(resubstitution) and on the test set, next to the seed report's 0.9128."))

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Default SVC() on FashionMNIST: accuracy on its own training images and on the test set against the number of training images (log scale), with the seed report's 0.9128. Hollow markers continue each curve on a straight line (in the logarithm of the size) through its three largest sizes to the whole training split and to all 60 000 training images; they are a rough guide, not measurements.", "name": "fig-svd-forensic"}}
if len(forensic) > 1:
    fig, ax = plt.subplots(figsize=(7, 3.8), constrained_layout=True)
    for col, marker, label in (("train_accuracy", "o", "on its training images"), ("test_accuracy", "s", "on the test set")):
        line, = ax.plot(forensic["n_train"], forensic[col], marker=marker, label=label)
        if extrapolated is not None:
            xs = [forensic["n_train"].iloc[-1], *(e["n"] for e in extrapolated.values())]
            ys = [forensic[col].iloc[-1], *(e[col] for e in extrapolated.values())]
            ax.plot(xs, ys, linestyle=":", marker=marker, markerfacecolor="none", color=line.get_color())
    ax.axhline(paper.SVD_CLASSIFIER_ACCURACY, color="k", linestyle="--", linewidth=1, label="seed report")
    ax.set_xscale("log")
    ticks = [*forensic["n_train"], *([extrapolated["all"]["n"]] if extrapolated else [])]  # 54k would overlap 60k
    ax.set_xticks(ticks, [f"{t / 1000:g}k" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("training images")
    ax.set_ylabel("accuracy")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    plt.show()
else:
    display(Markdown("*(One training-set size only in this profile: no curve.)*"))

# %% tags=["remove-input"]
P = paper.SVD_CLASSIFIER_ACCURACY
last = forensic.iloc[-1]
v = svd_study.forensic_verdict(P, last["train_accuracy"], last["test_accuracy"])
kind = {"train": "an accuracy on the training images (resubstitution) than a test-set accuracy",
        "test": "a test-set accuracy than an accuracy on the training images", "tie": None}[v["closer"]]
text = (
    f"Fitted on {images(int(last['n_train']))} training images, the default `SVC()` classifies "
    f"**{last['train_accuracy']:.4f}** of those same images correctly but **{last['test_accuracy']:.4f}** of the "
    f"test images. The seed report's {P:.4f} differs by {v['d_train']:.4f} from the first figure and by "
    f"{v['d_test']:.4f} from the second"
)
if kind is None:
    text += ", so this comparison cannot tell which kind of accuracy it is."
else:
    ratio = (f"; the first difference is {v['ratio']:.1f} times smaller than the second"
             if v["closer"] == "train" else f"; the second difference is {v['ratio']:.1f} times smaller than the first")
    degree = "much more" if v["ratio"] >= 3 else "more"
    text += (ratio if np.isfinite(v["ratio"]) else "") + f". The report's figure looks {degree} like {kind}."


def trend(values):
    d = np.diff(values)
    return "rises" if np.all(d > 0) else "falls" if np.all(d < 0) else "moves up and down"


if extrapolated is not None:
    n = forensic["n_train"].to_numpy()
    tr, te = forensic["train_accuracy"].to_numpy(), forensic["test_accuracy"].to_numpy()
    ex_s, ex_a = extrapolated["split"], extrapolated["all"]
    text += (
        f" From {images(n[0])} to {images(n[-1])} training images the accuracy on the training images "
        f"{trend(tr)} ({tr[0]:.4f} to {tr[-1]:.4f}) and the test accuracy {trend(te)} ({te[0]:.4f} to "
        f"{te[-1]:.4f}). The seed's fit most likely used more images than the largest subset here. As a rough "
        f"guide, a straight line in the logarithm of the training-set size through the three largest sizes "
        f"reaches {ex_s['train_accuracy']:.4f} on the training images and {ex_s['test_accuracy']:.4f} on the test "
        f"set at {images(ex_s['n'])} images (the whole training split), and {ex_a['train_accuracy']:.4f} and "
        f"{ex_a['test_accuracy']:.4f} at all {images(ex_a['n'])} training images."
    )
    ve = svd_study.forensic_verdict(P, ex_a["train_accuracy"], ex_a["test_accuracy"])
    if ve["closer"] == v["closer"] and ve["closer"] != "tie":
        which = "training-image" if ve["closer"] == "train" else "test"
        text += (f" The extrapolation points the same way: {P:.4f} is {min(ve['d_train'], ve['d_test']):.4f} from "
                 f"the extrapolated {which} accuracy at {images(ex_a['n'])} images.")
    else:
        text += " The extrapolation does not point the same way, so the verdict is less certain than it looks."
if shortened:
    text += " (Shortened run: repeat with the full profile before drawing a conclusion.)"
display(Markdown(text))

# %% [markdown]
# Whatever the exact figure, the score of a model on the images it was fitted on says how well it fits, not
# how well it generalises; only the test-set rows above are comparable with the networks' test accuracies.
