"""The training options of the "beyond the report" recipes: flip averaging and ensembles against an oracle, stacked
members equal to lone runs under augmentation and schedules, resumption mid-schedule, bf16 arithmetic."""

from __future__ import annotations

import pytest
import torch

import fcnbook.training.fit as train_module
from fcnbook.config import RunConfig
from fcnbook.training.augment import Augmenter, mirror
from fcnbook.training.fit import fit
from synthetic import make_splits, stop_after_checkpoint

RECIPE = RunConfig(hidden=(256, 32), batch_size=128, epochs=3, optimizer="adamw", lr=2e-3, weight_decay=0.05,
                   schedule="onecycle", warmup=0.2, label_smoothing=0.1, augment="shift_flip", dropout=0.2)


@pytest.fixture(scope="module")
def data():
    return make_splits()


def keep_model(monkeypatch):
    built = []

    class Kept(train_module.FCN):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            built.append(self)

    monkeypatch.setattr(train_module, "FCN", Kept)
    return built


def test_flip_averaging_and_ensemble_equal_plain_pytorch(data, monkeypatch):
    """Oracle: each member as an nn.Sequential, images mirrored with numpy, softmax averaged by hand."""
    built = keep_model(monkeypatch)
    results = fit(RECIPE, [0, 1, 2], data=data, progress=False)
    model = built[0]
    x = data.x_test
    flipped = torch.from_numpy(x.numpy().reshape(-1, 28, 28)[:, :, ::-1].copy()).reshape(-1, 784)
    probs, tta = [], []
    with torch.no_grad():
        for s in range(3):
            net = model.member(s)
            p, q = net(x).softmax(1), net(flipped).softmax(1)
            probs.append(p)
            tta.append((p + q) / 2)
            acc = (tta[-1].argmax(1) == data.y_test).double().mean().item()
            assert results[s].extra["tta_flip_test_accuracy"] == pytest.approx(acc, abs=1e-12)
            assert results[s].test_accuracy == pytest.approx((p.argmax(1) == data.y_test).double().mean().item())
    ens = results[0].extra["ensemble"]
    assert ens["seeds"] == [0, 1, 2] and all(r.extra["ensemble"] == ens for r in results)
    mean = torch.stack(probs).mean(0)
    assert ens["test_accuracy"] == pytest.approx((mean.argmax(1) == data.y_test).double().mean().item(), abs=1e-12)
    mean_tta = torch.stack(tta).mean(0)
    assert ens["tta_flip_test_accuracy"] == pytest.approx(
        (mean_tta.argmax(1) == data.y_test).double().mean().item(), abs=1e-12)


def test_mirror_is_a_left_right_flip():
    x = torch.arange(2 * 784, dtype=torch.float32).view(2, 784)
    assert torch.equal(mirror(x).view(2, 28, 28), x.view(2, 28, 28).flip(2))


def test_augmenter_moves_images_within_bounds_and_fills_the_background():
    aug = Augmenter([0], "shift", 2, background=-1.0)
    x = torch.zeros(1, 64, 784)
    x[0, :, 14 * 28 + 14] = 1.0  # one lit pixel in the middle of every image
    out = aug(x).view(64, 28, 28)
    rows, cols = (out == 1.0).nonzero(as_tuple=True)[1:]
    assert len(rows) == 64 and rows.sub(14).abs().max() <= 2 and cols.sub(14).abs().max() <= 2
    assert len(set(zip(rows.tolist(), cols.tolist(), strict=True))) > 10  # many different offsets
    border = aug(torch.zeros(1, 64, 784)).view(64, 28, 28)
    assert set(border.unique().tolist()) <= {0.0, -1.0} and (border == -1.0).any()


@pytest.mark.parametrize("config", [RECIPE, RECIPE.replace(augment="shift", schedule="cosine", warmup=0.1,
                                                           batch_norm=True, optimizer="sgd", lr=0.05, momentum=0.9,
                                                           nesterov=True, weight_decay=1e-4)],
                         ids=["adamw-onecycle-flip", "sgd-nesterov-cosine-shift-bn"])
