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

from fcnbook.data import splits as data
from fcnbook.lab import Lab
from fcnbook.report import experiments, plots
from fcnbook.report.chapters import findings

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
variants = {"tuned 700-200-50": experiments.tuned(S, dataset)}
res = S.results(variants.values())
images, y_test = (t.numpy() for t in data.load_raw(dataset, train=False))
predictions, classes = res.predictions(variants["tuned 700-200-50"]), data.CLASS_NAMES[dataset]

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Tuned network: loss and accuracy of the training sample in evaluation mode (solid) and of the validation split (dashed) over the epochs, mean over seeds with a band of one SD.", "name": "fig-tuned-curves"}}
fig = plots.learning_curves(res, variants)

# %% tags=["remove-input"]
plots.style(plots.accuracy_table(res.runs, variants))

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Confusion matrix of the tuned network on the test set, pooled over seeds and normalised per true class.", "name": "fig-tuned-confusion"}}
fig, cm = plots.confusion(y_test, predictions, classes)

# %% tags=["remove-input"]
per_class = plots.per_class_accuracy(y_test, predictions, classes)
plots.style(per_class)

# %% tags=["remove-input"]
pairs = plots.most_confused(cm, classes, top=4)
plots.style(pairs)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Test images of the most-confused (true -> predicted) class pairs, as misclassified by the first seed's network.", "name": "fig-tuned-confused"}}
fig = plots.confused_examples(images, y_test, predictions[0], pairs, classes)

# %% tags=["remove-input"]
display(Markdown(findings.tuned(res, variants["tuned 700-200-50"], per_class, pairs)))
