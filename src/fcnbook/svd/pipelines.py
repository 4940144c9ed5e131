"""The classifiers the SVD chapter sets beside the SVD subspace classifier: the course's PCA pipelines and the
seed report's "SVD classifier" (which its code built as a default ``SVC()``)."""

from __future__ import annotations

import numbers

from sklearn.decomposition import PCA
from sklearn.linear_model import RidgeClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

#: PCA's solver: the eigendecomposition of the 784 x 784 covariance matrix, exact like "full" (which takes the SVD
#: of the whole centred data matrix) but several times faster when samples far outnumber features, as here.
PCA_SOLVER = "covariance_eigh"


def projection_pipelines(energy: float = 0.85, random_state: int | None = 0) -> dict[str, Pipeline]:
    """The course's PCA-then-classifier pipelines, built from scikit-learn parts.

    Each pipeline is ``PCA(n_components=energy, svd_solver="covariance_eigh")`` (keep the fewest
    principal components that explain ``energy`` of the variance) followed by a classifier:
    ``RidgeClassifier()``, ``KNeighborsClassifier()`` (k = 5) or ``SVC(kernel="rbf")``.

    Parameters
    ----------
    energy : float, default=0.85
        Fraction of variance kept by PCA, strictly between 0 and 1.
    random_state : int or None, default=0
        Passed to the steps that accept it (PCA, SVC); with an exact PCA solver and no
        probability estimates neither is actually random.

    Returns
    -------
    dict of str to Pipeline
        Keys ``"PCA(85%)+Ridge"``, ``"PCA(85%)+kNN"`` and ``"PCA(85%)+SVC"`` (with the given
        percentage), unfitted.
    """
    if isinstance(energy, bool) or not isinstance(energy, numbers.Real) or not 0.0 < energy < 1.0:
        raise ValueError(f"energy must be a float strictly between 0 and 1; got {energy!r}.")
    energy = float(energy)
    label = f"PCA({energy * 100:g}%)"
    heads = {
        "Ridge": RidgeClassifier(),
        "kNN": KNeighborsClassifier(n_neighbors=5),
        "SVC": SVC(kernel="rbf", random_state=random_state),
    }
    return {
        f"{label}+{name}": Pipeline(
            [
                ("pca", PCA(n_components=energy, svd_solver=PCA_SOLVER, random_state=random_state)),
                (name.lower(), head),
            ]
        )
        for name, head in heads.items()
    }


def original_svc() -> SVC:
    """The seed report's "SVD classifier", as its notebook actually built it.

    The notebook fitted scikit-learn's ``SVC()`` with default settings (RBF kernel, ``C=1``,
    ``gamma="scale"``) on the raw 784 pixels and scored it on the training set it was fitted on,
    so its 0.9128 is a resubstitution accuracy, not a held-out one.

    Returns
    -------
    SVC
        An unfitted ``SVC()`` with scikit-learn's defaults.
    """
    return SVC()
