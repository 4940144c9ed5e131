"""The search space of ``fcnbook tune``, declared once: the CLI, the study and the book's table read it from here.

Each :class:`Param` is one Optuna suggestion. Some apply only under a condition (``nesterov`` only for SGD, the
warm-up only with a schedule, one width per hidden layer up to the sampled depth), which is why the space is a list
walked in order rather than a flat grid. :func:`config_of` turns a trial's parameters into the
:class:`~fcnbook.config.RunConfig` every run of the project uses, so a trial's run is stored, reused and retrained
like any other.

Profiles scale the space: ``full`` is the real study on all 54 000 training images; ``quick`` trains tiny networks
for one or two epochs on a stratified subset, so that the code path runs in seconds (tests, the quick book).

A range may widen between sessions of one study (the full widths went from 128-2048 to 50-2048 so that the named
recipes of :mod:`fcnbook.tuning.recipes` fit, the epochs from 10-50 to 10-300 for long budgets): trials drawn from the
narrower range stay valid points of the wider one, and :mod:`fcnbook.tuning.sampling` makes the sampler use the
current declaration. A new training option enters through :data:`ADDED` (the hook at the end of :func:`space`).
"""

from __future__ import annotations

from dataclasses import dataclass

from fcnbook.config import RunConfig


@dataclass(frozen=True)
class Param:
    """One hyperparameter: ``kind`` int/float/categorical; ``low``/``high`` (``log`` scale) or ``choices``."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: int | None = None
    choices: tuple = ()
    when: str = ""  # the condition under which it is sampled, in words (shown in the book)

    def describe(self) -> str:
        """The range in words, e.g. ``128 to 2048 (log)`` or ``sgd, adam``."""
        if self.kind == "categorical":
            return ", ".join(str(c) for c in self.choices)
        step = f" in steps of {self.step}" if self.step else ""
        return f"{self.low:g} to {self.high:g}" + (" (log scale)" if self.log else "") + step

    @classmethod
    def of(cls, name: str, dist) -> Param:
        """The ``Param`` of an Optuna distribution (as a stored trial holds it)."""
        if hasattr(dist, "choices"):
            return cls(name, "categorical", choices=tuple(dist.choices))
        kind = "float" if type(dist).__name__ == "FloatDistribution" else "int"
        step = dist.step if dist.step not in (None, 1) else None
        return cls(name, kind, dist.low, dist.high, log=dist.log, step=step)

    def distribution(self):
        """The Optuna distribution that :func:`sample` asks for (equal to the one a trial stores)."""
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        if self.kind == "int":
            return IntDistribution(int(self.low), int(self.high), log=self.log, step=self.step or 1)
        if self.kind == "float":
            return FloatDistribution(self.low, self.high, log=self.log)
        return CategoricalDistribution(list(self.choices))


#: Per profile: training subset, the widths' range, the epoch budget's range, the cap on depth. The full widths
#: start at 50, the narrowest layer of a named recipe (the report's 700-200-50); the epochs reach 300 for long
#: budgets, which the pruner (:mod:`fcnbook.tuning.sampling`) stops early when they trail.
#: TODO(frontier): config.RunConfig checks only ``epochs >= 1`` today; should an epoch cap be added there (a
#: colleague raises it on another branch), ``epochs`` here may go no higher than that cap.
PROFILES = {
    "full": {"subset": None, "widths": (50, 2048), "epochs": (10, 300), "epoch_step": 5, "depth": 4},
    "quick": {"subset": 2000, "widths": (16, 128), "epochs": (1, 2), "epoch_step": 1, "depth": 2},
}


def space(profile: str = "full", dataset: str = "fashion") -> list[Param]:
    """The parameters of a study, in the order they are sampled."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)} (got {profile!r})")
    P = PROFILES[profile]
    augments = ("none", "shift", "shift_flip") if dataset == "fashion" else ("none", "shift")
    params = [Param("depth", "int", 1, P["depth"])]
    params += [Param(f"width_{i}", "int", *P["widths"], log=True, when=f"depth > {i}") for i in range(P["depth"])]
    params += [
        Param("batch_norm", "categorical", choices=(False, True)),
        Param("dropout", "float", 0.0, 0.6),
        Param("optimizer", "categorical", choices=("sgd", "adam", "rmsprop", "adamw")),
        Param("lr_sgd", "float", 1e-3, 0.3, log=True, when="sgd"),
        Param("nesterov", "categorical", choices=(False, True), when="sgd (momentum 0.9)"),
        Param("lr_adaptive", "float", 1e-5, 1e-2, log=True, when="not sgd"),
        Param("weight_decay", "float", 1e-6, 0.1, log=True),
        Param("schedule", "categorical", choices=("constant", "cosine", "onecycle")),
        Param("warmup", "float", 0.0, 0.3, when="with a schedule"),
        Param("label_smoothing", "float", 0.0, 0.2),
        Param("batch_size", "categorical", choices=(128, 256, 512)),
        Param("augment", "categorical", choices=augments),
        Param("epochs", "int", *P["epochs"], step=P["epoch_step"]),
    ]
    return params + list(ADDED)


