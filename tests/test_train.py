import math

import pytest
import torch

from fcnbook.config import RunConfig
from fcnbook.training import evaluation
from fcnbook.training.evaluation import evaluate
from fcnbook.training.fit import fit
from fcnbook.training.model import FCN
from fcnbook.training.setup import resolve_device, stream_seeds
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
    assert not r.diverged and r.stack_size == 1 and r.device == str(resolve_device("auto"))


def test_same_seed_same_numbers_other_seed_other_numbers(data):
    a = fit(SMALL, 3, data=data, progress=False)
    b = fit(SMALL, 3, data=data, progress=False)
    c = fit(SMALL, 4, data=data, progress=False)
    assert a.history["train_loss"] == b.history["train_loss"] and a.test_predictions == b.test_predictions
    assert a.history["train_loss"] != c.history["train_loss"]


def test_test_accuracy_is_pooled_over_all_test_images_not_averaged_over_chunks(data, monkeypatch):
    one_chunk = fit(SMALL.replace(epochs=1), 0, data=data, progress=False)
    # evaluation in chunks of 128 rows: 300 test images make chunks of 128, 128 and 44, whose unweighted mean
    # accuracy (what the seed report computed) is not the pooled accuracy
    monkeypatch.setattr(evaluation, "EVAL_CHUNK", 128)
    chunked = fit(SMALL.replace(epochs=1), 0, data=data, progress=False)
    pred = torch.tensor(chunked.test_predictions)
    assert len(pred) == len(data.y_test)
    hits = (pred == data.y_test).double()
    pooled = hits.mean().item()
    per_chunk_mean = torch.stack([c.mean() for c in hits.split(128)]).mean().item()
    assert abs(per_chunk_mean - pooled) > 1e-4, "this data cannot tell pooled from per-chunk means"
    assert chunked.test_accuracy == pytest.approx(pooled, abs=1e-12)
    assert chunked.test_predictions == one_chunk.test_predictions
    assert chunked.test_accuracy == pytest.approx(one_chunk.test_accuracy, abs=1e-12)
    assert chunked.test_loss == pytest.approx(one_chunk.test_loss, abs=1e-6)
    assert chunked.history["val_loss"] == pytest.approx(one_chunk.history["val_loss"], abs=1e-6)


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
        for key in ("train_loss", "train_accuracy", "running_loss", "running_accuracy", "val_loss", "val_accuracy"):
            assert member.history[key] == pytest.approx(single.history[key], abs=1e-4), key
        assert member.test_accuracy == pytest.approx(single.test_accuracy, abs=1e-4)
        assert member.test_loss == pytest.approx(single.test_loss, abs=1e-4)


def test_run_diverging_in_epoch_1_is_marked_and_measured_at_its_initial_weights(data):
    config = SMALL.replace(lr=1e6, epochs=4)
    results = fit(config, [0, 1], data=data, progress=False)
    for r in results:
        assert r.diverged and r.diverged_epoch == 1  # measured: lr 1e6 overflows within the first epoch
        assert all(v == [] for v in r.history.values()), "no epoch completed with finite numbers"
        # the last finite state is the initial network: the test figures are those of the untrained network
        untrained = FCN(config, [stream_seeds(r.seed)[0]])
        loss, acc, pred = evaluate(untrained, data.x_test, data.y_test)
        assert r.test_predictions == pred[0].tolist()
        assert r.test_accuracy == pytest.approx(acc[0].item(), abs=1e-12)
        assert math.isfinite(r.test_loss) and r.test_loss == pytest.approx(loss[0].item(), abs=1e-6)
    single = fit(config, 0, data=data, progress=False)
    assert single.diverged_epoch == results[0].diverged_epoch
    assert single.test_predictions == results[0].test_predictions


def test_member_diverging_later_keeps_its_last_finite_epoch_and_spares_the_others(data):
    config = SMALL.replace(lr=10.0, epochs=4)
    stacked = fit(config, [0, 1], data=data, progress=False)
    # measured: at lr 10 seed 0 overflows in epoch 2, seed 1 trains all four epochs (at chance level)
    late, alive = stacked
    assert late.diverged and late.diverged_epoch == 2, late.diverged_epoch
    assert not alive.diverged and all(len(v) == 4 for v in alive.history.values())
    # the diverged member reports exactly what the same run stopped after its last finite epoch reports
    stopped = fit(config.replace(epochs=late.diverged_epoch - 1), 0, data=data, progress=False)
    assert all(len(v) == late.diverged_epoch - 1 for v in late.history.values())
    for key in ("train_loss", "train_accuracy", "running_loss", "running_accuracy", "val_loss", "val_accuracy"):
        assert late.history[key] == pytest.approx(stopped.history[key], abs=1e-6), key
    assert math.isfinite(late.test_loss) and late.test_loss == pytest.approx(stopped.test_loss, abs=1e-6)
    assert late.test_accuracy == pytest.approx(stopped.test_accuracy, abs=1e-12)
    # the other member is untouched by its neighbour's overflow
    lone = fit(config, 1, data=data, progress=False)
    assert alive.history["val_loss"] == pytest.approx(lone.history["val_loss"], abs=1e-6)
    assert alive.test_predictions == lone.test_predictions


def test_evaluate_matches_manual_computation(data):
    net = FCN(SMALL, [0, 1]).eval()
    loss, acc, pred = evaluate(net, data.x_val, data.y_val)
    logits = net(data.x_val)
    for s in range(2):
        ce = torch.nn.functional.cross_entropy(logits[s], data.y_val).item()
        assert loss[s].item() == pytest.approx(ce, rel=1e-5)
        assert acc[s].item() == pytest.approx((logits[s].argmax(1) == data.y_val).double().mean().item())


def test_repeated_seeds_are_refused_before_training():
    with pytest.raises(ValueError, match="seeds must be"):
        fit(SMALL, [1, 1], data=make_splits(n_train=100), progress=False)


def test_resolve_device_picks_cuda_only_when_present_and_refuses_unknown_names():
    assert resolve_device("auto") == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="device must be"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


def test_stream_seeds_are_four_distinct_streams_per_seed():
    assert len(set(stream_seeds(0))) == 4 and stream_seeds(0) != stream_seeds(1)
    # the augmentation stream was added fourth: the first three (and so every stored run) are unchanged
    import numpy as np

    three = [int(s.generate_state(1, dtype=np.uint64)[0] >> 1) for s in np.random.SeedSequence(3).spawn(3)]
    assert list(stream_seeds(3)[:3]) == three
    assert stream_seeds(5) == stream_seeds(5)
