import dataclasses

import pytest

from fcnbook.config import KEY_OMITS_DEFAULT, RunConfig

BAD = {
    "dataset": ["cifar", ""],
    "hidden": [(), (0,), (500, -1), (1.5,), "500"],
    "dropout": [-0.1, 1.0, 1.5, float("nan"), True],
    "batch_norm": [1, "yes"],
    "init": ["he", "Default"],
    "init_std": [0, -0.1, float("inf")],
    "default_bias": [1, "yes", True],  # True is refused with init="default"
    "optimizer": ["adagrad", "SGD"],
    "lr": [0, -1, float("nan"), "0.1"],
    "momentum": [-0.5, 1.0],
    "weight_decay": [-1e-4],
    "nesterov": [1, True],  # True is refused without momentum
    "schedule": ["linear", ""],
    "warmup": [-0.1, 0.6, 0.1],  # 0.1 is refused with the constant schedule
    "label_smoothing": [-0.1, 0.5, float("nan")],
    "augment": ["rotate", True],
    "max_shift": [0, 5, 2.0, 3],  # 3 is refused without augmentation
    "erase": [-0.1, 1.5, float("nan"), True, "0.5"],
    # (0.1, 0.2) is refused without erasing
    "erase_scale": [(0.0, 0.3), (0.3, 0.1), (0.1,), (0.1, 0.2, 0.3), (0.1, 1.5), "0.1,0.2", (0.1, True), (0.1, 0.2)],
    "erase_ratio": [(0, 1), (2.0, 1.0), (1.0,), (-1.0, 2.0), (0.5, float("inf")), None, (0.5, 2.0)],
    "precision": ["fp16", "bfloat16"],
    "ema": [-0.1, 1.0, 1.5, float("nan"), True, "0.99"],
    "teacher": [123, "xyz", "0123456789ABCDEF", "0123456789abcde", None],
    "teacher_seeds": [(), (1, 1), (-1,), (0.5,), (True,), "0,1", (0, 1)],  # (0, 1) is refused without a teacher
    "distill_temperature": [0, -1.0, float("nan"), "4", 2.0],  # 2.0 is refused without a teacher
    "distill_weight": [-0.1, 1.5, float("nan"), 0.5],  # 0.5 is refused without a teacher
    "distill_views": ["all", None, "augmented"],  # augmented is refused without a teacher
    "batch_size": [0, 1, 2.5],
    "epochs": [0, -3, 1.5],
    "normalization": ["zscore"],
    "val_fraction": [0, 0.6, -0.1],
    "split_seed": [-1, 0.5],
    "subset": [0, 99, 1000.5],
}

# Another valid value for every field, to show that the key depends on each of them.
OTHER = {"dataset": "mnist", "hidden": (700, 200, 50), "dropout": 0.5, "batch_norm": True, "init": "xavier_normal",
         "init_std": 0.01, "default_bias": True,
         "optimizer": "adam", "lr": 0.001, "momentum": 0.9, "weight_decay": 1e-4, "nesterov": True,
         "schedule": "cosine", "warmup": 0.1, "label_smoothing": 0.1, "augment": "shift", "max_shift": 3,
         "erase": 0.5, "erase_scale": (0.1, 0.2), "erase_ratio": (0.5, 2.0), "precision": "bf16", "ema": 0.999,
         "teacher": "0123456789abcdef", "teacher_seeds": (0, 1), "distill_temperature": 2.0, "distill_weight": 0.25,
         "distill_views": "augmented", "batch_size": 256, "epochs": 70, "normalization": "mnist", "val_fraction": 0.2,
         "split_seed": 3, "subset": 5000}


def test_every_field_is_covered():
    names = {f.name for f in dataclasses.fields(RunConfig)}
    assert set(BAD) == names and set(OTHER) == names


@pytest.mark.parametrize("name,value", [(n, v) for n, vs in BAD.items() for v in vs])
def test_invalid_values_name_the_field(name, value):
    with pytest.raises(ValueError) as err:
        RunConfig(**{name: value})
    assert str(err.value).startswith(name + " must be") and "\n" not in str(err.value)


def test_adam_rejects_momentum():
    with pytest.raises(ValueError, match="momentum"):
        RunConfig(optimizer="adam", momentum=0.9)


