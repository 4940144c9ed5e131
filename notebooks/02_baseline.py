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
# # Baseline: a 500-50 network trained with SGD
#
# The starting point of the seed report {cite:p}`hippe_hw4` is a network with two hidden layers of 500 and 50
# ReLU units, trained for 15 epochs with plain stochastic gradient descent (learning rate 0.1, mini-batches of
# 512) on the cross-entropy loss. The report gives one test accuracy for it, 0.8764. Here the same network is
# trained with several seeds, so that the number comes with its run-to-run spread.

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from fcnbook import plots, store
from fcnbook.config import RunConfig
from fcnbook.profiles import resolve

# %% tags=["parameters"]
profile = "full"  # "quick" or "full"
epochs = None  # None: the profile's value (15 in full)
seeds = None  # None: the profile's seeds (0-4 in full)
subset = None  # None: the profile's training subset (all 54 000 images in full)
device = "auto"  # "auto", "cpu" or "cuda"
hidden = [500, 50]
lr = 0.1

# %% tags=["remove-cell"]
S = resolve(profile, epochs=epochs, seeds=seeds, subset=subset)
baseline = RunConfig(hidden=tuple(hidden), lr=lr, epochs=S["epochs"], subset=S["subset"])
res = store.run(baseline, S["seeds"], device=device, progress=False)
summary = res.summary().iloc[0]
h = res.history

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Baseline learning curves: training loss (solid) and validation loss (dashed) on the left, validation accuracy on the right; mean over seeds with a band of one SD.", "name": "fig-baseline-curves"}}
fig = plots.learning_curves(h, names={baseline.label(): "baseline 500-50, SGD lr 0.1"})

# %% tags=["remove-input"]
plots.style(plots.accuracy_table(res.runs, {baseline.label(): "baseline 500-50, SGD lr 0.1"}))

# %% tags=["remove-input"]
final = h[h["epoch"] == h["epoch"].max()].groupby("metric")["value"].mean()
gap = final["train_accuracy"] - final["val_accuracy"]
display(Markdown(
    f"Over {int(summary['n'])} seeds the baseline reaches a mean test accuracy of **{summary['mean']:.4f}** "
    f"(SD {summary['sd']:.4f}, 95 % CI [{summary['ci_low']:.4f}, {summary['ci_high']:.4f}]) after "
    f"{baseline.epochs} epochs; the seed report's single run gave 0.8764. In the last epoch the running "
    f"training accuracy is {final['train_accuracy']:.4f} against {final['val_accuracy']:.4f} on the validation "
    f"split, a gap of {gap:+.4f}: "
    + ("the network fits its training images noticeably better than unseen ones, a first sign of over-fitting."
       if gap > 0.02 else "training and validation accuracy are still close, so the network is not yet "
       "over-fitting at this point.")
))
