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
# # Transfer to MNIST
#
# The seed report {cite:p}`hippe_hw4` finally trains its tuned configuration on the handwritten digits of MNIST
# {cite:p}`lecun1998gradient` and reports 0.9818 test accuracy. Nothing is transferred but the
# *configuration*: the network is trained from scratch on the digits, with the same split and standardisation
# rules as for Fashion-MNIST. The baseline is trained on MNIST too, to show how much of the tuning carries over.

# %% tags=["remove-cell"]
import numpy as np
from IPython.display import Markdown, display

from fcnbook import data, paper, plots, store
from fcnbook.profiles import resolve

# %% tags=["parameters"]
profile = "full"  # "quick" or "full"
epochs = None  # None: the profile's value, for the baseline
long_epochs = None  # None: the profile's value, for the tuned network
seeds = None  # None: the profile's seeds
subset = None  # None: the profile's training subset
device = "auto"  # "auto", "cpu" or "cuda"

# %% tags=["remove-cell"]
S = resolve(profile, epochs=epochs, long_epochs=long_epochs, seeds=seeds, subset=subset)
baseline = paper.BASELINE.replace(epochs=S["epochs"], subset=S["subset"], dataset="mnist")
tuned = paper.TUNED.replace(epochs=S["long_epochs"], subset=S["subset"], dataset="mnist")
res = store.run([baseline, tuned], S["seeds"], device=device, progress=False)
names = {baseline.label(): "baseline on MNIST", tuned.label(): "tuned on MNIST"}
splits = data.load_for(tuned)
y_test = splits.y_test.numpy()
tuned_runs = [r for r in res.records if r["key"] == tuned.key()]
predictions = [np.asarray(r["test_predictions"]) for r in tuned_runs]
images, _ = data.load_raw("mnist", train=False)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Baseline and tuned network on MNIST: losses (training solid, validation dashed) and validation accuracy, mean over seeds with a band of one SD.", "name": "fig-mnist-curves"}}
fig = plots.learning_curves(res.history, names=names)

# %% tags=["remove-input"]
table = plots.accuracy_table(res.runs, names)
plots.style(table)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Confusion matrix of the tuned network on the MNIST test set, pooled over seeds and normalised per true class.", "name": "fig-mnist-confusion"}}
fig, cm = plots.confusion(np.concatenate([y_test] * len(predictions)), np.concatenate(predictions), splits.classes)

# %% tags=["remove-input"]
pairs = plots.most_confused(cm, splits.classes, top=4)
plots.style(pairs)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "MNIST test digits of the most-confused (true -> predicted) pairs, as misclassified by the first seed's tuned network.", "name": "fig-mnist-confused"}}
fig = plots.confused_examples(images.numpy(), y_test, predictions[0], pairs, splits.classes)

# %% tags=["remove-input"]
acc = table["test acc (mean)"]
t, b = acc["tuned on MNIST"], acc["baseline on MNIST"]
display(Markdown(
    f"On MNIST the tuned configuration reaches **{t:.4f}** (SD {table.loc['tuned on MNIST', 'SD']:.4f}) against "
    f"{b:.4f} for the baseline ({t - b:+.4f}); the seed report's single run gave {paper.MNIST_TUNED_ACCURACY}. "
    f"The most frequent confusion left is {pairs.iloc[0]['true']} read as {pairs.iloc[0]['predicted']} "
    f"({pairs.iloc[0]['rate']:.1%} of the {pairs.iloc[0]['true']}s)."
))
