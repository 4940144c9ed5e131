"""``fit`` checked against a plain PyTorch training loop (the oracle), on a small subset of real FashionMNIST, or,
where the real data is not installed (or fails its MD5 check), on synthetic splits of the same shapes
(:func:`synthetic.make_splits`, fixed seed): the comparison is of two implementations of the same maths, which any
data exercises; the real images add the constant background pixels the float64 cases below are about.

The oracle is what a reader of any PyTorch tutorial would write: ``nn.Sequential(nn.Linear, [nn.BatchNorm1d],
nn.ReLU, ...)``, ``torch.optim.<Optimizer>``, mean ``F.cross_entropy``, ``zero_grad`` -> ``backward`` -> ``step``
over mini-batches. It shares with ``fit`` only what a seed decides: the initial weights (copied out of a freshly
built :class:`~fcnbook.training.model.FCN`, built as ``fit`` builds it), the mini-batch order (one ``torch.randperm``
per epoch from the run's order stream) and, with dropout, the masks (drawn from the run's dropout stream, applied as
``x * mask`` after each hidden ReLU). Everything else (stacked matmuls, per-member batch norm, the summed loss of a
stack, one optimizer over stacked parameters, evaluation in chunks) is fcnbook's own and must give the same numbers:
every history figure, the test loss, accuracy and predictions, and every final parameter and batch-norm buffer.

Precision. Without batch norm the comparison runs in float32, as ``fit`` trains, to 1e-5 (measured: parameters
within 3e-7, figures within 2e-6, on a Sapphire Rapids Xeon; on a 2-core AMD EPYC the SGD cases within 2.4e-7, the
Adam and RMSProp ones within 5.3e-6). With batch norm it runs in float64 (``fit`` is dtype-generic: it builds its
model in the default dtype), to 1e-9 (measured: within 3e-11), because in float32 the two implementations part
for reasons of rounding, not of maths:

* Adam and RMSProp turn rounding noise into lr-sized steps wherever a gradient is mathematically zero. With batch
  norm after the first Linear, the weights of every pixel that is constant within a mini-batch (background pixels:
  18 of 784 in the first batch of seed 7) have exactly zero gradient (batch norm subtracts whatever they add), which
  float32 computes as +-5e-9 noise; Adam's first step ``g / (|g| + eps)`` makes that +-0.4 lr, different in each
  implementation. After 3 epochs: parameters 0.1 apart, 81 of 10 000 test predictions differ (Adam with batch
  norm, seed 7); float64 brings the same run to 3e-11.
* fcnbook's batch norm (``(h - mean) * (gamma * rsqrt(var + eps)) + beta``) and PyTorch's kernel round differently
  (~1e-7); when a batch-norm output lands within that of zero, the ReLU passes the image in one and not the other.
  SGD with momentum, seed 0, step 40: -2.0e-8 against +1.1e-7; the weights then differ by 1e-4 (seeds 1-11: 2e-7).
"""

from __future__ import annotations

import contextlib
import dataclasses

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import fcnbook.training.fit as train_module
from fcnbook.config import OPTIMIZERS, RunConfig
from fcnbook.data.splits import Splits
from fcnbook.training.fit import fit
from fcnbook.training.kernels import DropoutMasks
from fcnbook.training.model import FCN
from fcnbook.training.setup import stream_seeds, train_probe
from synthetic import make_splits

ATOL = {torch.float32: 1e-5, torch.float64: 1e-9}

# 2001 images in batches of 125: sixteen full batches and a last batch of ONE image (trained without batch norm,
# skipped with it, as fit does: batch statistics of one image are undefined).
SUBSET, BATCH = 2001, 125
BASE = RunConfig(hidden=(128, 32), batch_size=BATCH, epochs=3, subset=SUBSET)


# The synthetic stand-in: Gaussian class clusters with the noise that gives FashionMNIST-like accuracy after three
# epochs (measured: 0.88-0.90 test accuracy for the stacked Adam case, seeds 0-2, each predicting differently;
# noise 1.0 reaches 1.0 and would make the three members' predictions identical).
SYNTHETIC_SEED, SYNTHETIC_NOISE = 19, 2.0


