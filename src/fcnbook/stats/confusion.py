"""Which classes a network confuses: the confusion matrix pooled over seeds, per-class accuracy, the worst pairs.

Computed here, drawn by :mod:`fcnbook.report.plots`, written by the chapters: the figure and the sentence read the
same matrix.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def confusion_matrix(y_true, y_pred, classes: int, normalize: bool = True) -> np.ndarray:
    """Rows: true class, columns: predicted; ``y_pred`` of shape (seeds, N) pools the seeds' predictions of the same
    ``N`` images. Normalised per true class unless ``normalize`` is False (then counts)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_pred.ndim == 2:
        y_true, y_pred = np.tile(y_true, len(y_pred)), y_pred.ravel()
    cm = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    if not normalize:
        return cm
    rows = cm.sum(axis=1, keepdims=True)
    return np.divide(cm, rows, out=np.zeros(cm.shape), where=rows > 0)


def most_confused(cm: np.ndarray, classes: Sequence[str], top: int = 5) -> pd.DataFrame:
    """The ``top`` off-diagonal (true, predicted) pairs of a confusion matrix, largest first."""
    off = cm.astype(float).copy()
    np.fill_diagonal(off, -np.inf)
    order = np.argsort(off, axis=None)[::-1][:top]
    rows = [(classes[i], classes[j], off[i, j]) for i, j in zip(*np.unravel_index(order, cm.shape), strict=True)]
    return pd.DataFrame(rows, columns=["true", "predicted", "rate"])


def per_class_accuracy(y_true, predictions, classes: Sequence[str]) -> pd.DataFrame:
    """Test accuracy per class: mean and SD over runs (one prediction vector per seed); NaN for a class with no
    images in ``y_true``."""
    y = np.asarray(y_true)
    counts = np.bincount(y, minlength=len(classes))[: len(classes)]
    hits = np.array([np.bincount(y[np.asarray(p) == y], minlength=len(classes))[: len(classes)] for p in predictions])
    acc = np.divide(hits, counts, out=np.full(hits.shape, np.nan), where=counts > 0)
    sd = acc.std(axis=0, ddof=1) if len(acc) > 1 else np.full(len(classes), np.nan)
    return pd.DataFrame({"accuracy (mean)": acc.mean(axis=0), "SD": sd}, index=list(classes))
