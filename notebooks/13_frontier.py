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
# # The frontier: how far can one fully connected network go?
#
# The report's best network {cite:p}`hippe_hw4` reaches about 0.90 on Fashion-MNIST, and so does the best public
# fully connected network we know {cite:p}`lybbert_uw_central`. This chapter asks what buys each point beyond that.
# It climbs a ladder: it starts from the report's tuned 700-200-50 network as its code ran it and adds one
# ingredient per rung, keeping everything else, so that each rung's gain over the rung before is what that
# ingredient buys. Every rung, comparator and extra is trained on seeds 5-9, which played no part in any choice,
# and is compared with the rung before seed by seed; the ladder's comparisons are adjusted together with
# {term}`Holm`'s method. Beside the ladder: the public peer's recipe under the same protocol, the {term}`ensemble`
# of the best networks, that ensemble {term}`distilled <distillation>` back into one network, and the same recipe
# on MNIST. Compute is counted (matrix-multiply work), so runs on different machines compare; the
# {term}`Pareto front` shows which rungs buy their accuracy with the least of it. `fcnbook frontier` lists the
# ladder and trains its rungs (see {doc}`../rebuild`); the book reads what is stored and never trains them.

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from fcnbook.lab import Lab
from fcnbook.report import experiments, frontier_figures, ladder, plots
from fcnbook.report.chapters import distill_check, frontier, frontier_text

# %% tags=["parameters"]
profile = "full"  # "quick" (tiny rungs, trained here) or "full" (the stored rungs only)
device = "auto"  # "auto", "cpu" or "cuda"

# %% tags=["remove-cell"]
S = experiments.settings(profile, lab=Lab(device))
study = frontier.study(S)
text, check = (frontier_text.sentences(study), distill_check.study(S)) if study is not None else ({}, None)
if study is None:
    display(Markdown(ladder.HOW_TO_TRAIN))

# %% [markdown]
# ## The ladder

# %% tags=["remove-input", "full-width"]
if study is not None:
    display(plots.style(frontier_figures.ladder_table(study), caption="The ingredient ladder on the frontier's seeds (5-9 in the full profile): mean validation accuracy (what chooses the best rung), test accuracy (mean, SD between seeds), the paired gain over the rung before with its 95 % t interval, Holm's adjusted p over the ladder, the verdict, counted compute per seed and measured wall-clock hours of all seeds (estimated for rungs not trained yet)."))

# %% tags=["remove-input"]
if study is not None:
    display(Markdown("\n\n".join(filter(None, [text["ladder"], text["best"], text["pending"]]))))

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Test accuracy (mean over the frontier's seeds, 5-9 in the full profile, bar of one SD) against counted compute per seed: the ladder's rungs in order (circles), the networks set beside it (other markers), the search's recipe once tested (star) and the Pareto front (dashed). Single networks only; ensembles are compared in the text.", "name": "fig-frontier-compute"}}
if study is not None:
    fig = frontier_figures.compute_figure(study)

# %% [markdown]
# ## Beside the ladder

# %% tags=["remove-input"]
if study is not None and len(study.others):
    display(plots.style(frontier_figures.extras_table(study), caption="The networks set beside the ladder, on the same split and seeds: the public peer's recipe, the study's first recipe, rungs distilled from their own ensembles, a rung in bf16 and rungs on MNIST (each named by its rung)."))

# %% tags=["remove-input"]
if study is not None:
    display(Markdown("\n\n".join(filter(None, [text["peer"], text["distilled"], text["bf16"], text["mnist"]]))))

# %% [markdown]
# ### A check: is the teacher's label smoothing or the temperature to blame?
#
# Why do the distilled networks keep none of the gain? Two suspects, tested on the label-smoothing rung in bf16:
# the teacher's own label smoothing, which keeps its probabilities away from 0 and 1, and the temperature 4, which
# flattens them further. Two teachers (with and without label smoothing, each an ensemble of seeds 10-14, which no
# student uses) times two temperatures (4, 1). The check explains; the targets above count the best rung's students.

# %% tags=["remove-input", "full-width"]
if check is not None:
    display(plots.style(distill_check.table(check), caption="The distillation check: each student (the label-smoothing rung in bf16, seeds 5-9), whether its teacher was trained with label smoothing 0.1, the temperature T, the teacher's training accuracy (a probe of its training images), one network and ensemble (test), the student's validation and test means, its paired gain over one network trained on the hard labels with the 95 % t interval, Holm's adjusted p over the four students, the verdict and the share of the gap to the teacher's ensemble it closes."))

# %% tags=["remove-input"]
display(Markdown(distill_check.sentences(check)["check"] if check is not None else distill_check.HOW_TO_TRAIN))

# %% [markdown]
# ## Ensembles
#
# An ensemble of five networks is five times the training and evaluation work of one, so it is set beside other
# ensembles only; each row is the mean softmax of one configuration's five seeds.

# %% tags=["remove-input"]
if study is not None and study.ensembles:
    display(plots.style(frontier_figures.ensembles_table(study), caption="Test accuracy of each stored ensemble of five seeds (mean of their softmax outputs) beside the mean of its five networks, with its data set: the FashionMNIST ensembles first, then MNIST."))

# %% [markdown]
# ## Conclusion

# %% tags=["remove-input"]
if study is not None:
    display(Markdown(text["conclusion"] + "\n\n" + text["targets"]))