def synthetic_like_real() -> Splits:
    """Splits of the shapes ``load_for(BASE)`` gives (the subset, 10 % of 60 000 for validation, 10 000 test), scaled
    to unit SD as ``load_for`` standardises the real pixels."""
    n_val = round(60_000 * BASE.val_fraction)
    splits = make_splits(n_train=SUBSET, n_val=n_val, n_test=10_000, seed=SYNTHETIC_SEED, noise=SYNTHETIC_NOISE)
    sd = splits.x_train.std().item()
    return dataclasses.replace(splits, **{k: getattr(splits, k) / sd for k in ("x_train", "x_val", "x_test")})


@pytest.fixture(scope="module")
def data():
    """The real subset when ``fcnbook.data.files.verify`` passes, else the synthetic splits (same shapes)."""
    from fcnbook.data.files import DataError, verify
    from fcnbook.data.splits import load_for

    try:
        verify(BASE.dataset)
    except DataError as exc:
        print(f"\noracle on synthetic data: {exc}")
        splits = synthetic_like_real()
    else:
        splits = load_for(BASE)
    assert len(splits.y_train) == SUBSET and len(splits.y_train) % BATCH == 1
    assert splits.x_train.shape == (SUBSET, 784) and splits.x_val.shape == (6000, 784)
    assert splits.x_test.shape == (10_000, 784) and splits.x_train.dtype == torch.float32
    return splits


@pytest.fixture(scope="module")
def data64(data):
    return dataclasses.replace(data, **{k: getattr(data, k).double() for k in ("x_train", "x_val", "x_test")})


@contextlib.contextmanager
def default_dtype(dtype: torch.dtype):
    """fit builds its model in the default dtype; float64 runs set it for fit and the oracle alike."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(before)


class SameMasks(nn.Module):
    """Inverted dropout with the masks of a given :class:`DropoutMasks` stream (one member), in training mode."""

    def __init__(self, masks: DropoutMasks, p: float):
        super().__init__()
        self.masks, self.p = masks, p

    def forward(self, x):
        if not self.training:
            return x
        return x * self.masks(x.shape, self.p, dtype=x.dtype)[0]


def plain_network(config: RunConfig, seed: int, in_features: int = 784) -> tuple[nn.Sequential, DropoutMasks]:
    """The network of ``config`` from PyTorch's own modules, holding the initial weights ``fit`` starts from."""
    weight_seed, _, dropout_seed, _ = stream_seeds(seed)
    init = FCN(config, [weight_seed], in_features=in_features)  # as fit builds it, for S = 1
    masks = DropoutMasks([dropout_seed])
    sizes = [in_features, *config.hidden, 10]
    layers: list[nn.Module] = []
    biases = iter(init.biases)
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        last = i == len(sizes) - 2
        linear = nn.Linear(fan_in, fan_out, bias=last or not config.batch_norm)
        with torch.no_grad():
            linear.weight.copy_(init.weights[i][0].T)
            if linear.bias is not None:
                linear.bias.copy_(next(biases)[0, 0])
        layers.append(linear)
        if last:
            break
        if config.batch_norm:
            layers.append(nn.BatchNorm1d(fan_out))  # PyTorch's defaults: weight 1, bias 0, eps 1e-5, momentum 0.1
        layers.append(nn.ReLU())
        if config.dropout:
            layers.append(SameMasks(masks, config.dropout))
    return nn.Sequential(*layers), masks


# torch.optim's documented signatures (https://pytorch.org/docs/stable/optim.html), every hyperparameter spelled
# out: the values a RunConfig names come from it, the others are the documented defaults, which RunConfig promises
# ("PyTorch's defaults for everything not named here"). Weight decay is an L2 term added to the gradient in SGD,
# Adam and RMSprop, and decoupled from it in AdamW (whose documented default, 0.01, is overridden by the config's).
PLAIN_OPTIMIZERS = {
    "sgd": lambda params, c: torch.optim.SGD(
        params, lr=c.lr, momentum=c.momentum, dampening=0.0, weight_decay=c.weight_decay, nesterov=c.nesterov),
    "adam": lambda params, c: torch.optim.Adam(
        params, lr=c.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=c.weight_decay, amsgrad=False),
    "adamw": lambda params, c: torch.optim.AdamW(
        params, lr=c.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=c.weight_decay, amsgrad=False),
    "rmsprop": lambda params, c: torch.optim.RMSprop(
        params, lr=c.lr, alpha=0.99, eps=1e-8, weight_decay=c.weight_decay, momentum=c.momentum, centered=False),
}


