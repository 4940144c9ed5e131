"""Tests for fcnbook.svd.classifier: the per-class SVD subspace classifier and the PCA pipelines."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from fcnbook.svd.classifier import SVDClassifier, rank_curve
from fcnbook.svd.pipelines import original_svc, projection_pipelines


@parametrize_with_checks([SVDClassifier(), SVDClassifier(n_components=3)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def _subspace_data(rng, n_classes=3, dim=50, rank=2, n_per_class=40):
    """Samples lying exactly in random rank-``rank`` subspaces of R^dim, one per class."""
    bases = [np.linalg.qr(rng.normal(size=(dim, rank)))[0] for _ in range(n_classes)]

    def draw(n):
        X = np.vstack([rng.normal(size=(n, rank)) @ b.T for b in bases])
        return X, np.repeat(np.arange(n_classes), n)

    return bases, draw


def _naive_residuals(X_train, y_train, X, r):
    """Reference: numpy SVD of each class matrix (columns = samples), loop over samples."""
    classes = np.unique(y_train)
    out = np.empty((X.shape[0], classes.size))
    for k, c in enumerate(classes):
        A = X_train[y_train == c].T
        U = np.linalg.svd(A, full_matrices=False)[0][:, :r]
        for i, x in enumerate(X):
            out[i, k] = np.linalg.norm(x - U @ (U.T @ x))
    return out


def test_exact_subspaces_are_recovered():
    rng = np.random.default_rng(0)
    bases, draw = _subspace_data(rng)
    X_train, y_train = draw(40)
    X_test, y_test = draw(25)
    clf = SVDClassifier(n_components=2).fit(X_train, y_train)
    assert clf.n_components_.tolist() == [2, 2, 2]
    assert clf.score(X_test, y_test) == 1.0
    res = clf.residuals(X_test)
    true_res = res[np.arange(len(y_test)), y_test]
    assert np.all(true_res < 1e-6 * np.linalg.norm(X_test, axis=1))
    other = res.copy()
    other[np.arange(len(y_test)), y_test] = np.inf
    assert other.min() > 1e-2
    # Each fitted subspace equals the true one: the projectors agree.
    for U, B in zip(clf.components_, bases, strict=True):
        np.testing.assert_allclose(U @ U.T, B @ B.T, atol=1e-10)


def test_default_is_one_rank_of_20_for_every_class():
    assert SVDClassifier().n_components == 20
    rng = np.random.default_rng(15)
    X = rng.normal(size=(90, 40))
    y = np.repeat([0, 1, 2], 30)
    clf = SVDClassifier().fit(X, y)
    assert clf.n_components_.tolist() == [20, 20, 20]
    # An energy fraction is still available when asked for explicitly.
    assert SVDClassifier(n_components=0.5).fit(X, y).n_components_.max() < 20


def test_rank_is_clipped_to_numerical_rank():
    rng = np.random.default_rng(1)
    _, draw = _subspace_data(rng)
    X, y = draw(40)
    clf = SVDClassifier(n_components=30).fit(X, y)
    assert clf.n_components_.tolist() == [2, 2, 2]
    assert clf.score(X, y) == 1.0
    small = SVDClassifier(n_components=100).fit(X[:5], np.zeros(5, dtype=int))
    assert small.n_components_.tolist() == [2]
    assert [s.size for s in small.singular_values_] == [5]


@pytest.mark.parametrize("r", [1, 3, 7])
def test_decision_function_matches_naive_reference(r):
    rng = np.random.default_rng(2)
    X_train = rng.normal(size=(60, 20))
    y_train = rng.integers(0, 4, size=60)
    X = rng.normal(size=(33, 20))
    clf = SVDClassifier(n_components=r, batch_size=7).fit(X_train, y_train)
    expected = _naive_residuals(X_train, y_train, X, r)
    np.testing.assert_allclose(clf.residuals(X), expected, rtol=0, atol=1e-8)
    np.testing.assert_allclose(clf.decision_function(X), -expected, rtol=0, atol=1e-8)
    np.testing.assert_array_equal(clf.predict(X), np.argmin(expected, axis=1))
    for U, s in zip(clf.components_, clf.singular_values_, strict=True):
        np.testing.assert_allclose(U.T @ U, np.eye(r), atol=1e-12)
        assert np.all(np.diff(s) <= 0)


def test_tall_class_matrix_matches_numpy_svd():
    """The QR-then-SVD path (more samples than features) gives numpy's singular values and subspaces."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 12)) @ rng.normal(size=(12, 12))
    clf = SVDClassifier(n_components=5).fit(X, np.zeros(200, dtype=int))
    U, s, _ = np.linalg.svd(X.T, full_matrices=False)
    np.testing.assert_allclose(clf.singular_values_[0], s, rtol=1e-12)
    P = clf.components_[0] @ clf.components_[0].T
    np.testing.assert_allclose(P, U[:, :5] @ U[:, :5].T, atol=1e-10)


