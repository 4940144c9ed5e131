"""The moving average of the weights (``RunConfig.ema``) checked against a plain PyTorch loop with a hand-written EMA.

The oracle is tests/test_oracle.py's textbook network and loop (same initial weights, batch order and dropout
masks as ``fit``), plus the average a reader would write by hand after every ``optimizer.step()``: the first step
copies the network (as ``AveragedModel`` does), every later one sets ``avg = decay * avg + (1 - decay) * current``
for every floating-point parameter *and buffer* (the batch-norm running statistics). Every evaluation (training
probe, validation, test) then reads a copy of the network holding the averages. ``fit`` must report the same
figures, predictions and averaged parameters, to the tolerances of tests/test_oracle.py (float32 without batch
norm, float64 with it, for the reasons given there).

Also here: the members of a stack stay independent, a diverging member is reported from its last finite average,
and an interrupted run with ema and erasing resumes to identical numbers.
"""

from __future__ import annotations

import copy
import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F
from test_oracle import ATOL, default_dtype, fcnbook_state, max_abs, plain_evaluate, plain_network, plain_optimizer
from torch.optim.swa_utils import AveragedModel

import fcnbook.training.fit as train_module
from fcnbook.config import RunConfig
from fcnbook.training import ema
from fcnbook.training.fit import fit
from fcnbook.training.setup import stream_seeds, train_probe
from synthetic import make_splits, stop_after_checkpoint

# 1001 images in batches of 100: ten full batches and a last one of ONE image (skipped with batch norm, as fit does)
BASE = RunConfig(hidden=(64, 32), batch_size=100, epochs=3)
CASES = {
    "sgd-momentum": (BASE.replace(momentum=0.9, lr=0.05, ema=0.9), torch.float32),
    "adam-dropout": (BASE.replace(optimizer="adam", lr=1e-3, dropout=0.2, ema=0.8), torch.float32),
    "adam-batchnorm-dropout": (BASE.replace(optimizer="adam", lr=1e-3, batch_norm=True, dropout=0.2, ema=0.95),
                               torch.float64),
    "sgd-batchnorm": (BASE.replace(lr=0.05, batch_norm=True, ema=0.9), torch.float64),
}


@pytest.fixture(scope="module")
def data():
    return make_splits(n_train=1001, n_val=200, n_test=300)


def as_dtype(splits, dtype):
    return dataclasses.replace(splits, **{k: getattr(splits, k).to(dtype) for k in ("x_train", "x_val", "x_test")})


def ema_oracle(config: RunConfig, seed: int, data) -> dict:
    """Train ``config`` the textbook way, keeping a hand-written EMA; every evaluation reads the averaged copy."""
    net, _ = plain_network(config, seed, data.x_train.shape[1])
    optimizer = plain_optimizer(config, net.parameters())
    order = torch.Generator().manual_seed(stream_seeds(seed)[1])
    x, y, n, decay = data.x_train, data.y_train, len(data.y_train), config.ema
    probe = train_probe(y, len(data.y_val), config.split_seed)
    avg: dict[str, torch.Tensor] | None = None  # name -> average, for every float parameter and buffer

    def averaged_net():
        twin = copy.deepcopy(net)
        twin.load_state_dict(avg, strict=False)  # (num_batches_tracked is an integer: not averaged, not used)
        return twin

    history = {k: [] for k in ("running_loss", "running_accuracy", "train_loss", "train_accuracy", "val_loss",
                               "val_accuracy")}
    for _ in range(config.epochs):
        net.train()
        perm = torch.randperm(n, generator=order)
        loss_sum, correct, seen = 0.0, 0, 0
        for start in range(0, n, config.batch_size):
            idx = perm[start : start + config.batch_size]
            if config.batch_norm and len(idx) < 2:
                continue
            logits = net(x[idx])
            loss = F.cross_entropy(logits, y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            current = {k: v.detach().clone() for k, v in net.state_dict().items() if v.is_floating_point()}
            if avg is None:  # the first update copies the network
                avg = current
            else:
                avg = {k: decay * avg[k] + (1 - decay) * current[k] for k in current}
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == y[idx]).sum().item()
            seen += len(idx)
        history["running_loss"].append(loss_sum / seen)  # the raw network in training mode, as without ema
        history["running_accuracy"].append(correct / seen)
        twin = averaged_net()
        for split, (xs, ys) in {"train": (x[probe], y[probe]), "val": (data.x_val, data.y_val)}.items():
            split_loss, split_acc, _ = plain_evaluate(twin, xs, ys)
            history[f"{split}_loss"].append(split_loss)
            history[f"{split}_accuracy"].append(split_acc)
    test_loss, test_acc, test_pred = plain_evaluate(averaged_net(), data.x_test, data.y_test)
    return {"avg": avg, "raw": net, "history": history, "test_loss": test_loss, "test_accuracy": test_acc,
            "test_predictions": test_pred}


def fit_keeping_average(monkeypatch, config, seeds, data):
    """``fit`` as it is, plus the AveragedModel it builds."""
    built = []

    def keep(model, decay):
        out = ema.averaged(model, decay)
        built.append(out)
        return out

    monkeypatch.setattr(train_module, "averaged", keep)
    results = fit(config, seeds, data=data, device="cpu", progress=False)
    assert len(built) == 1 and isinstance(built[0], AveragedModel)
    return results, built[0]