def plain_optimizer(config: RunConfig, params) -> torch.optim.Optimizer:
    return PLAIN_OPTIMIZERS[config.optimizer](params, config)


@torch.no_grad()
def plain_evaluate(net: nn.Sequential, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float, torch.Tensor]:
    net.eval()
    logits = net(x)
    pred = logits.argmax(1)
    return F.cross_entropy(logits, y).item(), (pred == y).double().mean().item(), pred


def plain_scheduler(config: RunConfig, optimizer, steps: int):
    """PyTorch's own schedulers: CosineAnnealingLR to 0 (no warm-up here), OneCycleLR."""
    if config.schedule == "cosine":
        assert not config.warmup
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps, eta_min=0.0)
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=steps,
                                                   pct_start=config.warmup or 0.3, cycle_momentum=False)
    return None


def plain_shift(images: torch.Tensor, dy: int, dx: int, flip: bool, background: float) -> torch.Tensor:
    """One 28x28 image moved by (dy, dx) with slices (mirrored first): an independent spelling of the augmentation."""
    img = images.view(28, 28).flip(1) if flip else images.view(28, 28)
    out = torch.full_like(img, background)
    out[max(dy, 0) : 28 + min(dy, 0), max(dx, 0) : 28 + min(dx, 0)] = \
        img[max(-dy, 0) : 28 + min(-dy, 0), max(-dx, 0) : 28 + min(-dx, 0)]
    return out.reshape(784)


def oracle(config: RunConfig, seed: int, data) -> dict:
    """Train ``config`` with seed ``seed`` the textbook way; the figures fit reports, plus the final network."""
    from fcnbook.training.augment import Augmenter
    from fcnbook.training.schedules import steps_per_epoch

    net, _ = plain_network(config, seed, data.x_train.shape[1])
    optimizer = plain_optimizer(config, net.parameters())
    scheduler = plain_scheduler(config, optimizer, config.epochs * steps_per_epoch(len(data.y_train), config))
    draws = None  # the augmentation's random numbers come from the run's stream; applying them is the oracle's
    if config.augment != "none":
        draws = Augmenter([stream_seeds(seed)[3]], config.augment, config.max_shift, 0.0)
        background = data.x_train.min().item()
    order = torch.Generator().manual_seed(stream_seeds(seed)[1])
    x, y, n = data.x_train, data.y_train, len(data.y_train)
    probe = train_probe(y, len(data.y_val), config.split_seed)  # the fixed training sample fit measures on
    history = {k: [] for k in ("running_loss", "running_accuracy", "train_loss", "train_accuracy", "val_loss",
                               "val_accuracy")}
    for _ in range(config.epochs):
        net.train()
        perm = torch.randperm(n, generator=order)
        loss_sum, correct, seen = 0.0, 0, 0
        for start in range(0, n, config.batch_size):
            idx = perm[start : start + config.batch_size]
            if config.batch_norm and len(idx) < 2:
                continue  # nn.BatchNorm1d refuses a batch of one in training mode
            xb = x[idx]
            if draws is not None:
                dy, dx, flip = (a[0] for a in draws.draw(len(idx)))
                xb = torch.stack([plain_shift(im, int(a), int(b), bool(f), background)
                                  for im, a, b, f in zip(xb, dy, dx, flip, strict=True)])
            logits = net(xb)
            loss = F.cross_entropy(logits, y[idx], label_smoothing=config.label_smoothing)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == y[idx]).sum().item()
            seen += len(idx)
        history["running_loss"].append(loss_sum / seen)  # mean over the epoch's mini-batches, training mode
        history["running_accuracy"].append(correct / seen)
        for split, (xs, ys) in {"train": (x[probe], y[probe]), "val": (data.x_val, data.y_val)}.items():
            split_loss, split_acc, _ = plain_evaluate(net, xs, ys)  # evaluation mode, after the epoch
            history[f"{split}_loss"].append(split_loss)
            history[f"{split}_accuracy"].append(split_acc)
    test_loss, test_acc, test_pred = plain_evaluate(net, data.x_test, data.y_test)
    return {"net": net, "history": history, "test_loss": test_loss, "test_accuracy": test_acc,
            "test_predictions": test_pred}


