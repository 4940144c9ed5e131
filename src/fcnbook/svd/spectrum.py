"""How many singular vectors a class keeps, and the singular vectors themselves (numpy only).

:class:`fcnbook.svd.classifier.SVDClassifier` takes one SVD per class (:func:`right_singular`) and keeps
``n_components`` of it (:func:`check_n_components`, :func:`kept_rank`): either a fixed rank, clipped to the class
matrix's :func:`numerical_rank`, or the smallest rank that reaches a fraction of its energy (:func:`energy_rank`).
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["check_n_components", "energy_rank", "kept_rank", "numerical_rank", "right_singular"]

_N_COMPONENTS_HELP = "n_components must be an int >= 1 (a rank) or a float in (0, 1] (an energy fraction)"


def check_n_components(value) -> int | float:
    """Return ``value`` as an int rank or a float energy fraction, or raise ValueError."""
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"{_N_COMPONENTS_HELP}; got {value!r}.")
    if isinstance(value, numbers.Integral):
        if value >= 1:
            return int(value)
    elif isinstance(value, numbers.Real):
        if 0.0 < value <= 1.0:
            return float(value)
    raise ValueError(f"{_N_COMPONENTS_HELP}; got {value!r}.")


def kept_rank(s: np.ndarray, shape: tuple[int, int], n_components: int | float) -> int:
    """Rank a class keeps: ``n_components`` as a rank, or as an energy fraction (:func:`energy_rank`) when it is a
    float, clipped to the :func:`numerical_rank` of the (``shape``) matrix whose singular values are ``s``."""
    rank = numerical_rank(s, shape)
    if isinstance(n_components, float):
        return min(energy_rank(s, n_components), rank)
    return min(n_components, rank)


def numerical_rank(s: np.ndarray, shape: tuple[int, int]) -> int:
    """Rank of a matrix from its descending singular values, with numpy's matrix_rank tolerance."""
    if s.size == 0 or s[0] == 0.0:
        return 0
    tol = s[0] * max(shape) * np.finfo(s.dtype).eps
    return int(np.count_nonzero(s > tol))


def energy_rank(s: np.ndarray, fraction: float) -> int:
    """Smallest ``r`` with ``sum(s[:r]**2) >= fraction * sum(s**2)`` (0 for an all-zero spectrum)."""
    energy = np.cumsum(s.astype(np.float64) ** 2)
    if energy.size == 0 or energy[-1] == 0.0:
        return 0
    # A relative slack of a few ulps so that fraction=1.0 (or an exact cumulative ratio) is reached
    # despite rounding in the cumulative sum.
    target = fraction * energy[-1] * (1.0 - 8 * np.finfo(np.float64).eps)
    return min(int(np.searchsorted(energy, target, side="left")) + 1, energy.size)


def right_singular(Xk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Singular values and right singular vectors (rows of Vt) of ``Xk`` (samples x features).

    The right singular vectors of ``Xk`` are the left singular vectors of ``Xk.T``, the
    (features x samples) matrix whose columns are images. For tall ``Xk`` the SVD is taken of the
    triangular factor of a QR decomposition, which has the same singular values and right singular
    vectors and avoids forming the (samples x rank) left factor.
    """
    n_samples, n_features = Xk.shape
    if n_samples > n_features:
        Xk = np.linalg.qr(Xk, mode="r")
    _, s, vt = np.linalg.svd(Xk, full_matrices=False)
    return s, vt
