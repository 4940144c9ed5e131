import math

import pytest
import torch
from torch import nn

from fcnbook.config import RunConfig
from fcnbook.training.kernels import DropoutMasks, stacked_linear
from fcnbook.training.model import FCN


def oracle(config: RunConfig, seed: int) -> nn.Sequential:
    """The same network built from PyTorch's own modules, with PyTorch's own default initialisation."""
    torch.manual_seed(seed)
    sizes = [784, *config.hidden, 10]
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        last = i == len(sizes) - 2
        layers.append(nn.Linear(a, b, bias=last or not config.batch_norm))
        if not last:
            if config.batch_norm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_default_init_and_forward_match_pytorch_modules(batch_norm):
    config = RunConfig(hidden=(64, 32), batch_norm=batch_norm)
    net = FCN(config, [7, 8])
    ref = oracle(config, 7)
    member = net.member(0)
    ref_linears = [m for m in ref if isinstance(m, nn.Linear)]
    got_linears = [m for m in member if isinstance(m, nn.Linear)]
    for a, b in zip(ref_linears, got_linears, strict=True):
        assert torch.equal(a.weight, b.weight)
        assert (a.bias is None and b.bias is None) or torch.equal(a.bias, b.bias)
    x = torch.randn(50, 784)
    # training mode: batch statistics (no dropout in this config), compared with nn.BatchNorm1d's
    ref.train()
    net.train()
    torch.testing.assert_close(net(x)[0], ref(x), rtol=1e-5, atol=1e-5)
    # evaluation mode afterwards: the running statistics were updated the same way
    ref.eval()
    net.eval()
    torch.testing.assert_close(net(x)[0], ref(x), rtol=1e-5, atol=1e-5)
    assert not torch.equal(net.weights[0][0], net.weights[0][1]), "members must have their own weights"


def test_structure():
    net = FCN(RunConfig(hidden=(700, 200, 50), dropout=0.15), [0, 1, 2])
    assert [tuple(w.shape) for w in net.weights] == [(3, 784, 700), (3, 700, 200), (3, 200, 50), (3, 50, 10)]
    assert [tuple(b.shape) for b in net.biases] == [(3, 1, 700), (3, 1, 200), (3, 1, 50), (3, 1, 10)]
    kinds = [type(m).__name__ for m in net.member(0)]
    assert kinds == ["Linear", "ReLU", "Dropout"] * 3 + ["Linear"]
    assert net.eval()(torch.randn(3, 5, 784)).shape == (3, 5, 10)
    bn = FCN(RunConfig(hidden=(30,), batch_norm=True), [0])
    assert [type(m).__name__ for m in bn.member(0)] == ["Linear", "BatchNorm1d", "ReLU", "Linear"]


# (init, expected weight std as a function of fan_in, fan_out)
INIT_STD = {
    "default": lambda fi, fo: 1 / math.sqrt(3 * fi),  # U(-1/sqrt(fi), 1/sqrt(fi))
    "normal": lambda fi, fo: 0.1,
    "xavier_normal": lambda fi, fo: math.sqrt(2 / (fi + fo)),
    "kaiming_uniform": lambda fi, fo: math.sqrt(2 / fi),  # U(-sqrt(6/fi), sqrt(6/fi))
    "kaiming_normal": lambda fi, fo: math.sqrt(2 / fi),
}


@pytest.mark.parametrize("init", sorted(INIT_STD))
def test_initialisation_statistics(init):
    net = FCN(RunConfig(hidden=(500, 50), init=init), [0])
    for w, b in zip(net.weights, net.biases, strict=True):
        fan_in, fan_out = w.shape[1], w.shape[2]
        expected = INIT_STD[init](fan_in, fan_out)
        n = w.numel()
        # the sample SD of n draws is within a few standard errors (about expected / sqrt(2n)) of the truth
        assert abs(w.std().item() - expected) < 5 * expected / math.sqrt(2 * n) + 1e-4
        assert abs(w.mean().item()) < 5 * expected / math.sqrt(n)
        if init == "default":
            # nn.Linear's own draw, U(-1/sqrt(fan_in), 1/sqrt(fan_in)): SD bound / sqrt(3); the sample SD of n
            # uniform draws has a standard error of about 0.45 SD / sqrt(n) (kurtosis 1.8)
            bound = 1 / math.sqrt(fan_in)
            sd = bound / math.sqrt(3)
            assert b.abs().max().item() <= bound
            assert abs(b.std().item() - sd) < 5 * 0.45 * sd / math.sqrt(b.numel())
        else:
            assert torch.count_nonzero(b) == 0
        if init in ("default", "kaiming_uniform"):
            bound = math.sqrt(3) * expected
            assert w.abs().max().item() <= bound + 1e-6


def test_normal_init_uses_init_std():
    net = FCN(RunConfig(init="normal", init_std=0.01), [0])
    assert abs(net.weights[0].std().item() - 0.01) < 2e-4


def test_dropout_applies_each_members_own_mask_in_training_and_nothing_in_eval():
    p = 0.5
    net = FCN(RunConfig(hidden=(2000,), dropout=p), [0, 1])
    x = torch.randn(8, 784)
    with pytest.raises(ValueError, match="dropout_masks"):
        net(x)
    mask = DropoutMasks([10, 11])((8, 2000), p)  # the masks a fresh pair of streams draws first
    # the network's output is the unmasked hidden layer times exactly that mask, member by member
    hidden = torch.relu(stacked_linear(x.expand(2, 8, 784), net.weights[0], net.biases[0]))
    expected = stacked_linear(hidden * mask, net.weights[1], net.biases[1])
    torch.testing.assert_close(net(x, DropoutMasks([10, 11])), expected)
    # evaluation mode: no mask and no 1 / (1 - p) scaling, and no mask stream needed
    net.eval()
    torch.testing.assert_close(net(x), stacked_linear(hidden, net.weights[1], net.biases[1]))
