"""Small synthetic IDX datasets for the data and fetch tests (written independently of fcnbook.data.fetch)."""

from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np

NAMES = (
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
)
# Deliberately unequal class sizes (40, 44, ..., 76 = 580 training images), so stratification is visible.
TRAIN_COUNTS = tuple(40 + 4 * c for c in range(10))
TEST_COUNTS = (10,) * 10


def idx_bytes(array: np.ndarray) -> bytes:
    """IDX encoding of a uint8 array, straight from the format description (magic 0x0000 08 ndim)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">4B", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def _split(counts, rng) -> tuple[np.ndarray, np.ndarray]:
    labels = rng.permutation(np.repeat(np.arange(10), counts)).astype(np.uint8)
    # Class-dependent brightness, so per-class statistics differ like real data.
    images = rng.integers(0, 128, size=(len(labels), 28, 28)) + 12 * labels[:, None, None]
    return images.astype(np.uint8), labels


def synthetic_arrays(seed=0, train_counts=TRAIN_COUNTS, test_counts=TEST_COUNTS) -> dict[str, np.ndarray]:
    """The four arrays of a small dataset, keyed by IDX file name."""
    rng = np.random.default_rng(seed)
    x_tr, y_tr = _split(train_counts, rng)
    x_te, y_te = _split(test_counts, rng)
    return dict(zip(NAMES, (x_tr, y_tr, x_te, y_te), strict=True))


def md5_table(arrays: dict[str, np.ndarray]) -> dict[str, str]:
    """MD5 of each array's IDX encoding, in the shape of ``fcnbook.data.splits.MD5[dataset]``."""
    return {name: hashlib.md5(idx_bytes(a)).hexdigest() for name, a in arrays.items()}


def write_raw(root: Path, folder: str, arrays: dict[str, np.ndarray]) -> dict[str, str]:
    """Write the arrays as ``root/folder/raw/<name>``; returns their MD5 table."""
    raw = Path(root) / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name, a in arrays.items():
        (raw / name).write_bytes(idx_bytes(a))
    return md5_table(arrays)


def write_gz_source(folder: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``<name>.gz`` files like Debian's dataset-fashion-mnist package."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, a in arrays.items():
        (folder / f"{name}.gz").write_bytes(gzip.compress(idx_bytes(a), compresslevel=1))
