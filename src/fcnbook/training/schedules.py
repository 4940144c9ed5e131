"""Learning-rate schedules, stepped once per optimizer step.

``constant`` keeps ``config.lr``. ``cosine`` warms up linearly over the first ``warmup`` fraction of the steps
(from ``lr / warm`` at the first step to ``lr``) and then decays along a half cosine to 0 at the last step: with
no warm-up it is exactly ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=steps, eta_min=0)``, which the tests
check. ``onecycle`` is PyTorch's own ``OneCycleLR`` (peak ``lr``, ``pct_start = warmup`` or its default 0.3,
cosine annealing, momentum not cycled so that it works for every optimizer and keeps Adam's betas fixed).
"""

from __future__ import annotations

import math

import torch

from fcnbook.config import RunConfig


def steps_per_epoch(n_train: int, config: RunConfig) -> int:
    """Optimizer steps in one epoch of ``n_train`` images (``fit`` skips a last batch of one image with batch norm)."""
    full, rest = divmod(n_train, config.batch_size)
    return full + (1 if rest and not (config.batch_norm and rest < 2) else 0)


def cosine_factor(step: int, total: int, warm: int) -> float:
    """Multiplier of ``lr`` before optimizer step ``step`` (0-based) of ``total``, with ``warm`` warm-up steps."""
    if step < warm:
        return (step + 1) / warm
    return 0.5 * (1.0 + math.cos(math.pi * (step - warm) / max(1, total - warm)))


def make(optimizer: torch.optim.Optimizer, config: RunConfig, n_train: int):
    """The scheduler of ``config`` for ``optimizer`` (``None`` for a constant rate); call ``.step()`` per step."""
    total = config.epochs * steps_per_epoch(n_train, config)
    if config.schedule == "constant":
        return None
    if config.schedule == "cosine":
        warm = round(config.warmup * total)
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: cosine_factor(step, total, warm))
    return torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, total_steps=total, pct_start=config.warmup or 0.3, cycle_momentum=False)
