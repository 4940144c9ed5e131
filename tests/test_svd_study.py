"""Tests for fcnbook.svd.study, .cache and .predictions: the cached studies behind the SVD-classifier section."""

import dataclasses
import json
import math
import time

import numpy as np
import pytest

from fcnbook.io import CacheWarning
from fcnbook.svd import cache as svd_cache
from fcnbook.svd import predictions
from fcnbook.svd import study as svd_study
from synthetic import make_splits


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("FCNBOOK_RESULTS", str(tmp_path))
    return tmp_path


def small_splits(subset=None, seed=0):
    """Synthetic splits (Gaussian clusters, 64 features); ``subset`` keeps that many training samples."""
    s = make_splits(n_train=400, n_val=200, n_test=200, dim=64, seed=seed, noise=0.8)
    if subset is not None and subset < len(s.y_train):
        s = dataclasses.replace(s, x_train=s.x_train[:subset], y_train=s.y_train[:subset],
                                checksum=f"{s.checksum}-subset{subset}")
    return s


@pytest.fixture
def fake_load(monkeypatch):
    """Replace the real data loader with synthetic splits; records the subsets asked for."""
    calls = []

    def load(dataset, subset, split_seed, val_fraction):
        calls.append(subset)
        return dataclasses.replace(small_splits(subset), dataset=dataset,
                                   checksum=f"{dataset}-{subset}-{split_seed}-{val_fraction}")

    monkeypatch.setattr(svd_study, "_load", load)
    return calls


class NoTest:
    """Splits whose test tensors raise when read: proves a study never looks at them."""

    def __init__(self, splits):
        self._s = splits

    def __getattr__(self, name):
        if name in ("x_test", "y_test"):
            raise AssertionError(f"the test split was read ({name})")
        return getattr(self._s, name)


def counting(monkeypatch, name):
    """Wrap ``svd_study.<name>`` so that its calls are counted."""
    original = getattr(svd_study, name)
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(svd_study, name, wrapper)
    return calls


def cache_files(root, kind):
    return sorted((root / "svd").glob(f"{kind}-*.json"))


# ------------------------------------------------------------------------------------------- choose_rank


def test_choose_rank_uses_validation_only_and_picks_the_best(root):
    res = svd_study.choose_rank(NoTest(small_splits()), [1, 2, 5, 10])
    assert res["ranks"] == [1, 2, 5, 10]
    assert len(res["val_accuracy"]) == 4
    best = max(res["val_accuracy"])
    assert res["best_val_accuracy"] == best
    assert res["best_rank"] == res["ranks"][res["val_accuracy"].index(best)]
    assert res["n_train"] == 400 and res["n_val"] == 200
    assert res["cached"] is False


def test_choose_rank_ties_go_to_the_smaller_rank(root, monkeypatch):
    monkeypatch.setattr(svd_study, "rank_curve", lambda *a, **k: [0.5, 0.9, 0.7, 0.9])
    res = svd_study.choose_rank(small_splits(), [20, 3, 1, 2])
    assert res["best_rank"] == 2  # ranks 3 and 2 tie at 0.9


def test_choose_rank_is_cached(root, monkeypatch):
    calls = counting(monkeypatch, "rank_curve")
    splits = small_splits()
    first = svd_study.choose_rank(splits, [1, 3])
    second = svd_study.choose_rank(splits, [1, 3])
    assert len(calls) == 1
    assert second["cached"] is True
    assert {k: v for k, v in second.items() if k != "cached"} == {k: v for k, v in first.items() if k != "cached"}
    # other ranks or other data are other results
    svd_study.choose_rank(splits, [1, 4])
    svd_study.choose_rank(small_splits(seed=1), [1, 3])
    assert len(calls) == 3
    assert len(cache_files(root, "rank")) == 3
    assert not list((root / "svd").glob(".tmp-*"))  # atomic writes leave no temporary files


