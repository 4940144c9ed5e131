import math

import pytest
import torch

from fcnbook.config import RunConfig
from fcnbook.train import evaluate, fit, resolve_device, stream_seeds
from synthetic import make_splits

SMALL = RunConfig(hidden=(64, 32), batch_size=64, epochs=3)


@pytest.fixture(scope="module")
def data():
    return make_splits()


def test_loss_goes_down_and_accuracy_up(data):
    r = fit(SMALL, 0, data=data, progress=False)
    h = r.history
    assert len(h["train_loss"]) == 3 and all(len(v) == 3 for v in h.values())
    assert h["train_loss"][-1] < h["train_loss"][0] * 0.7
    assert h["val_accuracy"][-1] > 0.6 and r.test_accuracy > 0.6  # chance is 0.1
    assert not r.diverged and r.stack_size == 1 and r.device == "cpu"


def test_same_seed_same_numbers_other_seed_other_numbers(data):
    a = fit(SMALL, 3, data=data, progress=False)
    b = fit(SMALL, 3, data=data, progress=False)
    c = fit(SMALL, 4, data=data, progress=False)
    assert a.history["train_loss"] == b.history["train_loss"] and a.test_predictions == b.test_predictions
    assert a.history["train_loss"] != c.history["train_loss"]


def test_test_accuracy_is_pooled_over_all_test_images(data):
    r = fit(SMALL.replace(epochs=1), 0, data=data, progress=False)
    pred = torch.tensor(r.test_predictions)
    assert len(pred) == len(data.y_test)
    assert r.test_accuracy == pytest.approx((pred == data.y_test).double().mean().item())


# Widths and batch like the real ones: for tiny matrices the BLAS picks a kernel by batch count, so rounding (not
# the maths) would differ between a stack and a lone network, and batch norm amplifies such rounding.
STACK = RunConfig(hidden=(256, 32), batch_size=256, epochs=3)
CONFIGS = [
    STACK,
    STACK.replace(dropout=0.3),
    STACK.replace(batch_norm=True),
    STACK.replace(optimizer="adam", lr=1e-3),
    STACK.replace(optimizer="adam", lr=1e-3, dropout=0.3, batch_norm=True),
    STACK.replace(optimizer="rmsprop", lr=1e-3),
    STACK.replace(optimizer="rmsprop", lr=1e-3, dropout=0.3, batch_norm=True),
    STACK.replace(optimizer="sgd", momentum=0.9, lr=0.01, batch_norm=True, init="kaiming_uniform"),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.label())
def test_stacked_members_reproduce_single_runs(config, data):
    seeds = [5, 6, 7]
    stacked = fit(config, seeds, data=data, progress=False)
    for seed, member in zip(seeds, stacked, strict=True):
        single = fit(config, seed, data=data, progress=False)
        assert member.seed == seed and member.stack_size == 3
        for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
            assert member.history[key] == pytest.approx(single.history[key], abs=1e-4), key
        assert member.test_accuracy == pytest.approx(single.test_accuracy, abs=1e-4)


def test_diverging_run_is_marked_not_raised(data):
    config = SMALL.replace(lr=1e6, epochs=4)
    results = fit(config, [0, 1], data=data, progress=False)
    for r in results:
        assert r.diverged and r.diverged_epoch is not None
        assert len(r.history["train_loss"]) == r.diverged_epoch - 1  # the completed, finite epochs are kept
        assert 0.0 <= r.test_accuracy <= 1.0 and math.isnan(r.test_loss) or math.isfinite(r.test_loss)
    single = fit(config, 0, data=data, progress=False)
    assert single.diverged_epoch == results[0].diverged_epoch
    assert single.test_accuracy == results[0].test_accuracy


def test_evaluate_matches_manual_computation(data):
    from fcnbook.model import FCN

    net = FCN(SMALL, [0, 1]).eval()
    loss, acc, pred = evaluate(net, data.x_val, data.y_val)
    logits = net(data.x_val)
    for s in range(2):
        ce = torch.nn.functional.cross_entropy(logits[s], data.y_val).item()
        assert loss[s].item() == pytest.approx(ce, rel=1e-5)
        assert acc[s].item() == pytest.approx((logits[s].argmax(1) == data.y_val).double().mean().item())


def test_bad_arguments():
    with pytest.raises(ValueError, match="seeds"):
        fit(SMALL, [1, 1], data=make_splits(n_train=100), progress=False)
    with pytest.raises(ValueError, match="device"):
        resolve_device("tpu")
    assert resolve_device("auto").type in ("cpu", "cuda")
    assert len(set(stream_seeds(0))) == 3 and stream_seeds(0) != stream_seeds(1)
