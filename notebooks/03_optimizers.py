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
# # Optimizers and learning rates
#
# The seed report {cite:p}`hippe_hw4` trains the baseline network with three optimizers, SGD, Adam and RMSProp
# (see {doc}`../methods`), each at learning rates 0.1, 0.01 and 0.001, and reports that Adam and RMSProp only
# work at the smaller rates. This chapter repeats the 3 x 3 grid with several seeds per cell.

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from fcnbook import paper, plots, store
from fcnbook.profiles import resolve

# %% tags=["parameters"]
profile = "full"  # "quick" or "full"
epochs = None  # None: the profile's value (15 in full)
seeds = None  # None: the profile's seeds
subset = None  # None: the profile's training subset
device = "auto"  # "auto", "cpu" or "cuda"
optimizers = ["sgd", "adam", "rmsprop"]
lrs = [0.1, 0.01, 0.001]

# %% tags=["remove-cell"]
S = resolve(profile, epochs=epochs, seeds=seeds, subset=subset)
base = paper.BASELINE.replace(epochs=S["epochs"], subset=S["subset"])
grid = {(opt, lr): base.replace(optimizer=opt, lr=lr) for opt in optimizers for lr in lrs}
res = store.run(grid.values(), S["seeds"], device=device, progress=False)
names = {c.label(): f"{opt} lr={lr:g}" for (opt, lr), c in grid.items()}
panels = {opt: [grid[opt, lr].label() for lr in lrs] for opt in optimizers}

# %% tags=["remove-input"] mystnb={"figure": {"caption": "One panel per optimizer, one colour per learning rate. Top: training loss (solid) and validation loss (dashed), log scale; bottom: validation accuracy. Mean over seeds with a band of one SD.", "name": "fig-optimizers"}}
fig = plots.curves_by_panel(res.history, panels, names)

# %% tags=["remove-input"]
table = plots.accuracy_table(res.runs, names)
plots.style(table)

# %% tags=["remove-input"]
s = table["test acc (mean)"]
best = s.idxmax()
near_chance = [n for n, v in s.items() if v < 0.2]
diverged = [n for n, v in table["diverged"].items() if v > 0]
slow = [n for n, v in s.items() if 0.2 <= v < s.max() - 0.05]
lines = [f"The best cell is **{best}** with a mean test accuracy of {s[best]:.4f}."]
if near_chance:
    lines.append(f"Near chance (below 0.2, where guessing gives 0.1): {', '.join(near_chance)}.")
if diverged:
    lines.append(f"Runs whose loss became non-finite (marked diverged): {', '.join(diverged)}.")
if slow:
    lines.append(f"More than five points below the best after {base.epochs} epochs: {', '.join(slow)}.")
sgd = table.loc[[n for n in s.index if n.startswith("sgd")], "test acc (mean)"]
if len(sgd) > 1 and sgd.is_monotonic_decreasing:
    lines.append("For SGD, accuracy drops as the learning rate gets smaller: the smaller steps have not converged yet.")
display(Markdown(" ".join(lines)))
