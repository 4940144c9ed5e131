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
# # Optimizers and learning rates
#
# The seed report {cite:p}`hippe_hw4` trains the baseline network with three optimizers, SGD, Adam and RMSProp
# (see {doc}`../methods`), each at learning rates 0.1, 0.01 and 0.001, and reports that Adam and RMSProp only
# work at the smaller rates. This chapter repeats the 3 x 3 grid with several seeds per cell. The best cell is
# chosen on the validation split; the test set only reports the chosen cell's accuracy afterwards. A run whose
# loss becomes non-finite is marked as diverged: its curves stop there (a cross on the epoch axis) and its test
# accuracy comes from its last finite weights.

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from fcnbook.lab import Lab
from fcnbook.report import experiments, plots
from fcnbook.report.chapters import optimizers as chapter

# %% tags=["parameters"]
profile = "full"  # "quick" or "full"
optimizers = ["sgd", "adam", "rmsprop"]
lrs = [0.1, 0.01, 0.001]
epochs = None  # None: the profile's value (15 in full)
seeds = None  # None: the profile's seeds
subset = None  # None: the profile's training subset
device = "auto"  # "auto", "cpu" or "cuda"
precision = None  # None: the profile's ("fp32"); "bf16" on AMX CPUs and recent GPUs

# %% tags=["remove-cell"]
S = experiments.settings(profile, epochs=epochs, seeds=seeds, subset=subset, precision=precision, lab=Lab(device))
study = chapter.study(S, optimizers, lrs)
text = chapter.sentences(study)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "One column per optimizer, one colour per learning rate. Top: loss (log scale); bottom: accuracy; training sample in evaluation mode solid, validation dashed. Mean over seeds with a band of one SD; a cross on the epoch axis marks a run that diverged in that epoch, and the panel says over how many seeds the later means are taken.", "name": "fig-optimizers"}}
fig = plots.curves_by_optimizer(study.res, study.grid)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Test accuracy of every seed in every cell (dots) and their mean (bar); a seed that stands apart from the others of its cell is circled.", "name": "fig-optimizers-seeds"}}
fig = plots.seed_accuracies(study.res.runs, study.grid, study.outliers)

# %% tags=["remove-input"]
plots.style(plots.accuracy_table(study.res.runs, study.grid), caption="Every (optimizer, learning rate) cell over seeds: final-epoch validation accuracy (the choice is made on it), test accuracy (mean, SD between seeds, 95 % t interval of the mean), diverged runs and the final train - validation gap, training measured in evaluation mode.")

# %% tags=["remove-input"]
display(Markdown("\n\n".join(filter(None, text.values()))))
