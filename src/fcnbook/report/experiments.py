"""Every experiment of the book, declared once: profiles, configurations, grids.

A section notebook asks this module what to train (``experiments.optimizer_grid(S)``), never builds a
:class:`~fcnbook.config.RunConfig` by hand; the summary, ``benchmarks/book_budget.py`` and the tests read the
same declarations, so a configuration changed here changes everywhere, under one run-store key.

``S`` is a profile's settings (:func:`settings`): how many epochs, which seeds, which training subset. ``full`` is
the report: all training data, the report's epochs, five seeds. ``quick`` is a preview that runs the whole book
in a few minutes on two CPU cores (stratified subset, two epochs, two seeds); the tests use it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fcnbook.config import RunConfig
from fcnbook.report.paper import BASELINE, ROWS, TABLE1_OPTIMIZERS, TEXT_INITIALIZERS, TUNED, Row
from fcnbook.report.settings import PROFILES, Settings, is_shortened, settings  # noqa: F401  (one vocabulary)

#: The report's one-factor grids (Table 1), as section parameters' defaults: its optimizers (three of
#: :data:`fcnbook.config.OPTIMIZERS`), learning rates and dropout rates.
REPORT_OPTIMIZERS = tuple(TABLE1_OPTIMIZERS.values())
LRS = (0.1, 0.01, 0.001)
DROPOUTS = (0.0, 0.1, 0.2, 0.3, 0.5)
#: ``split_seed`` values that stand in for the original notebook's unseeded validation split.
PROTOCOL_SPLITS = (0, 1, 2, 3, 4)


def sized(config: RunConfig, S: Settings, *, long: bool = False) -> RunConfig:
    """``config`` with the profile's epochs (the long count for the tuned network), training subset and precision."""
    return config.replace(epochs=int(S.long_epochs if long else S.epochs), subset=S.subset,
                          precision=S.precision)


# ------------------------------------------------------------------------------------- one declaration a section

def baseline(S: Settings, dataset: str = "fashion", **changes) -> RunConfig:
    """The report's baseline, 784-500-50-10 with SGD lr 0.1 (``changes`` e.g. ``hidden=(300,)``)."""
    return sized(BASELINE.replace(dataset=dataset, **changes), S)


def tuned(S: Settings, dataset: str = "fashion") -> RunConfig:
    """The report's tuned 700-200-50 network as its original code ran it, with the long epoch count."""
    return sized(TUNED.replace(dataset=dataset), S, long=True)


def optimizer_grid(S: Settings, optimizers: Sequence[str] = REPORT_OPTIMIZERS,
                   lrs: Sequence[float] = LRS) -> dict[tuple[str, float], RunConfig]:
    """Baseline x every (optimizer, learning rate), keyed by that pair."""
    return {(opt, lr): baseline(S, optimizer=opt, lr=lr) for opt in optimizers for lr in lrs}


def dropout_grid(S: Settings, rates: Sequence[float] = DROPOUTS) -> dict[float, RunConfig]:
    """Baseline with dropout ``p`` after every hidden ReLU; ``p = 0`` is the baseline itself."""
    return {float(p): baseline(S, dropout=p) for p in rates}


def initializers(S: Settings) -> dict[str, RunConfig]:
    """The baseline under each initialisation: PyTorch's default, the report's code's three and its text's two.

    The report's code re-drew weights only (biases keep ``nn.Linear``'s default draw), used std 0.01 for
    "Random Normal" and ``kaiming_normal_`` for "He Uniform"; its text says std 0.1 and Kaiming uniform.
    """
    out = {"default (PyTorch)": baseline(S)}
    for name, row in (("random normal", 12), ("Xavier normal", 13), ("He", 14)):
        out[f"{name} (report's code)"] = sized(ROWS[row - 1].config, S)
    for name, changes in TEXT_INITIALIZERS.items():
        out[f"{name} (report's text)"] = baseline(S, **changes)
    return out


def batch_norm(S: Settings) -> dict[str, RunConfig]:
    """The baseline without and with batch norm between every hidden Linear and its ReLU."""
    return {"baseline": baseline(S), "baseline + batch norm": baseline(S, batch_norm=True)}


def mnist_transfer(S: Settings) -> dict[str, RunConfig]:
    """The baseline and the tuned network retrained on MNIST."""
    return {"baseline on MNIST": baseline(S, dataset="mnist"), "tuned on MNIST": tuned(S, dataset="mnist")}