@pytest.mark.parametrize("damage", ["garbage", "empty", "truncated", "binary", "list", "no-result"])
def test_corrupt_cache_is_recomputed_with_a_warning(root, monkeypatch, damage):
    calls = counting(monkeypatch, "rank_curve")
    splits = small_splits()
    first = svd_study.choose_rank(splits, [1, 3])
    (path,) = cache_files(root, "rank")
    text = path.read_text()
    broken = {
        "garbage": "not json at all",
        "empty": "",
        "truncated": text[: len(text) // 2],
        "binary": None,
        "list": "[1, 2, 3]",
        "no-result": json.dumps({"key": json.loads(text)["key"]}),
    }[damage]
    if broken is None:
        path.write_bytes(b"\xff\xfe\x00garbage")
    else:
        path.write_text(broken)
    with pytest.warns(CacheWarning, match="recomputed"):
        again = svd_study.choose_rank(splits, [1, 3])
    assert len(calls) == 2
    assert again["cached"] is False
    assert again["val_accuracy"] == first["val_accuracy"]
    # the file was repaired: the next call reads it without a warning
    assert svd_study.choose_rank(splits, [1, 3])["cached"] is True
    assert len(calls) == 2


def test_cache_file_made_for_other_inputs_is_recomputed(root, monkeypatch):
    calls = counting(monkeypatch, "rank_curve")
    splits = small_splits()
    svd_study.choose_rank(splits, [1, 3])
    (path,) = cache_files(root, "rank")
    record = json.loads(path.read_text())
    record["key"]["checksum"] = "something else"
    path.write_text(json.dumps(record))
    with pytest.warns(CacheWarning, match="other inputs"):
        svd_study.choose_rank(splits, [1, 3])
    assert len(calls) == 2


def test_cache_key_holds_code_version(root, monkeypatch):
    calls = counting(monkeypatch, "rank_curve")
    splits = small_splits()
    svd_study.choose_rank(splits, [2])
    monkeypatch.setattr(svd_cache, "CODE_VERSION", svd_cache.CODE_VERSION + 1)
    svd_study.choose_rank(splits, [2])
    assert len(calls) == 2
    (old, new) = sorted(cache_files(root, "rank"), key=lambda p: json.loads(p.read_text())["key"]["code_version"])
    assert json.loads(new.read_text())["key"]["code_version"] == svd_cache.CODE_VERSION


def test_cached_stores_non_finite_results_as_null(root):
    """JSON has no NaN: a non-finite number is stored (and returned) as None, never as invalid JSON."""
    got = svd_cache.cached("x", {"a": 1}, lambda: {"v": math.nan, "w": 1.5})
    assert got["v"] is None and got["w"] == 1.5 and got["cached"] is False
    (path,) = cache_files(root, "x")
    json.loads(path.read_text())  # strict JSON
    assert svd_cache.cached("x", {"a": 1}, lambda: {"v": 0.0})["v"] is None  # read back, not recomputed
    assert not list((root / "svd").glob(".tmp-*"))


# --------------------------------------------------------------------------------------- evaluate_models


def test_evaluate_models_rows_and_subsets(root, fake_load):
    t0 = time.perf_counter()
    table = svd_study.evaluate_models("fashion", rank=5, subset=300, svc_subset=120)
    elapsed = time.perf_counter() - t0
    assert list(table.index) == ["SVD subspaces (rank 5)", "PCA(85%)+Ridge", "PCA(85%)+kNN", "PCA(85%)+SVC"]
    assert table.loc["SVD subspaces (rank 5)", "n_train"] == 300
    assert table.loc["PCA(85%)+SVC", "n_train"] == 120
    assert (table["n_test"] == 200).all()
    assert table["test_accuracy"].between(0, 1).all()
    # the times are wall seconds of this call's own fits and predictions, one after another
    assert (table[["fit_seconds", "predict_seconds"]] >= 0).all().all()
    assert table["fit_seconds"].sum() + table["predict_seconds"].sum() <= elapsed
    assert table.loc["SVD subspaces (rank 5)", "test_accuracy"] > 0.5  # learnable clusters
    assert table["pca_components"].notna().sum() == 3
    assert 0 < table.loc["PCA(85%)+SVC", "n_support"] <= 120  # support vectors are training images
    assert not table["cached"].any()
    assert sorted(set(fake_load)) == [120, 300]


def test_evaluate_models_is_cached_per_model(root, fake_load, monkeypatch):
    calls = counting(monkeypatch, "_fit_and_score")
    first = svd_study.evaluate_models("mnist", rank=4, subset=300, svc_subset=120)
    assert len(calls) == 4
    second = svd_study.evaluate_models("mnist", rank=4, subset=300, svc_subset=120)
    assert len(calls) == 4
    assert second["cached"].all()
    cols = ["test_accuracy", "fit_seconds", "predict_seconds", "n_train"]
    assert second[cols].equals(first[cols])
    # a new rank refits only the SVD classifier; a new SVC subset only the SVC pipeline
    svd_study.evaluate_models("mnist", rank=6, subset=300, svc_subset=120)
    assert len(calls) == 5
    table = svd_study.evaluate_models("mnist", rank=6, subset=300, svc_subset=150)
    assert len(calls) == 6
    assert table.loc["PCA(85%)+SVC", "n_train"] == 150


def test_evaluate_models_svc_subset_none_uses_all(root, fake_load):
    table = svd_study.evaluate_models("fashion", rank=3, subset=200)
    assert (table["n_train"] == 200).all()


# ------------------------------------------------------------------------------------------ forensic_svc


def test_forensic_svc_scores_training_and_test_images(root, fake_load, monkeypatch):
    res = svd_study.forensic_svc("fashion", 250)
    assert res["n_train"] == 250 and res["n_test"] == 200
    assert 0 <= res["test_accuracy"] <= 1
    assert res["train_accuracy"] >= res["test_accuracy"]  # resubstitution flatters the model
    assert 0 < res["n_support"] <= res["n_train"] and res["cached"] is False
    # the same estimator as the seed's: scikit-learn's default SVC
    from sklearn.svm import SVC

    fits = []
    monkeypatch.setattr(SVC, "fit", lambda self, *a: fits.append(1) or self)
    again = svd_study.forensic_svc("fashion", 250)
    assert again["cached"] is True and not fits
    assert again["train_accuracy"] == res["train_accuracy"]


def test_forensic_svc_without_resubstitution(root, fake_load):
    res = svd_study.forensic_svc("mnist", 250, resubstitution=False)
    assert res["train_accuracy"] is None and res["predict_train_seconds"] is None
    assert 0 <= res["test_accuracy"] <= 1
    full = svd_study.forensic_svc("mnist", 250)
    assert full["cached"] is False and full["train_accuracy"] is not None
    assert full["test_accuracy"] == res["test_accuracy"]  # the same deterministic fit


def test_describe_estimator_is_json_and_distinguishes_params():
    from fcnbook.svd.classifier import SVDClassifier
    from fcnbook.svd.pipelines import projection_pipelines

    a = svd_cache.describe_estimator(SVDClassifier(5))
    b = svd_cache.describe_estimator(SVDClassifier(6))
    assert a != b and json.loads(json.dumps(a)) == a
    pipe = svd_cache.describe_estimator(projection_pipelines()["PCA(85%)+SVC"])
    assert pipe["class"] == "Pipeline" and [s[0] for s in pipe["steps"]] == ["pca", "svc"]
    assert json.loads(json.dumps(pipe)) == pipe


# ------------------------------------------------------------------------------------ small real subsets


def test_real_data_smoke(root):
    """A small real run end to end (skipped where the data has not been fetched)."""
    from fcnbook.data.splits import DataError, load

    try:
        splits = load("mnist", normalization=svd_study.PIXELS, subset=500)
    except DataError:
        pytest.skip("MNIST not fetched")
    assert float(splits.x_train.min()) == 0.0 and float(splits.x_train.max()) == 1.0
    res = svd_study.choose_rank(NoTest(splits), [5, 10])
    assert res["best_val_accuracy"] > 0.8 and res["n_val"] == len(splits.y_val)
    rows = svd_study.evaluate_models("mnist", rank=res["best_rank"], subset=500, svc_subset=300)
    assert rows.loc[f"SVD subspaces (rank {res['best_rank']})", "test_accuracy"] > 0.8
    assert rows.loc["PCA(85%)+SVC", "n_train"] == 300


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_threaded_predict_equals_one_predict_call(workers, monkeypatch):
    from sklearn.svm import SVC

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(300, 20)), rng.integers(0, 4, 300)
    est = SVC().fit(x, y)
    x_new = rng.normal(size=(1601, 20))  # not a multiple of the block count
    monkeypatch.setattr(predictions, "PREDICT_MIN_BLOCK", 100)
    calls = []
    real = est.predict
    monkeypatch.setattr(est, "predict", lambda rows: calls.append(len(rows)) or real(rows))
    got = predictions.predict(est, x_new, workers=workers)
    np.testing.assert_array_equal(got, real(x_new))
    assert len(calls) == workers and sum(calls) == len(x_new)
    calls.clear()
    predictions.predict(est, x_new[:150], workers=workers)  # too few rows for two blocks: one call
    assert calls == [150]


