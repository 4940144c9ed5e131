"""The two hot operations of a stacked training step: a Linear layer over S members, and dropout masks.

Both exist for speed only; what they compute is fixed by tests against the obvious implementation
(``torch.baddbmm`` for the layer; ``u < 1 - p`` on uniform numbers for the masks).

Measured on the 2-core CPU this project was built on (see benchmarks/README.md):

* ``torch.bmm``/``baddbmm`` hand whole members to MKL's threads, so S = 5 members on 2 threads run as 3 + 2 and
  leave a core idle for a sixth of every product; one ``torch.mm`` per member splits each product over both
  threads instead (``bmm_shapes.py``: 229 -> 285 GFLOP/s per member for the first layer's weight gradient).
* ``Tensor.bernoulli_(p, generator=g)`` costs 4.7 ms for one 512 x 500 mask on the CPU, about as much as the
  whole training step; raw 64-bit words from numpy's PCG64 give the same kind of mask in 0.6 ms.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


class StackedLinear(torch.autograd.Function):
    """``x @ w (+ b)`` for S members: (S, B, in) @ (S, in, out) + (S, 1, out), one ``torch.mm`` per member.

    Results and gradients are written straight into slices of one stacked tensor (no unbind/stack copies).
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
        out = torch.empty(x.shape[0], x.shape[1], w.shape[2], dtype=x.dtype, device=x.device)
        for s in range(x.shape[0]):
            if b is None:
                torch.mm(x[s], w[s], out=out[s])
            else:
                torch.addmm(b[s], x[s], w[s], out=out[s])
        ctx.save_for_backward(x, w)
        ctx.has_bias = b is not None
        return out

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        x, w = ctx.saved_tensors
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:  # never for the first layer: the images need no gradient
            gx = torch.empty(x.shape, dtype=g.dtype, device=g.device)
            for s in range(x.shape[0]):
                torch.mm(g[s], w[s].T, out=gx[s])
        if ctx.needs_input_grad[1]:
            gw = torch.empty_like(w)
            for s in range(x.shape[0]):
                torch.mm(x[s].T, g[s], out=gw[s])
        if ctx.has_bias and ctx.needs_input_grad[2]:
            gb = g.sum(1, keepdim=True)
        return gx, gw, gb


def stacked_linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
    """Per-member affine map; equal to ``torch.baddbmm(b, x, w)`` (or ``torch.bmm(x, w)`` without ``b``).

    Parameters
    ----------
    x : Tensor (S, B, in)
    w : Tensor (S, in, out)
    b : Tensor (S, 1, out), optional
    """
    if x.dim() != 3 or w.dim() != 3 or x.shape[0] != w.shape[0] or x.shape[2] != w.shape[1]:
        raise ValueError(f"stacked_linear needs x (S, B, in) and w (S, in, out); got {tuple(x.shape)} and "
                         f"{tuple(w.shape)}")
    return StackedLinear.apply(x, w, b)


class DropoutMasks:
    """One stream of inverted-dropout masks per member, each from its own PCG64 generator.

    A mask entry keeps its unit when a uniform 32-bit integer ``u`` is below ``round((1 - p) * 2**32)``, so it
    is kept with probability 1 - p to within 2.4e-10, and kept units are scaled by ``1 / (1 - p)``. Member
    ``s`` consumes ``ceil(n / 2)`` 64-bit words of its own generator for a mask of n entries, whatever the other
    members do: a member of a stack draws exactly the masks of a lone run with the same seed. Masks are made on
    the CPU (numpy) and moved to the model's device, so a seed gives the same masks on every device.

    Parameters
    ----------
    seeds : sequence of int
        One seed per member (``fit`` passes each member's dropout stream seed).
    """

    def __init__(self, seeds: Sequence[int]):
        self._bits = [np.random.PCG64(int(s)) for s in seeds]

    def __len__(self) -> int:
        return len(self._bits)

    @property
    def states(self) -> list[dict]:
        """Each member's generator state (numpy's ``PCG64.state``): enough to continue its stream exactly."""
        return [bits.state for bits in self._bits]

    @states.setter
    def states(self, states: Sequence[dict]) -> None:
        if len(states) != len(self._bits):
            raise ValueError(f"states must hold one state per member ({len(self._bits)}; got {len(states)})")
        for bits, state in zip(self._bits, states, strict=True):
            bits.state = state

    def __call__(self, shape: Sequence[int], p: float, *, dtype=torch.float32, device="cpu") -> torch.Tensor:
        """Masks of shape (S, *shape): 0 where dropped, ``1 / (1 - p)`` where kept."""
        if not 0.0 < p < 1.0:
            raise ValueError(f"dropout p must be in (0, 1) (got {p!r})")
        n = int(np.prod(shape))
        threshold = np.uint32(min(round((1.0 - p) * 2**32), 2**32 - 1))
        masks = np.empty((len(self._bits), n), dtype=np.float32)
        keep = np.empty(n, dtype=bool)
        for s, bits in enumerate(self._bits):
            words = bits.random_raw((n + 1) // 2).view(np.uint32)[:n]
            np.less(words, threshold, out=keep)
            masks[s] = keep
        out = torch.from_numpy(masks).view(len(self._bits), *shape)
        return out.to(device=device, dtype=dtype).mul_(1.0 / (1.0 - p))
