"""Section 01: the two datasets. Class counts per split, pixel statistics and what standardising does, examples.

Computed from the verified files without torch (:mod:`fcnbook.data.indices`): the same images, split and pixel
moments as the trainer's :func:`fcnbook.data.splits.load`, which takes its mean and SD (``ddof=0``) of the float32
values ``k / 255`` from a histogram of the 256 pixel values, as here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fcnbook.data import indices
from fcnbook.data.files import CLASS_NAMES, MNIST_MEAN, MNIST_STD, raw_dir, verify
from fcnbook.data.idx import read_idx
from fcnbook.report import experiments
from fcnbook.report.settings import Settings
from fcnbook.stats import verdicts as v

DATASETS = ("fashion", "mnist")


@dataclass(frozen=True)
class Data:
    """What section 01 shows: see :func:`study`. ``counts``: images per class and split of Fashion-MNIST (and a
    total row); ``pixels``: per dataset, training images, pixel mean and SD, the share of zero pixels and the mean
    and SD of the standardised pixels; ``examples``: the first images of each class in the training file."""

    S: Settings
    counts: pd.DataFrame
    pixels: pd.DataFrame
    examples: np.ndarray
    example_labels: np.ndarray
    classes: tuple[str, ...]


def moments(x: np.ndarray) -> dict:
    """Pixel statistics of ``x`` (float32 values ``k / 255``), from the histogram of the 256 values.

    ``mean`` and ``SD`` (``ddof=0``) of the pixels, the ``share of zero pixels``, and the mean and SD of the pixels
    standardised in float32 with that mean and SD, as the trainer does.
    """
    counts = np.bincount(np.rint(x.reshape(-1) * 255).astype(np.uint8), minlength=256).astype(float)
    values = (np.arange(256, dtype=np.float32) / np.float32(255.0)).astype(float)
    n = counts.sum()
    mean = float((counts * values).sum() / n)
    sd = float(np.sqrt((counts * (values - mean) ** 2).sum() / n))
    z = ((values.astype(np.float32) - np.float32(mean)) / np.float32(sd)).astype(float)
    z_mean = float((counts * z).sum() / n)
    return {"mean": mean, "SD": sd, "share of zero pixels": float(counts[0] / n),
            "mean of standardised pixels": z_mean,
            "SD of standardised pixels": float(np.sqrt((counts * (z - z_mean) ** 2).sum() / (n - 1)))}


def examples(dataset: str, per_class: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``per_class`` training images of every class, in file order, and their labels."""
    verify(dataset)
    images = read_idx(raw_dir(dataset) / "train-images-idx3-ubyte")
    labels = indices.labels(dataset, train=True)
    idx = np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(len(CLASS_NAMES[dataset]))])
    return images[idx].reshape(len(idx), -1), labels[idx]


def study(S: Settings, per_class: int = 8) -> Data:
    """The split of the baseline's data settings (``S``'s training subset) for both datasets."""
    rows, counts = [], None
    for name in DATASETS:
        config = experiments.baseline(S, dataset=name)
        p = indices.pixels(name, subset=config.subset, split_seed=config.split_seed, val_fraction=config.val_fraction)
        rows.append({"dataset": name, "training images": len(p.y_train), **moments(p.x_train)})
        if counts is None:
            counts = pd.DataFrame({split: np.bincount(y, minlength=10) for split, y in
                                   (("train", p.y_train), ("validation", p.y_val), ("test", p.y_test))},
                                  index=list(CLASS_NAMES[name]))
            counts.loc["total"] = counts.sum()
    images, labels = examples(DATASETS[0], per_class)
    return Data(S, counts, pd.DataFrame(rows).set_index("dataset"), images, labels, CLASS_NAMES[DATASETS[0]])


def sentences(d: Data) -> dict[str, str]:
    """``pixels``: the two datasets' pixels, and what MNIST's constants would make of Fashion-MNIST's."""
    f, m = d.pixels.loc["fashion"], d.pixels.loc["mnist"]
    off = ((f["mean"] - MNIST_MEAN) / MNIST_STD, f["SD"] / MNIST_STD)
    brighter = {v.MORE: "brighter", v.LESS: "darker", v.EQUAL: "as bright"}[v.compare(f["mean"], m["mean"])]
    fill = {v.MORE: "less", v.LESS: "more", v.EQUAL: "as much"}[v.compare(f["share of zero pixels"],
                                                                         m["share of zero pixels"])]
    return {"pixels": (
        f"Fashion-MNIST pixels average {f['mean']:.4f} with SD {f['SD']:.4f} on the training split, against "
        f"{m['mean']:.4f} and {m['SD']:.4f} for MNIST: the clothing images are {brighter} and fill {fill} of the "
        f"frame ({f['share of zero pixels']:.0%} of their pixels are exactly zero, against "
        f"{m['share of zero pixels']:.0%} for digits). Standardised with MNIST's constants ({MNIST_MEAN} and "
        f"{MNIST_STD}), as in the course template, Fashion-MNIST's training pixels would have mean {off[0]:.2f} and "
        f"SD {off[1]:.2f} instead of 0 and 1; the standardisation used here gives "
        f"{f['mean of standardised pixels']:.4f} and {f['SD of standardised pixels']:.4f}.")}
