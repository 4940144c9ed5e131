"""The frontier's ingredient ladder and its comparators, declared once (what to train; the chapter reads them).

The ladder starts from the report's tuned network as its code ran it (Table 1, row 16) and adds one ingredient per
rung, keeping everything else, so that each rung's paired gain over the one before is what that ingredient buys.
Every rung and comparator is trained on :data:`FRONTIER_SEEDS`, seeds that played no part in any choice (the
study's trials use seed 0; its top trials are re-scored on seeds 1-3), so the test set is evaluated once, on
networks nobody selected with it.

The ingredients' settings are the usual published defaults, not tuned here: AdamW with weight decay 0.05 and a
one-cycle schedule peaking at 2e-3 after a quarter of the steps; label smoothing 0.1; random shifts of up to 2 px
and horizontal flips; 200 epochs; two hidden layers of 1024; an exponential moving average of the weights with
decay 0.999; random erasing of one box per image with probability 0.25. Augmentation comes before long training
because it is the ingredient that needs the longer budget (at 70 epochs it costs accuracy).

Beside the ladder: the comparators (:func:`comparators`) on the same seeds, a rung's five seeds distilled into one
network (:func:`distilled`), and the same rung on MNIST (:func:`mnist`). Which rungs teach and go to MNIST is
declared, each by validation, never by a test accuracy (tests check both rules against the stored records):
:data:`TEACHER_RUNG`, the best validation mean among the rungs trained when the first distillation was run (rungs
0-4), and :data:`BEST_RUNG`, the best of all rungs trained when it was declared (extras ``distilled-best``,
``mnist-best``). Why the distilled networks keep none of their ensemble's gain is checked on the teacher rung
(:func:`checks`): two teachers, with and without label smoothing, on seeds of their own, at two temperatures.
"""

from __future__ import annotations

from dataclasses import dataclass

from fcnbook.config import RunConfig
from fcnbook.report.experiments import sized, tuned
from fcnbook.report.paper import BASELINE
from fcnbook.report.settings import Settings

#: Fresh seeds of every rung and comparator (0-4 are the book's; 0-3 took part in the study's choices).
FRONTIER_SEEDS = (5, 6, 7, 8, 9)
#: The public peer's epochs, and its own report (hunter-lybbert/uw-central): mean, SD and number of trials.
PEER_EPOCHS, PEER_REPORTED = 50, (0.9030, 0.0021, 5)
#: The named recipe (:mod:`fcnbook.tuning.recipes`) of the study's first choice, a comparator.
PREVIOUS_RECIPE = "study-fashion-27"
#: The long-training budget (full profile); the quick profile doubles its long epochs instead.
LONG_EPOCHS = 200
#: The rung whose seeds' ensemble teaches, and that goes to MNIST: the best validation mean of rungs 0-4.
TEACHER_RUNG = "label-smoothing"
#: Rungs trained when :data:`TEACHER_RUNG` was chosen (the rule's candidates).
TEACHER_CANDIDATES = 5
#: The best validation mean of the ladder's first :data:`BEST_CANDIDATES` rungs (all those trained when it was
#: declared): its seeds' ensemble teaches ``distilled-best``, and it goes to MNIST as ``mnist-best``.
BEST_RUNG, BEST_CANDIDATES = "width", 9
#: Each distilled extra's teacher rung, and the rung each MNIST extra carries over (the chapter reads both).
TEACHERS = {"distilled": TEACHER_RUNG, "distilled-best": BEST_RUNG, "distilled-best-augmented": BEST_RUNG}
#: Distilled extras taught the teacher's outputs on each augmented image, each with its sibling taught on the clean
#: images (the same teacher and student otherwise): the chapter compares the two seed by seed.
AUGMENTED_VIEWS = {"distilled-best-augmented": "distilled-best"}
ON_MNIST = {"mnist": TEACHER_RUNG, "mnist-best": BEST_RUNG}
#: Distillation's temperature and weight (Hinton et al. 2015 use T in 2-20 and a small weight on the hard labels).
DISTILL_TEMPERATURE, DISTILL_WEIGHT = 4.0, 0.9
#: The distillation check (why a distilled network keeps none of its ensemble's gain): two teachers of the
#: :data:`TEACHER_RUNG`'s shape, with and without its label smoothing, on seeds no student uses, each teaching the
#: rung at two temperatures. In bf16, which costs that rung no detectable accuracy and trains it 1.6 times as fast.
CHECK_TEACHER_SEEDS, CHECK_TEMPERATURES = (10, 11, 12, 13, 14), (4.0, 1.0)
#: What the chapter says when the store holds none of its runs.
HOW_TO_TRAIN = ("**The frontier's runs are not stored**, so this chapter has nothing to show. They take hours on "
                "two CPU cores; train them, then rebuild the chapter:\n\n```\nfcnbook frontier --train "
                "0-8,peer,previous,distilled-best,mnist-best\nfcnbook book --only 13_frontier\n```")


