"""Random erasing of whole mini-batches: one rectangle per chosen image, filled with the background value.

This is torchvision's ``RandomErasing`` (Zhong et al., "Random Erasing Data Augmentation", AAAI 2020) with a
fixed value, reorganised for a stacked mini-batch: the boxes of all images are drawn at once on the CPU from a
member's own PCG64 generator (:func:`draw_boxes`), then one masked fill writes them on whatever device the batch
lives (:func:`erase`). The rule for a box is torchvision's: up to :data:`TRIES` attempts, each drawing an area
uniformly from ``scale`` (a fraction of the image) and an aspect ratio (height / width) log-uniformly from
``ratio``; ``h = round(sqrt(area * ratio))``, ``w = round(sqrt(area / ratio))``; the first attempt that fits
strictly inside the image wins and its top-left corner is uniform over the places it fits; when none fits the
image is left as it is.

Unlike torchvision, every image draws the same count of numbers (:data:`DRAWS_PER_IMAGE`) whatever it decides,
so the position of a member's stream after a mini-batch depends only on the batch size: a stack and a lone run
stay in step, and a checkpoint resumes the stream exactly.
"""

from __future__ import annotations

import math

import numpy as np
import torch

TRIES = 10  # torchvision's attempts per image
DRAWS_PER_IMAGE = 1 + 2 * TRIES + 2  # the coin, (area, log ratio) per attempt, the corner's two coordinates


def draw_boxes(rng: np.random.Generator, b: int, side: int, p: float, scale: tuple[float, float],
               ratio: tuple[float, float]) -> np.ndarray:
    """Boxes ``(top, left, height, width)`` of the next ``b`` images, shape (b, 4); height 0 = not erased.

    Parameters
    ----------
    rng : numpy.random.Generator
        The member's stream; exactly ``b * DRAWS_PER_IMAGE`` doubles are taken from it.
    b : int
        Images in the mini-batch.
    side : int
        Height and width of the square images.
    p : float
        Probability that an image is erased, in ``[0, 1]``.
    scale, ratio : (float, float)
        Ranges of the box's area (fraction of ``side * side``) and of its aspect ratio (height / width).
    """
    if not 0 <= p <= 1:
        raise ValueError(f"p must be a probability in [0, 1] (got {p!r})")
    if not 0 < scale[0] <= scale[1] <= 1:
        raise ValueError(f"scale must be a pair with 0 < low <= high <= 1 (got {scale!r})")
    if not 0 < ratio[0] <= ratio[1]:
        raise ValueError(f"ratio must be a pair with 0 < low <= high (got {ratio!r})")
    coin = rng.random(b)
    area = rng.uniform(scale[0], scale[1], size=(b, TRIES)) * (side * side)
    log_ratio = rng.uniform(math.log(ratio[0]), math.log(ratio[1]), size=(b, TRIES))
    corner = rng.random((b, 2))
    aspect = np.exp(log_ratio)
    # np.rint rounds half to even, as Python's round() in torchvision does
    h = np.rint(np.sqrt(area * aspect)).astype(np.int64)
    w = np.rint(np.sqrt(area / aspect)).astype(np.int64)
    fits = (h < side) & (w < side)
    first = fits.argmax(1)  # the first attempt that fits (0 when none does; masked out below)
    rows = np.arange(b)
    h, w = h[rows, first], w[rows, first]
    chosen = (coin < p) & fits.any(1)
    top = np.floor(corner[:, 0] * (side - h + 1)).astype(np.int64)  # uniform over 0 .. side - h
    left = np.floor(corner[:, 1] * (side - w + 1)).astype(np.int64)
    boxes = np.stack([top, left, h, w], axis=1)
    boxes[~chosen] = 0
    return boxes


def erase(x: torch.Tensor, boxes: np.ndarray, value: float) -> torch.Tensor:
    """Copy of the flattened square images ``x`` (..., side * side) with each image's box set to ``value``.

    ``boxes`` (..., 4) holds ``(top, left, height, width)`` per image, as :func:`draw_boxes` returns them; a box
    of height 0 leaves its image unchanged.
    """
    side = math.isqrt(x.shape[-1])
    boxes = np.asarray(boxes)
    if side * side != x.shape[-1] or boxes.shape != (*x.shape[:-1], 4):
        raise ValueError(f"x must be (..., side*side) images with one box each; got x {tuple(x.shape)}, "
                         f"boxes {tuple(boxes.shape)}")
    # The mask is built by numpy on the CPU, where the boxes are drawn: torch would hand these small comparisons to
    # its thread pool, measured at 5-40 ms a mini-batch (S = 5, b = 256) on a busy 2-core machine, against ~1 ms
    # here; only the fill runs on x's device.
    top, left, h, w = (boxes[..., i, None] for i in range(4))
    ar = np.arange(side)
    in_rows = (ar >= top) & (ar < top + h)  # (..., side)
    in_cols = (ar >= left) & (ar < left + w)
    mask = torch.from_numpy(in_rows[..., :, None] & in_cols[..., None, :]).to(x.device)
    return torch.where(mask, value, x.view(*x.shape[:-1], side, side)).reshape(x.shape)
