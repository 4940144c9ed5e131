"""How a study's worker samples and prunes: TPE on the current search space, and Hyperband over epochs.

Sampler. Optuna's TPE with ``multivariate=True, group=True`` models the parameters that occur together. To find
each parameter's range it takes the distribution stored with the *earliest* trial that used the parameter, so in a
study begun under a narrower declaration (the shipped study: widths 128-2048, 10-50 epochs) every later draw would
stay inside the old range for good. :class:`CurrentSpaceTPE` swaps in the current declaration of
:mod:`fcnbook.tuning.space` by name; the earlier trials' values lie inside the wider ranges and still count.

Pruner. Each trial reports its validation accuracy after every epoch, with the epoch as the step, and Optuna's
:class:`~optuna.pruners.HyperbandPruner` compares trials at rungs of :data:`MIN_EPOCHS` x 3^k epochs (5, 15, 45, 135
in the full space): at a rung a trial goes on only if it is among the best third of its bracket there. A trial is
never pruned at its last epoch (it has its result; a stop would only discard it) nor when it is a named recipe
(:mod:`fcnbook.tuning.recipes`: the references are run to the end). The pruner belongs to the running process, not to
the
stored study: a study begun under the earlier median pruner (which reported percent of the budget as its step)
loads and continues as before, its new trials pruned by Hyperband.
"""

from __future__ import annotations

import warnings

from fcnbook.tuning import space as search_space

MIN_EPOCHS = 5  # the first rung of the full space (the quick space's budgets are 1-2 epochs: its rung is 1)
REDUCTION = 3  # a third of the trials at a rung go on to the next
PRUNERS = ("hyperband", "none")  # none: every trial runs to its last epoch (benchmarks, comparisons)
STARTUP = 8  # random trials before TPE models the others (per Hyperband bracket: the sampler sees its own)

_classes: dict = {}


def _tpe_class():
    """:class:`CurrentSpaceTPE`, built on first use (Optuna is imported lazily by the whole package)."""
    if "tpe" in _classes:
        return _classes["tpe"]
    from optuna.samplers import TPESampler

    class CurrentSpaceTPE(TPESampler):
        """TPE whose relative search space takes each parameter's range from the current declaration."""

        def __init__(self, declared: dict, **kwargs):
            super().__init__(**kwargs)
            self._declared = declared

        def infer_relative_search_space(self, study, trial):
            space = super().infer_relative_search_space(study, trial)
            # The grouped space is kept on the sampler and read again by sample_relative: update it in place. Should
            # a later Optuna drop the attribute, TPE falls back to the stored ranges (narrower, never wrong).
            for sub in getattr(getattr(self, "_search_space_group", None), "search_spaces", []):
                for name in sub:
                    if name in self._declared:
                        sub[name] = self._declared[name]
            return {name: self._declared.get(name, dist) for name, dist in space.items()}

    _classes["tpe"] = CurrentSpaceTPE
    return CurrentSpaceTPE


def declared(profile: str = "full", dataset: str = "fashion") -> dict:
    """Every parameter's Optuna distribution in the current declaration of the space, by name."""
    return {p.name: p.distribution() for p in search_space.space(profile, dataset)}


def sampler(seed: int | None, profile: str = "full", dataset: str = "fashion"):
    """The TPE sampler of one worker, seeded with ``seed`` (see :func:`fcnbook.tuning.worker.sampler_seed`)."""
    from optuna.exceptions import ExperimentalWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ExperimentalWarning)  # group=True is "experimental"
        return _tpe_class()(declared(profile, dataset), seed=seed, multivariate=True, group=True,
                            constant_liar=True, n_startup_trials=STARTUP)


def pruner(kind: str = "hyperband", profile: str = "full"):
    """The pruner of one worker: Hyperband over the epochs of the profile's space, or none."""
    import optuna

    if kind not in PRUNERS:
        raise ValueError(f"pruner must be one of {', '.join(PRUNERS)} (got {kind!r})")
    if kind == "none":
        return optuna.pruners.NopPruner()
    low, high = search_space.PROFILES[profile]["epochs"]
    return optuna.pruners.HyperbandPruner(min_resource=min(MIN_EPOCHS, low), max_resource=high,
                                          reduction_factor=REDUCTION)


def may_prune(epoch: int, epochs: int, recipe: str | None = None) -> bool:
    """Whether a trial may be stopped after ``epoch`` of its ``epochs``: not at its end, not if it is a ``recipe``."""
    return epoch < epochs and recipe is None


def searched(study) -> dict:
    """The ranges ``study``'s trials were drawn from, by parameter: one range per parameter that covers every
    trial's (a range widened mid-study counts from its narrowest low to its widest high)."""
    from optuna.distributions import CategoricalDistribution

    out: dict = {}
    for t in study.get_trials(deepcopy=False):
        for name, d in t.distributions.items():
            have = out.setdefault(name, d)
            if have == d:
                continue
            if isinstance(d, CategoricalDistribution) and isinstance(have, CategoricalDistribution):
                out[name] = CategoricalDistribution(list(dict.fromkeys([*have.choices, *d.choices])))
            elif type(d) is type(have) and (d.log, d.step) == (have.log, have.step):
                out[name] = type(d)(min(have.low, d.low), max(have.high, d.high), log=d.log, step=d.step)
    return out
