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
# # Weight initialisation
#
# The seed report {cite:p}`hippe_hw4` compares three initialisers with PyTorch's default: random normal,
# Xavier normal {cite:p}`glorot2010understanding` and Kaiming (He) uniform {cite:p}`he2015delving` (formulas in
# {doc}`../methods`). Its text says the normal draws had standard deviation 0.1, but its code used 0.01, and its
# "He uniform" called `kaiming_normal_` (see {doc}`../reproduction-notes`). Both variants of the code are run
# here too, labelled as the original code's.

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from fcnbook import paper, plots, store
from fcnbook.profiles import resolve

# %% tags=["parameters"]
profile = "full"  # "quick" or "full"
epochs = None  # None: the profile's value
seeds = None  # None: the profile's seeds
subset = None  # None: the profile's training subset
device = "auto"  # "auto", "cpu" or "cuda"

# %% tags=["remove-cell"]
S = resolve(profile, epochs=epochs, seeds=seeds, subset=subset)
base = paper.BASELINE.replace(epochs=S["epochs"], subset=S["subset"])
variants = {
    "PyTorch default (baseline)": base,
    "random normal, std 0.1 (text)": base.replace(init="normal", init_std=0.1),
    "Xavier normal": base.replace(init="xavier_normal"),
    "Kaiming uniform": base.replace(init="kaiming_uniform"),
    "random normal, std 0.01 (original code)": base.replace(init="normal", init_std=0.01),
    "Kaiming normal (original code's 'He uniform')": base.replace(init="kaiming_normal"),
}
res = store.run(variants.values(), S["seeds"], device=device, progress=False)
names = {c.label(): name for name, c in variants.items()}

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Initialisers compared on the baseline network: losses (training solid, validation dashed) and validation accuracy, mean over seeds with a band of one SD.", "name": "fig-init"}}
fig = plots.learning_curves(res.history, names=names)

# %% tags=["remove-input"]
table = plots.accuracy_table(res.runs, names)
plots.style(table)

# %% tags=["remove-input"]
h = res.history[(res.history["metric"] == "val_accuracy") & (res.history["epoch"] == 1)]
first = h.groupby("label")["value"].mean().rename(index=names)
acc = table["test acc (mean)"]
spread = acc.max() - acc.min()
display(Markdown(
    f"After the first epoch the validation accuracy ranges from {first.min():.4f} ({first.idxmin()}) to "
    f"{first.max():.4f} ({first.idxmax()}); after {base.epochs} epochs the test accuracies span only "
    f"{spread:.4f}, from {acc.min():.4f} ({acc.idxmin()}) to {acc.max():.4f} ({acc.idxmax()}). "
    + (f"The choice of initialiser mostly changes how fast the network starts to learn, not where a "
       f"{base.epochs}-epoch run ends." if spread < 0.01 else
       f"After {base.epochs} epochs the initialiser still decides part of the result: the slow starters have "
       "not caught up yet.")
))
