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
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from fcnbook.data import splits as data
from fcnbook.report import experiments, plots

# %% tags=["parameters"]
profile = "full"  # "quick" or "full"
subset = None  # None: the profile's training subset
per_class = 8  # example images shown per class

# %% tags=["remove-cell"]
S = experiments.settings(profile, subset=subset)
splits = {name: data.load_for(experiments.baseline(S, dataset=name)) for name in ("fashion", "mnist")}
fashion = splits["fashion"]
raw_train, raw_labels = data.load_raw("fashion", train=True)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Examples of every Fashion-MNIST class (rows), taken in order from the training file.", "name": "fig-examples"}}
fig = plots.example_grid(raw_train.numpy(), raw_labels.numpy(), fashion.classes, per_class=per_class)

# %% [markdown]
# ## Class counts per split
#
# The split keeps the classes balanced in every part (with `subset`, the training part is a stratified subset).

# %% tags=["remove-input"]
counts = pd.DataFrame({
    split: np.bincount(getattr(fashion, f"y_{split}").numpy(), minlength=10)
    for split in ("train", "val", "test")
}, index=list(fashion.classes)).rename(columns={"val": "validation"})
counts.loc["total"] = counts.sum()
counts

# %% [markdown]
# ## Pixel statistics
#
# Pixels are stored as integers 0-255 and scaled to [0, 1]. By default each run then standardises them with the
# mean and standard deviation of its own training split (the course template used MNIST's constants 0.1307 and
# 0.3081 for both data sets; `normalization="mnist"` reproduces that).

# %% tags=["remove-input"]
rows = []
for name, sp in splits.items():
    pixels = sp.x_train * sp.std + sp.mean  # back to [0, 1]
    rows.append({"dataset": name, "training images": len(sp.y_train), "mean": sp.mean, "SD": sp.std,
                 "share of zero pixels": float((pixels < 1e-6).double().mean()),
                 "mean of standardised pixels": float(sp.x_train.mean()),
                 "SD of standardised pixels": float(sp.x_train.std())})
stats = pd.DataFrame(rows).set_index("dataset")
plots.style(stats)

# %% tags=["remove-input"]
f, m = stats.loc["fashion"], stats.loc["mnist"]
off = ((f["mean"] - data.MNIST_MEAN) / data.MNIST_STD, f["SD"] / data.MNIST_STD)
display(Markdown(
    f"Fashion-MNIST pixels average {f['mean']:.4f} with SD {f['SD']:.4f} on the training split, against "
    f"{m['mean']:.4f} and {m['SD']:.4f} for MNIST: the clothing images are brighter and fill more of the frame "
    f"({f['share of zero pixels']:.0%} of their pixels are exactly zero, against {m['share of zero pixels']:.0%} "
    "for digits). Standardised with MNIST's constants, as in the course template, Fashion-MNIST's training pixels "
    f"would have mean {off[0]:.2f} and SD {off[1]:.2f} instead of 0 and 1; the standardisation used here gives "
    f"{f['mean of standardised pixels']:.4f} and {f['SD of standardised pixels']:.4f}."
))
