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
# # The original protocol beside ours
#
# The seed report's code {cite:p}`hippe_hw4` ran every experiment under a protocol that differs from this book's
# in details its text does not mention (see {doc}`../reproduction-notes`): both datasets were scaled with MNIST's
# pixel mean and SD, the 10 % validation split was drawn without a seed, test accuracy was the unweighted mean of
# per-batch accuracies (batches of 256), and batch norm followed a Linear layer *with* a bias. This chapter trains
# the baseline under both protocols and measures, from numbers, which of these differences move the accuracy, and
# whether the report's two runs of one configuration (rows 1 and 2 of its Table 1: 0.8764 and 0.8507) are as far
# apart as two unseeded runs of that code can be by chance.
#
# The variants: **ours** (pixels standardised with the training split's own mean and SD, split seed 0);
# **MNIST constants** (the course template's 0.1307 and 0.3081, split seed 0); **original, split k** (MNIST
# constants and split seed $k = 1, \dots, 4$, standing in for the unseeded split). Every variant is trained with
# the same seeds, and a seed fixes the initial weights, the batch order and the dropout masks, so each variant
# is compared with ours seed by seed: the mean of the paired differences with its 95 % $t$ interval, and the
# paired $t$-test with Holm's adjustment over the five variants, one family.

# %% tags=["remove-cell"]
# Imports come before the parameters cell, so that the parameters are what a reader sees first.
from IPython.display import Markdown, display

from fcnbook.lab import Lab
from fcnbook.report import experiments, summary_plots
from fcnbook.report.chapters import protocol

# %% tags=["parameters"]
profile = "full"  # "quick" or "full"
epochs = None  # None: the profile's value (15 in full)
seeds = None  # None: the profile's seeds (0-4 in full)
subset = None  # None: the profile's training subset (all 54 000 images in full)
device = "auto"  # "auto", "cpu" or "cuda"
precision = None  # None: the profile's ("fp32"); "bf16" on AMX CPUs and recent GPUs

# %% tags=["remove-cell"]
S = experiments.settings(profile, epochs=epochs, seeds=seeds, subset=subset, precision=precision, lab=Lab(device))
result = protocol.study(S)
text = protocol.sentences(result)

# %% tags=["remove-input"]
display(Markdown(text["settings"]))

# %% [markdown]
# ## Which differences move the accuracy

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Test accuracy of each protocol variant minus ours, paired by seed: mean and 95 % t interval. Dotted: plus and minus the gap between the report's rows 1 and 2, for scale.", "name": "fig-protocol-differences"}}
fig = summary_plots.differences_figure(result.diffs, protocol.REPORT_GAP)

# %% tags=["remove-input"]
display(Markdown(text["differences"]))

# %% [markdown]
# ## Test accuracy the original way
#
# The report's code averaged the accuracies of 40 test batches, 39 of 256 images and one of 16, with equal
# weights, and printed the variance of those 40 numbers as its "SD". The same figures follow from the stored test
# predictions of every run here (assuming the test images were read in file order, as an unshuffled loader does).

# %% tags=["remove-input"]
display(Markdown(text["original_way"]))

# %% [markdown]
# ## Rows 1 and 2: two runs of the same code
#
# All runs of the original protocol (MNIST constants, every split seed, every seed) are pooled: together they
# vary in what the report's unseeded runs varied in, the validation split and the random state.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Every run's test accuracy computed the report's way (mean of per-batch accuracies), one line per protocol variant; vertical lines: the report's two runs of the baseline.", "name": "fig-protocol-runs"}}
fig = summary_plots.runs_figure(result.way, protocol.REPORT_PAIR)

# %% tags=["remove-input"]
display(Markdown(text["gap"]))

# %% [markdown]
# ## A bias before batch norm
#
# In the report's code batch norm follows a Linear layer with a bias; here it has none. Batch norm subtracts
# the batch mean of every unit, bias included, so the bias should neither change the output nor receive a
# gradient in training; in evaluation mode batch norm subtracts its running mean instead, which starts at zero
# and takes the bias up over the first steps. Two small networks, identical but for that bias, trained side by
# side on the same batches (double precision), show the size of what is left.

# %% tags=["remove-input"]
display(Markdown(text["bias"]))
