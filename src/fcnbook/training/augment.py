"""Training-time augmentation of whole mini-batches: random shifts (and left-right flips), one stream per member.

Each image of a mini-batch is moved by its own random offset of up to ``k`` pixels along each axis (the border it
uncovers is filled with the background value) and, for ``shift_flip``, mirrored left-right with probability 1/2.
The transform is one gather on the batch tensor, on whatever device the batch lives, so it costs a small fraction
of the step's matrix products (no per-sample transforms, no DataLoader workers).

The offsets and flips are drawn on the CPU from each member's own PCG64 generator, as the dropout masks are
(:class:`fcnbook.training.kernels.DropoutMasks`): member ``s`` draws ``3 * b`` numbers per mini-batch of ``b`` images
whatever the other members do, so a member of a stack sees exactly the augmented batches of a lone run with the
same seed, on every device.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F


class Augmenter:
    """Random shifts (and flips) of flattened square images, one random stream per member.

    Parameters
    ----------
    seeds : sequence of int
        One seed per member (``fit`` passes each member's augmentation stream seed).
    kind : {"shift", "shift_flip"}
    max_shift : int
        Largest offset along each axis, in pixels.
    background : float
        Value of the uncovered border (the normalised value of a black pixel).
    """

    def __init__(self, seeds: Sequence[int], kind: str, max_shift: int, background: float):
        if kind not in ("shift", "shift_flip"):
            raise ValueError(f"kind must be shift or shift_flip (got {kind!r})")
        self._rngs = [np.random.Generator(np.random.PCG64(int(s))) for s in seeds]
        self.flip, self.k, self.background = kind == "shift_flip", int(max_shift), float(background)

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

    def __call__(self, xb: torch.Tensor) -> torch.Tensor:
        """Augmented copy of ``xb`` (S, b, side * side): ``out[r, c] = img[r - dy, c - dx]``, mirrored first."""
        S, b, n = xb.shape
        side = math.isqrt(n)
        if side * side != n or S != len(self):
            raise ValueError(f"xb must be (S={len(self)}, b, side*side) images; got {tuple(xb.shape)}")
        dy, dx, flip = (torch.from_numpy(a).to(xb.device) for a in self.draw(b))
        k, ar = self.k, torch.arange(side, device=xb.device)
        padded = F.pad(xb.view(S, b, side, side), (k, k, k, k), value=self.background)
        rows = ar + k - dy[..., None]  # (S, b, side): padded row read by each output row
        src = ar - dx[..., None]  # source column before mirroring
        cols = torch.where(flip[..., None].bool(), side - 1 - src, src) + k
        s_idx = torch.arange(S, device=xb.device)[:, None, None, None]
        b_idx = torch.arange(b, device=xb.device)[None, :, None, None]
        return padded[s_idx, b_idx, rows[..., :, None], cols[..., None, :]].reshape(S, b, n)


def mirror(x: torch.Tensor) -> torch.Tensor:
    """Flattened square images ``x`` (..., side * side) mirrored left-right (test-time flip averaging)."""
    side = math.isqrt(x.shape[-1])
    return x.view(*x.shape[:-1], side, side).flip(-1).reshape(x.shape)
