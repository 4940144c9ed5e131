"""The frontier's ingredient ladder and its comparators, declared once (what to train; the chapter reads them).

The ladder starts from the report's tuned network as its code ran it (Table 1, row 16) and adds one ingredient per
rung, keeping everything else, so that each rung's paired gain over the one before is what that ingredient buys.
Every rung and comparator is trained on :data:`FRONTIER_SEEDS`, seeds that played no part in any choice (the
study's trials use seed 0; its top trials are re-scored on seeds 1-3), so the test set is evaluated once, on
networks nobody selected with it.

The ingredients' settings are the usual published defaults, not tuned here: AdamW with weight decay 0.05 and a
one-cycle schedule peaking at 2e-3 after a quarter of the steps; label smoothing 0.1; random shifts of up to 2 px
and horizontal flips; 200 epochs; two hidden layers of 1024; an exponential moving average of the weights with
decay 0.999; random erasing of one box per image with probability 0.25. The long rungs train in bf16 where the
hardware has it, and a rung of its own measures what bf16 costs.
"""

from __future__ import annotations

from dataclasses import dataclass

from fcnbook.config import RunConfig
from fcnbook.report.experiments import sized, tuned
from fcnbook.report.paper import BASELINE
from fcnbook.report.settings import Settings

#: Fresh seeds of every rung and comparator (0-4 are the book's; 0-3 took part in the study's choices).
FRONTIER_SEEDS = (5, 6, 7, 8, 9)
#: The public peer's epochs.
PEER_EPOCHS = 50
#: The long-training budget (full profile); the quick profile doubles its long epochs instead.
LONG_EPOCHS = 200


@dataclass(frozen=True)
class Rung:
    """One step of the ladder: its name, the ingredient it adds (in words) and the configuration it trains."""

    name: str
    ingredient: str
    config: RunConfig


#: (name, ingredient, changes from the rung before). ``long`` is replaced by the profile's long-training epochs.
STEPS: tuple[tuple[str, str, dict], ...] = (
    ("report", "the report's tuned 700-200-50 network as its code ran it (RMSProp 1e-4, dropout 0.15)", {}),
    ("adamw-onecycle", "AdamW (weight decay 0.05) with a one-cycle schedule peaking at 2e-3",
     {"optimizer": "adamw", "lr": 2e-3, "weight_decay": 0.05, "schedule": "onecycle", "warmup": 0.25}),
    ("batch-norm", "batch norm after every hidden Linear", {"batch_norm": True}),
    ("label-smoothing", "label smoothing 0.1", {"label_smoothing": 0.1}),
    ("shift-flip", "random shifts of up to 2 px and horizontal flips", {"augment": "shift_flip"}),
    ("bf16", "bf16 matrix products (the arithmetic, not a method: its cost is measured)", {"precision": "bf16"}),
    ("long", "long training", {"epochs": "long"}),
    ("width", "two hidden layers of 1024", {"hidden": (1024, 1024)}),
    ("ema", "an exponential moving average of the weights (decay 0.999)", {"ema": 0.999}),
    ("erasing", "random erasing (probability 0.25)", {"erase": 0.25}),
)


def long_epochs(S: Settings) -> int:
    """The long-training rung's epochs: :data:`LONG_EPOCHS` in full, twice the profile's long epochs otherwise."""
    return LONG_EPOCHS if S.profile == "full" else 2 * S.long_epochs


def ladder(S: Settings) -> list[Rung]:
    """The rungs in order, each configuration the one before with its ingredient added."""
    config, rungs = tuned(S), []
    for name, ingredient, changes in STEPS:
        changes = {k: (long_epochs(S) if v == "long" else v) for k, v in changes.items()}
        if S.precision == "bf16":
            changes.setdefault("precision", "bf16")
        config = config.replace(**changes)
        rungs.append(Rung(name, ingredient, config))
    return rungs


def public_peer(S: Settings) -> RunConfig:
    """The best public fully connected network we know (hunter-lybbert/uw-central, AMATH 482 homework 4):
    1024-256 with batch norm, dropout 0.5, Adam 1e-3, batch 512, kaiming-uniform weights and zero biases, 50
    epochs; reported 0.9030 +/- 0.0021 over 5 trials. The course template's data pipeline, as the report's."""
    peer = BASELINE.replace(hidden=(1024, 256), batch_norm=True, dropout=0.5, optimizer="adam", lr=1e-3,
                            init="kaiming_uniform")
    return sized(peer, S).replace(epochs=PEER_EPOCHS if S.profile == "full" else S.epochs)


def seeds(S: Settings) -> tuple[int, ...]:
    """The frontier's seeds: :data:`FRONTIER_SEEDS` in full, the profile's own otherwise (a preview)."""
    return FRONTIER_SEEDS if S.profile == "full" else S.seeds
