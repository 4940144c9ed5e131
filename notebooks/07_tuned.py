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
# # The tuned network
#
# After its one-factor experiments the seed report {cite:p}`hippe_hw4` settles on a larger network: three hidden
# layers of 700, 200 and 50 units, dropout 0.15, RMSProp with learning rate $10^{-4}$ and 70 epochs, initialised
# with what it calls He uniform. Its code drew the weights with `kaiming_normal_` and kept `nn.Linear`'s default
# biases, and that is what is trained here (see {doc}`../reproduction-notes`), over several seeds. The chapter
# then looks at which classes the network confuses. Over-fitting is judged from training accuracy measured in
# evaluation mode (no units dropped) on a fixed sample of training images, against validation accuracy.

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from fcnbook.lab import Lab
from fcnbook.report import experiments, plots
from fcnbook.report.chapters import tuned

# %% tags=["parameters"]
profile = "full"  # "quick" or "full"
dataset = "fashion"  # "fashion" or "mnist"
long_epochs = None  # None: the profile's value (70 in full)
seeds = None  # None: the profile's seeds
subset = None  # None: the profile's training subset
device = "auto"  # "auto", "cpu" or "cuda"
precision = None  # None: the profile's ("fp32"); "bf16" on AMX CPUs and recent GPUs

# %% tags=["remove-cell"]
S = experiments.settings(profile, long_epochs=long_epochs, seeds=seeds, subset=subset, precision=precision, lab=Lab(device))
study = tuned.study(S, dataset)
text = tuned.sentences(study)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Tuned network: loss and accuracy of the training sample in evaluation mode (solid) and of the validation split (dashed) over the epochs, mean over seeds with a band of one SD.", "name": "fig-tuned-curves"}}
fig = plots.learning_curves(study.res, study.variants)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Test accuracy of every seed of the tuned network (dots) and their mean (bar); a seed that stands apart from the others is circled.", "name": "fig-tuned-seeds"}}
fig = plots.seed_accuracies(study.res.runs, study.variants, study.outliers)

# %% tags=["remove-input"]
plots.style(plots.accuracy_table(study.res.runs, study.variants), caption="The tuned network over seeds: final-epoch validation accuracy, test accuracy (mean, SD between seeds, 95 % t interval of the mean), diverged runs and the final train - validation gap, training measured in evaluation mode.")

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Confusion matrix of the tuned network on the test set, pooled over seeds and normalised per true class.", "name": "fig-tuned-confusion"}}
fig = plots.heatmap(study.cm, study.classes)

# %% tags=["remove-input"]
plots.style(study.per_class, caption="Test accuracy per class: mean and SD over seeds.")

# %% tags=["remove-input"]
plots.style(study.pairs, caption="The most frequent confusions (true class read as predicted class), as a share of the true class, pooled over seeds.")

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Test images of the most-confused (true -> predicted) class pairs, as misclassified by the first seed's network.", "name": "fig-tuned-confused"}}
fig = plots.confused_examples(study.images, study.y_test, study.predictions[0], study.pairs, study.classes)

# %% tags=["remove-input"]
display(Markdown("\n\n".join(filter(None, text.values()))))