def test_binary_decision_function_follows_sklearn_convention():
    rng = np.random.default_rng(4)
    X_train = rng.normal(size=(40, 10))
    y_train = np.array(["a", "b"] * 20)
    X = rng.normal(size=(15, 10))
    clf = SVDClassifier(n_components=2).fit(X_train, y_train)
    res = clf.residuals(X)
    dec = clf.decision_function(X)
    assert dec.shape == (15,)
    np.testing.assert_allclose(dec, res[:, 0] - res[:, 1])
    np.testing.assert_array_equal(clf.predict(X), np.where(dec > 0, "b", "a"))


def _matrix_with_singular_values(rng, s, n_features=8, n_samples=10):
    """A (n_samples, n_features) matrix whose singular values are exactly ``s`` (up to rounding)."""
    Q1 = np.linalg.qr(rng.normal(size=(n_samples, len(s))))[0]
    Q2 = np.linalg.qr(rng.normal(size=(n_features, len(s))))[0]
    return Q1 @ np.diag(s) @ Q2.T


@pytest.mark.parametrize(
    ("fraction", "expected"),
    [
        # energies 16, 9, 4, 1 of total 30; cumulative fractions 0.533, 0.833, 0.967, 1.0
        (0.01, 1),
        (16 / 30, 1),
        (0.54, 2),
        (0.9, 3),
        (29 / 30, 3),
        (0.97, 4),
        (1.0, 4),
    ],
)
def test_energy_fraction_selects_rank(fraction, expected):
    rng = np.random.default_rng(5)
    X = _matrix_with_singular_values(rng, [4.0, 3.0, 2.0, 1.0])
    clf = SVDClassifier(n_components=fraction).fit(X, np.zeros(len(X), dtype=int))
    assert clf.n_components_.tolist() == [expected]
    np.testing.assert_allclose(clf.singular_values_[0][:4], [4, 3, 2, 1], rtol=1e-12)


def test_energy_fraction_is_per_class():
    rng = np.random.default_rng(6)
    X0 = _matrix_with_singular_values(rng, [4.0, 3.0, 2.0, 1.0])  # 0.9 -> 3
    X1 = _matrix_with_singular_values(rng, [10.0, 1.0, 1.0, 1.0])  # 100/103 = 0.97 -> 1
    X = np.vstack([X0, X1])
    y = np.repeat([0, 1], 10)
    clf = SVDClassifier(n_components=0.9).fit(X, y)
    assert clf.n_components_.tolist() == [3, 1]
    assert [U.shape for U in clf.components_] == [(8, 3), (8, 1)]


@pytest.mark.parametrize("bad", [0, -3, 1.5, 0.0, -0.2, "abc", True, False, None, np.nan, [2]])
def test_invalid_n_components_raises(bad):
    X = np.random.default_rng(7).normal(size=(10, 4))
    y = np.repeat([0, 1], 5)
    clf = SVDClassifier(n_components=bad)  # no validation in __init__ (sklearn convention)
    with pytest.raises(ValueError, match="n_components") as info:
        clf.fit(X, y)
    assert "\n" not in str(info.value)


