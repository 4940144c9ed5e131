"""fcnbook.report.plots: seaborn figures from hand-made results, the tables, the theme, and no torch on import."""

import subprocess
import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from test_findings import BASE, make_results, run  # noqa: E402

from fcnbook.report import plots  # noqa: E402

DROP = BASE.replace(dropout=0.5)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def two_configs():
    """The baseline over three seeds; dropout 0.5 with one seed diverged in epoch 2 (history of epoch 1 only)."""
    spec = [run(BASE, s, 0.86, [0.80, 0.90, 0.92], [0.80, 0.85, 0.86]) for s in range(3)]
    spec += [run(DROP, 0, 0.85, [0.7, 0.8, 0.85], [0.7, 0.8, 0.84]),
             run(DROP, 1, 0.84, [0.7, 0.8, 0.84], [0.7, 0.8, 0.83]), run(DROP, 2, 0.30, [0.3], [0.3], diverged_epoch=2)]
    return make_results(spec)


def test_plots_imports_without_torch_and_sets_one_theme():
    code = "import sys, fcnbook.report.plots; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    plt.rcdefaults()
    plots.theme()
    assert plt.rcParams["axes.grid"] and plt.rcParams["legend.frameon"] is False


def test_learning_curves_say_how_many_seeds_and_mark_divergence():
    res = two_configs()
    fig = plots.learning_curves(res, {"baseline": BASE, "dropout 0.5": DROP})
    loss, acc = fig.axes[:2]
    labels = [t.get_text() for t in acc.get_legend().get_texts()]
    assert "baseline (n=3)" in labels and "dropout 0.5 (n=2 of 3, 1 diverged at epoch 2)" in labels
    assert "training (eval mode, fixed probe)" in labels and "validation" in labels
    assert loss.get_legend() is None and acc.get_ylabel() == "accuracy"
    crosses = [line for line in acc.get_lines() if line.get_marker() == "x"]
    assert len(crosses) == 1 and list(crosses[0].get_xdata()) == [2]
    # the mean at epoch 3 of the eval-mode training accuracy is over the two surviving seeds: (0.85 + 0.84) / 2
    ys = [line.get_ydata() for line in acc.get_lines() if len(line.get_xdata()) == 3]
    assert any(np.isclose(y[-1], 0.845) for y in ys)


def test_running_means_only_on_request():
    res = two_configs()
    hist = res.history
    extra = hist[hist["metric"] == "train_accuracy"].assign(metric="running_accuracy")
    res.history = pd.concat([hist, extra])
    assert "training (running mean, training mode)" not in set(plots.long_curves(res, [BASE])["measured on"])
    fig = plots.learning_curves(res, [BASE], running=True)
    assert "training (running mean, training mode)" in [t.get_text() for t in fig.axes[1].get_legend().get_texts()]


def test_curves_by_optimizer_facets_and_lists_diverged_cells():
    grid = {(opt, lr): BASE.replace(optimizer=opt, lr=lr) for opt in ("sgd", "adam") for lr in (0.1, 0.01)}
    spec = [run(c, s, 0.8, [0.7, 0.8], [0.7, 0.8]) for c in grid.values() for s in range(2)]
    spec[-1] = run(grid["adam", 0.01], 1, 0.1, [0.2], [0.2], diverged_epoch=2)
    fig = plots.curves_by_optimizer(make_results(spec), grid)
    axes = np.array(fig.axes[:4]).reshape(2, 2)
    assert [ax.get_title() for ax in axes[0]] == ["sgd", "adam"] and axes[0, 0].get_yscale() == "log"
    notes = [t.get_text() for t in axes[1, 1].texts]
    assert notes == ["lr 0.01: n=1 of 2, 1 diverged at epoch 2"] and not axes[1, 0].texts


def test_accuracy_table_uses_eval_mode_gap_and_counts_divergence():
    t = plots.accuracy_table(two_configs().runs, {"baseline": BASE, "dropout 0.5": DROP})
    assert list(t.index) == ["baseline", "dropout 0.5"]
    assert t.loc["baseline", "train - val (eval mode)"] == pytest.approx(0.06)
    assert t.loc["baseline", "val acc (final epoch)"] == pytest.approx(0.86)
    assert t.loc["dropout 0.5", "diverged"] == 1 and t.loc["dropout 0.5", "n"] == 3
    html = plots.style(t).to_html()
    assert "0.0600" in html and "n/a" not in html


def test_effects_table_and_p_values():
    eff = pd.DataFrame([{"name": "bn", "mean": 0.01, "sd": 0.002, "n": 3, "ci_low": 0.005, "ci_high": 0.015,
                         "p": 0.01, "p_holm": 0.0496, "effect": "gain", "favour_config": 2, "favour_baseline": 1,
                         "pairs": 3, "diverged": 0}]).set_index("name")
    t = plots.effects_table(eff)
    assert t.loc["bn", "95% CI"] == "[+0.0050, +0.0150]"
    assert t.loc["bn", "seed pairs McNemar-significant at 0.05: this / baseline better"] == "2 / 1 of 3"
    html = plots.style(t, caption="A family of one.").to_html()
    assert "0.0496" in html and "0.01" in html and "<caption>A family of one.</caption>" in html
    assert "&lt; 0.0001" in plots.style(t.assign(**{"paired t p": 1e-9})).to_html()
    assert "pooled" not in " ".join(t.columns)


def test_style_formats_pixels_as_numbers_not_p_values():
    html = plots.style(pd.DataFrame({"share of zero pixels": [0.5012], "p": [0.5]})).to_html()
    assert "0.5012" in html and ">0.5<" in html


def test_seed_accuracies_circles_the_seed_that_stands_apart():
    res = two_configs()
    out = pd.DataFrame([{"configuration": "dropout 0.5", "seed": 2, "value": 0.30, "mean": 0.845, "low": 0.84,
                         "high": 0.85, "sd": 0.007, "z": -78.0}])
    fig = plots.seed_accuracies(res.runs, {"baseline": BASE, "dropout 0.5": DROP}, out)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["seed 2"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["baseline", "dropout 0.5"]


def test_confusion_pools_seeds_and_uses_a_heatmap():
    y = np.array([0, 1, 1, 2])
    preds = np.array([[0, 1, 2, 2], [0, 1, 1, 2]])
    fig, cm = plots.confusion(y, preds, ["a", "b", "c"])
    assert cm[1].tolist() == [0, 0.75, 0.25] and len(fig.axes) == 2  # heat map and colour bar
    pairs = plots.most_confused(cm, ["a", "b", "c"], top=1)
    assert pairs.iloc[0].tolist() == ["b", "c", 0.25]
    assert plots.confused_examples(np.zeros((4, 784)), y, preds[0], pairs, ["a", "b", "c"], per_pair=2)
