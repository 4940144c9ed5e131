"""What a training run is set up from: the device, each seed's independent random streams, the training probe, the
optimizer over a stack's parameters."""

from __future__ import annotations

import numpy as np
import torch

from fcnbook.config import RunConfig
from fcnbook.training.model import FCN


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
    from fcnbook.data.indices import stratified_subset

    labels = y_train.cpu().numpy()
    return torch.from_numpy(stratified_subset(labels, min(n, len(labels)), seed)).to(y_train.device)


def optimizer(model: FCN, config: RunConfig) -> torch.optim.Optimizer:
    """The configuration's optimizer over the stacked parameters of ``model``.

    All four are elementwise in their state, so one optimizer over stacked parameters updates each member exactly
    as its own optimizer would.
    """
    params, c = model.parameters(), config
    if c.optimizer == "sgd":
        return torch.optim.SGD(params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay,
                               nesterov=c.nesterov)
    if c.optimizer == "adam":
        return torch.optim.Adam(params, lr=c.lr, weight_decay=c.weight_decay)
    if c.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=c.lr, weight_decay=c.weight_decay)
    return torch.optim.RMSprop(params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)
