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
# 512) on the cross-entropy loss. The report gives one test accuracy for it. Here the same network is trained
# with several seeds, so that the number comes with its run-to-run spread. Over-fitting is judged from training
# accuracy measured in evaluation mode on a fixed sample of training images, as large as the validation split,
# against validation accuracy (see {doc}`../methods`).

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from fcnbook.lab import Lab
from fcnbook.report import experiments, plots
from fcnbook.report.chapters import findings

# %% tags=["parameters"]
profile = "full"  # "quick" or "full"
hidden = [500, 50]
lr = 0.1
epochs = None  # None: the profile's value (15 in full)
seeds = None  # None: the profile's seeds (0-4 in full)
subset = None  # None: the profile's training subset (all 54 000 images in full)
device = "auto"  # "auto", "cpu" or "cuda"
precision = None  # None: the profile's ("fp32"); "bf16" on AMX CPUs and recent GPUs

# %% tags=["remove-cell"]
S = experiments.settings(profile, epochs=epochs, seeds=seeds, subset=subset, precision=precision, lab=Lab(device))
variants = {"baseline": experiments.baseline(S, hidden=tuple(hidden), lr=lr)}
res = S.results(variants.values())

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Baseline learning curves: loss (left) and accuracy (right) of the training sample measured in evaluation mode (solid) and of the validation split (dashed); mean over seeds with a band of one SD.", "name": "fig-baseline-curves"}}
fig = plots.learning_curves(res, variants)

# %% tags=["remove-input"]
plots.style(plots.accuracy_table(res.runs, variants))

# %% tags=["remove-input"]
display(Markdown(findings.baseline(res, variants["baseline"])))
