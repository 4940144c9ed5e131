"""Which images a run sees, without torch: stratified splits and subsets, labels as numpy, the split's checksum.

The report and the run store read these (to score predictions, to find a run's record) without loading the
images as tensors; :mod:`fcnbook.data.splits` builds the trainer's tensors from the same indices.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass

import numpy as np

from fcnbook.config import check_data_settings
from fcnbook.data.files import FILES, _check_dataset, _root, raw_dir, verify
from fcnbook.data.idx import read_idx


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic stratified split: ``round(fraction * count)`` of every class goes to validation.

    Returns
    -------
    train_idx, val_idx : np.ndarray
        Sorted int64 index arrays that partition ``range(len(labels))``.
    """
    labels = np.asarray(labels)
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1) (got {fraction!r})")
    rng = np.random.default_rng(seed)
    val = [rng.permutation(np.flatnonzero(labels == c))[: round(fraction * np.sum(labels == c))]
           for c in np.unique(labels)]
    val_idx = np.sort(np.concatenate(val)).astype(np.int64)
    train_idx = np.setdiff1d(np.arange(len(labels), dtype=np.int64), val_idx, assume_unique=True)
    return train_idx, val_idx


def stratified_subset(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Sorted indices of ``n`` items, as class-balanced as the class counts allow.

    Every class gets ``n // K`` items (K classes); a class with fewer items gives all it has and the rest is
    shared among the others; the last ``n mod K`` items go to randomly chosen classes, so none is favoured.
    """
    labels = np.asarray(labels)
    if not 1 <= n <= len(labels):
        raise ValueError(f"n must be in [1, {len(labels)}] (got {n!r})")
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    quota, remaining = np.zeros(len(classes), dtype=np.int64), n
    while remaining:
        open_ = np.flatnonzero(quota < counts)
        share, extra = divmod(remaining, len(open_))
        if share == 0:
            quota[rng.choice(open_, extra, replace=False)] += 1
            break
        add = np.minimum(share, counts[open_] - quota[open_])
        quota[open_] += add
        remaining -= int(add.sum())
    picks = [rng.choice(np.flatnonzero(labels == c), q, replace=False)
             for c, q in zip(classes, quota, strict=True)]
    return np.sort(np.concatenate(picks)).astype(np.int64)


def split_checksum(dataset: str, md5s, val_fraction: float, split_seed: int, normalization: str,
                   subset: int | None) -> str:
    """SHA-256 of the verified file MD5s and the split settings: equal checksums, same data (a record's identity)."""
    settings = {"dataset": dataset, "md5": list(md5s), "val_fraction": val_fraction, "split_seed": split_seed,
                "normalization": normalization, "subset": subset}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


def checksum_for(config) -> str:
    """:func:`split_checksum` of a :class:`fcnbook.config.RunConfig`'s data, as ``load_for(config).checksum``."""
    _check_dataset(config.dataset)
    check_data_settings(config.val_fraction, config.split_seed, config.normalization, config.subset)
    md5s = verify(config.dataset)
    return split_checksum(config.dataset, tuple(md5s[name] for name in FILES), float(config.val_fraction),
                          config.split_seed, config.normalization, config.subset)


def labels(dataset: str, train: bool, root=None) -> np.ndarray:
    """Verified labels of the training (60 000) or test (10 000) images, int64, read-only."""
    verify(dataset, root)
    return _labels(dataset, bool(train), str(_root(root)))


@functools.lru_cache(maxsize=4)
def _labels(dataset: str, train: bool, root: str) -> np.ndarray:
    name = "train-labels-idx1-ubyte" if train else "t10k-labels-idx1-ubyte"
    out = read_idx(raw_dir(dataset, root) / name).astype(np.int64)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False)
class Pixels:
    """Pixels in [0, 1] (float32, one row per image) of the training, validation and test images, as numpy arrays.

    The same images, split and checksum as ``fcnbook.data.splits.load(..., normalization="none")``, whose tensors
    hold the same float32 values (``x / 255`` is correctly rounded in both); for the SVD chapter, which needs no torch.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    checksum: str
    dataset: str


def pixels(dataset: str = "fashion", *, subset: int | None = None, split_seed: int = 0, val_fraction: float = 0.1,
           root=None) -> Pixels:
    """Verified, split images scaled to [0, 1], without torch; cached per process like ``splits.load``."""
    _check_dataset(dataset)
    check_data_settings(val_fraction, split_seed, "none", subset)
    md5s = verify(dataset, root)
    return _pixels(dataset, subset, split_seed, float(val_fraction), str(_root(root)),
                   tuple(md5s[name] for name in FILES))


@functools.lru_cache(maxsize=4)
def _pixels(dataset, subset, split_seed, val_fraction, root, md5s) -> Pixels:
    folder = raw_dir(dataset, root)
    x_all, x_test = (read_idx(folder / f"{p}-images-idx3-ubyte") for p in ("train", "t10k"))
    y_all, y_test = (labels(dataset, p == "train", root) for p in ("train", "t10k"))
    train_idx, val_idx = stratified_split(y_all, val_fraction, split_seed)
    if subset is not None:
        if subset > len(train_idx):
            raise ValueError(f"subset must be at most {len(train_idx)} (the training split) (got {subset})")
        train_idx = train_idx[stratified_subset(y_all[train_idx], subset, split_seed)]

    def scaled(x):
        return x.reshape(len(x), -1).astype(np.float32) / np.float32(255.0)

    checksum = split_checksum(dataset, md5s, val_fraction, split_seed, "none", subset)
    return Pixels(scaled(x_all[train_idx]), y_all[train_idx], scaled(x_all[val_idx]), y_all[val_idx],
                  scaled(x_test), y_test.copy(), checksum, dataset)