@pytest.mark.parametrize("name,seeds", [(name, 7) for name in CASES] + [("adam-batchnorm-dropout", [3, 4])])
def test_fit_with_ema_equals_a_plain_loop_with_a_hand_written_average(name, seeds, data, monkeypatch):
    config, dtype = CASES[name]
    splits = as_dtype(data, dtype)
    atol = ATOL[dtype]
    with default_dtype(dtype):
        results, averaged_model = fit_keeping_average(monkeypatch, config, seeds, splits)
        results = [results] if isinstance(seeds, int) else results
        steps = config.epochs * (len(splits.y_train) // config.batch_size + (0 if config.batch_norm else 1))
        assert averaged_model.n_averaged.item() == steps
        for s, result in enumerate(results):
            want = ema_oracle(config, result.seed, splits)
            for key, values in want["history"].items():
                assert max_abs(result.history[key], values) <= atol, (key, result.history[key], values)
            assert abs(result.test_loss - want["test_loss"]) <= atol
            assert abs(result.test_accuracy - want["test_accuracy"]) <= atol
            assert result.test_predictions == want["test_predictions"].tolist()
            got = fcnbook_state(averaged_model.module, config, s)  # the averaged parameters and buffers
            assert sorted(got) == sorted(want["avg"])
            for key, tensor in want["avg"].items():
                assert max_abs(got[key].detach(), tensor) <= atol, key
            # the average is not the raw network: evaluation really read the average
            raw = {k: v for k, v in want["raw"].state_dict().items() if k in want["avg"]}
            assert max(max_abs(raw[k], want["avg"][k]) for k in raw) > 100 * atol
        plain = fit(config.replace(ema=0.0), seeds, data=splits, device="cpu", progress=False)
        plain = [plain] if isinstance(seeds, int) else plain
    assert plain[0].history["running_loss"] == results[0].history["running_loss"]  # training itself is unchanged
    assert plain[0].history["val_loss"] != results[0].history["val_loss"]


def test_a_diverging_member_is_reported_from_its_last_finite_average_and_spares_the_other():
    data = make_splits()
    config = RunConfig(hidden=(64, 32), batch_size=64, lr=10.0, epochs=4, ema=0.9)
    late, alive = fit(config, [0, 1], data=data, progress=False)
    # measured (tests/test_train.py): at lr 10 seed 0 overflows in epoch 2, seed 1 trains all four epochs
    assert late.diverged and late.diverged_epoch == 2 and not alive.diverged
    stopped = fit(config.replace(epochs=1), 0, data=data, progress=False)
    assert late.history["val_loss"] == pytest.approx(stopped.history["val_loss"], abs=1e-6)
    assert math.isfinite(late.test_loss) and late.test_loss == pytest.approx(stopped.test_loss, abs=1e-6)
    assert late.test_predictions == stopped.test_predictions
    lone = fit(config, 1, data=data, progress=False)
    assert alive.history["val_loss"] == pytest.approx(lone.history["val_loss"], abs=1e-6)
    assert alive.test_predictions == lone.test_predictions


RESUMABLE = RunConfig(hidden=(64, 32), batch_size=64, epochs=4, batch_norm=True, dropout=0.1, optimizer="adamw",
                      lr=2e-3, weight_decay=0.01, schedule="onecycle", augment="shift_flip", erase=0.5, ema=0.9)


def test_an_interrupted_run_with_ema_and_erasing_resumes_to_identical_numbers(tmp_path, monkeypatch):
    data = make_splits(n_train=700, n_val=200, n_test=200)
    whole = fit(RESUMABLE, [0, 1], data=data, progress=False)
    path = tmp_path / "ck.pt"
    with monkeypatch.context() as m:
        stop_after_checkpoint(m, epoch=2)
        with pytest.raises(KeyboardInterrupt):
            fit(RESUMABLE, [0, 1], data=data, progress=False, checkpoint=path)
    saved = torch.load(path, weights_only=True)
    assert saved["ema"]["n_averaged"].item() == 2 * math.ceil(700 / 64)  # the average and its count are kept
    resumed = fit(RESUMABLE, [0, 1], data=data, progress=False, checkpoint=path)
    for a, b in zip(whole, resumed, strict=True):
        assert b.extra.pop("resumed_from_epoch") == 2
        assert {k: v for k, v in a.history.items() if k != "seconds"} == \
            {k: v for k, v in b.history.items() if k != "seconds"}
        assert (a.test_loss, a.test_accuracy, a.test_predictions, a.extra) == \
            (b.test_loss, b.test_accuracy, b.test_predictions, b.extra)
    # and the check can fail: a resume that forgot the average restarts it, and the numbers move
    other = tmp_path / "other.pt"
    with monkeypatch.context() as m:
        stop_after_checkpoint(m, epoch=2)
        with pytest.raises(KeyboardInterrupt):
            fit(RESUMABLE, [0, 1], data=data, progress=False, checkpoint=other)
    monkeypatch.setattr(AveragedModel, "load_state_dict", lambda self, state, **kw: None)
    forgot = fit(RESUMABLE, [0, 1], data=data, progress=False, checkpoint=other)
    assert forgot[0].history["val_loss"][:2] == whole[0].history["val_loss"][:2]
    assert forgot[0].history["val_loss"][2:] != whole[0].history["val_loss"][2:]


@pytest.mark.parametrize("decay", [-0.1, 1.0, 1.5, float("nan"), True, "0.9"])
def test_averaged_refuses_a_bad_decay(decay):
    with pytest.raises(ValueError, match="decay must be"):
        ema.averaged(torch.nn.Linear(2, 2), decay)


def test_averaged_is_off_at_zero():
    assert ema.averaged(torch.nn.Linear(2, 2), 0.0) is None
