"""The search space of ``fcnbook tune``, declared once: the CLI, the study and the book's table read it from here.

Each :class:`Param` is one Optuna suggestion. Some apply only under a condition (``nesterov`` only for SGD, the
warm-up only with a schedule, one width per hidden layer up to the sampled depth), which is why the space is a list
walked in order rather than a flat grid. :func:`config_of` turns a trial's parameters into the
:class:`~fcnbook.config.RunConfig` every run of the project uses, so a trial's run is stored, reused and retrained
like any other.

Profiles scale the space: ``full`` is the real study on all 54 000 training images; ``quick`` trains tiny networks
for one or two epochs on a stratified subset, so that the code path runs in seconds (tests, the quick book).
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


#: Per profile: training subset, the widths' range, the epoch budget's range, the cap on depth.
PROFILES = {
    "full": {"subset": None, "widths": (128, 2048), "epochs": (10, 50), "epoch_step": 5, "depth": 4},
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
    return params


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
    return got


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
    )