@dataclass(frozen=True)
class Rung:
    """One step of the ladder: its name, the ingredient it adds (a few words for tables, and in full) and the
    configuration it trains."""

    name: str
    short: str
    ingredient: str
    config: RunConfig


#: (name, short, ingredient, changes from the rung before): ``short`` labels the rung in tables, ``ingredient``
#: says it in full. ``long`` is replaced by the profile's long-training epochs (``{epochs}`` in the words;
#: ``{before}``: the rung before's).
STEPS: tuple[tuple[str, str, str, dict], ...] = (
    ("report", "start: row 16 as run",
     "the report's tuned 700-200-50 network as its code ran it (RMSProp 1e-4, dropout 0.15)", {}),
    ("adamw-onecycle", "AdamW, one-cycle", "AdamW (weight decay 0.05) with a one-cycle schedule peaking at 2e-3",
     {"optimizer": "adamw", "lr": 2e-3, "weight_decay": 0.05, "schedule": "onecycle", "warmup": 0.25}),
    ("batch-norm", "batch norm", "batch norm after every hidden Linear", {"batch_norm": True}),
    ("label-smoothing", "label smoothing 0.1", "label smoothing 0.1", {"label_smoothing": 0.1}),
    ("shift-flip", "shifts ≤ 2 px, flips", "random shifts of up to 2 px and horizontal flips",
     {"augment": "shift_flip"}),
    ("long", "{epochs} epochs", "long training: {epochs} epochs instead of {before}", {"epochs": "long"}),
    ("ema", "weight EMA 0.999", "an exponential moving average of the weights, decay 0.999", {"ema": 0.999}),
    ("width", "1024-1024", "two hidden layers of 1024", {"hidden": (1024, 1024)}),
    ("erasing", "random erasing 0.25", "random erasing, probability 0.25", {"erase": 0.25}),
)


def long_epochs(S: Settings) -> int:
    """The long-training rung's epochs: :data:`LONG_EPOCHS` in full, twice the profile's long epochs otherwise."""
    return LONG_EPOCHS if S.profile == "full" else 2 * S.long_epochs


def ladder(S: Settings, dataset: str = "fashion") -> list[Rung]:
    """The rungs in order, each configuration the one before with its ingredient added."""
    config, rungs = tuned(S, dataset), []
    for name, short, ingredient, changes in STEPS:
        changes = {k: (long_epochs(S) if v == "long" else v) for k, v in changes.items()}
        if dataset == "mnist" and changes.get("augment") == "shift_flip":
            changes["augment"] = "shift"  # a mirrored digit is another symbol
        if S.precision == "bf16":
            changes.setdefault("precision", "bf16")
        words = {"epochs": changes.get("epochs"), "before": config.epochs}
        config = config.replace(**changes)
        rungs.append(Rung(name, short.format(**words), ingredient.format(**words), config))
    return rungs


def public_peer(S: Settings) -> RunConfig:
    """The best public fully connected network we know (hunter-lybbert/uw-central, AMATH 482 homework 4):
    1024-256 with batch norm, dropout 0.5, Adam 1e-3, batch 512, kaiming-uniform weights and zero biases, 50
    epochs; reported 0.9030 +/- 0.0021 over 5 trials. The course template's data pipeline, as the report's."""
    peer = BASELINE.replace(hidden=(1024, 256), batch_norm=True, dropout=0.5, optimizer="adam", lr=1e-3,
                            init="kaiming_uniform")
    return sized(peer, S).replace(epochs=PEER_EPOCHS if S.profile == "full" else S.epochs)


def rung(S: Settings, name: str, dataset: str = "fashion") -> RunConfig:
    """The configuration of the rung called ``name``; ``ValueError`` naming the rungs otherwise."""
    found = {r.name: r.config for r in ladder(S, dataset)}
    if name not in found:
        raise ValueError(f"rung must be one of {', '.join(found)} (got {name!r})")
    return found[name]


