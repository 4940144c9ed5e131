"""fcnbook.report.chapters.svd: the SVD chapter's table, extrapolation, figures and verdict sentences, on hand-made
inputs."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from fcnbook.report import experiments, svd_figures
from fcnbook.report.chapters import svd as svd_report  # noqa: E402

P = 0.9128


# ----------------------------------------------------------------------------------------------- numbers


def test_forensic_verdict():
    v = svd_report.forensic_verdict(P, 0.91, 0.88)
    assert v["closer"] == "train"
    assert v["d_train"] == pytest.approx(0.0028) and v["d_test"] == pytest.approx(0.0328)
    assert v["ratio"] == pytest.approx(0.0328 / 0.0028)
    assert svd_report.forensic_verdict(0.85, 0.95, 0.86)["closer"] == "test"
    assert svd_report.forensic_verdict(0.9, 0.95, 0.85)["closer"] == "tie"
    assert svd_report.forensic_verdict(0.9, 0.9, 0.8)["ratio"] == math.inf


def test_log_linear_extrapolation():
    n = [1000, 2000, 4000, 8000]
    y = [0.5, 0.6, 0.7, 0.8]  # exactly linear in log2(n)
    assert svd_report.log_linear_extrapolation(n, y, 16000) == pytest.approx(0.9)
    bent = [0.0, 0.6, 0.7, 0.8]  # only the three largest sizes count
    assert svd_report.log_linear_extrapolation(n, bent, 16000) == pytest.approx(0.9)
    assert svd_report.log_linear_extrapolation(n[::-1], y[::-1], 16000) == pytest.approx(0.9)  # any order
    with pytest.raises(ValueError):
        svd_report.log_linear_extrapolation([1000], [0.5], 2000)


def forensic(train, test, sizes=(2000, 4000, 8000)):
    return pd.DataFrame({"n_train": list(sizes), "train_accuracy": list(train), "test_accuracy": list(test),
                         "n_support": [900] * len(sizes), "fit_seconds": [1.0] * len(sizes),
                         "predict_train_seconds": [1.0] * len(sizes), "predict_test_seconds": [1.0] * len(sizes)})


def test_extrapolate():
    f = forensic([0.96, 0.95, 0.94], [0.80, 0.82, 0.84])
    ex = svd_report.extrapolate(f, {"split": 16000, "all": 32000})
    assert ex["split"]["n"] == 16000
    assert ex["split"]["train_accuracy"] == pytest.approx(0.93) and ex["all"]["test_accuracy"] == pytest.approx(0.88)
    assert svd_report.extrapolate(f.iloc[:2], {"all": 32000}) is None


def test_accuracy_table():
    S = experiments.settings("quick")
    networks = experiments.svd_networks(S)
    models = {ds: pd.DataFrame({"n_train": [3000], "test_accuracy": [0.8], "fit_seconds": [1.0],
                                "predict_seconds": [0.5]}, index=pd.Index(["SVD subspaces (rank 5)"], name="model"))
              for ds in svd_report.NAMES}
    raw = {ds: {"n_train": 1000, "test_accuracy": 0.79, "fit_seconds": 2.0, "predict_test_seconds": 3.0}
           for ds in svd_report.NAMES}
    runs = pd.DataFrame([{"key": c.key(), "label": c.label(), "seed": s, "test_accuracy": 0.7 + 0.01 * s,
                          "seconds": 10.0 + s} for c in networks.values() for s in (0, 1)])
    t = svd_report.accuracy_table(models, raw, networks, runs, {"fashion": 3000, "mnist": 3000})
    assert len(t) == 8 and set(t["dataset"]) == {"FashionMNIST", "MNIST"}
    tuned = t[t["model"].str.startswith("FCN tuned")].iloc[0]
    assert tuned["model"] == f"FCN tuned 700-200-50, {S.long_epochs} epochs"
    assert tuned["test accuracy"] == pytest.approx(0.705) and tuned["SD"] == pytest.approx(np.std([0.7, 0.71], ddof=1))
    assert tuned["fit s"] == 10.5 and tuned["training images"] == S.subset
    assert t[t["model"] == "SVC() on raw pixels"]["predict s"].tolist() == [3.0, 3.0]
    # the tuned network as the report's code ran it, not retyped: kaiming_normal_ weights, default biases
    cfg = networks[("fashion", "tuned")]
    assert cfg.init == "kaiming_normal" and cfg.default_bias


# ----------------------------------------------------------------------------------------------- sentences


def choice(acc, best_rank, ranks=(1, 5, 10, 20)):
    best = acc[list(ranks).index(best_rank)]
    return {"ranks": list(ranks), "val_accuracy": list(acc), "best_rank": best_rank, "best_val_accuracy": best,
            "n_val": 6000}


def test_rank_sentences():
    peaked = choice([0.60, 0.80, 0.798, 0.70], 5)
    text = svd_report.rank_sentence(peaked, "FashionMNIST")
    assert "best rank is **5**" in text and "from 5 to 10 comes within one standard error" in text
    assert "climbs from 0.6000 at rank 1 and drops again to 0.7000 at rank 20" in text
    lone = svd_report.rank_sentence(choice([0.60, 0.70, 0.90, 0.95], 20), "MNIST")
    assert "No other rank tried comes within one standard error" in lone and "climbs" not in lone
    both = svd_report.rank_sentences({"fashion": peaked, "mnist": choice([0.60, 0.70, 0.90, 0.95], 20)})
    assert both.count("Small subspaces miss") == 1
    assert "Small subspaces" not in svd_report.rank_sentences({"mnist": choice([0.6, 0.7, 0.9, 0.95], 20)})


def compare_table(svd=0.85, tuned=0.88, knn=0.86, svd_fit=2.0, tuned_fit=100.0):
    return pd.DataFrame({"dataset": ["FashionMNIST"] * 3,
                         "model": ["SVD subspaces (rank 5)", "PCA(85%)+kNN", "FCN tuned 700-200-50, 70 epochs"],
                         "test accuracy": [svd, knn, tuned], "SD": [np.nan, np.nan, 0.002],
                         "fit s": [svd_fit, 1.0, tuned_fit], "predict s": [0.1, 0.2, np.nan]})


def test_compare_sentence_branches():
    text = svd_report.compare_sentence(compare_table(), "FashionMNIST", "SVD subspaces (rank 5)")
    assert "**0.8500**, 0.0300 below the tuned network (0.8800)" in text and "50 times less than" in text
    assert "most accurate method in the table is FCN tuned" in text
    best = svd_report.compare_sentence(compare_table(svd=0.9, tuned_fit=1.0), "FashionMNIST", "SVD subspaces (rank 5)")
    assert "above the tuned network" in best and "No other method in the table is more accurate" in best
    assert "2.0 times as long as" in best


def test_trend():
    assert svd_report.trend([1, 2, 3]) == "rises" and svd_report.trend([3, 2, 1]) == "falls"
    assert svd_report.trend([1, 3, 2]) == "moves up and down"


def test_forensic_sentence_verdicts():
    f1 = forensic([0.93], [0.85], sizes=(1000,))
    much = svd_report.forensic_sentence(f1, None, P, shortened=True)
    assert "looks much more like an accuracy on the training images" in much and "Shortened run" in much
    assert "straight line" not in much and "more images" not in much  # no extrapolation, no claim about it
    more = svd_report.forensic_sentence(forensic([0.95], [0.86], (1000,)), None, P, shortened=False)
    assert "looks more like an accuracy on the training images" in more and "Shortened" not in more
    test = svd_report.forensic_sentence(forensic([0.99], [0.90], (1000,)), None, P, shortened=False)
    assert "looks much more like a test-set accuracy" in test
    tie = svd_report.forensic_sentence(forensic([0.9228], [0.9028], (1000,)), None, P, shortened=False)
    assert "cannot tell which kind" in tie


def test_forensic_sentence_extrapolation_claims_follow_the_numbers():
    # resubstitution accuracy falls with more images towards 0.9128: the report's figure lies ahead on that curve
    f = forensic([0.96, 0.95, 0.94], [0.80, 0.82, 0.84])
    ex = svd_report.extrapolate(f, {"split": 54000, "all": 60000})
    text = svd_report.forensic_sentence(f, ex, P, shortened=False)
    assert "accuracy on the training images falls (0.9600 to 0.9400)" in text and "test accuracy rises" in text
    assert "as it would if the seed's fit used more images" in text
    assert "The extrapolation points the same way" in text
    # a curve rising away from the report's figure: no such claim
    up = forensic([0.92, 0.93, 0.94], [0.80, 0.82, 0.84])
    text = svd_report.forensic_sentence(up, svd_report.extrapolate(up, {"split": 54000, "all": 60000}), P, False)
    assert "would not explain the difference" in text and "as it would if" not in text
    # the extrapolated test accuracy overtakes: the extrapolation points the other way
    cross = forensic([0.97, 0.96, 0.95], [0.70, 0.80, 0.90])
    text = svd_report.forensic_sentence(cross, svd_report.extrapolate(cross, {"split": 54000, "all": 60000}), P,
                                        False)
    assert "does not point the same way" in text


def test_forensic_sentence_rests_on_the_measured_whole_split_when_there_is_one():
    f = forensic([0.96, 0.95, 0.94], [0.80, 0.82, 0.84])
    ex = svd_report.extrapolate(f, {"split": 54000, "all": 60000})
    full = {"n_train": 54000, "train_accuracy": 0.9150, "test_accuracy": 0.8830, "n_support": 20000,
            "fit_seconds": 600.0, "predict_train_seconds": 1200.0}
    text = svd_report.forensic_sentence(f, ex, P, shortened=False, full=full)
    assert text.startswith("Fitted on 54\u2009000 training images") and "**0.9150**" in text
    assert "measured, not extrapolated, once: 10.0 min to fit and 20.0 min" in text
    assert f"had predicted {ex['split']['train_accuracy']:.4f}" in text
    assert f"{0.9150 - ex['split']['train_accuracy']:+.4f}" in text
    assert "20.0 min to classify its own training images" in text  # an entry made before the shortcut
    shortcut = svd_report.forensic_sentence(f, ex, P, shortened=False, full=full | {"train_images_classified": 21000})
    assert "20.0 min to score its own training images (it classified 21\u2009000 of them" in shortcut


# ----------------------------------------------------------------------------------------------- figures


def test_figures_draw():
    ch = {"fashion": choice([0.6, 0.8, 0.79, 0.7], 5), "mnist": choice([0.7, 0.9, 0.95, 0.94], 10)}
    fig = svd_figures.rank_figure(ch)
    assert len(fig.axes[0].lines) == 4
    table = pd.concat([compare_table(), compare_table().assign(dataset="MNIST")])
    fig2 = svd_figures.compare_figure(table)
    assert len(fig2.axes) == 2 and len(fig2.axes[0].patches) == 3
    f = forensic([0.96, 0.95, 0.94], [0.80, 0.82, 0.84])
    fig3 = svd_figures.forensic_figure(f, svd_report.extrapolate(f, {"split": 54000, "all": 60000}), P)
    assert len(fig3.axes[0].lines) == 5  # two curves, two extrapolations, the report's line
    fig4 = svd_figures.forensic_figure(f.iloc[:1], None, P)
    assert len(fig4.axes[0].lines) == 3
    html = svd_figures.styled_forensic_table(f, P).to_html()
    assert "0.9128" in html and "2\u2009000" in html
    assert "cpu" in svd_figures.styled_accuracy_table(table, "cpu").to_html()
    plt.close("all")
