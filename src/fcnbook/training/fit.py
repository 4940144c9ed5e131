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
from fcnbook.training import distill, evaluation, schedules
from fcnbook.training.augment import Augmenter
from fcnbook.training.ema import averaged
from fcnbook.training.kernels import DropoutMasks
from fcnbook.training.model import FCN
from fcnbook.training.setup import optimizer, resolve_device, stream_seeds, train_probe
from fcnbook.training.state import TrainState
from fcnbook.version import TRAINING_CODE_VERSION


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
        training images (:func:`fcnbook.training.distill.teacher_log_probs`), or with ``distill_views="augmented"``
        of each of their views (N_train, views, classes; :func:`~fcnbook.training.distill.teacher_view_log_probs`);
        the loss is then :func:`fcnbook.training.distill.loss`.
    keep_weights : bool
        Put each member's final state (of the evaluated network, stack size 1, on the CPU) in ``weights``.

    With ``config.ema``, every evaluation (training probe, validation, test, predictions) reads the moving average
    of the weights (:mod:`fcnbook.training.ema`) instead of the last weights. With ``evaluate_test``, ``extra``
    also holds ``tta_flip_test_accuracy`` (FashionMNIST: each member's test accuracy with flip averaging) and,
    for a stack, ``ensemble``: the test accuracy of the mean softmax of the members that did not diverge (and
    with flip averaging), the same in every member's result.
    """
    single = isinstance(seeds, int | np.integer)
    seed_list = check_seeds([int(seeds)] if single else seeds)
    dev = resolve_device(device)
    data = _placed(config, data, dev)
    distill.check_targets(teacher, config, len(data.y_train), len(data.classes))
    teacher = teacher.to(dev, torch.float32) if teacher is not None else None
    st = _start(config, seed_list, data, dev)
    identity = {"config": config, "seeds": seed_list, "data_checksum": data.checksum,
                "code_version": TRAINING_CODE_VERSION}
    saved = ckpt.load(checkpoint, device=dev, **identity) if checkpoint is not None else None
    first_epoch, elapsed = st.restore(saved) if saved is not None else (1, 0.0)
    st.keep_last_state()
    t_start = time.perf_counter() - elapsed
    _train(config, st, data, teacher, first_epoch, t_start, checkpoint=checkpoint, identity=identity,
           progress=progress, test=(data.x_test, data.y_test) if evaluate_test else None, on_epoch=on_epoch)
    extra = {"resumed_from_epoch": first_epoch - 1} if first_epoch > 1 else {}
    results = _results(config, seed_list, st, data, dev, extra, evaluate_test, time.perf_counter() - t_start,
                       keep_weights)
    return results[0] if single else results


def _train(config: RunConfig, st: TrainState, data, teacher, first_epoch: int, t_start: float, *, checkpoint,
           identity: dict, progress: bool, test, on_epoch) -> None:
    """The loop: each epoch, every member's mini-batches (forward, loss, backward, step), then the epoch's metrics."""
    S, N, B, dev = st.size, len(data.y_train), config.batch_size, data.y_train.device
    bar = tqdm(range(first_epoch, config.epochs + 1), desc=config.label(), disable=not progress, leave=False,
               initial=first_epoch - 1, total=config.epochs)
    for epoch in bar:
        t0 = time.perf_counter()
        st.model.train()
        order = torch.stack([torch.randperm(N, generator=g, device=dev) for g in st.order_gens])  # (S, N)
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
            if st.augmenter is not None:
                xb = st.augmenter(xb)
            logits = st.model(xb, st.dropout_masks)
            ce = F.cross_entropy(logits.flatten(0, 1), yb.flatten(), reduction="none",
                                 label_smoothing=config.label_smoothing).view(S, -1)
            st.optimizer.zero_grad(set_to_none=True)
            # Summing the members' mean losses gives each member exactly its own gradient.
            if teacher is None:
                ce.mean(1).sum().backward()
            else:
                soft = distill.soft_labels(teacher, flat, idx.shape, st.augmenter and st.augmenter.views)
                distill.loss(ce, logits, soft, config.distill_temperature, config.distill_weight).sum().backward()
            st.optimizer.step()
            if st.ema is not None:
                st.ema.update_parameters(st.model)
            if st.scheduler is not None:
                st.scheduler.step()
            with torch.no_grad():
                loss_sum += ce.detach().sum(1, dtype=torch.float64)
                correct += (logits.argmax(-1) == yb).sum(1)
            seen += idx.shape[1]
        running = [(loss_sum / seen).tolist(), (correct.double() / seen).tolist()]
        probe = [v.tolist() for v in evaluation.evaluate(st.net, st.x_probe, st.y_probe)[:2]]
        val = [v.tolist() for v in evaluation.evaluate(st.net, data.x_val, data.y_val)[:2]]
        alive = st.record(epoch, probe + running + val, (time.perf_counter() - t0) / S, test)
        if on_epoch is not None:
            on_epoch(epoch, st.history)
        if not alive:
            break
        st.keep_last_state()
        if checkpoint is not None and epoch % ckpt.EVERY == 0 and epoch < config.epochs:
            # None if it could not be written: train on without
            checkpoint = ckpt.save(checkpoint, st.snapshot(epoch, time.perf_counter() - t_start), **identity)
        bar.set_postfix(loss=f"{np.mean([running[0][s] for s in alive]):.4f}",
                        val_acc=f"{np.mean([val[1][s] for s in alive]):.4f}")
    bar.close()


def _placed(config: RunConfig, data, dev: torch.device):
    """``data`` (default: the configuration's) on ``dev``; with bf16 the images cast once, not every step."""
    if data is None:
        from fcnbook.data.splits import load_for  # imported here so the model and loop import without torchvision

        data = load_for(config)
    data = data.to(dev)
    if config.precision == "bf16":  # the images are read only by bf16 products
        data = dataclasses.replace(data, **{k: getattr(data, k).to(torch.bfloat16)
                                            for k in ("x_train", "x_val", "x_test")})
    return data


def _start(config: RunConfig, seed_list: list[int], data, dev: torch.device) -> TrainState:
    """A fresh stack: each member's initial weights, data order, dropout masks and augmentation from its seed."""
    streams = [stream_seeds(s) for s in seed_list]
    model = FCN(config, [st[0] for st in streams], in_features=data.x_train.shape[1]).to(dev)
    order_gens = [torch.Generator(device=dev).manual_seed(st[1]) for st in streams]
    dropout_masks = DropoutMasks([st[2] for st in streams])
    augmenter = None
    if config.augment != "none" or config.erase:  # background: the normalised black pixel, the data's darkest
        augmenter = Augmenter([st[3] for st in streams], config.augment, config.max_shift,
                              background=data.x_train.min().item(), erase=config.erase,
                              erase_scale=config.erase_scale, erase_ratio=config.erase_ratio)
    opt = optimizer(model, config)
    ema = averaged(model, config.ema)
    scheduler = schedules.make(opt, config, len(data.y_train))
    probe = train_probe(data.y_train, len(data.y_val), config.split_seed)
    return TrainState(model=model, net=ema.module if ema is not None else model, optimizer=opt,
                      scheduler=scheduler, augmenter=augmenter, ema=ema, order_gens=order_gens,
                      dropout_masks=dropout_masks, x_probe=data.x_train.index_select(0, probe),
                      y_probe=data.y_train.index_select(0, probe), size=len(seed_list))


def _results(config: RunConfig, seed_list: list[int], st: TrainState, data, dev, extra: dict, evaluate_test: bool,
             total: float, keep_weights: bool) -> list[RunResult]:
    """One :class:`RunResult` per member: test figures from the final state (or the last finite one)."""
    if evaluate_test:
        t_loss, t_acc, t_pred = evaluation.evaluate(st.net, data.x_test, data.y_test)
        extra |= evaluation.extra_test_figures(st.net, data, st.alive, seed_list)
    final = st.net.state_dict() if keep_weights else {}
    results = []
    for s, seed in enumerate(seed_list):
        if not evaluate_test:
            loss = acc = pred = None
        elif s in st.test_at_divergence:
            loss, acc, pred = st.test_at_divergence[s]
        else:
            loss, acc, pred = t_loss[s].item(), t_acc[s].item(), t_pred[s].tolist()
        member_extra = dict(extra)
        if "tta_flip_test_accuracy" in extra:
            member_extra["tta_flip_test_accuracy"] = (extra["tta_flip_test_accuracy"][s]
                                                      if s not in st.test_at_divergence else None)
        results.append(RunResult(
            config=config, seed=seed, history=st.history[s],
            test_loss=loss if loss is None or math.isfinite(loss) else float("nan"), test_accuracy=acc,
            test_predictions=pred, diverged=st.diverged_at[s] is not None, diverged_epoch=st.diverged_at[s],
            device=str(dev), stack_size=st.size, seconds=total / st.size, extra=member_extra,
            weights={k: v[s : s + 1].detach().cpu().clone() for k, v in final.items()} if keep_weights else None,
        ))
    return results
