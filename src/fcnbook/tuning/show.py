"""``fcnbook tune --show``: a study's best trials, its named recipes and why its workers stopped, as text or JSON.

Everything here reads a loaded study and nothing else, so a study made by any earlier version of ``fcnbook tune``
(no recipes, no recorded stops, another pruner) shows as well: what it lacks is simply absent.
"""

from __future__ import annotations

import json

from fcnbook.tuning import recipes
from fcnbook.tuning import worker as tune_worker


def table(study, top: int = 10) -> list[dict]:
    """The ``top`` best complete trials first: one dict per trial (its recipe's name, or None)."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    complete = sorted((t for t in trials if t.state == TrialState.COMPLETE), key=lambda t: -t.value)
    rows = []
    for t in complete[:top]:
        dur = (t.datetime_complete - t.datetime_start).total_seconds() if t.datetime_complete else None
        rows.append({"trial": t.number, "val_accuracy": t.value, "seconds": dur, "params": t.params,
                     "config": t.user_attrs.get("config"), "recipe": t.user_attrs.get("recipe")})
    return rows


def counts(study) -> dict[str, int]:
    """How many trials of ``study`` are in each state (COMPLETE, PRUNED, FAIL, RUNNING, WAITING)."""
    out: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        out[t.state.name] = out.get(t.state.name, 0) + 1
    return out


def show(study, top: int = 10, as_json: bool = False) -> str:
    """The best trials as a text table, then the recipes and the workers' stops (or one JSON object)."""
    rows, named, stops = table(study, top), recipes.trials(study), tune_worker.stop_reasons(study)
    if as_json:
        return json.dumps({"study": study.study_name, "counts": counts(study), "best": rows, "recipes": named,
                           "stop_reasons": stops}, indent=1, default=str)
    from fcnbook.config import RunConfig

    lines = [f"study {study.study_name}: " + ", ".join(f"{n} {k.lower()}" for k, n in sorted(counts(study).items())),
             f"{'trial':>5}  {'val acc':>7}  {'seconds':>7}  configuration"]
    for r in rows:
        c = RunConfig.from_dict(r["config"]) if r["config"] else None
        label = f"{c.label()}, {c.epochs} epochs, batch {c.batch_size}" if c else json.dumps(r["params"])
        if r["recipe"]:
            label = f"[recipe {r['recipe']}] {label}"
        secs = f"{r['seconds']:7.1f}" if r["seconds"] is not None else "      -"
        lines.append(f"{r['trial']:>5}  {r['val_accuracy']:7.4f}  {secs}  {label}")
    for n in named:
        value = f", validation accuracy {n['val_accuracy']:.4f}" if n["val_accuracy"] is not None else ""
        lines.append(f"recipe {n['recipe']}: trial {n['trial']}, {n['state'].lower()}{value}")
    lines += [tune_worker.describe(e) for e in stops]
    return "\n".join(lines)
