"""Training-time augmentation of whole mini-batches: random shifts (and left-right flips) and random erasing,
one stream per member.

Each image of a mini-batch is moved by its own random offset of up to ``k`` pixels along each axis (the border it
uncovers is filled with the background value) and, for ``shift_flip``, mirrored left-right with probability 1/2.
The transform is one gather on the batch tensor, on whatever device the batch lives, so it costs a small fraction
of the step's matrix products (no per-sample transforms, no DataLoader workers).

The offsets and flips are drawn on the CPU from each member's own PCG64 generator, as the dropout masks are
(:class:`fcnbook.training.kernels.DropoutMasks`): member ``s`` draws ``3 * b`` numbers per mini-batch of ``b`` images
whatever the other members do, so a member of a stack sees exactly the augmented batches of a lone run with the
same seed, on every device.

Random erasing (:mod:`fcnbook.erasing`) composes with both kinds and with none: an image is shifted and mirrored
first, then erased. Its numbers come from the same stream, drawn after the shifts' numbers of each mini-batch
(``DRAWS_PER_IMAGE * b`` more per member); without erasing nothing more is drawn, so the shifted batches of a
configuration that does not erase are exactly those of the code before erasing existed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from fcnbook.training.erasing import draw_boxes, erase


class Augmenter:
    """Random shifts (and flips) and random erasing of flattened square images, one random stream per member.

    Parameters
    ----------
    seeds : sequence of int
        One seed per member (``fit`` passes each member's augmentation stream seed).
    kind : {"none", "shift", "shift_flip"}
        ``none``: no shifts (erasing only).
    max_shift : int
        Largest offset along each axis, in pixels.
    background : float
        Value of the uncovered border and of the erased boxes (the normalised value of a black pixel).
    erase : float
        Probability that an image is erased (after its shift), in ``[0, 1]``; 0 = no erasing.
    erase_scale, erase_ratio : (float, float)
        Ranges of an erased box's area (fraction of the image) and aspect ratio (see :mod:`fcnbook.erasing`).
    """

    def __init__(self, seeds: Sequence[int], kind: str, max_shift: int, background: float, erase: float = 0.0,
                 erase_scale: tuple[float, float] = (0.02, 0.33), erase_ratio: tuple[float, float] = (0.3, 3.3)):
        if kind not in ("none", "shift", "shift_flip"):
            raise ValueError(f"kind must be none, shift or shift_flip (got {kind!r})")
        if not 0 <= erase <= 1:
            raise ValueError(f"erase must be a probability in [0, 1] (got {erase!r})")
        if kind == "none" and not erase:
            raise ValueError("kind='none' needs erase > 0 (an augmenter that changes nothing is a mistake)")
        self._rngs = [np.random.Generator(np.random.PCG64(int(s))) for s in seeds]
        self.shift, self.flip = kind != "none", kind == "shift_flip"
        self.k, self.background = int(max_shift), float(background)
        self.erase, self.erase_scale, self.erase_ratio = float(erase), tuple(erase_scale), tuple(erase_ratio)
        self.views: torch.Tensor | None = None  # (S, b) view numbers of the last shifted batch (view_index)

    def __len__(self) -> int:
        return len(self._rngs)

    @property
    def states(self) -> list[dict]:
        """Each member's generator state: enough to continue its stream exactly (checkpoints)."""
        return [rng.bit_generator.state for rng in self._rngs]

    @states.setter
    def states(self, states: Sequence[dict]) -> None:
        if len(states) != len(self._rngs):
            raise ValueError(f"states must hold one state per member ({len(self._rngs)}; got {len(states)})")
        for rng, state in zip(self._rngs, states, strict=True):
            rng.bit_generator.state = state

    def draw(self, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Offsets ``dy``, ``dx`` (S, b) in ``[-k, k]`` and flips (S, b) of the next mini-batch of ``b`` images."""
        dy, dx, flip = (np.empty((len(self), b), dtype=np.int64) for _ in range(3))
        for s, rng in enumerate(self._rngs):
            offsets = rng.integers(-self.k, self.k + 1, size=2 * b)
            dy[s], dx[s] = offsets[:b], offsets[b:]
            coins = rng.integers(0, 2, size=b)  # drawn for plain shifts too: one stream layout for both kinds
            flip[s] = coins if self.flip else 0
        return dy, dx, flip

    def draw_erasing(self, b: int, side: int) -> np.ndarray:
        """Erased boxes (S, b, 4) of the next mini-batch, drawn after its shifts (:func:`.erasing.draw_boxes`)."""
        return np.stack([draw_boxes(rng, b, side, self.erase, self.erase_scale, self.erase_ratio)
                         for rng in self._rngs])

    def __call__(self, xb: torch.Tensor) -> torch.Tensor:
        """Augmented copy of ``xb`` (S, b, side * side): ``out[r, c] = img[r - dy, c - dx]``, mirrored first,
        then erased."""
        S, b, n = xb.shape
        side = math.isqrt(n)
        if side * side != n or S != len(self):
            raise ValueError(f"xb must be (S={len(self)}, b, side*side) images; got {tuple(xb.shape)}")
        if self.shift:
            xb = self._shift(xb, side)
        if self.erase:
            xb = erase(xb, self.draw_erasing(b, side), self.background)
        return xb

    def _shift(self, xb: torch.Tensor, side: int) -> torch.Tensor:
        dy, dx, flip = (torch.from_numpy(a).to(xb.device) for a in self.draw(xb.shape[1]))
        self.views = view_index(dy, dx, flip, self.k, self.flip)
        return shifted(xb, dy, dx, flip, self.k, self.background)


def shifted(xb: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, flip: torch.Tensor, k: int,
            background: float) -> torch.Tensor:
    """``xb`` (S, b, side * side) with image ``[s, i]`` mirrored when ``flip[s, i]``, then moved by ``dy[s, i]``,
    ``dx[s, i]`` (integers in ``[-k, k]``): ``out[r, c] = img[r - dy, c - dx]``, the uncovered border
    ``background``. One gather for the whole batch."""
    S, b, n = xb.shape
    side = math.isqrt(n)
    ar = torch.arange(side, device=xb.device)
    padded = F.pad(xb.view(S, b, side, side), (k, k, k, k), value=background)
    rows = ar + k - dy[..., None]  # (S, b, side): padded row read by each output row
    src = ar - dx[..., None]  # source column before mirroring
    cols = torch.where(flip[..., None].bool(), side - 1 - src, src) + k
    s_idx = torch.arange(S, device=xb.device)[:, None, None, None]
    b_idx = torch.arange(b, device=xb.device)[None, :, None, None]
    return padded[s_idx, b_idx, rows[..., :, None], cols[..., None, :]].reshape(S, b, n)


def view_index(dy: torch.Tensor, dx: torch.Tensor, flip: torch.Tensor, k: int, flips: bool) -> torch.Tensor:
    """Each image's view as one integer in ``[0, (2k+1)^2)`` (twice that with flips): offsets row-major, the flip
    last (``RunConfig.soft_label_views`` counts them). A
    teacher's outputs tabulated per view (:func:`fcnbook.training.distill.teacher_view_log_probs`) are looked up
    with it."""
    index = (dy + k) * (2 * k + 1) + (dx + k)
    return index * 2 + flip if flips else index


def view_offsets(v: int, k: int, flips: bool) -> tuple[int, int, int]:
    """``(dy, dx, flip)`` of view number ``v`` (the inverse of :func:`view_index`)."""
    index, flip = divmod(v, 2) if flips else (v, 0)
    dy, dx = divmod(index, 2 * k + 1)
    return dy - k, dx - k, flip


def mirror(x: torch.Tensor) -> torch.Tensor:
    """Flattened square images ``x`` (..., side * side) mirrored left-right (test-time flip averaging)."""
    side = math.isqrt(x.shape[-1])
    return x.view(*x.shape[:-1], side, side).flip(-1).reshape(x.shape)
