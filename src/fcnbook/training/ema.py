"""An exponential moving average (EMA) of a stack's weights and batch-norm statistics (``RunConfig.ema``).

PyTorch's own ``torch.optim.swa_utils.AveragedModel`` with ``get_ema_multi_avg_fn(decay)`` and
``use_buffers=True`` keeps a copy of the network whose parameters *and* buffers (the batch-norm running mean and
variance) follow ``avg = decay * avg + (1 - decay) * current`` (computed as ``lerp``) after every optimizer step;
its first update copies the network, so the average starts at the weights after step 1. Averaging the batch-norm
statistics with the weights (rather than copying the raw network's) keeps the two consistent with each other.

The update is elementwise, and a stacked tensor of shape (S, ...) holds one member per slice, so member ``s`` of
the averaged stack is exactly the average a lone run of seed ``s`` keeps: the members stay independent, and a
member whose weights become NaN spoils only its own slice (``fit`` then reports it from its last finite state).

The averaged copy is a whole :class:`~fcnbook.training.model.FCN` (``.module``), evaluated as the raw network would be;
its state, including the count of updates, goes into the epoch checkpoint, so a resumed run averages on exactly.
"""

from __future__ import annotations

from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn


def averaged(model: nn.Module, decay: float) -> AveragedModel | None:
    """The moving average of ``model`` with ``decay`` in ``[0, 1)``, or ``None`` when ``decay`` is 0 (off).

    Call ``.update_parameters(model)`` after every optimizer step and evaluate ``.module``. The update counter
    stays on the CPU (no device synchronisation per step); the averaged network lives where ``model`` does.
    """
    if isinstance(decay, bool) or not isinstance(decay, int | float) or not 0 <= decay < 1:
        raise ValueError(f"decay must be a number in [0, 1) (got {decay!r})")
    if not decay:
        return None
    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
