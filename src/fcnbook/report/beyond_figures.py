"""The "Beyond the report" chapter's figures: the study's history (every trial, on an error-scaled axis) and the
parameters' importances. The chapter's numbers and sentences are in :mod:`fcnbook.report.chapters.beyond`."""

from __future__ import annotations

import numpy as np

from fcnbook.tuning import study as tune

ACCURACY_TICKS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999,
                  0.82, 0.84, 0.86, 0.88, 0.91, 0.92, 0.93, 0.94, 0.96, 0.97, 0.98, 0.995)


def _error_scale(y):
    return -np.log10(np.clip(1 - np.asarray(y, dtype=float), 1e-6, None))


def _accuracy_of(z):
    return 1 - 10 ** (-np.asarray(z, dtype=float))


def accuracy_ticks(low: float, high: float, min_gap: float = 0.045) -> list[float]:
    """The :data:`ACCURACY_TICKS` within ``[low, high]``, in order of preference, each kept when it stays ``min_gap``
    of the axis (on the error scale) away from every tick kept before it; returned in ascending order."""
    span = float(_error_scale(high) - _error_scale(low)) or 1.0
    kept: list[float] = []
    for t in (t for t in ACCURACY_TICKS if low <= t <= high):
        if all(abs(_error_scale(k) - _error_scale(t)) / span >= min_gap for k in kept):
            kept.append(t)
    return sorted(kept)


def history_figure(study, finalists=(), chosen: int | None = None):
    """Validation accuracy of every finished trial in order (pruned ones at their last report), best so far, the
    named recipes, the ``finalists`` (trial numbers re-scored on more seeds) and the ``chosen`` one.

    Every trial is shown: the accuracy axis is logarithmic in the error, 1 - accuracy, so that the trials near the
    best are spread out while a trial far below them (near chance, or pruned early) stays on the figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullLocator

    fig, ax = plt.subplots(figsize=(8.6, 3.4))
    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    pruned = [t for t in study.trials if t.state.name == "PRUNED" and t.intermediate_values]
    last = [t.intermediate_values[max(t.intermediate_values)] for t in pruned]
    ax.set_yscale("function", functions=(_error_scale, _accuracy_of))
    ax.scatter([t.number for t in done], [t.value for t in done], s=14, label="complete", color="C0")
    ax.scatter([t.number for t in pruned], last, s=14, marker="x", label="pruned (last report)", color="C3", alpha=0.7)
    order = sorted(done, key=lambda t: t.number)
    ax.step([t.number for t in order], np.maximum.accumulate([t.value for t in order]), where="post",
            color="k", lw=1.2, label="best so far")
    named = [t for t in done if "recipe" in t.user_attrs]
    if named:
        ax.scatter([t.number for t in named], [t.value for t in named], s=40, marker="D", facecolors="none",
                   edgecolors="C2", lw=1.1, label="named recipe (enqueued)")
    final = [study.trials[n] for n in finalists]
    if final:
        ax.scatter([t.number for t in final], [t.value for t in final], s=90, facecolors="none", edgecolors="k",
                   lw=1.0, label="finalist (re-scored on seeds 1-3)")
    if chosen is not None:
        pick = study.trials[chosen]
        ax.scatter([pick.number], [pick.value], s=160, marker="*", color="k", label="chosen (best mean of seeds 1-3)")
    values = [t.value for t in done] + last
    if values:  # every trial inside the axis, with a margin of a tenth of the span on the error scale
        lo, hi = _error_scale(min(values)), _error_scale(max(values))
        pad = 0.1 * max(hi - lo, 0.05)
        low, high = float(_accuracy_of(max(lo - pad, 0.0))), float(_accuracy_of(hi + pad))
        ax.set_ylim(low, high)
        ax.yaxis.set_major_locator(FixedLocator(accuracy_ticks(low, high)))
        ax.yaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("trial")
    ax.set_ylabel("validation accuracy\n(log scale of 1 − accuracy)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)  # outside: it hides no trial
    fig.tight_layout()
    return fig


def importance_figure(study, seed: int = 0):
    """Optuna's fANOVA importances of the parameters for the validation accuracy of the complete trials."""
    import matplotlib.pyplot as plt

    optuna = tune._optuna()
    from fcnbook.tuning import space as search_space
    from fcnbook.tuning.sampling import searched

    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    space = searched(study)
    # A trial that predates a parameter added to the space (EMA, erasing) ran with it off: it is restated so, or
    # fANOVA, which only weighs parameters that every trial has, would leave the new ones out.
    added = {n: v for n, v in search_space.added_defaults().items() if n in space}
    if any(t.distributions[n] != space[n] for t in complete for n in t.distributions) or \
            any(n not in t.params for t in complete for n in added):
        # A range widened mid-study: Optuna would leave out every parameter whose stored ranges differ, so the
        # trials are restated in the ranges that cover them all (an unchanged study is evaluated as it is).
        optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "new study created in memory" line in the book
        study = optuna.create_study(direction="maximize")
        study.add_trials([optuna.trial.create_trial(params=(p := added | t.params), value=t.value,
                                                    distributions={n: space[n] for n in p}) for t in complete])
    importances = optuna.importance.get_param_importances(
        study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=seed))
    names, values = list(importances)[::-1], list(importances.values())[::-1]
    fig, ax = plt.subplots(figsize=(6, 0.28 * len(names) + 0.8))
    ax.barh(names, values, color="C0")
    ax.set_xlabel("importance (fANOVA share of the variance of validation accuracy)")
    fig.tight_layout()
    return fig, importances
