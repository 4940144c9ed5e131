"""The one vocabulary of the project: a frozen, validated run configuration.

A :class:`RunConfig` names everything that decides the numbers of a training run except the seed. The CLI builds
one from its flags, the notebooks build them through :meth:`RunConfig.replace`, and the run store files results
under :meth:`RunConfig.key`. Every field is validated when the object is made, so a bad value fails before any
data is loaded or any weight is trained.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

from fcnbook.checks import (  # noqa: F401  (the vocabulary's allowed values, imported from here everywhere)
    AUGMENTS,
    DATASETS,
    ERASE_RATIO,
    ERASE_SCALE,
    INITS,
    NORMALIZATIONS,
    OPTIMIZERS,
    PRECISIONS,
    SCHEDULES,
    TEACHER_SEEDS,
    TUPLE_FIELDS,
    check_data_settings,
    check_seeds,
    validate,
)

#: Fields added after records were first stored, with the default at which they are left out of :meth:`RunConfig.key`.
KEY_OMITS_DEFAULT: dict[str, object] = {
    "default_bias": False, "nesterov": False, "schedule": "constant", "warmup": 0.0, "label_smoothing": 0.0,
    "augment": "none", "max_shift": 2, "precision": "fp32", "ema": 0.0, "erase": 0.0,
    "erase_scale": ERASE_SCALE, "erase_ratio": ERASE_RATIO, "teacher": "", "teacher_seeds": TEACHER_SEEDS,
    "distill_temperature": 4.0, "distill_weight": 0.0, "distill_views": "clean",
}


@dataclass(frozen=True)
class RunConfig:
    """Configuration of one training run (everything but the seed).

    Parameters
    ----------
    dataset : {"fashion", "mnist"}
        FashionMNIST or MNIST.
    hidden : tuple of int
        Widths of the hidden layers; ``(500, 50)`` is the seed report's baseline.
    dropout : float
        Dropout probability after every hidden ReLU, in ``[0, 1)``; 0 means no dropout layer.
    batch_norm : bool
        Put ``BatchNorm1d`` between every hidden Linear and its ReLU.
    init : {"default", "normal", "xavier_normal", "kaiming_uniform", "kaiming_normal"}
        Weight initialisation; ``default`` is PyTorch's own ``nn.Linear`` initialisation.
    init_std : float
        Standard deviation of the ``normal`` initialisation (the report's text says 0.1, its code used 0.01).
    default_bias : bool
        With an explicit ``init``, keep ``nn.Linear``'s default uniform bias draw instead of zero biases (the
        report's original code re-initialised weights only). Must stay False with ``init="default"``.
    optimizer : {"sgd", "adam", "rmsprop", "adamw"}
        The optimizer, with PyTorch's defaults for everything not named here.
    lr, momentum, weight_decay : float
        Learning rate (> 0; the peak rate under a schedule), momentum (SGD and RMSProp, in ``[0, 1)``), weight
        decay (>= 0: an L2 term in the gradient, except for ``adamw``, whose decay is decoupled from it).
    nesterov : bool
        Nesterov momentum (SGD only, with momentum > 0).
    schedule : {"constant", "cosine", "onecycle"}
        Learning rate per optimizer step: constant; a linear warm-up over the first ``warmup`` fraction of the
        steps then cosine decay to 0; or PyTorch's ``OneCycleLR`` (cosine up to ``lr`` over the ``warmup``
        fraction, 0.3 when ``warmup`` is 0, then cosine down; momentum is not cycled).
    warmup : float
        Fraction of all optimizer steps spent warming up, in ``[0, 0.5]``; only with a schedule.
    label_smoothing : float
        Label smoothing of the training loss, in ``[0, 0.5)`` (validation and test losses stay plain).
    augment : {"none", "shift", "shift_flip"}
        Training-time augmentation of every mini-batch: each image shifted by up to ``max_shift`` pixels in both
        directions (border filled with the background), and with ``shift_flip`` also mirrored left-right with
        probability 1/2 (FashionMNIST only: a mirrored digit is another symbol). Evaluation is never augmented.
    max_shift : int
        Largest shift of ``augment``, 1 to 4 pixels; only with augmentation.
    erase : float
        Random erasing (Zhong et al. 2020, torchvision's ``RandomErasing``): the probability, in ``[0, 1]``, that a
        training image gets one rectangle filled with the background value; 0 = off. It composes with every
        ``augment``: an image is shifted (and mirrored) first, then erased. Evaluation is never erased.
    erase_scale : tuple of float
        Range ``(low, high)`` of the erased area as a fraction of the image, ``0 < low <= high <= 1``; only with
        ``erase`` (default torchvision's ``(0.02, 0.33)``).
    erase_ratio : tuple of float
        Range ``(low, high)`` of the rectangle's aspect ratio (height / width), drawn log-uniformly,
        ``0 < low <= high``; only with ``erase`` (default torchvision's ``(0.3, 3.3)``).
    precision : {"fp32", "bf16"}
        Arithmetic of the matrix products: ``bf16`` computes them in bfloat16 with fp32 master weights, fp32
        batch norm, loss and optimizer (training and evaluation alike); ``fp32`` everywhere otherwise.
    ema : float
        Decay of an exponential moving average of the weights and batch-norm statistics, updated after every
        optimizer step, in ``[0, 1)``; 0 = off. When set, every evaluation (training probe, validation, test,
        stored predictions) uses the averaged network instead of the last weights.
    teacher : str
        Knowledge distillation (Hinton et al. 2015): the key (:meth:`key`) of a configuration trained on the same
        data whose ``teacher_seeds`` ensemble is the teacher; ``""`` = none. The runner trains it first when its
        weights are not stored (:mod:`fcnbook.distill`).
    teacher_seeds : tuple of int
        Seeds of the teacher's members (distinct, >= 0); the teacher is the mean of their tempered softmaxes.
    distill_temperature : float
        Temperature ``T`` > 0 of both softmaxes of the distillation term; only with a teacher.
    distill_weight : float
        Weight ``w`` in ``(0, 1]`` of the distillation term: the training loss is ``(1 - w) * CE(labels) +
        w * T^2 * KL(teacher || student)``; 0 without a teacher.
    distill_views : {"clean", "augmented"}
        Which images the teacher's soft labels are of: ``clean``, the un-augmented training images (a shifted or
        flipped image is taught its original's soft label); ``augmented``, each shifted and flipped image exactly as
        the student sees it (Hinton et al.'s form; needs shifts, no random erasing).
    batch_size : int
        Training mini-batch size (the course template used 512).
    epochs : int
        Passes over the training split.
    normalization : {"train", "mnist", "none"}
        Standardise pixels with the training split's mean/std, with the course template's MNIST constants
        (0.1307, 0.3081), or not at all (pixels in [0, 1]).
    val_fraction : float
        Fraction of the 60k training images held out, stratified by class, for validation; in ``(0, 0.5]``.
    split_seed : int
        Seed of the validation split (fixed, so every run of a study sees the same split).
    subset : int or None
        Train on a stratified subset of this many training images (quick previews); ``None`` = all.
    """

    dataset: str = "fashion"
    hidden: tuple[int, ...] = (500, 50)
    dropout: float = 0.0
    batch_norm: bool = False
    init: str = "default"
    init_std: float = 0.1
    default_bias: bool = False
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.0
    weight_decay: float = 0.0
    nesterov: bool = False
    schedule: str = "constant"
    warmup: float = 0.0
    label_smoothing: float = 0.0
    augment: str = "none"
    max_shift: int = 2
    erase: float = 0.0
    erase_scale: tuple[float, float] = ERASE_SCALE
    erase_ratio: tuple[float, float] = ERASE_RATIO
    precision: str = "fp32"
    ema: float = 0.0
    teacher: str = ""
    teacher_seeds: tuple[int, ...] = TEACHER_SEEDS
    distill_temperature: float = 4.0
    distill_weight: float = 0.0
    distill_views: str = "clean"
    batch_size: int = 512
    epochs: int = 15
    normalization: str = "train"
    val_fraction: float = 0.1
    split_seed: int = 0
    subset: int | None = field(default=None)

    def __post_init__(self) -> None:
        validate(self)  # every field, one line naming it and what is allowed (fcnbook.config_checks)

    def replace(self, **changes) -> RunConfig:
        """A copy with ``changes`` applied (validated like a new config); unknown names raise ``ValueError``."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            names = ", ".join(f.name for f in dataclasses.fields(self))
            raise ValueError(f"unknown RunConfig field(s) {', '.join(sorted(unknown))}; allowed: {names}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (``hidden`` as a list)."""
        d = dataclasses.asdict(self)
        for name in TUPLE_FIELDS:
            d[name] = list(getattr(self, name))
        return d

    @classmethod
    def from_dict(cls, d: dict) -> RunConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        return cls().replace(**{k: (tuple(v) if k in TUPLE_FIELDS else v) for k, v in d.items()})

    def key(self) -> str:
        """Stable 16-hex-digit key of every field (the run store's file name stem).

        Fields added after the first records were stored (:data:`KEY_OMITS_DEFAULT`) enter the key only when they
        differ from their default, so adding a field never changes the key of an existing configuration.

        >>> RunConfig().key(), RunConfig(lr=1).key() == RunConfig(lr=1.0).key()  # the baseline's; lr 1 is lr 1.0
        ('c0fec544e4c6d82b', True)
        >>> RunConfig(nesterov=False).key() == RunConfig().key(), RunConfig(epochs=16).key() == RunConfig().key()
        (True, False)
        """
        d = self.to_dict()
        for name, default in KEY_OMITS_DEFAULT.items():
            if getattr(self, name) == default:  # the field itself: a range is a tuple here, a list in d
                del d[name]
        blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def soft_label_views(self) -> int:
        """Soft labels per training image a distilled run's teacher gives: 1 for ``distill_views="clean"``, one per
        shift (and flip) the augmenter can make for ``"augmented"``, ``(2 * max_shift + 1)^2`` (times two with flips).
        """
        if self.distill_views == "clean":
            return 1
        return (2 * self.max_shift + 1) ** 2 * (2 if self.augment == "shift_flip" else 1)

    def label(self) -> str:
        """Short human-readable description, e.g. ``500-50 sgd lr=0.1``."""
        parts = ["-".join(map(str, self.hidden)), self.optimizer, f"lr={self.lr:.3g}"]
        if self.dropout:
            parts.append(f"dropout={self.dropout:.3g}")
        if self.batch_norm:
            parts.append("batchnorm")
        if self.init != "default":
            parts.append(self.init + (f"({self.init_std:g})" if self.init == "normal" else ""))
            if self.default_bias:
                parts.append("default-bias")
        if self.weight_decay:
            parts.append(f"wd={self.weight_decay:.3g}")
        if self.schedule != "constant":
            parts.append(self.schedule + (f"(warmup={self.warmup:.2g})" if self.warmup else ""))
        if self.label_smoothing:
            parts.append(f"ls={self.label_smoothing:.2g}")
        if self.nesterov:
            parts.append("nesterov")
        if self.augment != "none":
            parts.append(f"{self.augment}({self.max_shift}px)")
        if self.erase:
            ranges = "" if (self.erase_scale, self.erase_ratio) == (ERASE_SCALE, ERASE_RATIO) else \
                "(area={:g}-{:g}, ratio={:g}-{:g})".format(*self.erase_scale, *self.erase_ratio)
            parts.append(f"erase={self.erase:.2g}{ranges}")
        if self.precision != "fp32":
            parts.append(self.precision)
        if self.ema:
            parts.append(f"ema={self.ema:g}")
        if self.teacher:
            views = ", augmented views" if self.distill_views == "augmented" else ""
            parts.append(f"distill({self.teacher[:6]}, T={self.distill_temperature:g}, w={self.distill_weight:g}"
                         f"{views})")
        if self.normalization != "train":
            parts.append(f"{self.normalization}-norm")
        if self.split_seed:
            parts.append(f"split={self.split_seed}")
        if self.dataset != "fashion":
            parts.insert(0, self.dataset)
        return " ".join(parts)
