"""The search space: every sampled trial is a valid RunConfig within the declared ranges, conditions respected."""

from __future__ import annotations

import optuna
import pytest

from fcnbook.tuning import space as search_space


@pytest.mark.parametrize("profile,dataset", [("full", "fashion"), ("full", "mnist"), ("quick", "fashion")])
def test_random_trials_are_valid_configs_within_the_declared_ranges(profile, dataset):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1), direction="maximize")
    declared = {p.name: p for p in search_space.space(profile, dataset)}
    seen = {"optimizer": set(), "augment": set(), "depth": set(), "schedule": set(), "ema": set(), "erase": set()}
    for _ in range(300):
        trial = study.ask()
        params = search_space.sample(trial, profile, dataset)
        config = search_space.config_of(params, profile, dataset, precision="bf16")
        study.tell(trial, 0.0)
        assert config.dataset == dataset and config.precision == "bf16"
        assert len(config.hidden) == params["depth"] and set(params) <= set(declared)
        for name, value in params.items():
            p = declared[name]
            assert value in p.choices if p.kind == "categorical" else p.low <= value <= p.high, (name, value)
        assert ("nesterov" in params) == ("lr_sgd" in params) == (config.optimizer == "sgd")
        assert ("warmup" in params) == (config.schedule != "constant")
        assert config.subset == search_space.PROFILES[profile]["subset"]
        assert (config.ema, config.erase) == (params["ema"], params["erase"])
        for k in seen:
            seen[k].add(params[k])
    assert seen["optimizer"] == {"sgd", "adam", "rmsprop", "adamw"}
    assert seen["augment"] == ({"none", "shift", "shift_flip"} if dataset == "fashion" else {"none", "shift"})
    assert seen["depth"] == set(range(1, search_space.PROFILES[profile]["depth"] + 1))
    assert seen["ema"] == {0.0, 0.99, 0.999} and seen["erase"] == {0.0, 0.1, 0.25, 0.5}  # the frontier's ingredients


def test_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="profile must be one of full, quick"):
        search_space.space("huge")


def test_a_new_option_enters_through_the_added_hook(monkeypatch):
    """A parameter appended to ADDED is sampled last and set on RunConfig; a trial stored without it keeps the
    field's default (so its run key does not change)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    monkeypatch.setattr(search_space, "ADDED", (search_space.Param("normalization", "categorical",
                                                                   choices=("train", "none")),))
    assert search_space.space("quick")[-1].name == "normalization"
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = set()
    for _ in range(20):
        trial = study.ask()
        params = search_space.sample(trial, "quick")
        assert list(params)[-1] == "normalization" and search_space.outside(params, "quick") == []
        seen.add(search_space.config_of(params, "quick").normalization)
        study.tell(trial, 0.0)
    assert seen == {"train", "none"}
    old = {k: v for k, v in params.items() if k != "normalization"}
    assert search_space.config_of(old, "quick").normalization == "train"
    assert search_space.outside(old, "quick") == ["normalization is missing (needed: train, none)"]