def distilled(S: Settings, name: str = TEACHER_RUNG, views: str = "clean") -> RunConfig:
    """The rung ``name`` trained on the soft labels of its own seeds' ensemble (the frontier's seeds), of the clean
    training images or of each augmented image as the student sees it (``views``, ``RunConfig.distill_views``)."""
    teacher = rung(S, name)
    return teacher.replace(teacher=teacher.key(), teacher_seeds=tuple(seeds(S)),
                           distill_temperature=DISTILL_TEMPERATURE, distill_weight=DISTILL_WEIGHT,
                           distill_views=views)


def mnist(S: Settings, name: str = TEACHER_RUNG) -> RunConfig:
    """The rung ``name`` on MNIST (shifts without flips: a mirrored digit is another symbol)."""
    return rung(S, name, "mnist")


def bf16(S: Settings) -> RunConfig | None:
    """:data:`TEACHER_RUNG` with its matrix products in bf16 (weights, optimizer and loss stay float32): what the
    arithmetic costs in accuracy and buys in time, seed by seed. None when the ladder itself runs in bf16."""
    config = rung(S, TEACHER_RUNG)
    return None if config.precision == "bf16" else config.replace(precision="bf16")


def previous_recipe(S: Settings) -> RunConfig:
    """The recipe the shipped study chose in its first session (trial 27: 697-833, Adam, batch norm, 40 epochs),
    in the study's bf16, as the chapter "Beyond the report" retrained it before its choice was re-scored."""
    from fcnbook.tuning import recipes
    from fcnbook.tuning.space import config_of

    config = config_of(recipes.RECIPES[PREVIOUS_RECIPE].params, precision="bf16")
    full = S.profile == "full"  # the full profile keeps the study's epochs and bf16
    return sized(config, S).replace(epochs=config.epochs if full else S.epochs,
                                    precision=config.precision if full else S.precision)


def comparators(S: Settings) -> dict[str, RunConfig]:
    """Networks set beside the ladder under its protocol (same split, same seeds), by name."""
    return {"peer": public_peer(S), "previous": previous_recipe(S)}


def extras(S: Settings) -> dict[str, RunConfig]:
    """Everything the frontier trains besides its rungs, by the name ``fcnbook frontier --train`` takes."""
    both = {"distilled": distilled(S), "bf16": bf16(S), "mnist": mnist(S)}
    if BEST_RUNG != TEACHER_RUNG:
        both |= {"distilled-best": distilled(S, BEST_RUNG), "mnist-best": mnist(S, BEST_RUNG),
                 "distilled-best-augmented": distilled(S, BEST_RUNG, "augmented")}
    return comparators(S) | {name: config for name, config in both.items() if config is not None}


def check_teachers(S: Settings) -> dict[str, RunConfig]:
    """The distillation check's teachers by name: :data:`TEACHER_RUNG` in bf16 (``smoothed``) and the same without
    label smoothing (``plain``); each is trained on :data:`CHECK_TEACHER_SEEDS`. Empty outside the full profile."""
    if S.profile != "full":
        return {}
    smoothed = rung(S, TEACHER_RUNG).replace(precision="bf16")
    return {"smoothed": smoothed, "plain": smoothed.replace(label_smoothing=0.0)}


def checks(S: Settings) -> dict[str, RunConfig]:
    """The distillation check's students by the name ``fcnbook frontier --train`` takes (``check-<teacher>-t<T>``):
    :data:`TEACHER_RUNG` in bf16 on the frontier's seeds, taught by each :func:`check_teachers` ensemble at each
    of :data:`CHECK_TEMPERATURES` with weight :data:`DISTILL_WEIGHT`."""
    teachers = check_teachers(S)
    return {f"check-{name}-t{T:g}": teachers["smoothed"].replace(
                teacher=teacher.key(), teacher_seeds=CHECK_TEACHER_SEEDS, distill_temperature=T,
                distill_weight=DISTILL_WEIGHT)
            for name, teacher in teachers.items() for T in CHECK_TEMPERATURES}


def seeds(S: Settings) -> tuple[int, ...]:
    """The frontier's seeds: :data:`FRONTIER_SEEDS` in full, the profile's own otherwise (a preview)."""
    return FRONTIER_SEEDS if S.profile == "full" else S.seeds
