"""The FLOP counter (fcnbook.stats.flops) against hand counts and PyTorch's FlopCounterMode."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from fcnbook.config import RunConfig
from fcnbook.stats import flops
from fcnbook.training.model import FCN


def test_tiny_network_by_hand():
    # 3 -> 4 -> 2, 5 samples. Weights: 3*4 + 4*2 = 20.
    # forward 2*5*20 = 200; weight grads 200; input grads of layer 2 only: 2*5*(4*2) = 80.
    assert flops.matmul_flops([3, 4, 2], 5, backward=False) == 200
    assert flops.matmul_flops([3, 4, 2], 5) == 480
    assert flops.matmul_flops([3, 4, 2], 0) == 0
    # a single layer has no input gradient to compute
    assert flops.matmul_flops([7, 3], 2) == 2 * (2 * 2 * 7 * 3)


def test_baseline_epoch_by_hand():
    sizes = flops.layer_sizes((500, 50))
    assert sizes == [784, 500, 50, 10]
    weights = 784 * 500 + 500 * 50 + 50 * 10  # 417 500
    per_sample = 6 * weights - 2 * 784 * 500  # 1 721 000
    assert flops.matmul_flops(sizes, 54_000) == 54_000 * per_sample == 92_934_000_000
    config = RunConfig()
    assert flops.epoch_flops(config, 54_000, 6_000) == 92_934_000_000 + 2 * 6_000 * weights
    run = flops.run_flops(config.replace(epochs=3), 54_000, 6_000, 10_000)
    assert run == 3 * flops.epoch_flops(config, 54_000, 6_000) + 2 * 10_000 * weights


def test_the_training_probe_is_one_more_evaluation_pass_per_epoch():
    weights = 784 * 500 + 500 * 50 + 50 * 10
    config = RunConfig(epochs=4)
    assert flops.epoch_flops(config, 54_000, 6_000, 6_000) == flops.epoch_flops(config, 54_000, 12_000)
    with_probe = flops.run_flops(config, 54_000, 6_000, 10_000, n_probe=6_000)
    assert with_probe - flops.run_flops(config, 54_000, 6_000, 10_000) == 4 * 2 * 6_000 * weights


def test_bad_sizes_raise():
    with pytest.raises(ValueError):
        flops.matmul_flops([784], 10)
    with pytest.raises(ValueError):
        flops.matmul_flops([784, 10], -1)


def _count(fn) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def test_one_training_step_of_an_nn_sequential_matches_flop_counter_mode():
    torch.manual_seed(0)
    sizes = [784, 64, 32, 10]
    net = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    x, y = torch.randn(16, 784), torch.randint(0, 10, (16,))
    assert _count(lambda: F.cross_entropy(net(x), y).backward()) == flops.matmul_flops(sizes, 16)
    with torch.no_grad():
        assert _count(lambda: net(x)) == flops.matmul_flops(sizes, 16, backward=False)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_one_training_step_of_the_stacked_fcn_matches_flop_counter_mode(batch_norm):
    # S members cost S times one member, whatever the batch norm / bias layout.
    config = RunConfig(hidden=(64, 32), batch_norm=batch_norm)
    model = FCN(config, [0, 1, 2])
    x, y = torch.randn(3, 16, 784), torch.randint(0, 10, (3, 16))
    step = lambda: F.cross_entropy(model(x).flatten(0, 1), y.flatten()).backward()  # noqa: E731
    assert _count(step) == 3 * flops.matmul_flops(flops.layer_sizes(config.hidden), 16)


def _book_budget():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "book_budget.py"
    spec = importlib.util.spec_from_file_location("book_budget", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("profile", ["quick", "full"])
def test_book_budget_counts_every_declared_configuration_once(profile, monkeypatch):
    from fcnbook.report import budget, experiments

    monkeypatch.setattr(budget, "split_sizes", lambda config: (config.subset or 54_000, 6_000, 10_000))
    out = budget.book_budget(profile)
    assert _book_budget().budget(profile) == out  # the benchmark script reports the package's count
    S = experiments.settings(profile)
    declared = {c.key(): c for declare in experiments.SECTIONS.values() for c in declare(S)}
    assert sorted(r["key"] for r in out["configs"]) == sorted(declared)
    expected = sum(flops.run_flops(c, c.subset or 54_000, 6_000, 10_000) for c in declared.values())
    assert out["total_gflop"] * 1e9 == pytest.approx(expected * len(S.seeds), rel=1e-12)
    assert sum(s["gflop"] for s in out["sections"].values()) == pytest.approx(out["total_gflop"], rel=1e-12)
    assert list(out["sections"]) == list(experiments.SECTIONS)
