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
# share their initial weights and mini-batch order), with a t interval of the paired differences and McNemar's
# test on the test predictions (see {doc}`../methods`); the best rate is chosen on the validation split.

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from fcnbook.data import indices
from fcnbook.lab import Lab
from fcnbook.report import experiments, plots
from fcnbook.report.chapters import findings
from fcnbook.store import frames as results

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
grid = experiments.dropout_grid(S, sorted({0.0, *dropouts}))
res = S.results(grid.values())
effects = results.effects(res, grid[0.0], grid, indices.labels("fashion", train=False))

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Baseline with dropout of increasing probability: loss and accuracy of the training sample measured in evaluation mode (solid, no units dropped) and of the validation split (dashed); mean over seeds with a band of one SD.", "name": "fig-dropout"}}
fig = plots.learning_curves(res, grid)

# %% tags=["remove-input"]
plots.style(plots.accuracy_table(res.runs, grid))

# %% [markdown]
# Each rate against the baseline ($p = 0$), paired by seed: the mean and spread of the per-seed differences in
# test accuracy with their 95 % t interval, and McNemar's exact test on the test images that exactly one of the
# two networks classifies correctly, pooled over seeds (and per seed).

# %% tags=["remove-input"]
plots.style(plots.effects_table(effects))

# %% tags=["remove-input"]
display(Markdown(findings.dropout(res, grid, effects)))
