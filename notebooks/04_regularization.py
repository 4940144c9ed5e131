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
# together with a small sweep of $p$. Every rate is compared with the baseline seed by seed (the runs of one seed
# share their initial weights and mini-batch order), with a t interval and a t-test of the paired differences,
# Holm-adjusted over the family of rates, and McNemar's test seed pair by seed pair on the test predictions (see
# {doc}`../methods`); the best rate is chosen on the validation split.

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from fcnbook.lab import Lab
from fcnbook.report import experiments, plots
from fcnbook.report.chapters import regularization

# %% tags=["parameters"]
profile = "full"  # "quick" or "full"
dropouts = [0.0, 0.1, 0.2, 0.3, 0.5]
epochs = None  # None: the profile's value
seeds = None  # None: the profile's seeds
subset = None  # None: the profile's training subset
device = "auto"  # "auto", "cpu" or "cuda"
precision = None  # None: the profile's ("fp32"); "bf16" on AMX CPUs and recent GPUs

# %% tags=["remove-cell"]
S = experiments.settings(profile, epochs=epochs, seeds=seeds, subset=subset, precision=precision, lab=Lab(device))
study = regularization.study(S, dropouts)
text = regularization.sentences(study)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Baseline with dropout of increasing probability: loss and accuracy of the training sample measured in evaluation mode (solid, no units dropped) and of the validation split (dashed); mean over seeds with a band of one SD.", "name": "fig-dropout"}}
fig = plots.learning_curves(study.res, study.grid)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Test accuracy of every seed at every rate (dots) and their mean (bar); a seed that stands apart from the others of its rate is circled.", "name": "fig-dropout-seeds"}}
fig = plots.seed_accuracies(study.res.runs, study.grid, study.outliers)

# %% tags=["remove-input"]
plots.style(plots.accuracy_table(study.res.runs, study.grid), caption="Every dropout rate over seeds: final-epoch validation accuracy (the choice is made on it), test accuracy (mean, SD between seeds, 95 % t interval of the mean), diverged runs and the final train - validation gap, training measured in evaluation mode.")

# %% [markdown]
# Each rate against the baseline ($p = 0$), paired by seed: the mean and spread of the per-seed differences in
# test accuracy with their 95 % t interval, the paired t-test with Holm's adjustment over the rates, the verdict
# (detectable when the adjusted $p$ is below 0.05), and McNemar's exact test on the test images that exactly one of
# the two networks classifies correctly, seed pair by seed pair.

# %% tags=["remove-input"]
plots.style(plots.effects_table(study.family), caption="Test accuracy of each rate minus no dropout, paired by seed; Holm's adjustment is over all the rates shown, one family.")

# %% tags=["remove-input"]
display(Markdown("\n\n".join(filter(None, text.values()))))
