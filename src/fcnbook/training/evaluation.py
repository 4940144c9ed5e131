"""Evaluation of a stacked network: per-member loss, accuracy and predictions; softmax outputs; the test extras.

Every evaluation runs in evaluation mode (no dropout, batch norm on running statistics) in chunks of
:data:`EVAL_CHUNK` rows, so memory stays bounded whatever the split's size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fcnbook.training.augment import mirror
from fcnbook.training.model import FCN

EVAL_CHUNK = 4096  # rows per evaluation matmul: bounds memory at S * 4096 * widest layer floats


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


def extra_test_figures(model: FCN, data, members: list[int], seeds: list[int]) -> dict:
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
