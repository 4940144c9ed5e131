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
# {term}`label smoothing`, batch size, augmentation (shifts, flips, {term}`random erasing`), an average of the
# weights and the number of epochs, with the matrix products in {term}`bf16`. Each trial trains one network (seed 0)
# on the training split and is scored by its validation accuracy after its last epoch; a {term}`pruner`
# ({term}`Hyperband`) stops trials that trail the others part-way. The study starts from named known recipes, so
# that it cannot end below them, and never touches the test set. Its best trials are re-scored on three more seeds,
# and only the best mean is tested, once, on five fresh seeds: one network at a time and as a five-member
# {term}`ensemble`; without flips, it is retrained on MNIST. `fcnbook tune` runs such a study; see {doc}`../rebuild`.

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from fcnbook.lab import Lab
from fcnbook.report import beyond_figures, experiments, plots
from fcnbook.report.chapters import beyond

# %% tags=["parameters"]
profile = "full"  # "quick" (a tiny study, for the code path) or "full" (the stored study)
seeds = None  # None: the profile's seeds
device = "auto"  # "auto", "cpu" or "cuda"

# %% tags=["remove-cell"]
S = experiments.settings(profile, seeds=seeds, lab=Lab(device))
study = beyond.study_for(S)
if study is None:
    display(Markdown(f"**No stored study `{beyond.STUDY[profile]}` was found**, so this chapter has nothing to show. "
                     f"Run one (about an hour on two cores), then rebuild the book:\n\n```\n{beyond.HOW_TO_RUN}\n```"))
else:
    out = beyond.outcome(S, study)

# %% [markdown]
# ## The search space
#
# Every parameter below is sampled by Optuna's {term}`TPE` sampler; a conditional one only where its condition holds. The
# learning rate has two ranges, one for SGD (with momentum 0.9) and one for the adaptive optimizers.

# %% tags=["remove-input"]
plots.style(beyond.space_table(profile, study=study))

# %% [markdown]
# ## The study: its trials, and what each parameter explains ({term}`fANOVA`)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Validation accuracy of every trial in the order they ran: complete trials (dots), pruned trials at their last reported epoch (crosses), the named recipes (diamonds), the finalists (circles), the chosen one (star) and the best so far (line). The axis is logarithmic in the error, 1 - accuracy, so that every trial shows while those near the best stay apart.", "name": "fig-beyond-history"}}
if study is not None:
    fig = beyond_figures.history_figure(study, list(out.scores.index), out.number)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "How much of the variation in validation accuracy across complete trials each parameter explains (Optuna's fANOVA importance evaluator; trials that predate EMA and random erasing count with both off).", "name": "fig-beyond-importance"}}
if study is not None:
    fig, importances = beyond_figures.importance_figure(study)

# %% tags=["remove-input"]
if study is not None:
    display(plots.style(beyond.top_trials(study)))

# %% [markdown]
# ## Choosing the recipe without the winner's curse
#
# Near the top, one validation accuracy per trial differs by about its own sampling error (0.004 on 6 000 images),
# so the best trial is partly the luckiest (the {term}`winner's curse`). The five best complete trials and every
# named recipe are retrained on seeds 1-3, which the study never used, without the test set; the recipe is the best
# mean (`fcnbook.report.selection`).

# %% tags=["remove-input"]
if study is not None:
    display(plots.style(beyond.selection_table(out)))
    display(Markdown(beyond.study_sentence(out) + beyond.pending(out)))

# %% [markdown]
# ## The chosen recipe, tested once
#
# The recipe is retrained on seeds 5-9, which played no part in any choice, and tested once beside the report's
# tuned network on the same seeds: first the drop from validation to test of both, then test accuracy beside the
# report's and the best public fully connected result we know of (training seconds per network; ensembles: all five).

# %% tags=["remove-input"] mystnb={"figure": {"caption": "The chosen recipe on Fashion-MNIST: loss and accuracy of the training sample in evaluation mode (solid) and of the validation split (dashed), mean over seeds with a band of one SD.", "name": "fig-beyond-curves"}}
if study is not None and out.res is not None:
    fig = plots.learning_curves(out.res, {"chosen recipe": out.recipe})

# %% tags=["remove-input"]
if study is not None and out.res is not None:
    display(plots.style(beyond.drop_table(out)))
    table = beyond.comparison_table(out)
    display(plots.style(table))
    display(Markdown(beyond.sentence(out, table, experiments.is_shortened(S) or profile == "quick")))