def fcnbook_state(model: FCN, config: RunConfig, s: int) -> dict[str, torch.Tensor]:
    """Member ``s`` of fit's trained model under the ``state_dict`` names of :func:`plain_network`'s Sequential."""
    state, biases = {}, iter(model.biases)
    step = 1 + bool(config.batch_norm) + bool(config.dropout)  # modules per hidden layer after its Linear
    for i, w in enumerate(model.weights):
        at = i * (step + 1)
        state[f"{at}.weight"] = w[s].T
        if model.has_bias[i]:
            state[f"{at}.bias"] = next(biases)[s, 0]
        if config.batch_norm and i < len(config.hidden):
            state[f"{at + 1}.weight"] = model.bn_weight[i][s]
            state[f"{at + 1}.bias"] = model.bn_bias[i][s]
            state[f"{at + 1}.running_mean"] = getattr(model, f"running_mean_{i}")[s]
            state[f"{at + 1}.running_var"] = getattr(model, f"running_var_{i}")[s]
    return state


def fit_keeping_model(monkeypatch, config, seeds, data):
    """``fit`` as it is, plus the trained model it builds (fit returns only figures)."""
    built = []

    class KeptFCN(FCN):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            built.append(self)

    monkeypatch.setattr(train_module, "FCN", KeptFCN)
    results = fit(config, seeds, data=data, device="cpu", progress=False)
    assert len(built) == 1
    return results, built[0]


def max_abs(a, b) -> float:
    return (torch.as_tensor(a, dtype=torch.float64) - torch.as_tensor(b, dtype=torch.float64)).abs().max().item()


def assert_matches_oracle(result, model: FCN, s: int, want: dict, config: RunConfig) -> dict[str, float]:
    """Every figure and every final parameter of member ``s`` equals the oracle's, to ``ATOL`` of its dtype."""
    atol = ATOL[want["net"][0].weight.dtype]
    diffs = {}
    assert not result.diverged
    for key, values in want["history"].items():
        got = result.history[key]
        assert len(got) == config.epochs, key
        diffs[key] = max_abs(got, values)
        assert diffs[key] <= atol, (key, got, values)
    diffs["test_loss"] = abs(result.test_loss - want["test_loss"])
    assert diffs["test_loss"] <= atol
    diffs["test_accuracy"] = abs(result.test_accuracy - want["test_accuracy"])
    assert diffs["test_accuracy"] <= atol
    mismatched = int((torch.tensor(result.test_predictions) != want["test_predictions"]).sum())
    diffs["test_predictions_mismatched"] = mismatched
    assert mismatched == 0
    got_state = fcnbook_state(model, config, s)
    want_state = want["net"].state_dict()
    want_state = {k: v for k, v in want_state.items() if not k.endswith("num_batches_tracked")}
    assert sorted(got_state) == sorted(want_state)
    for name, tensor in want_state.items():
        diffs[f"param {name}"] = max_abs(got_state[name].detach(), tensor)
        assert got_state[name].dtype == tensor.dtype, name
        assert diffs[f"param {name}"] <= atol, (name, diffs[f"param {name}"])
    # and training did move them (so matching is not the trivial agreement of two loops that never step)
    init_net, _ = plain_network(config, result.seed, model.weights[0].shape[1])
    assert max_abs(init_net[0].weight, want["net"][0].weight) > 1e-3
    return diffs


