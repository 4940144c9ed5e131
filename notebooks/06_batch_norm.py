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
# ReLU and then applies a learned scale and shift; at evaluation time it uses running averages of the batch
# statistics. The seed report {cite:p}`hippe_hw4` adds it to the baseline. Here a Linear layer that feeds batch
# norm has no bias of its own (batch norm's shift replaces it; see {doc}`../reproduction-notes`). The two
# networks are compared seed by seed, with a paired t interval and t-test, and McNemar's test on the test
# predictions seed pair by seed pair.

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from fcnbook.lab import Lab
from fcnbook.report import experiments, plots
from fcnbook.report.chapters import batch_norm

# %% tags=["parameters"]
profile = "full"  # "quick" or "full"
device = "auto"  # "auto", "cpu" or "cuda"
precision = None  # None: the profile's ("fp32"); "bf16" on AMX CPUs and recent GPUs
epochs = None  # None: the profile's value
seeds = None  # None: the profile's seeds
subset = None  # None: the profile's training subset

# %% tags=["remove-cell"]
S = experiments.settings(profile, epochs=epochs, seeds=seeds, subset=subset, precision=precision, lab=Lab(device))
study = batch_norm.study(S)
text = batch_norm.sentences(study)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Baseline with and without batch normalisation: loss and accuracy of the training sample in evaluation mode (solid; batch norm on its running statistics) and of the validation split (dashed), mean over seeds with a band of one SD.", "name": "fig-batchnorm"}}
fig = plots.learning_curves(study.res, study.variants)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Test accuracy of every seed with and without batch norm (dots) and their mean (bar); a seed that stands apart from the others is circled and named.", "name": "fig-batchnorm-seeds"}}
fig = plots.seed_accuracies(study.res.runs, study.variants, study.outliers)

# %% tags=["remove-input"]
plots.style(plots.accuracy_table(study.res.runs, study.variants), caption="With and without batch norm over seeds: final-epoch validation accuracy, test accuracy (mean, SD between seeds, 95 % t interval of the mean), diverged runs and the final train - validation gap, training measured in evaluation mode.")

# %% tags=["remove-input"]
plots.style(plots.effects_table(study.family), caption="Test accuracy with batch norm minus without, paired by seed (one comparison, so no adjustment).")

# %% tags=["remove-input"]
display(Markdown("\n\n".join(filter(None, text.values()))))
