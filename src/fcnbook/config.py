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
import math
import numbers
from dataclasses import dataclass, field

DATASETS = ("fashion", "mnist")
INITS = ("default", "normal", "xavier_normal", "kaiming_uniform", "kaiming_normal")
OPTIMIZERS = ("sgd", "adam", "rmsprop", "adamw")
NORMALIZATIONS = ("train", "mnist", "none")
SCHEDULES = ("constant", "cosine", "onecycle")
AUGMENTS = ("none", "shift", "shift_flip")
PRECISIONS = ("fp32", "bf16")


#: Fields added after records were first stored, with the default at which they are left out of :meth:`RunConfig.key`.
KEY_OMITS_DEFAULT: dict[str, object] = {
    "default_bias": False, "nesterov": False, "schedule": "constant", "warmup": 0.0, "label_smoothing": 0.0,
    "augment": "none", "max_shift": 2, "precision": "fp32",
}


def _fail(name: str, allowed: str, value) -> None:
    raise ValueError(f"{name} must be {allowed} (got {value!r})")


def _is_number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def check_data_settings(val_fraction, split_seed, normalization, subset) -> None:
    """The one check of how a dataset is split and scaled (used by :class:`RunConfig` and
    ``fcnbook.data.splits.load``)."""
    if normalization not in NORMALIZATIONS:
        _fail("normalization", f"one of {', '.join(NORMALIZATIONS)}", normalization)
    if not _is_number(val_fraction) or not 0 < val_fraction <= 0.5:
        _fail("val_fraction", "a number in (0, 0.5]", val_fraction)
    if not _is_int(split_seed) or split_seed < 0:
        _fail("split_seed", "an integer >= 0", split_seed)
    if subset is not None and (not _is_int(subset) or subset < 100):
        _fail("subset", "None or an integer >= 100", subset)


def check_seeds(seeds) -> list[int]:
    """``seeds`` as a list of distinct integers >= 0, or ``ValueError`` saying what is allowed.

    The one check of seeds for the CLI, the notebooks' settings, the runner and the trainer.
    """
    allowed = f"seeds must be a non-empty list of distinct integers >= 0 (got {seeds!r})"
    if isinstance(seeds, str | bytes) or not hasattr(seeds, "__iter__"):
        raise ValueError(allowed)
    seeds = list(seeds)
    if not seeds or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in seeds):
        raise ValueError(allowed)
    seeds = [int(s) for s in seeds]
    if len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise ValueError(allowed)
    return seeds


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
    precision : {"fp32", "bf16"}
        Arithmetic of the matrix products: ``bf16`` computes them in bfloat16 with fp32 master weights, fp32
        batch norm, loss and optimizer (training and evaluation alike); ``fp32`` everywhere otherwise.
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
    precision: str = "fp32"
    batch_size: int = 512
    epochs: int = 15
    normalization: str = "train"
    val_fraction: float = 0.1
    split_seed: int = 0
    subset: int | None = field(default=None)

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            _fail("dataset", f"one of {', '.join(DATASETS)}", self.dataset)
        hidden = self.hidden
        if isinstance(hidden, list):
            hidden = tuple(hidden)
            object.__setattr__(self, "hidden", hidden)
        if not isinstance(hidden, tuple) or not hidden or not all(_is_int(h) and h >= 1 for h in hidden):
            _fail("hidden", "a non-empty list of positive integers", self.hidden)
        if not _is_number(self.dropout) or not 0 <= self.dropout < 1:
            _fail("dropout", "a number in [0, 1)", self.dropout)
        if not isinstance(self.batch_norm, bool):
            _fail("batch_norm", "true or false", self.batch_norm)
        if self.init not in INITS:
            _fail("init", f"one of {', '.join(INITS)}", self.init)
        if not isinstance(self.default_bias, bool):
            _fail("default_bias", "true or false", self.default_bias)
        if self.default_bias and self.init == "default":
            _fail("default_bias", "false with init='default' (its biases are the default draw already)", True)
        if not _is_number(self.init_std) or self.init_std <= 0:
            _fail("init_std", "a number > 0", self.init_std)
        if self.optimizer not in OPTIMIZERS:
            _fail("optimizer", f"one of {', '.join(OPTIMIZERS)}", self.optimizer)
        if not _is_number(self.lr) or self.lr <= 0:
            _fail("lr", "a number > 0", self.lr)
        if not _is_number(self.momentum) or not 0 <= self.momentum < 1:
            _fail("momentum", "a number in [0, 1)", self.momentum)
        if self.momentum and self.optimizer in ("adam", "adamw"):
            _fail("momentum", f"0 for {self.optimizer} (it has its own betas)", self.momentum)
        if not _is_number(self.weight_decay) or self.weight_decay < 0:
            _fail("weight_decay", "a number >= 0", self.weight_decay)
        if not isinstance(self.nesterov, bool):
            _fail("nesterov", "true or false", self.nesterov)
        if self.nesterov and (self.optimizer != "sgd" or not self.momentum):
            _fail("nesterov", "false unless optimizer is sgd with momentum > 0", self.nesterov)
        if self.schedule not in SCHEDULES:
            _fail("schedule", f"one of {', '.join(SCHEDULES)}", self.schedule)
        if not _is_number(self.warmup) or not 0 <= self.warmup <= 0.5:
            _fail("warmup", "a number in [0, 0.5]", self.warmup)
        if self.warmup and self.schedule == "constant":
            _fail("warmup", "0 with schedule='constant'", self.warmup)
        if not _is_number(self.label_smoothing) or not 0 <= self.label_smoothing < 0.5:
            _fail("label_smoothing", "a number in [0, 0.5)", self.label_smoothing)
        if self.augment not in AUGMENTS:
            _fail("augment", f"one of {', '.join(AUGMENTS)}", self.augment)
        if self.augment == "shift_flip" and self.dataset != "fashion":
            _fail("augment", "none or shift for mnist (a mirrored digit is another symbol)", self.augment)
        if not _is_int(self.max_shift) or not 1 <= self.max_shift <= 4:
            _fail("max_shift", "an integer from 1 to 4", self.max_shift)
        if self.max_shift != 2 and self.augment == "none":
            _fail("max_shift", "2 (its default) without augmentation", self.max_shift)
        if self.precision not in PRECISIONS:
            _fail("precision", f"one of {', '.join(PRECISIONS)}", self.precision)
        if not _is_int(self.batch_size) or self.batch_size < 2:
            _fail("batch_size", "an integer >= 2", self.batch_size)
        if not _is_int(self.epochs) or self.epochs < 1:
            _fail("epochs", "an integer >= 1", self.epochs)
        check_data_settings(self.val_fraction, self.split_seed, self.normalization, self.subset)
        # Store floats as floats so that lr=1 and lr=1.0 are the same run (and the same key).
        for name in ("dropout", "init_std", "lr", "momentum", "weight_decay", "warmup", "label_smoothing",
                     "val_fraction"):
            object.__setattr__(self, name, float(getattr(self, name)))

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
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> RunConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        return cls().replace(**{k: (tuple(v) if k == "hidden" else v) for k, v in d.items()})

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
            if d[name] == default:
                del d[name]
        blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

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
        if self.precision != "fp32":
            parts.append(self.precision)
        if self.normalization != "train":
            parts.append(f"{self.normalization}-norm")
        if self.split_seed:
            parts.append(f"split={self.split_seed}")
        if self.dataset != "fashion":
            parts.insert(0, self.dataset)
        return " ".join(parts)
