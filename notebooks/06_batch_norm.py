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
# networks are compared seed by seed, with a paired t interval and McNemar's test on the test predictions.

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from fcnbook.data import indices
from fcnbook.lab import Lab
from fcnbook.report import experiments, plots
from fcnbook.report.chapters import findings
from fcnbook.store import frames as results

# %% tags=["parameters"]
profile = "full"  # "quick" or "full"
device = "auto"  # "auto", "cpu" or "cuda"
precision = None  # None: the profile's ("fp32"); "bf16" on AMX CPUs and recent GPUs
epochs = None  # None: the profile's value
seeds = None  # None: the profile's seeds
subset = None  # None: the profile's training subset

# %% tags=["remove-cell"]
S = experiments.settings(profile, epochs=epochs, seeds=seeds, subset=subset, precision=precision, lab=Lab(device))
variants = experiments.batch_norm(S)
res = S.results(variants.values())
effects = results.effects(res, variants["baseline"], variants, indices.labels("fashion", train=False))

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Baseline with and without batch normalisation: loss and accuracy of the training sample in evaluation mode (solid; batch norm on its running statistics) and of the validation split (dashed), mean over seeds with a band of one SD.", "name": "fig-batchnorm"}}
fig = plots.learning_curves(res, variants)

# %% tags=["remove-input"]
plots.style(plots.accuracy_table(res.runs, variants))

# %% tags=["remove-input"]
plots.style(plots.effects_table(effects))

# %% tags=["remove-input"]
display(Markdown(findings.batch_norm(res, variants, effects)))
