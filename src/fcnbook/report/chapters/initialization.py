"""Section 05: weight initialisation. How far apart the initialisers start, and every initialiser against
PyTorch's default as one family, shown in two groups: what the report's code ran and what its text describes."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from fcnbook.data import indices
from fcnbook.report import experiments, text
from fcnbook.report.chapters import evidence
from fcnbook.report.settings import Settings
from fcnbook.stats import verdicts as v
from fcnbook.store.frames import Results, display_names

CODE, TEXT = "the report's code", "the report's text"


@dataclass(frozen=True)
class Initialization:
    """What section 05 shows: see :func:`study`. ``groups``: :data:`CODE` and :data:`TEXT`, each the default
    plus its initialisers (name -> config); ``first``: mean validation accuracy after epoch 1 per name."""

    S: Settings
    inits: dict
    groups: dict
    res: Results
    first: pd.Series
    family: pd.DataFrame
    family_name: str
    report: pd.DataFrame
    outliers: pd.DataFrame


def groups(inits: dict) -> dict[str, dict]:
    """The default (first) with the initialisers the report's code ran (those of a Table 1 row), and with the
    others (those its text describes)."""
    (default_name, default), *rest = inits.items()
    code = {n: c for n, c in rest if evidence.paper_rows(c)}
    return {CODE: {default_name: default, **code},
            TEXT: {default_name: default, **{n: c for n, c in rest if n not in code}}}


def study(S: Settings) -> Initialization:
    """:func:`fcnbook.report.experiments.initializers` on ``S``'s seeds, from ``S``'s lab."""
    inits = experiments.initializers(S)
    res = S.results(inits.values())
    default = next(iter(inits.values()))
    names, h = display_names(inits), res.history
    first = (h[(h["metric"] == "val_accuracy") & (h["epoch"] == 1) & h["key"].isin(list(names))]
             .groupby("key")["value"].mean().rename(index=names))
    family = evidence.family(res, default, inits, indices.labels(default.dataset, train=False))
    report = evidence.single_runs({f"{n}, row {r.number}": (evidence.by_seed(res.runs, c), r.accuracy)
                                   for n, c in inits.items() for r in evidence.paper_rows(c)[:1]})
    return Initialization(S, inits, groups(inits), res, first, family,
                          f"the {text.number(len(family))} initialisers against the default", report,
                          evidence.outliers(res.runs, inits))


def _group(i: Initialization, group: str) -> str:
    default = next(iter(i.inits))
    members = [n for n in i.groups[group] if n != default]
    if not members:
        return ""
    parts = [f"{n} {text.member(i.family.loc[n], n, 'the default')}" for n in members]
    return (f"Against the {default} initialisation (paired by seed; {text.family_note(i.family_name, len(i.family))};"
            f" intervals in the table), the variants of {group} change test accuracy by: {'; '.join(parts)}.")


def sentences(i: Initialization) -> dict[str, str]:
    """``start``, ``effects`` (both groups, one family), ``verdict``, ``report`` and ``seeds``."""
    start = (f"After the first epoch validation accuracy ranges from {i.first.min():.4f} ({i.first.idxmin()}) to "
             f"{i.first.max():.4f} ({i.first.idxmax()})." if len(i.first) else "")
    found = [n for n, e in i.family.iterrows() if e["effect"] != v.NONE]
    verdict = (f"Detectable after Holm's adjustment over {i.family_name}: {text.and_(found)}." if found else
               f"None of them changes test accuracy detectably once the {text.number(len(i.family))} comparisons "
               f"are adjusted together (Holm, family-wise {v.ALPHA:g}).")
    report = ("The seed report's single runs of these configurations: "
              + text.single_runs(i.report, "the report's runs in this chapter") if len(i.report) else "")
    return {"start": start, "effects": " ".join(filter(None, (_group(i, g) for g in (CODE, TEXT)))),
            "verdict": verdict, "report": report, "seeds": text.outliers(i.outliers, len(i.S.seeds))}