def test_integer_like_numpy_values_are_accepted():
    X = np.random.default_rng(8).normal(size=(10, 4))
    y = np.repeat([0, 1], 5)
    assert SVDClassifier(n_components=np.int64(2)).fit(X, y).n_components_.tolist() == [2, 2]
    assert SVDClassifier(n_components=np.float32(1.0)).fit(X, y).n_components_.tolist() == [4, 4]


def test_invalid_batch_size_raises():
    X = np.random.default_rng(9).normal(size=(10, 4))
    with pytest.raises(ValueError, match="batch_size"):
        SVDClassifier(batch_size=0).fit(X, np.repeat([0, 1], 5))


def test_batching_does_not_change_results():
    rng = np.random.default_rng(10)
    X = rng.normal(size=(50, 15))
    y = rng.integers(0, 3, size=50)
    full = SVDClassifier(n_components=4).fit(X, y)
    tiny = clone(full).set_params(batch_size=3).fit(X, y)
    np.testing.assert_allclose(tiny.decision_function(X), full.decision_function(X), atol=1e-12)


def test_float32_input_is_accepted():
    rng = np.random.default_rng(11)
    _, draw = _subspace_data(rng)
    X, y = draw(30)
    clf = SVDClassifier(n_components=2).fit(X.astype(np.float32), y)
    assert clf.score(X.astype(np.float32), y) == 1.0


def test_rank_curve_matches_separate_fits():
    rng = np.random.default_rng(12)
    X_train = rng.normal(size=(90, 12)) + np.repeat(rng.normal(size=(3, 12)) * 2, 30, axis=0)
    y_train = np.repeat(["x", "y", "z"], 30)
    X_val = rng.normal(size=(45, 12)) + np.repeat(rng.normal(size=(3, 12)) * 0 + X_train[::30], 15, axis=0)
    y_val = np.repeat(["x", "y", "z"], 15)
    ranks = [1, 2, 5, 40]
    curve = rank_curve(X_train, y_train, X_val, y_val, ranks, batch_size=10)
    expected = [SVDClassifier(n_components=r).fit(X_train, y_train).score(X_val, y_val) for r in ranks]
    assert curve == pytest.approx(expected, abs=0)
    assert all(isinstance(a, float) for a in curve)


@pytest.mark.parametrize("bad", [[], [0], [2, 0.5]])
def test_rank_curve_rejects_bad_ranks(bad):
    X = np.random.default_rng(13).normal(size=(10, 4))
    y = np.repeat([0, 1], 5)
    with pytest.raises(ValueError):
        rank_curve(X, y, X, y, bad)


def test_projection_pipelines():
    pipes = projection_pipelines()
    assert list(pipes) == ["PCA(85%)+Ridge", "PCA(85%)+kNN", "PCA(85%)+SVC"]
    rng = np.random.default_rng(14)
    centers = rng.normal(size=(3, 30)) * 3
    X = np.repeat(centers, 40, axis=0) + rng.normal(size=(120, 30))
    y = np.repeat([0, 1, 2], 40)
    for name, pipe in pipes.items():
        assert isinstance(pipe, Pipeline)
        pca = pipe.steps[0][1]
        assert isinstance(pca, PCA)
        assert pca.n_components == 0.85 and pca.svd_solver == "covariance_eigh"
        pipe.fit(X[::2], y[::2])
        assert pipe.predict(X[1::2]).shape == (60,)
        assert pipe.score(X[1::2], y[1::2]) > 0.9, name
    assert isinstance(pipes["PCA(85%)+SVC"].steps[-1][1], SVC)
    assert pipes["PCA(85%)+SVC"].steps[-1][1].kernel == "rbf"
    assert pipes["PCA(85%)+kNN"].steps[-1][1].n_neighbors == 5
    assert list(projection_pipelines(0.9)) == ["PCA(90%)+Ridge", "PCA(90%)+kNN", "PCA(90%)+SVC"]
    with pytest.raises(ValueError, match="energy"):
        projection_pipelines(1.0)


def test_original_svc_is_default_svc():
    est = original_svc()
    assert type(est) is SVC
    assert est.get_params() == SVC().get_params()
