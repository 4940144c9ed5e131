"""Does the bias of a Linear layer before batch norm matter? A float64 check on a small network (imports torch).

The protocol chapter (:mod:`fcnbook.report.chapters.protocol`) shows the table; :meth:`fcnbook.lab.Lab.bias_check`
computes it, since the report layer never imports torch.
"""

from __future__ import annotations

import pandas as pd

BN_MOMENTUM = 0.1  # torch.nn.BatchNorm1d's default: the running mean takes up the bias at this rate per step


def batch_norm_bias_check(checkpoints=(10, 106, 1590), seed: int = 0, width: int = 32, batch: int = 64,
                          lr: float = 0.1) -> pd.DataFrame:
    """Linear (with bias) -> BatchNorm1d -> ReLU -> Linear against the same net without the first bias.

    Both start from the same weights and train with SGD on the same random batches (float64). Per checkpoint
    (steps taken; 106 is one epoch of the baseline, 1590 fifteen): the largest output difference in training
    and in evaluation mode, the largest |gradient| the bias ever received, and the evaluation-mode bound
    ``max|b| (1 - momentum)^steps / min sqrt(running_var + eps) * max|gamma|``: the running mean starts at 0 and
    takes up the bias at rate ``momentum``, the one place the bias survives.
    """
    import copy

    import torch
    from torch import nn

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny network: one thread is fastest, and it stays so on a busy machine
    try:
        return _bias_check(torch, nn, copy, checkpoints, seed, width, batch, lr)
    finally:
        torch.set_num_threads(threads)


def _bias_check(torch, nn, copy, checkpoints, seed, width, batch, lr) -> pd.DataFrame:
    torch.manual_seed(seed)
    a = nn.Sequential(nn.Linear(20, width), nn.BatchNorm1d(width), nn.ReLU(), nn.Linear(width, 5)).double()
    b = nn.Sequential(nn.Linear(20, width, bias=False), nn.BatchNorm1d(width), nn.ReLU(), nn.Linear(width, 5)).double()
    with torch.no_grad():
        b[0].weight.copy_(a[0].weight)
        b[3].load_state_dict(a[3].state_dict())
    opt = [torch.optim.SGD(m.parameters(), lr=lr) for m in (a, b)]
    g = torch.Generator().manual_seed(seed)
    probe = torch.randn(256, 20, generator=g, dtype=torch.float64)
    rows, grad_max = [], 0.0
    for step in range(1, max(checkpoints) + 1):
        x = torch.randn(batch, 20, generator=g, dtype=torch.float64)
        y = torch.randint(0, 5, (batch,), generator=g)
        for m, o in zip((a, b), opt, strict=True):
            o.zero_grad()
            nn.functional.cross_entropy(m(x), y).backward()
            o.step()
        grad_max = max(grad_max, float(a[0].bias.grad.abs().max()))
        if step in checkpoints:
            bn = a[1]
            with torch.no_grad():
                bound = float(a[0].bias.abs().max() * (1 - BN_MOMENTUM) ** step * bn.weight.abs().max()
                              / (bn.running_var + bn.eps).sqrt().min())
                diffs = {}
                for mode in ("train", "eval"):  # on copies, so that probing leaves the running statistics alone
                    ca, cb = copy.deepcopy(a).train(mode == "train"), copy.deepcopy(b).train(mode == "train")
                    diffs[mode] = float((ca(probe) - cb(probe)).abs().max())
            rows.append({"steps": step, "train_diff": diffs["train"], "eval_diff": diffs["eval"],
                         "eval_bound": bound, "bias_grad_max": grad_max})
    return pd.DataFrame(rows).set_index("steps")