def test_stacked_members_reproduce_single_runs(config, data):
    stacked = fit(config, [3, 4], data=data, progress=False)
    for member in stacked:
        lone = fit(config, member.seed, data=data, progress=False)
        for key in ("train_loss", "running_loss", "val_loss", "val_accuracy"):
            assert member.history[key] == pytest.approx(lone.history[key], abs=1e-4), key
        assert member.test_predictions == lone.test_predictions


def test_resuming_mid_schedule_and_mid_augmentation_gives_the_same_numbers(data, tmp_path, monkeypatch):
    config = RECIPE.replace(epochs=4)
    whole = fit(config, [0, 1], data=data, progress=False)
    path = tmp_path / "ck.pt"
    with monkeypatch.context() as m:
        stop_after_checkpoint(m, epoch=2)
        with pytest.raises(KeyboardInterrupt):
            fit(config, [0, 1], data=data, progress=False, checkpoint=path)
    resumed = fit(config, [0, 1], data=data, progress=False, checkpoint=path)
    for a, b in zip(whole, resumed, strict=True):
        assert b.extra["resumed_from_epoch"] == 2
        assert a.history["val_loss"] == b.history["val_loss"] and a.test_predictions == b.test_predictions


def test_a_study_run_never_touches_the_test_set(data):
    r = fit(RECIPE.replace(epochs=1), [0, 1], data=data, progress=False, evaluate_test=False)
    assert all(x.test_accuracy is None and x.test_predictions is None and "ensemble" not in x.extra for x in r)


def test_on_epoch_sees_every_epoch_and_can_stop_training(data):
    seen = []

    def hook(epoch, histories):
        seen.append((epoch, len(histories[0]["val_accuracy"])))
        if epoch == 2:
            raise RuntimeError("pruned")

    with pytest.raises(RuntimeError, match="pruned"):
        fit(RECIPE, 0, data=data, progress=False, on_epoch=hook)
    assert seen == [(1, 1), (2, 2)]


# ---------------------------------------------------------------------------------------------------------- bf16

def test_bf16_computes_the_products_in_bfloat16_and_keeps_fp32_weights(data, monkeypatch):
    import fcnbook.training.kernels as kernels

    dtypes = []
    real = kernels.StackedLinear.forward

    def spy(ctx, x, w, b):
        dtypes.append((x.dtype, w.dtype))
        return real(ctx, x, w, b)

    monkeypatch.setattr(kernels.StackedLinear, "forward", staticmethod(spy))
    built = keep_model(monkeypatch)
    fit(RunConfig(hidden=(64,), epochs=1, batch_size=200, precision="bf16", batch_norm=True), 0, data=data,
        progress=False)
    assert dtypes and set(dtypes) == {(torch.bfloat16, torch.bfloat16)}
    assert all(p.dtype == torch.float32 for p in built[0].parameters())


def test_bf16_lands_close_to_fp32_and_stacks_like_a_lone_run(data):
    """bf16 rounds differently (not bit-equal to fp32) but trains the same network to about the same place."""
    config = RunConfig(hidden=(256, 32), epochs=3, batch_size=128, optimizer="adam", lr=1e-3)
    fp32 = fit(config, 0, data=data, progress=False)
    bf16 = fit(config.replace(precision="bf16"), 0, data=data, progress=False)
    assert bf16.history["val_loss"] != fp32.history["val_loss"]  # it does compute differently
    assert bf16.test_accuracy == pytest.approx(fp32.test_accuracy, abs=0.03)
    assert bf16.history["val_loss"][-1] == pytest.approx(fp32.history["val_loss"][-1], rel=0.05)
    stacked = fit(config.replace(precision="bf16"), [0, 1], data=data, progress=False)
    assert stacked[0].history["val_loss"] == pytest.approx(bf16.history["val_loss"], abs=1e-4)
