"""The lab: what a chapter's numbers are computed with when the store lacks them (imports torch).

The report layer never trains; a chapter asks its settings' lab (:class:`fcnbook.report.settings.Settings`). A
section notebook passes a :class:`Lab`, so that it runs from an empty store as well as from the shipped one:
results of missing (configuration, seed) pairs are trained and stored by the runner, the quick profile's tiny study
is run, and the batch-norm bias check is computed. What the store holds is reused, never recomputed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from fcnbook.config import RunConfig
from fcnbook.store import runner
from fcnbook.store.frames import Results


class Lab:
    """Computes what the store lacks, on ``device`` ("auto", "cpu" or "cuda"), under the results folder ``root``."""

    def __init__(self, device: str = "auto", root: Path | None = None):
        self.device, self.root = device, root

    def results(self, configs: Iterable[RunConfig], seeds: Sequence[int]) -> Results:
        """:func:`fcnbook.store.runner.run`: the stored runs, training the missing ones first."""
        return runner.run(list(configs), list(seeds), device=self.device, progress=False, root=self.root)

    def validation(self, configs: Iterable[RunConfig], seeds: Sequence[int]) -> list[dict]:
        """The stored records (dicts), training the missing ones first without touching the test set (a selection's
        runs: scored on validation only)."""
        return runner.run(list(configs), list(seeds), device=self.device, progress=False, root=self.root,
                          evaluate_test=False)

    def bias_check(self):
        """:func:`fcnbook.training.bias_check.batch_norm_bias_check` (a few seconds, float64)."""
        from fcnbook.training.bias_check import batch_norm_bias_check

        return batch_norm_bias_check()

    def study(self, name: str, trials: int, profile: str, root: Path | None = None):
        """The quick profile's tiny study, run to ``trials`` trials; any other profile's study as stored."""
        from fcnbook.tuning import objective, study

        root = root or self.root
        if profile == "quick":
            return objective.optimize(name, trials, root=root, profile="quick", progress=False, device=self.device,
                                      seed=0)  # one worker, a fixed sampler seed: the same trials on every build
        return study.load(name, root=root)

    def __repr__(self) -> str:
        return f"Lab(device={self.device!r})"
