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
# # The data
#
# Fashion-MNIST {cite:p}`xiao2017fashion` holds 70 000 grey-scale images of clothing, 28 x 28 pixels each, in ten
# balanced classes: 60 000 for training and 10 000 for testing. It was designed as a drop-in replacement for
# MNIST, whose handwritten digits are the second data set of this report (chapter on transfer). As in the seed
# report {cite:p}`hippe_hw4`, every image is flattened into a vector of 784 pixel values. Of the 60 000 training
# images, 10 % are held out for validation with a split stratified by class and a fixed seed, so that every run
# of every chapter sees the same training and validation images. The test images are used only for the final
# accuracies, never to choose anything.

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from fcnbook.report import experiments, plots
from fcnbook.report.chapters import data

# %% tags=["parameters"]
profile = "full"  # "quick" or "full"
subset = None  # None: the profile's training subset
per_class = 8  # example images shown per class

# %% tags=["remove-cell"]
S = experiments.settings(profile, subset=subset)
study = data.study(S, per_class=per_class)
text = data.sentences(study)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Examples of every Fashion-MNIST class (rows), taken in order from the training file.", "name": "fig-examples"}}
fig = plots.example_grid(study.examples, study.example_labels, study.classes, per_class=per_class)

# %% [markdown]
# ## Class counts per split
#
# The split keeps the classes balanced in every part (with `subset`, the training part is a stratified subset).

# %% tags=["remove-input"]
plots.style(study.counts, caption="Fashion-MNIST images per class in the training, validation and test parts.")

# %% [markdown]
# ## Pixel statistics
#
# Pixels are stored as integers 0-255 and scaled to [0, 1]. By default each run then standardises them with the
# mean and standard deviation of its own training split (the course template used MNIST's constants 0.1307 and
# 0.3081 for both data sets; `normalization="mnist"` reproduces that).

# %% tags=["remove-input"]
plots.style(study.pixels, caption="Pixel statistics of the training split of each dataset, on the [0, 1] scale, and of the same pixels standardised with their own mean and SD.")

# %% tags=["remove-input"]
display(Markdown(text["pixels"]))