def svd_networks(S: Settings) -> dict[tuple[str, str], RunConfig]:
    """The networks the SVD chapter sets its classifiers against, keyed by (dataset, name)."""
    return {(ds, name): cfg for ds in ("fashion", "mnist")
            for name, cfg in (("baseline", baseline(S, dataset=ds)), ("tuned", tuned(S, dataset=ds)))}


def table1(S: Settings) -> list[tuple[Row, RunConfig]]:
    """Table 1's 16 rows, each with the configuration its original code ran, sized by the profile.

    Rows 1 and 2 carry equal configurations (the same run key); with the full profile each config equals
    :attr:`fcnbook.report.paper.Row.config`.
    """
    return [(row, sized(row.config, S, long=row.tuned)) for row in ROWS]


def protocol_ablation(S: Settings, splits: Sequence[int] = PROTOCOL_SPLITS) -> dict[str, RunConfig]:
    """The baseline under this book's protocol and under the report's original one.

    ``ours``: pixels standardised with the training split's own mean and SD, validation split seed 0.
    ``MNIST constants``: the course template's (0.1307, 0.3081) for Fashion-MNIST too, split seed 0.
    ``original, split k``: MNIST constants and validation split seed ``k``, standing in for the original
    notebook's unseeded split; together they show how far two single runs of the same code can land apart.
    """
    out = {"ours": baseline(S), "MNIST constants": baseline(S, normalization="mnist")}
    for k in splits:
        if k != 0:
            out[f"original, split {k}"] = baseline(S, normalization="mnist", split_seed=int(k))
    return out


def svc_subset(S: Settings, override: int | None = None) -> int | None:
    """Training images of the SVD chapter's RBF-SVC fits: ``override`` or the profile's, capped at ``svd_subset``."""
    n = S.svc_subset if override is None else int(override)
    return n if S.svd_subset is None else min(int(S.svd_subset), n)


def forensic_sizes(S: Settings, svc_n: int | None) -> list[int | None]:
    """Training-set sizes of the forensic SVC curve: the profile's sizes below ``svc_n``, then ``svc_n``."""
    sizes = S.forensic_sizes or []
    return [*(n for n in sizes if svc_n is None or n < svc_n), svc_n]


#: What each section trains, for the budget and the tests; the keys are ``book/_toc.yml``'s section names.
SECTIONS: dict[str, Callable[[Settings], list[RunConfig]]] = {
    "00_findings": lambda S: [],  # the opening page: reads what the others trained
    "01_data": lambda S: [],
    "02_baseline": lambda S: [baseline(S)],
    "03_optimizers": lambda S: list(optimizer_grid(S).values()),
    "04_regularization": lambda S: list(dropout_grid(S).values()),
    "05_initialization": lambda S: list(initializers(S).values()),
    "06_batch_norm": lambda S: list(batch_norm(S).values()),
    "07_tuned": lambda S: [tuned(S)],
    # The search's recipe is tested on the frontier's seeds, trained by `fcnbook tune --select` (its finalists on
    # seeds 1-3 without the test set); the chapter reads them in the full profile.
    "07b_beyond": lambda S: [],
    # The frontier's runs (seeds 5-9, hours each) are trained by `fcnbook frontier --train`; its chapter reads the
    # stored ones in the full profile and trains nothing (fcnbook.report.chapters.frontier.stored).
    "13_frontier": lambda S: [],
    "08_mnist_transfer": lambda S: list(mnist_transfer(S).values()),
    "09_svd_classifier": lambda S: list(svd_networks(S).values()),
    "10_summary": lambda S: [config for _, config in table1(S)],
    "11_protocol": lambda S: list(protocol_ablation(S).values()),
    "12_provenance": lambda S: [],
}


def book_configs(profile: str = "full") -> dict[str, list[RunConfig]]:
    """The configurations each section trains under ``profile``, each listed under the first section that needs it.

    Later sections reuse what earlier ones stored, so a configuration appears once, under the section that
    trains it when the book is built in order.
    """
    S, seen, out = settings(profile), set(), {}
    for name, declare in SECTIONS.items():
        fresh = [c for c in dict.fromkeys(declare(S)) if c.key() not in seen]
        seen.update(c.key() for c in fresh)
        out[name] = fresh
    return out
