"""Verified loading of FashionMNIST and MNIST, stratified splits and normalisation.

The files are found and MD5-checked by :mod:`fcnbook.data.files` before anything is read (a damaged file stops
a run with a one-line :class:`DataError` naming the file and the fix). :func:`load` turns the raw images into the float
tensors the trainer consumes and records, in :attr:`Splits.checksum`, exactly which data and split a run saw.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fcnbook.config import check_data_settings
from fcnbook.data.files import (  # noqa: F401  (re-exported: data.verify, data.DataError, ... are the public names)
    CLASS_NAMES,
    FILES,
    FOLDERS,
    MD5,
    MNIST_MEAN,
    MNIST_STD,
    DataError,
    _check_dataset,
    _root,
    _verified,
    file_md5,
    fix_hint,
    info,
    raw_dir,
    verify,
)
from fcnbook.data.idx import IDXError, read_idx
from fcnbook.data.indices import split_checksum, stratified_split, stratified_subset

if TYPE_CHECKING:  # torch takes ~2 s to import; `fcnbook data fetch` and `info` never need it
    import torch

@functools.lru_cache(maxsize=8)
def _read(dataset: str, train: bool, root: str) -> tuple[torch.Tensor, torch.Tensor]:
    import torch

    d = Path(root) / FOLDERS[dataset] / "raw"
    prefix = "train" if train else "t10k"
    try:
        images = read_idx(d / f"{prefix}-images-idx3-ubyte")
        labels = read_idx(d / f"{prefix}-labels-idx1-ubyte")
    except IDXError as exc:
        raise DataError(str(exc)) from None
    # copies: frombuffer arrays are read-only views of the bytes object
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))


def load_raw(dataset: str, train: bool, root=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Verified raw images and labels, read from the IDX files and cached per process.

    Returns
    -------
    images : torch.Tensor
        uint8, shape ``(N, 28, 28)``; N = 60000 (train) or 10000 (test). Shared with the cache: do not modify.
    labels : torch.Tensor
        int64, shape ``(N,)``.
    """
    verify(dataset, root)
    return _read(dataset, bool(train), str(_root(root)))