@pytest.mark.parametrize("dataset", ["fashion", "mnist"])
def test_resubstitution_classifies_the_support_vectors_only_and_agrees_exactly(dataset):
    """Oracle: the accuracy of predicting every training image, on real pixels (a default SVC, 2 000 images)."""
    from fcnbook.data.splits import DataError, load
    from fcnbook.svd.pipelines import original_svc

    try:
        splits = load(dataset, normalization=svd_study.PIXELS, subset=2000)
    except DataError:
        pytest.skip(f"{dataset} not fetched")
    x, y = splits.x_train.numpy(), splits.y_train.numpy()
    est = original_svc().fit(x, y)
    accuracy, classified = predictions.resubstitution_accuracy(est, x, y, check=300)
    assert accuracy == float(np.mean(est.predict(x) == y)) < 1.0  # some training images are misclassified
    assert classified == len(est.support_) + 300 < len(y)


def test_resubstitution_falls_back_to_every_image_when_the_check_fails():
    from sklearn.svm import SVC

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(400, 10)), rng.integers(0, 3, 400)  # noise: many training images come out wrong
    est = SVC().fit(x, y)
    truth = float(np.mean(est.predict(x) == y))

    class Pretending:  # claims no support vectors: every image would be "provably right", which the check refutes
        support_ = np.array([], dtype=int)
        predict = est.predict

    accuracy, classified = predictions.resubstitution_accuracy(Pretending(), x, y, check=400)
    assert (accuracy, classified) == (truth, 400) and truth < 1.0
