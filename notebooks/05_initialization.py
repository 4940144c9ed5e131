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
# # Weight initialisation
#
# The seed report {cite:p}`hippe_hw4` compares three initialisers with PyTorch's default: random normal,
# Xavier normal {cite:p}`glorot2010understanding` and He {cite:p}`he2015delving` (formulas in {doc}`../methods`).
# Its text and its code disagree (see {doc}`../reproduction-notes`), so both are run here, in two labelled
# groups. **The report's code** re-drew the weights only (biases keep `nn.Linear`'s default draw) with random
# normal of standard deviation 0.01, Xavier normal, and `kaiming_normal_` for what it called "He uniform".
# **The report's text** describes random normal with standard deviation 0.1 and Kaiming uniform; here those
# start with zero biases. Every variant is compared with the default seed by seed (same mini-batch order),
# with a paired t interval and t-test, Holm-adjusted over all five variants as one family, and McNemar's test on
# the test predictions seed pair by seed pair.

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from fcnbook.lab import Lab
from fcnbook.report import experiments, plots
from fcnbook.report.chapters import initialization

# %% tags=["parameters"]
profile = "full"  # "quick" or "full"
epochs = None  # None: the profile's value
seeds = None  # None: the profile's seeds
subset = None  # None: the profile's training subset
device = "auto"  # "auto", "cpu" or "cuda"
precision = None  # None: the profile's ("fp32"); "bf16" on AMX CPUs and recent GPUs

# %% tags=["remove-cell"]
S = experiments.settings(profile, epochs=epochs, seeds=seeds, subset=subset, precision=precision, lab=Lab(device))
study = initialization.study(S)
text = initialization.sentences(study)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "The report's code's initialisers against PyTorch's default: loss and accuracy of the training sample in evaluation mode (solid) and of the validation split (dashed), mean over seeds with a band of one SD.", "name": "fig-init-code"}}
fig = plots.learning_curves(study.res, study.groups[initialization.CODE])

# %% tags=["remove-input"] mystnb={"figure": {"caption": "The report's text's initialisers against PyTorch's default, drawn as in the previous figure.", "name": "fig-init-text"}}
fig = plots.learning_curves(study.res, study.groups[initialization.TEXT])

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Test accuracy of every seed under every initialisation (dots) and their mean (bar); a seed that stands apart from the others of its initialisation is circled.", "name": "fig-init-seeds"}}
fig = plots.seed_accuracies(study.res.runs, study.inits, study.outliers)

# %% tags=["remove-input"]
plots.style(plots.accuracy_table(study.res.runs, study.inits), caption="Every initialisation over seeds: final-epoch validation accuracy, test accuracy (mean, SD between seeds, 95 % t interval of the mean), diverged runs and the final train - validation gap, training measured in evaluation mode.")

# %% tags=["remove-input"]
plots.style(plots.effects_table(study.family), caption="Test accuracy of each initialisation minus PyTorch's default, paired by seed; Holm's adjustment is over all five variants, one family.")

# %% tags=["remove-input"]
display(Markdown("\n\n".join(filter(None, text.values()))))
