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
from fcnbook.report.chapters import baseline

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
study = baseline.study(S, hidden=hidden, lr=lr)
text = baseline.sentences(study)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Baseline learning curves: loss (left) and accuracy (right) of the training sample measured in evaluation mode (solid) and of the validation split (dashed); mean over seeds with a band of one SD.", "name": "fig-baseline-curves"}}
fig = plots.learning_curves(study.res, study.variants)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Test accuracy of every seed (dots) and their mean (bar); a seed that stands apart from the others is circled.", "name": "fig-baseline-seeds"}}
fig = plots.seed_accuracies(study.res.runs, study.variants, study.outliers)

# %% tags=["remove-input"]
plots.style(plots.accuracy_table(study.res.runs, study.variants), caption="The baseline over seeds: final-epoch validation accuracy, test accuracy (mean, SD between seeds, 95 % t interval of the mean), diverged runs and the final train - validation gap, training measured in evaluation mode.")

# %% tags=["remove-input"]
display(Markdown("\n\n".join(filter(None, text.values()))))
