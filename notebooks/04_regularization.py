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
# # Dropout
#
# Dropout {cite:p}`srivastava2014dropout` zeroes each hidden activation with probability $p$ during training
# (and rescales the survivors by $1/(1-p)$), so that no unit can rely on particular others. The seed report
# {cite:p}`hippe_hw4` adds dropout with $p = 0.5$ to the baseline. Here that comparison is repeated over seeds,
# together with a small sweep of $p$.

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
dropouts = [0.0, 0.1, 0.2, 0.3, 0.5]

# %% tags=["remove-cell"]
S = resolve(profile, epochs=epochs, seeds=seeds, subset=subset)
base = paper.BASELINE.replace(epochs=S["epochs"], subset=S["subset"])
configs = [base.replace(dropout=p) for p in dropouts]
res = store.run(configs, S["seeds"], device=device, progress=False)
names = {c.label(): f"dropout {c.dropout:g}" + (" (baseline)" if c.dropout == 0 else "") for c in configs}

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Baseline with dropout of increasing probability: losses (training solid, validation dashed) and validation accuracy, mean over seeds with a band of one SD.", "name": "fig-dropout"}}
fig = plots.learning_curves(res.history, names=names)

# %% tags=["remove-input"]
table = plots.accuracy_table(res.runs, names)
plots.style(table)

# %% tags=["remove-input"]
acc, gap = table["test acc (mean)"], table["train - val"]
b, d = names[base.label()], names[base.replace(dropout=0.5).label()] if 0.5 in dropouts else None
text = [f"Without dropout the final-epoch training accuracy exceeds validation accuracy by {gap[b]:+.4f}."]
if d:
    text.append(f"With $p = 0.5$ that gap is {gap[d]:+.4f} and the mean test accuracy {acc[d]:.4f} against "
                f"{acc[b]:.4f} for the baseline ({acc[d] - acc[b]:+.4f}); the seed report found 0.8666 against "
                "0.8764.")
text.append(f"The best setting of the sweep is {acc.idxmax()} ({acc.max():.4f}).")
if d and gap[d] < gap[b]:
    text.append("Dropout narrows the train-validation gap, as a regulariser should"
                + (f"; within {base.epochs} epochs it does not raise test accuracy, since the noisier network "
                   "also fits more slowly." if acc[d] <= acc[b] else ", and here it also raises test accuracy."))
elif d:
    text.append("Dropout does not narrow the train-validation gap at this budget.")
display(Markdown(" ".join(text)))