def test_frozen_and_replace():
    c = RunConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.lr = 1.0
    d = c.replace(lr=0.01)
    assert d.lr == 0.01 and c.lr == 0.1
    with pytest.raises(ValueError, match="unknown RunConfig field"):
        c.replace(learning_rate=0.1)
    with pytest.raises(ValueError, match="lr must be"):
        c.replace(lr=-1)


@pytest.mark.parametrize("name", sorted(OTHER))
def test_key_changes_with_every_field(name):
    needs = {"default_bias": {"init": "normal"}, "nesterov": {"momentum": 0.9}, "warmup": {"schedule": "cosine"},
             "max_shift": {"augment": "shift"}, "erase_scale": {"erase": 0.5}, "erase_ratio": {"erase": 0.5},
             **dict.fromkeys(("teacher_seeds", "distill_temperature", "distill_weight", "distill_views"),
                             {"teacher": "fedcba9876543210", "distill_weight": 0.5, "augment": "shift"})}
    base = RunConfig(**needs.get(name, {}))
    with_it = {"teacher": {"distill_weight": 0.5}}.get(name, {})  # a teacher comes with its weight
    changed = base.replace(**{name: OTHER[name]}, **with_it)
    if name == "optimizer":
        changed = base.replace(optimizer="rmsprop")
    assert changed.key() != base.key()


def test_key_is_stable_and_type_normalised():
    assert RunConfig().key() == RunConfig().key()
    assert RunConfig(lr=1).key() == RunConfig(lr=1.0).key()
    assert RunConfig(hidden=[500, 50]) == RunConfig()
    assert len(RunConfig().key()) == 16


def test_fields_added_later_leave_existing_keys_unchanged():
    """A field added after records were stored enters the key only when set, so old records keep their keys."""
    import hashlib
    import json

    for c in (RunConfig(), RunConfig(init="normal", init_std=0.01), RunConfig(hidden=(700, 200, 50), epochs=70)):
        old = {k: v for k, v in c.to_dict().items() if k not in KEY_OMITS_DEFAULT}
        blob = json.dumps(old, sort_keys=True, separators=(",", ":"))
        assert c.key() == hashlib.sha256(blob.encode()).hexdigest()[:16]
    assert RunConfig(init="normal", default_bias=True).key() != RunConfig(init="normal").key()
    assert RunConfig().key() == "c0fec544e4c6d82b"  # its key before any field was added


def test_dict_round_trip():
    c = RunConfig(**{k: v for k, v in OTHER.items() if k not in ("optimizer", "distill_views")})  # it erases
    assert RunConfig.from_dict(c.to_dict()) == c
    views = RunConfig(augment="shift", teacher="0123456789abcdef", distill_weight=0.5, distill_views="augmented")
    assert RunConfig.from_dict(views.to_dict()) == views
    with pytest.raises(ValueError):
        RunConfig.from_dict({**c.to_dict(), "colour": "red"})


def test_label():
    assert RunConfig().label() == "500-50 sgd lr=0.1"
    assert "batchnorm" in RunConfig(batch_norm=True).label()
    assert RunConfig(init="normal", init_std=0.01).label().endswith("normal(0.01)")


@pytest.mark.parametrize("changes,name", [
    ({"optimizer": "adamw", "momentum": 0.9}, "momentum"),
    ({"optimizer": "adam", "momentum": 0.9, "nesterov": True}, "momentum"),
    ({"optimizer": "rmsprop", "momentum": 0.9, "nesterov": True}, "nesterov"),
    ({"dataset": "mnist", "augment": "shift_flip"}, "augment"),
    ({"teacher": "0123456789abcdef"}, "distill_weight"),
    ({"teacher": "0123456789abcdef", "distill_weight": 0.0}, "distill_weight"),
    ({"teacher": "0123456789abcdef", "distill_weight": 0.5, "distill_views": "augmented"}, "distill_views"),
    ({"teacher": "0123456789abcdef", "distill_weight": 0.5, "distill_views": "augmented", "augment": "shift",
      "erase": 0.25}, "distill_views"),
])
def test_combinations_refused_in_one_line(changes, name):
    with pytest.raises(ValueError) as err:
        RunConfig(**changes)
    assert str(err.value).startswith(name + " must be") and "\n" not in str(err.value)