@dataclass(frozen=True, eq=False)  # eq=False: comparing tensors elementwise makes no sense; identity does
class Splits:
    """Train / validation / test tensors of one dataset, ready for training.

    Attributes
    ----------
    x_train, x_val, x_test : torch.Tensor
        float32, shape ``(N, 784)``, normalised as requested.
    y_train, y_val, y_test : torch.Tensor
        int64 class indices.
    mean, std : float
        What was subtracted and divided by (0 and 1 for ``normalization="none"``): ``x * std + mean`` gives
        pixels in [0, 1] back.
    classes : tuple of str
        Class names in label order.
    checksum : str
        SHA-256 hex digest of the four verified file MD5s and the split settings: equal checksums, same data.
    dataset : str
        ``"fashion"`` or ``"mnist"``.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    mean: float
    std: float
    classes: tuple[str, ...]
    checksum: str
    dataset: str

    _TENSORS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")

    def to(self, device) -> Splits:
        """A copy with every tensor on ``device``; ``self`` if they are all there already."""
        import torch

        device = torch.device(device)
        moved = {k: getattr(self, k).to(device) for k in self._TENSORS}
        if all(moved[k] is getattr(self, k) for k in self._TENSORS):
            return self
        return dataclasses.replace(self, **moved)


def load(dataset: str = "fashion", *, val_fraction: float = 0.1, split_seed: int = 0,
         normalization: str = "train", subset: int | None = None, root=None) -> Splits:
    """Verified, split and normalised data; cached per process (the same arguments give the same object).

    Parameters
    ----------
    dataset : {"fashion", "mnist"}
    val_fraction : float
        Fraction of the 60k training images held out for validation, stratified by class; in ``(0, 0.5]``.
    split_seed : int
        Seed of the validation split and of the subset.
    normalization : {"train", "mnist", "none"}
        ``"train"``: subtract the mean and divide by the std (scalars over all pixels) of the training split
        actually used; ``"mnist"``: the template's (0.1307, 0.3081); ``"none"``: pixels in [0, 1].
    subset : int, optional
        Keep a stratified subset of this many training images; validation and test stay whole.
    root : path-like, optional
        Data root; default :func:`fcnbook.paths.data_dir`.

    Returns
    -------
    Splits
        Shared with the cache: treat its tensors as read-only.
    """
    _check_dataset(dataset)
    check_data_settings(val_fraction, split_seed, normalization, subset)
    # Re-checked on every call (a few stat calls when unchanged), so the cache never hides a damaged file.
    md5s = verify(dataset, root)
    return _load(dataset, float(val_fraction), split_seed, normalization, subset, str(_root(root)),
                 tuple(md5s[name] for name in FILES))


def _pixel_moments(raw: torch.Tensor) -> tuple[float, float]:
    """Mean and SD (ddof=0) of ``raw / 255`` in float32, as ``load`` scales pixels, from a histogram.

    Pixels take 256 values, so the moments over ~42M pixels are sums of 256 float64 terms: no float32 digits
    are lost, and no float64 copy of the images is made (it once set the process's peak memory).
    """
    import torch

    counts = torch.bincount(raw.reshape(-1), minlength=256).double()
    values = (torch.arange(256, dtype=torch.float32) / 255.0).double()
    n = counts.sum()
    mean = (counts * values).sum() / n
    var = (counts * (values - mean) ** 2).sum() / n
    return float(mean), float(var.sqrt())


@functools.lru_cache(maxsize=4)  # a Splits of FashionMNIST holds ~220 MB; keep only the few a notebook uses
def _load(dataset, val_fraction, split_seed, normalization, subset, root, md5s) -> Splits:
    import torch

    x_all, y_all = load_raw(dataset, True, root)
    x_test, y_test = load_raw(dataset, False, root)
    train_idx, val_idx = stratified_split(y_all.numpy(), val_fraction, split_seed)
    if subset is not None:
        if subset > len(train_idx):
            raise ValueError(f"subset must be at most {len(train_idx)} (the training split) (got {subset})")
        train_idx = train_idx[stratified_subset(y_all.numpy()[train_idx], subset, split_seed)]

    def pixels(x):
        return x.reshape(len(x), -1).to(torch.float32).div_(255.0)

    raw_train = x_all[torch.from_numpy(train_idx)]
    xs = [pixels(raw_train), pixels(x_all[torch.from_numpy(val_idx)]), pixels(x_test)]
    if normalization == "train":
        mean, std = _pixel_moments(raw_train)
    elif normalization == "mnist":
        mean, std = MNIST_MEAN, MNIST_STD
    else:
        mean, std = 0.0, 1.0
    if normalization != "none":
        for x in xs:
            x.sub_(mean).div_(std)
    checksum = split_checksum(dataset, md5s, val_fraction, split_seed, normalization, subset)
    t = torch.from_numpy
    return Splits(x_train=xs[0], y_train=y_all[t(train_idx)], x_val=xs[1], y_val=y_all[t(val_idx)],
                  x_test=xs[2], y_test=y_test.clone(), mean=mean, std=std, classes=CLASS_NAMES[dataset],
                  checksum=checksum, dataset=dataset)


def load_for(config) -> Splits:
    """:func:`load` with the data fields of a :class:`fcnbook.config.RunConfig`."""
    return load(config.dataset, val_fraction=config.val_fraction, split_seed=config.split_seed,
                normalization=config.normalization, subset=config.subset)


def clear_cache() -> None:
    """Forget every cached load (tests; or to free memory in a long notebook)."""
    _verified.cache_clear()
    _read.cache_clear()
    _load.cache_clear()

