"""Training: one readable loop that trains the S seeds of a configuration together.

``fit(config, seed)`` trains one network; ``fit(config, [0, 1, 2, 3, 4])`` trains five as one stacked network
(see :mod:`fcnbook.training.model`) and returns five results, member ``s`` equal to what ``fit(config, seeds[s])``
gives.
Batches are gathered from in-memory tensors (no DataLoader, no per-sample transforms), which is what makes an
epoch cost about as much as its matrix products.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm  # plain bars: notebooks run with progress=False, and tqdm.auto warns there

from fcnbook.config import RunConfig, check_seeds
from fcnbook.training import checkpoint as ckpt
from fcnbook.training import distill, schedules
from fcnbook.training.augment import Augmenter, mirror
from fcnbook.training.ema import averaged
from fcnbook.training.kernels import DropoutMasks
from fcnbook.training.model import FCN
from fcnbook.version import TRAINING_CODE_VERSION

EVAL_CHUNK = 4096  # rows per evaluation matmul: bounds memory at S * 4096 * widest layer floats


@dataclass
class RunResult:
    """What one (config, seed) run produced.

    ``history`` maps each metric to one value per completed epoch:

    - ``train_loss``, ``train_accuracy``: evaluation mode (no dropout, batch norm on running statistics), after
      the epoch, on a fixed class-stratified sample of the training split as large as the validation split
      (:func:`train_probe`). These are the figures to set against validation for over- and under-fitting.
    - ``running_loss``, ``running_accuracy``: running means over the epoch's mini-batches in training mode
      (dropout on, weights changing during the epoch), kept for reference.
    - ``val_loss``, ``val_accuracy``: evaluation mode, after the epoch; ``seconds``: wall time per member.

    Test figures are pooled over all test images. A member whose training loss becomes non-finite during epoch
    ``e`` is marked ``diverged`` with ``diverged_epoch = e``; its history stops at epoch ``e - 1`` and its test
    figures come from its last finite state (the end of epoch ``e - 1``, or the initial weights if ``e = 1``),
    not from the NaN weights.
    """

    config: RunConfig
    seed: int
    history: dict[str, list[float]]
    test_loss: float | None
    test_accuracy: float | None
    test_predictions: list[int] | None
    diverged: bool = False
    diverged_epoch: int | None = None
    device: str = "cpu"
    stack_size: int = 1
    seconds: float = 0.0
    version: int = TRAINING_CODE_VERSION
    extra: dict = field(default_factory=dict)
    weights: dict | None = field(default=None, repr=False)  # with keep_weights: the member's final state


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` -> CUDA when available, else CPU; anything else as given (validated)."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be auto, cpu, cuda or cuda:N (got {device!r})") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for but CUDA is not available here")
    return dev


def stream_seeds(seed: int) -> tuple[int, int, int, int]:
    """Independent seeds of a run's random streams: initial weights, data order, dropout masks, augmentation.

    (``SeedSequence.spawn`` children are numbered, so adding the fourth left the first three unchanged.)
    """
    states = np.random.SeedSequence(seed).spawn(4)
    return tuple(int(s.generate_state(1, dtype=np.uint64)[0] >> 1) for s in states)


def train_probe(y_train: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """Indices of the fixed training sample on which training metrics are measured in evaluation mode.

    ``n`` images (the validation split's size, capped at the training split's), stratified by class, drawn
    with ``seed`` (the config's ``split_seed``): every run and every epoch of a study sees the same sample.
    """
    from fcnbook.data.splits import stratified_subset  # numpy only; kept local so that importing train stays light

    labels = y_train.cpu().numpy()
    return torch.from_numpy(stratified_subset(labels, min(n, len(labels)), seed)).to(y_train.device)


def _optimizer(model: FCN, config: RunConfig) -> torch.optim.Optimizer:
    # All four are elementwise in their state, so one optimizer over stacked parameters updates each member
    # exactly as its own optimizer would.
    params, c = model.parameters(), config
    if c.optimizer == "sgd":
        return torch.optim.SGD(params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay,
                               nesterov=c.nesterov)
    if c.optimizer == "adam":
        return torch.optim.Adam(params, lr=c.lr, weight_decay=c.weight_decay)
    if c.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=c.lr, weight_decay=c.weight_decay)
    return torch.optim.RMSprop(params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)


@torch.no_grad()
def evaluate(model: FCN, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-member mean cross-entropy, accuracy (pooled over all rows) and predictions (S, N) on shared data."""
    was_training = model.training
    model.eval()
    loss = torch.zeros(model.size, dtype=torch.float64, device=x.device)
    preds = torch.empty(model.size, len(y), dtype=torch.long, device=x.device)
    for start in range(0, len(y), EVAL_CHUNK):
        xb, yb = x[start : start + EVAL_CHUNK], y[start : start + EVAL_CHUNK]
        logits = model(xb)
        ce = F.cross_entropy(logits.flatten(0, 1), yb.repeat(model.size), reduction="none")
        loss += ce.view(model.size, -1).sum(1, dtype=torch.float64)
        preds[:, start : start + len(yb)] = logits.argmax(-1)
    model.train(was_training)
    accuracy = (preds == y).double().mean(1)
    return loss / len(y), accuracy, preds


@torch.no_grad()
def probabilities(model: FCN, x: torch.Tensor, flip: bool = False) -> torch.Tensor:
    """Softmax outputs (S, N, classes) in evaluation mode; ``flip``: averaged with those of the mirrored images."""
    was_training = model.training
    model.eval()
    chunks = []
    for start in range(0, len(x), EVAL_CHUNK):
        xb = x[start : start + EVAL_CHUNK]
        p = model(xb).softmax(-1)
        if flip:  # test-time flip averaging: the mean of the softmax of an image and of its mirror image
            p = (p + model(mirror(xb)).softmax(-1)) / 2
        chunks.append(p)
    model.train(was_training)
    return torch.cat(chunks, 1)


def _extra_test_figures(model: FCN, data, members: list[int], seeds: list[int]) -> dict:
    """Test accuracy with flip averaging (FashionMNIST), and of the members' ensemble (mean softmax)."""
    y, out = data.y_test, {}
    flipped = probabilities(model, data.x_test, flip=True) if model.config.dataset == "fashion" else None
    if flipped is not None:
        out["tta_flip_test_accuracy"] = (flipped.argmax(-1) == y).double().mean(1).tolist()
    if len(members) > 1:  # (a lone network's plain test figures come from evaluate already)
        plain = probabilities(model, data.x_test)
        ens = {"seeds": [seeds[s] for s in members],
               "test_accuracy": (plain[members].mean(0).argmax(-1) == y).double().mean().item()}
        if flipped is not None:
            ens["tta_flip_test_accuracy"] = (flipped[members].mean(0).argmax(-1) == y).double().mean().item()
        out["ensemble"] = ens
    return out


def fit(
    config: RunConfig,
    seeds: int | Sequence[int],
    *,
    data=None,
    device: str | torch.device = "auto",
    progress: bool = True,
    checkpoint: Path | None = None,
    evaluate_test: bool = True,
    on_epoch=None,
    teacher: torch.Tensor | None = None,
    keep_weights: bool = False,
) -> RunResult | list[RunResult]:
    """Train ``config`` once per seed (all seeds together) and measure validation and test performance.

    Parameters
    ----------
    config : RunConfig
    seeds : int or sequence of int
        One seed -> one :class:`RunResult`; a sequence -> a list, one result per seed, in order.
    data : Splits, optional
        Defaults to ``fcnbook.data.splits.load_for(config)``.
    device : {"auto", "cpu", "cuda", ...}
        ``auto`` picks CUDA when present. Same seed on the same device gives the same numbers.
    progress : bool
        Show a tqdm bar (epoch, mean training loss, mean validation accuracy).
    checkpoint : Path, optional
        Epoch checkpoint file (:mod:`fcnbook.training.checkpoint`): training resumes from it when it holds a usable
        state of this configuration, these seeds and this data, and it is rewritten every
        :data:`fcnbook.training.checkpoint.EVERY` epochs. The results equal those of an uninterrupted run; a resumed
        run notes the epoch it resumed from in ``extra["resumed_from_epoch"]``. Deleting it is the caller's job.
    evaluate_test : bool
        ``False`` (hyperparameter studies): the test set is never touched; test figures are ``None``.
    on_epoch : callable, optional
        ``on_epoch(epoch, histories)`` after every epoch, with one history dict per member; an exception it
        raises (a pruned trial) stops training and propagates.
    teacher : Tensor, optional
        With ``config.teacher`` (and only then): the teacher's log-probabilities (N_train, classes) of the
        training images (:func:`fcnbook.distill.teacher_log_probs`); the loss is then :func:`fcnbook.distill.loss`.
    keep_weights : bool
        Put each member's final state (of the evaluated network, stack size 1, on the CPU) in ``weights``.

    With ``config.ema``, every evaluation (training probe, validation, test, predictions) reads the moving average
    of the weights (:mod:`fcnbook.ema`) instead of the last weights. With ``evaluate_test``, ``extra`` also holds
    ``tta_flip_test_accuracy`` (FashionMNIST: each member's test accuracy with flip averaging) and, for a stack,
    ``ensemble``: the test accuracy of the mean softmax of the members that did not diverge (and with flip
    averaging), the same in every member's result.
    """
    single = isinstance(seeds, int | np.integer)
    seed_list = check_seeds([int(seeds)] if single else seeds)
    dev = resolve_device(device)
    if data is None:
        from fcnbook.data.splits import load_for  # imported here so the model and loop import without torchvision

        data = load_for(config)
    data = data.to(dev)
    if config.precision == "bf16":  # the images are read only by bf16 products: cast them once, not every step
        data = dataclasses.replace(data, **{k: getattr(data, k).to(torch.bfloat16)
                                            for k in ("x_train", "x_val", "x_test")})
    S, N, B = len(seed_list), len(data.y_train), config.batch_size
    distill.check_targets(teacher, config, N, len(data.classes))
    if teacher is not None:
        teacher = teacher.to(dev, torch.float32)

    streams = [stream_seeds(s) for s in seed_list]
    model = FCN(config, [st[0] for st in streams], in_features=data.x_train.shape[1]).to(dev)
    order_gens = [torch.Generator(device=dev).manual_seed(st[1]) for st in streams]
    dropout_masks = DropoutMasks([st[2] for st in streams])
    augmenter = None
    if config.augment != "none" or config.erase:  # background: the normalised black pixel, the data's darkest
        augmenter = Augmenter([st[3] for st in streams], config.augment, config.max_shift,
                              background=data.x_train.min().item(), erase=config.erase,
                              erase_scale=config.erase_scale, erase_ratio=config.erase_ratio)
    optimizer = _optimizer(model, config)
    ema = averaged(model, config.ema)
    net = ema.module if ema is not None else model  # the network every evaluation reads
    scheduler = schedules.make(optimizer, config, N)

    probe = train_probe(data.y_train, len(data.y_val), config.split_seed)
    x_probe, y_probe = data.x_train.index_select(0, probe), data.y_train.index_select(0, probe)

    keys = ("train_loss", "train_accuracy", "running_loss", "running_accuracy", "val_loss", "val_accuracy",
            "seconds")
    history = [{k: [] for k in keys} for _ in seed_list]
    diverged_at: list[int | None] = [None] * S
    test_at_divergence: dict[int, tuple] = {}
    first_epoch, elapsed = 1, 0.0
    identity = {"config": config, "seeds": seed_list, "data_checksum": data.checksum,
                "code_version": TRAINING_CODE_VERSION}
    saved = ckpt.load(checkpoint, device=dev, **identity) if checkpoint is not None else None
    if saved is not None:  # resume: every random stream and all bookkeeping continue where they stopped
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(saved["scheduler"])
        if augmenter is not None:
            augmenter.states = saved["augment_streams"]
        if ema is not None:
            ema.load_state_dict(saved["ema"])
        for g, state in zip(order_gens, saved["order_streams"], strict=True):
            g.set_state(state.cpu())
        dropout_masks.states = saved["dropout_streams"]
        history, diverged_at = saved["history"], saved["diverged_at"]
        test_at_divergence = {int(s): tuple(v) for s, v in saved["test_at_divergence"].items()}
        first_epoch, elapsed = saved["epoch"] + 1, saved["elapsed"]
    # The evaluated network's state at the end of the last epoch: a member that diverges is evaluated from here, its
    # last finite state. (At a checkpoint it is that network's state itself, so it is not stored twice.)
    last_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    t_start = time.perf_counter() - elapsed
    bar = tqdm(range(first_epoch, config.epochs + 1), desc=config.label(), disable=not progress, leave=False,
               initial=first_epoch - 1, total=config.epochs)
    for epoch in bar:
        t0 = time.perf_counter()
        model.train()
        order = torch.stack([torch.randperm(N, generator=g, device=dev) for g in order_gens])  # (S, N)
        loss_sum = torch.zeros(S, dtype=torch.float64, device=dev)
        correct = torch.zeros(S, dtype=torch.long, device=dev)
        seen = 0
        for start in range(0, N, B):
            idx = order[:, start : start + B]  # each member its own mini-batch
            if config.batch_norm and idx.shape[1] < 2:
                continue  # batch statistics of a single image are undefined
            flat = idx.reshape(-1)  # index_select on rows is ~1.7x faster than advanced indexing here
            xb = data.x_train.index_select(0, flat).view(*idx.shape, -1)  # (S, b, 784)
            yb = data.y_train.index_select(0, flat).view(idx.shape)  # (S, b)
            if augmenter is not None:
                xb = augmenter(xb)
            logits = model(xb, dropout_masks)
            ce = F.cross_entropy(logits.flatten(0, 1), yb.flatten(), reduction="none",
                                 label_smoothing=config.label_smoothing).view(S, -1)
            optimizer.zero_grad(set_to_none=True)
            # Summing the members' mean losses gives each member exactly its own gradient.
            if teacher is None:
                ce.mean(1).sum().backward()
            else:
                soft = teacher.index_select(0, flat).view(*idx.shape, -1)
                distill.loss(ce, logits, soft, config.distill_temperature, config.distill_weight).sum().backward()
            optimizer.step()
            if ema is not None:
                ema.update_parameters(model)
            if scheduler is not None:
                scheduler.step()
            with torch.no_grad():
                loss_sum += ce.detach().sum(1, dtype=torch.float64)
                correct += (logits.argmax(-1) == yb).sum(1)
            seen += idx.shape[1]
        running_loss = (loss_sum / seen).tolist()
        running_acc = (correct.double() / seen).tolist()
        train_loss, train_acc, _ = evaluate(net, x_probe, y_probe)
        val_loss, val_acc, _ = evaluate(net, data.x_val, data.y_val)
        train_loss, train_acc = train_loss.tolist(), train_acc.tolist()
        val_loss, val_acc = val_loss.tolist(), val_acc.tolist()
        seconds = (time.perf_counter() - t0) / S
        newly = [s for s in range(S) if diverged_at[s] is None
                 and not (math.isfinite(running_loss[s]) and math.isfinite(train_loss[s]))]
        if newly and evaluate_test:  # measure the diverged members from their last finite state, as a lone run would
            state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            net.load_state_dict(last_state)
            t_loss, t_acc, t_pred = evaluate(net, data.x_test, data.y_test)
            net.load_state_dict(state)
            for s in newly:
                diverged_at[s] = epoch
                test_at_divergence[s] = (t_loss[s].item(), t_acc[s].item(), t_pred[s].tolist())
        for s in range(S):
            if diverged_at[s] is None:
                row = (train_loss[s], train_acc[s], running_loss[s], running_acc[s], val_loss[s], val_acc[s],
                       seconds)
                for k, v in zip(keys, row, strict=True):
                    history[s][k].append(v)
        alive = [s for s in range(S) if diverged_at[s] is None]
        if on_epoch is not None:
            on_epoch(epoch, history)
        if not alive:
            break
        last_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        if checkpoint is not None and epoch % ckpt.EVERY == 0 and epoch < config.epochs:
            checkpoint = ckpt.save(checkpoint, {  # None if it could not be written: train on without
                "epoch": epoch, "elapsed": time.perf_counter() - t_start,
                "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "augment_streams": augmenter.states if augmenter is not None else None,
                "ema": ema.state_dict() if ema is not None else None,
                "order_streams": [g.get_state() for g in order_gens],
                "dropout_streams": dropout_masks.states,
                "history": history, "diverged_at": diverged_at, "test_at_divergence": test_at_divergence,
            }, **identity)
        bar.set_postfix(loss=f"{np.mean([running_loss[s] for s in alive]):.4f}",
                        val_acc=f"{np.mean([val_acc[s] for s in alive]):.4f}")
    bar.close()

    extra = {"resumed_from_epoch": first_epoch - 1} if first_epoch > 1 else {}
    if evaluate_test:
        t_loss, t_acc, t_pred = evaluate(net, data.x_test, data.y_test)
        alive = [s for s in range(S) if diverged_at[s] is None]
        extra |= _extra_test_figures(net, data, alive, seed_list)
    total = time.perf_counter() - t_start
    final = net.state_dict() if keep_weights else {}
    results = []
    for s, seed in enumerate(seed_list):
        if not evaluate_test:
            loss = acc = pred = None
        elif s in test_at_divergence:
            loss, acc, pred = test_at_divergence[s]
        else:
            loss, acc, pred = t_loss[s].item(), t_acc[s].item(), t_pred[s].tolist()
        member_extra = dict(extra)
        if "tta_flip_test_accuracy" in extra:
            member_extra["tta_flip_test_accuracy"] = extra["tta_flip_test_accuracy"][s] if s not in \
                test_at_divergence else None
        results.append(RunResult(
            config=config, seed=seed, history=history[s],
            test_loss=loss if loss is None or math.isfinite(loss) else float("nan"), test_accuracy=acc,
            test_predictions=pred, diverged=diverged_at[s] is not None, diverged_epoch=diverged_at[s],
            device=str(dev), stack_size=S, seconds=total / S, extra=member_extra,
            weights={k: v[s : s + 1].detach().cpu().clone() for k, v in final.items()} if keep_weights else None,
        ))
    return results[0] if single else results