#: The hook for a new training option: append a ``Param`` whose name is the ``RunConfig`` field it sets. It is
#: sampled after every parameter above, always, and passed to ``RunConfig`` as is; a trial stored before it existed
#: lacks it and gets the field's default, so old trials keep their configurations and run keys. Give each recipe of
#: :mod:`fcnbook.tuning.recipes` the field's default too (:func:`added_defaults`), so that a recipe stays what it was.
#: The frontier's ingredients entered here: an exponential moving average of the weights (off, or a horizon of
#: about 100 or 1000 steps: 1 to 10 epochs at batch 512) and random erasing (off, or one box with probability
#: 0.1 to 0.5), as categories so that the sampler weighs "off" against "on" directly.
ADDED: tuple[Param, ...] = (
    Param("ema", "categorical", choices=(0.0, 0.99, 0.999)),
    Param("erase", "categorical", choices=(0.0, 0.1, 0.25, 0.5)),
)


def added_defaults() -> dict:
    """Each :data:`ADDED` parameter at its ``RunConfig`` default (the value a trial stored before it existed has)."""
    defaults = RunConfig()
    return {p.name: getattr(defaults, p.name) for p in ADDED}


def _suggest(trial, p: Param):
    if p.kind == "int":
        return trial.suggest_int(p.name, int(p.low), int(p.high), log=p.log, step=p.step or 1)
    if p.kind == "float":
        return trial.suggest_float(p.name, p.low, p.high, log=p.log)
    return trial.suggest_categorical(p.name, list(p.choices))


def sample(trial, profile: str = "full", dataset: str = "fashion") -> dict:
    """Ask ``trial`` (an ``optuna.Trial``) for every parameter whose condition holds; returns them by name."""
    params = {p.name: p for p in space(profile, dataset)}
    got = {"depth": _suggest(trial, params["depth"])}
    for i in range(got["depth"]):
        got[f"width_{i}"] = _suggest(trial, params[f"width_{i}"])
    for name in ("batch_norm", "dropout", "optimizer"):
        got[name] = _suggest(trial, params[name])
    if got["optimizer"] == "sgd":
        got["lr_sgd"] = _suggest(trial, params["lr_sgd"])
        got["nesterov"] = _suggest(trial, params["nesterov"])
    else:
        got["lr_adaptive"] = _suggest(trial, params["lr_adaptive"])
    for name in ("weight_decay", "schedule"):
        got[name] = _suggest(trial, params[name])
    if got["schedule"] != "constant":
        got["warmup"] = _suggest(trial, params["warmup"])
    for name in ("label_smoothing", "batch_size", "augment", "epochs"):
        got[name] = _suggest(trial, params[name])
    for p in ADDED:
        got[p.name] = _suggest(trial, p)
    return got


class _Given:
    """A stand-in for an Optuna trial that answers each suggestion from ``params`` and notes what does not fit."""

    def __init__(self, params: dict):
        self.params, self.asked, self.problems = params, set(), []

    def _get(self, name, fits, allowed):
        self.asked.add(name)
        if name not in self.params:
            self.problems.append(f"{name} is missing (needed: {allowed})")
            return None
        value = self.params[name]
        if not fits(value):
            self.problems.append(f"{name}={value!r} is outside the space ({allowed})")
        return value

    def suggest_int(self, name, low, high, log=False, step=1):
        allowed = Param(name, "int", low, high, log, step if step != 1 else None).describe()
        return self._get(name, lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v <= high
                         and (v - low) % step == 0, allowed)

    def suggest_float(self, name, low, high, log=False):
        return self._get(name, lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
                         and low <= v <= high, Param(name, "float", low, high, log).describe())

    def suggest_categorical(self, name, choices):
        return self._get(name, lambda v: any(v == c and type(v) is type(c) for c in choices),
                         ", ".join(map(str, choices)))


def outside(params: dict, profile: str = "full", dataset: str = "fashion") -> list[str]:
    """What keeps ``params`` from being a point of the space: missing, out-of-range or inapplicable parameters.

    An empty list means that :func:`sample` could have drawn exactly ``params`` (each condition respected).
    """
    given = _Given(params)
    try:
        sample(given, profile, dataset)
    except (TypeError, KeyError):  # a value so wrong that the walk cannot go on (e.g. depth missing)
        pass
    extra = sorted(set(params) - given.asked)
    return given.problems + [f"{name} does not apply here (its condition does not hold)" for name in extra]


def config_of(params: dict, profile: str = "full", dataset: str = "fashion", precision: str = "fp32") -> RunConfig:
    """The :class:`RunConfig` of a trial's parameters (as :func:`sample` returns them or a study stores them)."""
    sgd = params["optimizer"] == "sgd"
    return RunConfig(
        dataset=dataset, hidden=tuple(int(params[f"width_{i}"]) for i in range(params["depth"])),
        batch_norm=bool(params["batch_norm"]), dropout=float(params["dropout"]), optimizer=params["optimizer"],
        lr=float(params["lr_sgd"] if sgd else params["lr_adaptive"]), momentum=0.9 if sgd else 0.0,
        nesterov=bool(params.get("nesterov", False)) if sgd else False,
        weight_decay=float(params["weight_decay"]), schedule=params["schedule"],
        warmup=float(params.get("warmup", 0.0)) if params["schedule"] != "constant" else 0.0,
        label_smoothing=float(params["label_smoothing"]), batch_size=int(params["batch_size"]),
        augment=params["augment"], epochs=int(params["epochs"]), precision=precision,
        subset=PROFILES[profile]["subset"],
        **{p.name: params[p.name] for p in ADDED if p.name in params},  # absent: the field's default
    )
