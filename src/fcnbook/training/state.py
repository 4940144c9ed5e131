"""Everything a training run carries from one epoch to the next, and the bookkeeping the loop leaves to it.

:func:`fcnbook.training.fit.fit` reads as the loop itself; this module holds its state (the stacked model and the
network every evaluation reads, the optimizer, schedule, augmenter, weight average and every random stream), how
that state resumes from an epoch checkpoint and is written to one, and what happens to a member whose loss stops
being finite: its history ends and its test figures come from its last finite state, as a lone run's would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from fcnbook.training import evaluation

#: The per-epoch metrics of a member's history, in the order :meth:`TrainState.record` receives them.
METRICS = ("train_loss", "train_accuracy", "running_loss", "running_accuracy", "val_loss", "val_accuracy", "seconds")


def _clone(state: dict) -> dict:
    return {k: v.detach().clone() for k, v in state.items()}


@dataclass
class TrainState:
    """The training state of a stack of ``size`` members (see the module docstring)."""

    model: torch.nn.Module
    net: torch.nn.Module  # the network every evaluation reads: the weight average with config.ema, else the model
    optimizer: torch.optim.Optimizer
    scheduler: object | None
    augmenter: object | None
    ema: object | None
    order_gens: list[torch.Generator]
    dropout_masks: object
    x_probe: torch.Tensor
    y_probe: torch.Tensor
    size: int
    history: list[dict] = field(default_factory=list)
    diverged_at: list[int | None] = field(default_factory=list)
    test_at_divergence: dict[int, tuple] = field(default_factory=dict)
    last_state: dict = field(default_factory=dict)

    def __post_init__(self):
        self.history = self.history or [{k: [] for k in METRICS} for _ in range(self.size)]
        self.diverged_at = self.diverged_at or [None] * self.size

    @property
    def alive(self) -> list[int]:
        """The members that have not diverged."""
        return [s for s in range(self.size) if self.diverged_at[s] is None]

    def restore(self, saved: dict) -> tuple[int, float]:
        """Continue from a checkpoint: every random stream and all bookkeeping; returns (first epoch, elapsed s)."""
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(saved["scheduler"])
        if self.augmenter is not None:
            self.augmenter.states = saved["augment_streams"]
        if self.ema is not None:
            self.ema.load_state_dict(saved["ema"])
        for g, state in zip(self.order_gens, saved["order_streams"], strict=True):
            g.set_state(state.cpu())
        self.dropout_masks.states = saved["dropout_streams"]
        self.history, self.diverged_at = saved["history"], saved["diverged_at"]
        self.test_at_divergence = {int(s): tuple(v) for s, v in saved["test_at_divergence"].items()}
        return saved["epoch"] + 1, saved["elapsed"]

    def snapshot(self, epoch: int, elapsed: float) -> dict:
        """What an epoch checkpoint holds (the evaluated network's last state is the network's own: not twice)."""
        return {
            "epoch": epoch, "elapsed": elapsed,
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "augment_streams": self.augmenter.states if self.augmenter is not None else None,
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "order_streams": [g.get_state() for g in self.order_gens],
            "dropout_streams": self.dropout_masks.states,
            "history": self.history, "diverged_at": self.diverged_at, "test_at_divergence": self.test_at_divergence,
        }

    def keep_last_state(self) -> None:
        """Remember the evaluated network as it is now: a member that diverges later is evaluated from here."""
        self.last_state = _clone(self.net.state_dict())

    def record(self, epoch: int, metrics: list[list[float]], seconds: float, test=None) -> list[int]:
        """Append an epoch's ``metrics`` (one list per :data:`METRICS` entry but seconds, one value per member).

        A member whose running or probe loss is not finite is marked diverged at ``epoch`` and gets no entry; with
        ``test`` (the test images and labels) its test figures are measured from :attr:`last_state`. Returns the
        members still alive.
        """
        running_loss, train_loss = metrics[2], metrics[0]
        newly = [s for s in self.alive if not (math.isfinite(running_loss[s]) and math.isfinite(train_loss[s]))]
        # Without test images (a study's trials) a member is never marked diverged, and its non-finite figures enter
        # its history: that is how version 3 has always recorded them, so stored trial records stay reproducible.
        if newly and test is not None:  # measure the diverged members from their last finite state
            state = _clone(self.net.state_dict())
            self.net.load_state_dict(self.last_state)
            t_loss, t_acc, t_pred = evaluation.evaluate(self.net, *test)
            self.net.load_state_dict(state)
            for s in newly:
                self.diverged_at[s] = epoch
                self.test_at_divergence[s] = (t_loss[s].item(), t_acc[s].item(), t_pred[s].tolist())
        for s in self.alive:
            for k, v in zip(METRICS, [m[s] for m in metrics] + [seconds], strict=True):
                self.history[s][k].append(v)
        return self.alive
