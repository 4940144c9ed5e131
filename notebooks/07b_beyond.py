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
# # Beyond the report: a validation-only search
#
# The report's tuned network {cite:p}`hippe_hw4` was found by hand, and its row 16 was chosen by looking at test
# accuracy. This chapter asks what a fully connected network can do on Fashion-MNIST when it is tuned properly: a
# hyperparameter study with Optuna {cite:p}`akiba2019optuna` searches depth, widths, optimizer (among them
# {term}`AdamW`), learning rate and schedule (among them {term}`one-cycle`), weight decay, dropout, batch norm,
# {term}`label smoothing`, batch size, augmentation and the number of epochs, with the matrix products in
# {term}`bf16` on CPUs with {term}`AMX`. Each trial trains one network (seed 0) on the training split and is scored
# by its validation accuracy after its last epoch; a {term}`pruner` ({term}`Hyperband`) stops trials that trail the
# others part-way through their training. The test set is not touched during the study. The chosen configuration
# is then retrained over five seeds and evaluated on the test set once: one network at a time, as a five-member
# {term}`ensemble` (the mean softmax of the seeds) and, when the recipe was trained on mirrored images, with
# test-time flip averaging (the mean softmax of an image and its mirror image), each reported as its own row. The
# same recipe, without flips, is retrained on MNIST. `fcnbook tune` runs such a study; see {doc}`../rebuild`.

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from fcnbook.lab import Lab
from fcnbook.report import beyond_figures, experiments, plots
from fcnbook.report.chapters import beyond
from fcnbook.tuning import study as tune

# %% tags=["parameters"]
profile = "full"  # "quick" (a tiny study, for the code path) or "full" (the stored study)
seeds = None  # None: the profile's seeds
device = "auto"  # "auto", "cpu" or "cuda"

# %% tags=["remove-cell"]
S = experiments.settings(profile, seeds=seeds, lab=Lab(device))
study = beyond.study_for(S)
recipe = beyond.chosen(study)
if recipe is None:
    display(Markdown(f"**No stored study `{beyond.STUDY[profile]}` was found**, so this chapter has nothing to show. "
                     f"Run one (about an hour on two cores), then rebuild the book:\n\n```\n{beyond.HOW_TO_RUN}\n```"))
else:
    mnist_recipe = beyond.chosen(study, "mnist")
    tuned = experiments.tuned(S)
    res = S.results([recipe])
    mnist_res = S.results([mnist_recipe])
    tuned_res = S.results([tuned])
    facts = beyond.study_facts(study, tune.journal_path(study.study_name))

# %% [markdown]
# ## The search space
#
# Every parameter below is sampled by Optuna's {term}`TPE` sampler; a conditional one only where its condition holds. The
# learning rate has two ranges, one for SGD (with momentum 0.9) and one for the adaptive optimizers.

# %% tags=["remove-input"]
plots.style(beyond.space_table(profile, study=study))

# %% [markdown]
# ## The study
#
# Every trial in the order it ran; then the share of the variation each parameter explains ({term}`fANOVA`).

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Validation accuracy of every trial in the order they ran: complete trials (dots), pruned trials at their last reported epoch (crosses) and the best so far (line). The axis is logarithmic in the error, 1 - accuracy, so that every trial shows while those near the best stay apart.", "name": "fig-beyond-history"}}
if recipe is not None:
    fig = beyond_figures.history_figure(study)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "How much of the variation in validation accuracy across complete trials each parameter explains (Optuna's fANOVA importance evaluator).", "name": "fig-beyond-importance"}}
if recipe is not None:
    fig, importances = beyond_figures.importance_figure(study)

# %% tags=["remove-input"]
if recipe is not None:
    display(plots.style(beyond.top_trials(study)))

# %% [markdown]
# ## The chosen recipe, retrained and tested once
#
# The recipe is the best trial by validation accuracy among those whose one-seed training took at most a fifth of
# 30 minutes, so that five seeds retrain within half an hour on two cores; the test set plays no part. Below: its
# learning curves, then its test accuracy beside the report's and the best public fully connected result we know
# of (training seconds per network; the ensemble rows: all five); the closing sentence names any slower, better trial.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "The chosen recipe on Fashion-MNIST: loss and accuracy of the training sample in evaluation mode (solid) and of the validation split (dashed), mean over seeds with a band of one SD.", "name": "fig-beyond-curves"}}
if recipe is not None:
    fig = plots.learning_curves(res, {"chosen recipe": recipe})

# %% tags=["remove-input"]
if recipe is not None:
    table = beyond.comparison_table(res, recipe, tuned_res, tuned, mnist_res, mnist_recipe)
    display(plots.style(table))

# %% tags=["remove-input"]
if recipe is not None:
    display(Markdown(beyond.sentence(table, facts, recipe, experiments.is_shortened(S) or profile == "quick")))
