import math

import numpy as np
import pytest
import torch

from fcnbook.training.kernels import DropoutMasks, stacked_linear


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("S", [1, 2, 5])
def test_stacked_linear_matches_baddbmm_forward_and_backward(S, bias):
    g = torch.Generator().manual_seed(S)
    x = torch.randn(S, 33, 17, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(S, 17, 9, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(S, 1, 9, generator=g, dtype=torch.float64, requires_grad=True) if bias else None
    out = stacked_linear(x, w, b)
    ref = torch.baddbmm(b, x, w) if bias else torch.bmm(x, w)  # the oracle: PyTorch's batched matmul
    torch.testing.assert_close(out, ref)
    upstream = torch.randn(out.shape, generator=g, dtype=torch.float64)
    inputs = [t for t in (x, w, b) if t is not None]
    got = torch.autograd.grad(out, inputs, upstream)
    want = torch.autograd.grad(ref, inputs, upstream)
    for a, e in zip(got, want, strict=True):
        torch.testing.assert_close(a, e)
    assert torch.autograd.gradcheck(stacked_linear, (x[:, :4], w, b))


def test_stacked_linear_accepts_shared_expanded_input_and_skips_unneeded_gradients():
    w = torch.randn(3, 6, 4, requires_grad=True)
    x = torch.randn(5, 6)
    out = stacked_linear(x.expand(3, 5, 6), w)
    torch.testing.assert_close(out, torch.stack([x @ w[s] for s in range(3)]))
    out.sum().backward()  # x needs no gradient (like the images of the first layer)
    torch.testing.assert_close(w.grad, x.sum(0)[None, :, None].expand(3, 6, 4))


def test_stacked_linear_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="stacked_linear needs x"):
        stacked_linear(torch.zeros(2, 3, 4), torch.zeros(3, 4, 5))


@pytest.mark.parametrize("p", [0.1, 0.15, 0.5, 0.9])
def test_dropout_masks_keep_fraction_and_scale(p):
    masks = DropoutMasks([0, 1, 2])((301, 701), p)  # odd size: the last 64-bit word is used by half
    assert masks.shape == (3, 301, 701) and masks.dtype == torch.float32
    dropped_value, kept_value = masks.unique().tolist()
    assert dropped_value == 0.0 and kept_value == pytest.approx(1 / (1 - p))
    n = masks[0].numel()
    for s in range(3):
        dropped = (masks[s] == 0).double().mean().item()
        assert abs(dropped - p) < 5 * math.sqrt(p * (1 - p) / n)  # 5 binomial standard errors
    assert not torch.equal(masks[0], masks[1])


def test_dropout_masks_are_uniform_bits_below_the_threshold():
    # the rule itself, restated with numpy's own generator: keep where the 32-bit word is < (1 - p) * 2**32
    p, n = 0.3, 1001
    expected = np.random.PCG64(42).random_raw(501).view(np.uint32)[:n] < round(0.7 * 2**32)
    got = DropoutMasks([42])((n,), p)[0] > 0
    assert torch.equal(got, torch.from_numpy(expected))


def test_dropout_masks_members_do_not_depend_on_the_stack():
    lone = DropoutMasks([7])
    stack = DropoutMasks([3, 7, 9])
    for shape in [(64, 50), (17, 3)]:  # successive draws stay in step
        torch.testing.assert_close(stack(shape, 0.2)[1], lone(shape, 0.2)[0])
    a, b = DropoutMasks([5]), DropoutMasks([5])
    torch.testing.assert_close(a((10, 10), 0.5), b((10, 10), 0.5))


def test_dropout_masks_follow_dtype_and_reject_bad_p():
    assert DropoutMasks([0])((4,), 0.5, dtype=torch.float64).dtype == torch.float64
    for p in (0.0, 1.0, -0.1):
        with pytest.raises(ValueError, match="dropout p must be in"):
            DropoutMasks([0])((4,), p)
