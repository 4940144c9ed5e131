"""The vocabulary's allowed values and every check of them: one line naming the parameter and what is allowed.

:class:`fcnbook.config.RunConfig` calls :func:`validate` when it is made, so a bad value fails before any data is
loaded or any weight trained; the command line, the notebooks' settings and the runner use the same checks.
"""

from __future__ import annotations

import math
import numbers

DATASETS = ("fashion", "mnist")
INITS = ("default", "normal", "xavier_normal", "kaiming_uniform", "kaiming_normal")
OPTIMIZERS = ("sgd", "adam", "rmsprop", "adamw")
NORMALIZATIONS = ("train", "mnist", "none")
SCHEDULES = ("constant", "cosine", "onecycle")
AUGMENTS = ("none", "shift", "shift_flip")
PRECISIONS = ("fp32", "bf16")
ERASE_SCALE = (0.02, 0.33)  # torchvision's RandomErasing defaults: area fraction of the box...
ERASE_RATIO = (0.3, 3.3)  # ...and its aspect ratio (height / width), drawn log-uniformly
TEACHER_SEEDS = (0, 1, 2, 3, 4)
DISTILL_VIEWS = ("clean", "augmented")
TUPLE_FIELDS = ("hidden", "erase_scale", "erase_ratio", "teacher_seeds")  # tuples here, lists in JSON


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


def validate(self) -> None:
    """Check every field of a :class:`fcnbook.config.RunConfig` (``self``): a one-line ``ValueError`` naming the
    first bad one and what is allowed; lists become tuples and numbers floats, so equal runs have equal keys."""
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
    _check_erasing(self)
    if self.precision not in PRECISIONS:
        _fail("precision", f"one of {', '.join(PRECISIONS)}", self.precision)
    if not _is_number(self.ema) or not 0 <= self.ema < 1:
        _fail("ema", "a number in [0, 1) (0 = off)", self.ema)
    _check_distillation(self)
    if not _is_int(self.batch_size) or self.batch_size < 2:
        _fail("batch_size", "an integer >= 2", self.batch_size)
    if not _is_int(self.epochs) or self.epochs < 1:
        _fail("epochs", "an integer >= 1", self.epochs)
    check_data_settings(self.val_fraction, self.split_seed, self.normalization, self.subset)
    # Store floats as floats so that lr=1 and lr=1.0 are the same run (and the same key).
    for name in ("dropout", "init_std", "lr", "momentum", "weight_decay", "warmup", "label_smoothing",
                 "val_fraction", "erase", "ema", "distill_temperature", "distill_weight"):
        object.__setattr__(self, name, float(getattr(self, name)))

def _check_distillation(self) -> None:
    """Validate ``teacher``, ``teacher_seeds``, ``distill_temperature``, ``distill_weight`` and ``distill_views``."""
    teacher = self.teacher
    if not isinstance(teacher, str) or (teacher and (len(teacher) != 16 or teacher.strip("0123456789abcdef"))):
        _fail("teacher", "'' or a configuration key of 16 hex digits", teacher)
    seeds = tuple(self.teacher_seeds) if isinstance(self.teacher_seeds, list | tuple) else None
    if seeds is None or not seeds or not all(_is_int(s) and s >= 0 for s in seeds) or len(set(seeds)) < len(seeds):
        _fail("teacher_seeds", "a non-empty list of distinct integers >= 0", self.teacher_seeds)
    if seeds != TEACHER_SEEDS and not teacher:
        _fail("teacher_seeds", f"{TEACHER_SEEDS} (its default) without a teacher", self.teacher_seeds)
    object.__setattr__(self, "teacher_seeds", seeds)
    if not _is_number(self.distill_temperature) or self.distill_temperature <= 0:
        _fail("distill_temperature", "a number > 0", self.distill_temperature)
    if self.distill_temperature != 4 and not teacher:
        _fail("distill_temperature", "4.0 (its default) without a teacher", self.distill_temperature)
    if not _is_number(self.distill_weight) or not 0 <= self.distill_weight <= 1:
        _fail("distill_weight", "a number in [0, 1]", self.distill_weight)
    if bool(self.distill_weight) != bool(teacher):
        _fail("distill_weight", "> 0 with a teacher and 0 without one", self.distill_weight)
    if self.distill_views not in DISTILL_VIEWS:
        _fail("distill_views", f"one of {', '.join(DISTILL_VIEWS)}", self.distill_views)
    if self.distill_views == "augmented" and not (teacher and self.augment != "none" and not self.erase):
        _fail("distill_views", "'clean' unless there is a teacher and shifts without random erasing (the teacher's "
              "outputs are tabulated for every shift and flip; erased boxes are too many to tabulate)",
              self.distill_views)

def _check_erasing(self) -> None:
    """Validate ``erase``, ``erase_scale`` and ``erase_ratio``; store both ranges as tuples of floats."""
    if not _is_number(self.erase) or not 0 <= self.erase <= 1:
        _fail("erase", "a number in [0, 1] (0 = off)", self.erase)
    ranges = {"erase_scale": ("0 < low <= high <= 1", 1.0, ERASE_SCALE),
              "erase_ratio": ("0 < low <= high", math.inf, ERASE_RATIO)}
    for name, (rule, top, default) in ranges.items():
        value = getattr(self, name)
        pair = tuple(value) if isinstance(value, list | tuple) else None
        if pair is None or len(pair) != 2 or not all(_is_number(v) for v in pair) \
                or not 0 < pair[0] <= pair[1] <= top:
            _fail(name, f"a pair (low, high) with {rule}", value)
        pair = (float(pair[0]), float(pair[1]))
        if pair != default and not self.erase:
            _fail(name, f"{default} (its default) without erasing", value)
        object.__setattr__(self, name, pair)