def report(label: str, diffs: dict[str, float]) -> None:
    worst_param = max(v for k, v in diffs.items() if k.startswith("param "))
    figures = {k: v for k, v in diffs.items() if not k.startswith("param ")}
    print(f"\n{label}: worst parameter diff {worst_param:.2e}; " +
          ", ".join(f"{k} {v:.2e}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items()))


# (config, float dtype): batch norm in float64, see the module docstring
CASES = {
    "sgd": (BASE, torch.float32),
    "sgd-momentum-weight_decay": (BASE.replace(momentum=0.9, lr=0.02, weight_decay=5e-4), torch.float32),
    "adam": (BASE.replace(optimizer="adam", lr=1e-3), torch.float32),
    "rmsprop-momentum": (BASE.replace(optimizer="rmsprop", lr=1e-4, momentum=0.5), torch.float32),
    "sgd-dropout": (BASE.replace(dropout=0.3), torch.float32),
    "adam-weight_decay-dropout": (BASE.replace(optimizer="adam", lr=1e-3, weight_decay=1e-3, dropout=0.2),
                                  torch.float32),
    "sgd-momentum-batchnorm": (BASE.replace(momentum=0.9, lr=0.02, batch_norm=True), torch.float64),
    "adam-batchnorm": (BASE.replace(optimizer="adam", lr=1e-3, batch_norm=True), torch.float64),
    "rmsprop-batchnorm-kaiming": (BASE.replace(optimizer="rmsprop", lr=1e-4, batch_norm=True,
                                               init="kaiming_uniform"), torch.float64),
    "adam-weight_decay-dropout-batchnorm": (BASE.replace(optimizer="adam", lr=1e-3, weight_decay=1e-3, dropout=0.2,
                                                         batch_norm=True), torch.float64),
    # the options of the "beyond the report" recipes (issue 13)
    "sgd-nesterov-cosine": (BASE.replace(momentum=0.9, nesterov=True, lr=0.02, schedule="cosine"), torch.float32),
    "adamw-onecycle-label_smoothing": (BASE.replace(optimizer="adamw", lr=2e-3, weight_decay=0.05,
                                                    schedule="onecycle", warmup=0.25, label_smoothing=0.1),
                                       torch.float32),
    # float64: on a 2-core AMD EPYC (avx512, no AMX) float32 rounding of the shifted batches reached 1.2e-5 in the
    # first Linear's weights after Adam's normalisation (over the 1e-5 float32 bound; 3e-7 on the Xeon it was
    # measured on), the amplification the module docstring describes; float64 compares the maths, not the rounding.
    "adam-shift-dropout": (BASE.replace(optimizer="adam", lr=1e-3, augment="shift", max_shift=3, dropout=0.2),
                           torch.float64),
    "adamw-shift_flip-batchnorm": (BASE.replace(optimizer="adamw", lr=1e-3, weight_decay=0.01, augment="shift_flip",
                                                batch_norm=True, schedule="onecycle"), torch.float64),
}


def case_dtype(name: str, data: Splits) -> torch.dtype:
    """The case's dtype; on the synthetic stand-in, float64 for the adaptive optimizers as well.

    Their float32 rounding of Gaussian inputs is amplified past the 1e-5 bound (measured, 2-core AMD EPYC: first
    Linear's weights 1.2e-5 apart for "adam", one of 10 000 test predictions differing for "rmsprop-momentum"; the
    SGD cases stay within 2e-7), the effect the module docstring describes; float64 compares the maths.
    """
    config, dtype = CASES[name]
    if data.checksum.startswith("synthetic-") and config.optimizer != "sgd":
        return torch.float64
    return dtype


def check_against_oracle(name, seeds, data, data64, monkeypatch):
    config, dtype = CASES[name][0], case_dtype(name, data)
    splits = data if dtype == torch.float32 else data64
    with default_dtype(dtype):
        results, model = fit_keeping_model(monkeypatch, config, seeds, splits)
        results = [results] if isinstance(seeds, int) else results
        assert [r.seed for r in results] == ([seeds] if isinstance(seeds, int) else seeds)
        assert model.size == len(results) and model.weights[0].dtype == dtype
        for s, result in enumerate(results):
            want = oracle(config, result.seed, splits)
            diffs = assert_matches_oracle(result, model, s, want, config)
            report(f"{name} seed {result.seed} of {len(results)}, {dtype}, {splits.checksum[:16]}", diffs)
    return results


@pytest.mark.parametrize("name", list(CASES))
def test_fit_equals_plain_pytorch_loop(name, data, data64, monkeypatch):
    check_against_oracle(name, 7, data, data64, monkeypatch)


@pytest.mark.parametrize("name", ["adam-weight_decay-dropout", "adam-weight_decay-dropout-batchnorm",
                                  "adamw-shift_flip-batchnorm"])
def test_stacked_fit_member_equals_plain_loop_of_its_seed(name, data, data64, monkeypatch):
    results = check_against_oracle(name, [0, 1, 2], data, data64, monkeypatch)
    # the members are different networks (own weights, batch order and masks), not three copies of one
    preds = [r.test_predictions for r in results]
    assert all(preds[i] != preds[j] for i in range(len(preds)) for j in range(i + 1, len(preds)))


def test_every_optimizer_has_an_oracle_and_a_case():
    """A new optimizer in the vocabulary fails here until the oracle can build it and a case trains with it."""
    assert sorted(PLAIN_OPTIMIZERS) == sorted(OPTIMIZERS)
    assert sorted({config.optimizer for config, _ in CASES.values()}) == sorted(OPTIMIZERS)
