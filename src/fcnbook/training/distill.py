"""Knowledge distillation (Hinton, Vinyals and Dean 2015): a student trained on a teacher ensemble's soft labels.

A configuration names its teacher by key (``RunConfig.teacher``) and seeds (``teacher_seeds``). The teacher's
prediction for an image is the mean over its members of ``softmax(z / T)``; the student's training loss, per
member, is

    (1 - w) * CE(labels, student logits)  +  w * T^2 * KL(teacher || softmax(student / T))

averaged over the mini-batch, with ``T = distill_temperature`` and ``w = distill_weight``. The factor ``T^2``
keeps the soft term's gradients on the scale of the hard term's as ``T`` changes (Hinton et al., section 2).

Soft labels are computed once, before training, and looked up per mini-batch, so the teacher costs evaluation passes
instead of a forward pass per step. With ``distill_views="clean"`` they are of the un-augmented training images
(:func:`teacher_log_probs`): a shifted or flipped image is taught its original's soft label. With ``"augmented"``
they are of every view the augmenter can make, ``(2k+1)^2`` shifts times two flips (:func:`teacher_view_log_probs`),
looked up by each image's drawn view (:func:`soft_labels`): exactly the teacher's outputs on the mini-batch the
student sees, as a forward pass per step would give them, for 50 evaluation passes over the training images
instead of one per epoch and member (the teacher is in evaluation mode, so its output on an image does not depend
on the rest of the batch). The runner (:mod:`fcnbook.store.runner`)
finds the teacher's configuration, trains it first when its weights are not stored (:mod:`fcnbook.store.weights`), and
hands the soft labels to :func:`fcnbook.training.fit.fit`. A distilled run's histories still report the cross-entropy
with the labels (``running_loss``, ``train_loss``...), the figure every other run reports, not this loss.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from fcnbook.config import RunConfig

CHUNK = 4096  # rows per teacher evaluation (bounds memory as fcnbook.training.evaluation.EVAL_CHUNK does)


@torch.no_grad()
def teacher_log_probs(model, x: torch.Tensor, temperature: float) -> torch.Tensor:
    """Log of the teacher ensemble's tempered prediction, ``log mean_m softmax(z_m / T)``, shape (N, classes).

    ``model`` is a stacked :class:`~fcnbook.training.model.FCN` (one member per teacher seed), evaluated in evaluation
    mode
    on the shared images ``x`` (N, features). Computed as a log-sum-exp, so tiny probabilities keep their logs.
    """
    if not (isinstance(temperature, int | float) and temperature > 0):
        raise ValueError(f"temperature must be a number > 0 (got {temperature!r})")
    was_training = model.training
    model.eval()
    chunks = []
    for start in range(0, len(x), CHUNK):
        log_p = F.log_softmax(model(x[start : start + CHUNK]).float() / temperature, dim=-1)  # (S, n, C)
        chunks.append(torch.logsumexp(log_p, dim=0) - math.log(log_p.shape[0]))
    model.train(was_training)
    return torch.cat(chunks)


@torch.no_grad()
def teacher_view_log_probs(model, x: torch.Tensor, config: RunConfig, background: float) -> torch.Tensor:
    """:func:`teacher_log_probs` of every shifted (and mirrored) view of the images ``x`` that ``config``'s augmenter
    can make, at its temperature: shape (N, ``config.soft_label_views()``, classes), views numbered as
    :func:`fcnbook.training.augment.view_index` numbers them and rendered by the augmenter's own
    :func:`~fcnbook.training.augment.shifted`, so a view's pixels are those the student is shown."""
    from fcnbook.training.augment import shifted, view_offsets

    k, flips = config.max_shift, config.augment == "shift_flip"
    views = []
    for v in range(config.soft_label_views()):
        chunks = []
        for start in range(0, len(x), CHUNK):  # shifting a chunk at a time bounds the gather's index tensors
            part = x[start : start + CHUNK][None]
            offsets = [torch.full(part.shape[:2], o, dtype=torch.long, device=x.device)
                       for o in view_offsets(v, k, flips)]
            chunks.append(teacher_log_probs(model, shifted(part, *offsets, k, background)[0],
                                            config.distill_temperature))
        views.append(torch.cat(chunks))
    return torch.stack(views, dim=1)


def soft_labels(teacher: torch.Tensor, flat: torch.Tensor, shape: torch.Size, views: torch.Tensor | None):
    """The teacher's log-probabilities (S, b, classes) of a mini-batch: rows ``flat`` (S * b) of the clean table
    (N, classes), or with a view table (N, views, classes) each image's drawn view ``views`` (S, b)."""
    if teacher.dim() == 2:
        return teacher.index_select(0, flat).view(*shape, -1)
    return teacher[flat, views.reshape(-1)].view(*shape, -1)


def loss(ce: torch.Tensor, logits: torch.Tensor, teacher: torch.Tensor, temperature: float,
         weight: float) -> torch.Tensor:
    """Per-member training loss (S,) of a distilled stack.

    Parameters
    ----------
    ce : Tensor
        (S, b) per-image cross-entropy with the labels (label smoothing already applied, as without a teacher).
    logits : Tensor
        (S, b, C) the student's logits.
    teacher : Tensor
        (S, b, C) the teacher's log-probabilities of the same images (:func:`teacher_log_probs`, gathered).
    temperature, weight : float
        ``T`` and ``w`` of the module docstring.
    """
    student = F.log_softmax(logits / temperature, dim=-1)
    kl = F.kl_div(student, teacher, reduction="none", log_target=True).sum(-1)  # (S, b)
    return (1 - weight) * ce.mean(1) + weight * temperature**2 * kl.mean(1)


def check_targets(teacher: torch.Tensor | None, config: RunConfig, n_train: int, n_classes: int = 10) -> None:
    """``ValueError`` unless ``teacher`` is given exactly when ``config`` names one, as finite log-probabilities of
    shape (n_train, classes), or (n_train, views, classes) with ``config.distill_views == "augmented"``."""
    if (teacher is None) != (not config.teacher):
        given = "missing" if teacher is None else "given"
        raise ValueError("teacher must be the soft labels of config.teacher exactly when the config names a teacher "
                         f"(config.teacher={config.teacher!r}, soft labels {given})")
    if teacher is None:
        return
    views = config.soft_label_views()
    shape = (n_train, n_classes) if config.distill_views == "clean" else (n_train, views, n_classes)
    if tuple(teacher.shape) != shape or not teacher.is_floating_point():
        raise ValueError(f"teacher must be {shape} log-probabilities for distill_views={config.distill_views!r} "
                         f"(got {tuple(teacher.shape)})")
    if not torch.isfinite(teacher).all():
        raise ValueError("teacher must be finite log-probabilities (a diverged teacher member?)")


def stacked_teacher(config: RunConfig, state: dict[str, torch.Tensor], device: torch.device):
    """The teacher ``config``'s network with one member per stored state slice, on ``device``."""
    from fcnbook.training.model import FCN

    n = next(iter(state.values())).shape[0]
    model = FCN(config, [0] * n, in_features=state["weights.0"].shape[1])  # initial draws are overwritten
    model.load_state_dict(state)
    return model.to(device)
