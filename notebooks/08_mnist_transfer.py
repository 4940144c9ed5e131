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
# # Transfer to MNIST
#
# The seed report {cite:p}`hippe_hw4` finally trains its tuned configuration on the handwritten digits of MNIST
# {cite:p}`lecun1998gradient`. Nothing is transferred but the *configuration*: the network is trained from
# scratch on the digits, with the same split and standardisation rules as for Fashion-MNIST. The baseline is
# trained on MNIST too, to show how much of the tuning carries over. The two networks have different
# architectures, so their seeds share no initial weights: they are compared as unpaired samples.

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from fcnbook.lab import Lab
from fcnbook.report import experiments, plots
from fcnbook.report.chapters import transfer

# %% tags=["parameters"]
profile = "full"  # "quick" or "full"
epochs = None  # None: the profile's value, for the baseline
long_epochs = None  # None: the profile's value, for the tuned network
seeds = None  # None: the profile's seeds
subset = None  # None: the profile's training subset
device = "auto"  # "auto", "cpu" or "cuda"
precision = None  # None: the profile's ("fp32"); "bf16" on AMX CPUs and recent GPUs

# %% tags=["remove-cell"]
S = experiments.settings(profile, epochs=epochs, long_epochs=long_epochs, seeds=seeds, subset=subset, precision=precision, lab=Lab(device))
study = transfer.study(S)
text = transfer.sentences(study)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Baseline and tuned network on MNIST: loss and accuracy of the training sample in evaluation mode (solid) and of the validation split (dashed), mean over seeds with a band of one SD.", "name": "fig-mnist-curves"}}
fig = plots.learning_curves(study.res, study.variants)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Test accuracy on MNIST of every seed (dots) and their mean (bar); a seed that stands apart from the others of its network is circled.", "name": "fig-mnist-seeds"}}
fig = plots.seed_accuracies(study.res.runs, study.variants, study.outliers)

# %% tags=["remove-input"]
plots.style(plots.accuracy_table(study.res.runs, study.variants), caption="Baseline and tuned network on MNIST over seeds: final-epoch validation accuracy, test accuracy (mean, SD between seeds, 95 % t interval of the mean), diverged runs and the final train - validation gap, training measured in evaluation mode.")

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Confusion matrix of the tuned network on the MNIST test set, pooled over seeds and normalised per true class.", "name": "fig-mnist-confusion"}}
fig = plots.heatmap(study.cm, study.classes)

# %% tags=["remove-input"]
plots.style(study.pairs, caption="The most frequent confusions of the tuned network on MNIST (true digit read as predicted digit), as a share of the true digit, pooled over seeds.")

# %% tags=["remove-input"] mystnb={"figure": {"caption": "MNIST test digits of the most-confused (true -> predicted) pairs, as misclassified by the first seed's tuned network.", "name": "fig-mnist-confused"}}
fig = plots.confused_examples(study.images, study.y_test, study.predictions[0], study.pairs, study.classes)

# %% tags=["remove-input"]
display(Markdown("\n\n".join(filter(None, text.values()))))
