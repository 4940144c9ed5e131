"""The sampler and pruner of a study's workers: TPE on the current (wider) space, Hyperband over epochs."""

from __future__ import annotations

import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution

from fcnbook.tuning import objective
from fcnbook.tuning import sampling as tune_sampling
from fcnbook.tuning import space as search_space
from fcnbook.tuning import study as tune

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")  # TPE's group=True
def test_a_widened_range_reaches_the_sampler_of_a_continued_study():
    """Trials stored under 10-50 epochs, then a declaration of 10-300: plain TPE stays inside the old range (it
    takes each range from the study's earliest trial), the current-space TPE samples the new one."""
    old = {"epochs": IntDistribution(10, 50, step=5), "x": FloatDistribution(0, 1)}
    new = {"epochs": IntDistribution(10, 300, step=5), "x": FloatDistribution(0, 1)}
    highest = {}
    kwargs = {"seed": 1, "multivariate": True, "group": True, "n_startup_trials": 8}
    for name, sampler in [("plain", optuna.samplers.TPESampler(**kwargs)),
                          ("current", tune_sampling._tpe_class()(new, **kwargs))]:
        study = optuna.create_study(direction="maximize", sampler=sampler)
        for i in range(20):  # longer was better so far: TPE should push towards the upper end
            e = 10 + 5 * (i % 9)
            study.add_trial(optuna.trial.create_trial(params={"epochs": e, "x": i / 20}, distributions=old,
                                                      value=e / 50))
        seen = []
        for _ in range(20):
            trial = study.ask()
            if name == "current":
                assert sampler.infer_relative_search_space(study, trial)["epochs"] == new["epochs"]
            seen.append(trial.suggest_int("epochs", 10, 300, step=5))
            trial.suggest_float("x", 0, 1)
            study.tell(trial, seen[-1] / 50)
        highest[name] = max(seen)
    assert highest["plain"] <= 50 < highest["current"]


@pytest.mark.parametrize("profile,dataset", [("full", "fashion"), ("full", "mnist"), ("quick", "fashion")])
def test_the_declared_distributions_are_what_trials_store(profile, dataset):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    declared = tune_sampling.declared(profile, dataset)
    for _ in range(40):
        trial = study.ask()
        search_space.sample(trial, profile, dataset)
        for name, dist in trial.distributions.items():
            assert dist == declared[name], name
        study.tell(trial, 0.0)


def test_hyperband_over_the_space_epochs_and_the_pruner_choice(tmp_path):
    full = tune_sampling.pruner("hyperband", "full")
    assert isinstance(full, optuna.pruners.HyperbandPruner)
    assert (full._min_resource, full._max_resource, full._reduction_factor) == (5, 300, 3)
    quick = tune.create("q", root=tmp_path, profile="quick").pruner
    assert isinstance(quick, optuna.pruners.HyperbandPruner) and (quick._min_resource, quick._max_resource) == (1, 2)
    assert isinstance(tune.create("q", root=tmp_path, profile="quick", pruner="none").pruner,
                      optuna.pruners.NopPruner)
    with pytest.raises(ValueError, match="pruner must be one of hyperband, none"):
        tune_sampling.pruner("median")


def test_neither_a_last_epoch_nor_a_recipe_is_pruned():
    assert tune_sampling.may_prune(5, 40) and not tune_sampling.may_prune(40, 40)
    assert not tune_sampling.may_prune(5, 40, "report-tuned")


def test_a_quick_study_prunes_by_epoch_and_never_at_the_end(tmp_path):
    study = objective.optimize("hb", 8, root=tmp_path, profile="quick", progress=False, seed=2)
    for t in study.trials:
        epochs = t.user_attrs["config"]["epochs"]
        assert max(t.intermediate_values) <= epochs  # steps are epochs now, not percent of the budget
        if t.state.name == "PRUNED":
            assert max(t.intermediate_values) < epochs
