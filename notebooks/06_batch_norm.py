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
# # Batch normalisation
#
# Batch normalisation {cite:p}`ioffe2015batch` standardises every hidden unit over the mini-batch before the
# ReLU and then applies a learned scale and shift; at test time it uses running averages of the batch
# statistics. The seed report {cite:p}`hippe_hw4` adds it to the baseline and finds no gain. Here a Linear layer
# that feeds batch norm has no bias of its own (batch norm's shift replaces it; see {doc}`../reproduction-notes`).

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from fcnbook import paper, plots, store
from fcnbook.profiles import resolve

# %% tags=["parameters"]
profile = "full"  # "quick" or "full"
epochs = None  # None: the profile's value
seeds = None  # None: the profile's seeds
subset = None  # None: the profile's training subset
device = "auto"  # "auto", "cpu" or "cuda"

# %% tags=["remove-cell"]
S = resolve(profile, epochs=epochs, seeds=seeds, subset=subset)
base = paper.BASELINE.replace(epochs=S["epochs"], subset=S["subset"])
bn = base.replace(batch_norm=True)
res = store.run([base, bn], S["seeds"], device=device, progress=False)
names = {base.label(): "baseline", bn.label(): "baseline + batch norm"}

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Baseline with and without batch normalisation: losses (training solid, validation dashed) and validation accuracy, mean over seeds with a band of one SD.", "name": "fig-batchnorm"}}
fig = plots.learning_curves(res.history, names=names)

# %% tags=["remove-input"]
table = plots.accuracy_table(res.runs, names)
plots.style(table)

# %% tags=["remove-input"]
acc, gap = table["test acc (mean)"], table["train - val"]
v = res.history[res.history["metric"] == "val_accuracy"].groupby(["label", "epoch"])["value"].mean()
wiggle = {names[k]: v[k].diff().abs().mean() for k in names}
display(Markdown(
    f"Batch norm changes the mean test accuracy from {acc['baseline']:.4f} to "
    f"{acc['baseline + batch norm']:.4f} ({acc['baseline + batch norm'] - acc['baseline']:+.4f}); the seed "
    f"report saw 0.8600 against 0.8764. The final train-validation gap is {gap['baseline + batch norm']:+.4f} "
    f"with batch norm and {gap['baseline']:+.4f} without, and the validation accuracy moves by "
    f"{wiggle['baseline + batch norm']:.4f} per epoch on average with batch norm against "
    f"{wiggle['baseline']:.4f} without"
    + (": the validation curve is jumpier with batch norm, as its evaluation uses running statistics that lag "
       "behind the quickly moving weights." if wiggle["baseline + batch norm"] > wiggle["baseline"] else ".")
))
