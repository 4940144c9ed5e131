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
# # Summary: Table 1 reproduced
#
# The seed report {cite:p}`hippe_hw4` condenses its experiments into one table of sixteen test accuracies
# (its Table 1). This chapter puts every row of that table next to what the same configuration gives here, trained
# with several seeds instead of once. Each row runs the configuration the report's *code* ran (its initialisers
# re-drew weights only, with a standard deviation of 0.01 for "Random Normal" and `kaiming_normal_` for "He
# Uniform"); the settings its text describes instead are an experiment of their own in {doc}`05_initialization`.
# The runs come from the run store, so the networks of the earlier chapters are reused, not trained again.
#
# How to read the comparison:
#
# - **Paper "SD".** The report's last column is headed "SD" but holds a *variance* of per-batch test accuracies
#   within one run (see {doc}`../reproduction-notes`). Divided by 39 (40 test batches) its square root is the
#   test-set sampling error of the report's figure ("Paper SE"), close to the binomial $\sqrt{p(1-p)/10\,000}$.
# - **Ours.** Mean test accuracy over $n$ seeds, the SD between seeds ($n-1$) and the 95 % $t$ interval of the mean.
# - **Consistent?** Whether the report's single run lies inside our 95 % prediction interval for one more run
#   (constructed as below); $z$ is the standardised difference, "Holm p" its $p$ adjusted over every tested row.

# %% tags=["remove-cell"]
from IPython.display import Markdown, display
from myst_nb import glue

from fcnbook.lab import Lab
from fcnbook.report import experiments, summary_plots
from fcnbook.report.chapters import summary

# %% tags=["parameters"]
profile = "full"      # "quick" or "full"
epochs = None         # None: as the profile says; rows 1-15
long_epochs = None    # None: as the profile says; the tuned network, row 16
seeds = None          # None: as the profile says, e.g. [0, 1, 2, 3, 4]
subset = None         # None: as the profile says; None there means all 54 000 training images
device = "auto"       # "auto", "cpu" or "cuda"
precision = None  # None: the profile's ("fp32"); "bf16" on AMX CPUs and recent GPUs

# %% tags=["remove-cell"]
S = experiments.settings(profile, epochs=epochs, long_epochs=long_epochs, seeds=seeds, subset=subset, precision=precision, lab=Lab(device))
result = summary.study(S)
text = summary.sentences(result)

# %% tags=["remove-input"]
display(Markdown(text["method"] + "\n\n" + text["settings"]))

# %% [markdown]
# ## Table 1, side by side

# %% tags=["remove-input", "full-width"]
summary_plots.styled_table1(result.table)

# %% tags=["remove-cell"]
glue("fig_summary_table1", summary_plots.table1_figure(result.table, runs=result.runs), display=False)

# %% [markdown]
# ```{glue:figure} fig_summary_table1
# :name: fig-summary-table1
#
# Test accuracy of every Table 1 row: the report's single run (cross, coloured by verdict) against the mean of our
# seeds (dot) with the 95 % prediction interval for one more run (bar), and each of our seeds (small grey dots).
# Rows far to the left diverged or stayed near chance (dotted line).
# ```
#
# ## What the numbers say
#
# The best configuration is chosen by its validation accuracy, and only its test accuracy is then read: choosing
# by test accuracy would make the chosen figure optimistic.

# %% tags=["remove-input"]
display(Markdown(text["findings"]))

# %% [markdown]
# ### Over- and under-fitting
#
# The gap between training and validation accuracy after the last epoch is the simplest sign of over-fitting; a
# validation loss that has climbed back up from its lowest value is a second. Training accuracy here is measured
# after each epoch in evaluation mode (dropout off, batch norm on its running statistics) on a fixed stratified
# sample of training images as large as the validation split, so it is comparable with the validation figure;
# the running means over an epoch's mini-batches, taken with dropout on, are not used.

# %% tags=["remove-input"]
display(summary_plots.style_fit(result.fit))
display(Markdown(text["fitting"]))

# %% [markdown]
# ## The other anchors
#
# Besides Table 1, the report quotes the tuned network's accuracy on MNIST and one for an "SVD classifier".

# %% tags=["remove-input"]
display(Markdown(text["anchors"]))