def test_new_options_are_accepted_together():
    c = RunConfig(optimizer="adamw", lr=2e-3, weight_decay=0.05, schedule="onecycle", warmup=0.2,
                  label_smoothing=0.1, augment="shift_flip", max_shift=2, precision="bf16")
    assert RunConfig.from_dict(c.to_dict()) == c
    assert "adamw" in c.label() and "onecycle" in c.label() and "bf16" in c.label()
    assert RunConfig(optimizer="sgd", momentum=0.9, nesterov=True).nesterov


# ------------------------------------------------------------------------------------ the frontier's ingredients

def test_new_fields_at_their_defaults_leave_every_stored_key_unchanged():
    """Each record in results/ was filed under the key of its stored configuration, which predates ema, erasing and
    distillation: read back (the new fields at their defaults) it must still give that key."""
    import json
    from pathlib import Path

    records = sorted((Path(__file__).parent.parent / "results" / "runs").glob("*/seed-*.json"))
    if not records:
        pytest.skip("no stored records")
    added_now = set(KEY_OMITS_DEFAULT) - {"default_bias", "nesterov", "schedule", "warmup", "label_smoothing",
                                          "augment", "max_shift", "precision"}
    older = 0
    for path in records[:: max(1, len(records) // 40)]:  # a spread of ~40 of them: the key is all that is read
        record = json.loads(path.read_text())
        config = RunConfig.from_dict(record["config"])
        assert config.key() == record["key"] == path.parent.name
        if not added_now & set(record["config"]):  # stored before the new fields existed: read back at defaults
            older += 1
            assert (config.ema, config.erase, config.erase_scale, config.erase_ratio) == (
                0.0, 0.0, (0.02, 0.33), (0.3, 3.3))
    assert older  # the shipped store holds such records (newer ones, e.g. the frontier's, carry every field)


def test_new_fields_enter_the_key_only_when_set():
    base = RunConfig(hidden=(1024, 1024), batch_norm=True, augment="shift_flip")
    assert base.replace(ema=0, erase=0).key() == base.key()
    assert base.replace(erase_scale=[0.02, 0.33], erase_ratio=(0.3, 3.3)).key() == base.key()  # a list is a tuple
    assert base.replace(teacher_seeds=[0, 1, 2, 3, 4], distill_temperature=4, distill_weight=0).key() == base.key()
    taught = base.replace(teacher="0123456789abcdef", distill_weight=0.5)
    keys = {base.key(), base.replace(ema=0.999).key(), base.replace(erase=0.5).key(),
            base.replace(erase=0.5, erase_scale=(0.1, 0.2)).key(), base.replace(erase=0.5, erase_ratio=(1, 2)).key(),
            taught.key(), taught.replace(teacher_seeds=(0, 1)).key(), taught.replace(distill_temperature=2).key(),
            taught.replace(distill_weight=1).key(), taught.replace(distill_views="augmented").key()}
    assert len(keys) == 10
    assert taught.replace(distill_views="clean").key() == taught.key()


def test_erasing_ranges_are_tuples_of_floats_and_round_trip_through_json():
    import json

    c = RunConfig(erase=1, erase_scale=[0.1, 0.2], erase_ratio=(1, 2), ema=0.99)
    assert c.erase == 1.0 and isinstance(c.erase, float) and c.erase_ratio == (1.0, 2.0)
    assert all(isinstance(v, float) for v in (*c.erase_scale, *c.erase_ratio))
    assert RunConfig.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    assert c.label().endswith("erase=1(area=0.1-0.2, ratio=1-2) ema=0.99")
    assert RunConfig(erase=0.5, augment="shift_flip").label().endswith("shift_flip(2px) erase=0.5")


def test_epoch_budgets_of_hundreds_are_valid():
    """The frontier trains for up to 300 epochs and more: nothing caps epochs (>= 1 is the only rule)."""
    import torch

    from fcnbook.training import schedules

    for epochs in (100, 300, 1000):
        c = RunConfig(epochs=epochs, schedule="onecycle", ema=0.999)
        assert c.epochs == epochs and RunConfig.from_dict(c.to_dict()) == c
    # and the schedule spans them all: 300 epochs of 54k images in batches of 256 are 63 300 steps
    c = RunConfig(epochs=300, batch_size=256, schedule="onecycle", optimizer="adamw", lr=2e-3)
    sched = schedules.make(torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=c.lr), c, 54_000)
    assert sched.total_steps == 63_300
