"""A profile's settings as one typed, frozen object, and where a chapter gets numbers it does not compute itself.

:class:`Settings` replaces the ``S`` dict of earlier versions: how many epochs, which seeds, which training subset,
which SVD sizes, and the *lab* that produces results. The report layer never trains (an import contract says so):
a chapter asks ``settings.lab`` for the results of its configurations. The default lab, :class:`Stored`, only reads
the run store and names what is missing; a notebook passes :class:`fcnbook.lab.Lab`, which trains what the store
lacks first, so that a section runs from an empty store as well as from the shipped one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from fcnbook.config import RunConfig, check_seeds
from fcnbook.report.paper import BASELINE
from fcnbook.store.frames import MissingRuns, Results, stored_records, stored_results


class LabLike(Protocol):
    """What a chapter may ask of a lab (see :class:`fcnbook.lab.Lab` for the one that trains)."""

    def results(self, configs: Iterable[RunConfig], seeds: Sequence[int]) -> Results: ...

    def validation(self, configs: Iterable[RunConfig], seeds: Sequence[int]) -> list[dict]: ...

    def bias_check(self) -> Any: ...

    def study(self, name: str, trials: int, profile: str, root: Path | None = None) -> Any: ...


class Stored:
    """A lab that only reads: results of stored records, the stored study; anything else is
    :class:`fcnbook.store.frames.MissingRuns`.

    With it a chapter can be computed without torch (the report's tests use it); a record that is missing is named,
    with the command that makes it.
    """

    def __init__(self, root: Path | None = None):
        self.root = root

    def results(self, configs: Iterable[RunConfig], seeds: Sequence[int]) -> Results:
        return stored_results(list(configs), list(seeds), root=self.root)

    def validation(self, configs: Iterable[RunConfig], seeds: Sequence[int]) -> list[dict]:
        return stored_records(list(configs), list(seeds), root=self.root, need_test=False)

    def bias_check(self):
        raise MissingRuns("the batch-norm bias check is computed, not stored: use fcnbook.lab.Lab")

    def study(self, name: str, trials: int, profile: str, root: Path | None = None):
        from fcnbook.tuning import study as tune

        return tune.load(name, root=root or self.root)


@dataclass(frozen=True)
class Settings:
    """A profile's settings (:data:`PROFILES`) with the section's overrides applied.

    Made by :func:`settings`, which validates every value; compare two with ``==``
    (the lab is left out).
    """

    profile: str
    epochs: int
    long_epochs: int
    seeds: tuple[int, ...]
    subset: int | None
    svd_subset: int | None
    svc_subset: int
    forensic_sizes: tuple[int, ...] | None
    forensic_full: bool
    precision: str
    lab: LabLike = field(default_factory=Stored, compare=False, repr=False)

    def replace(self, **changes) -> Settings:
        """A copy with ``changes`` (validated again by :func:`settings`)."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)} | changes
        return settings(values.pop("profile"), **values)

    def results(self, configs: Iterable[RunConfig]) -> Results:
        """The results of ``configs`` on this profile's seeds, from the lab."""
        return self.lab.results(list(configs), list(self.seeds))


PROFILES: dict[str, dict] = {
    "quick": {"epochs": 2, "long_epochs": 3, "seeds": [0, 1], "subset": 3000, "svd_subset": 3000,
              "svc_subset": 1_000, "forensic_sizes": None, "forensic_full": False, "precision": "fp32"},
    # svc_subset: training images of every RBF-SVC fit. Measured on two shared cores (FashionMNIST, default SVC(),
    # one thread): 10 000 images take about 8 s to fit and 20 s to predict the test set, 20 000 take 26-42 s and
    # 82-86 s. Fitting grows with the square of the training-set size, predicting with the support vectors times
    # the images, so all 54 000 would take about half an hour for the forensic check alone; 20 000 keep the
    # section's SVC fits at about seven minutes. forensic_sizes: the forensic curve's sizes up to svc_subset.
    # forensic_full: also the report's SVC() on the whole training split, fitted once (tens of minutes) and cached.
    # precision: arithmetic of every network; fp32 is what the shipped records were trained with, and what
    # machines without fast bf16 hardware get. bf16 is a section parameter (-p precision bf16), trained anew.
    "full": {"epochs": 15, "long_epochs": 70, "seeds": [0, 1, 2, 3, 4], "subset": None, "svd_subset": None,
             "svc_subset": 20_000, "forensic_sizes": [2_000, 5_000, 10_000, 20_000], "forensic_full": True,
             "precision": "fp32"},
}


def settings(profile: str = "full", *, lab: LabLike | None = None, **overrides) -> Settings:
    """The profile's settings with every override that is not ``None`` applied.

    Parameters
    ----------
    profile : {"quick", "full"}
    lab : optional
        Where results come from (:class:`fcnbook.report.settings.Settings`); default: the store, read only.
    **overrides
        ``epochs``, ``long_epochs``, ``seeds`` (list of int), ``subset``, ``svd_subset``, ``svc_subset``,
        ``forensic_sizes``, ``forensic_full``, ``precision`` ("fp32" or "bf16"); ``None`` keeps the profile's value.

    Returns
    -------
    Settings
        Each value validated as :class:`RunConfig` would (epochs >= 1, ...).
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)} (got {profile!r})")
    values = dict(PROFILES[profile])
    for name, value in overrides.items():
        if name not in values:
            raise ValueError(f"unknown profile setting {name!r}; allowed: {', '.join(values)}")
        if value is not None:
            values[name] = value
    values["seeds"] = tuple(check_seeds(values["seeds"]))
    if values["forensic_sizes"] is not None:
        values["forensic_sizes"] = tuple(values["forensic_sizes"])
    BASELINE.replace(epochs=values["epochs"], subset=values["subset"])  # validates epochs and subset, one line
    BASELINE.replace(epochs=values["long_epochs"], precision=values["precision"])
    return Settings(profile=profile, **values, **({"lab": lab} if lab is not None else {}))


def is_shortened(S: Settings) -> bool:
    """True when ``S`` trains less than the report did (fewer epochs, a subset, fewer SVD images): its numbers
    show that a section works, not what the methods can do."""
    full = PROFILES["full"]
    return any(getattr(S, k) != full[k] for k in ("epochs", "long_epochs", "subset", "svd_subset"))
