"""Provenance of the stored results, and a check that they reproduce.

Every run record names the configuration, seed, code version, data checksum, training seconds, the machine it
was made on (:mod:`fcnbook.training.environment`) and when. :func:`table` lists them per configuration of the book,
:func:`verify` retrains randomly chosen records and compares them with what is stored.

A member of a stack computes exactly what a lone run of its seed computes (``fcnbook.training.fit``), so a record is
re-made by training its seed alone. On the same CPU model with the same torch the comparison is exact; elsewhere
floating-point rounding differs from the first step on and is amplified by training, so the test accuracy is
compared within :data:`TOLERANCE` and the differences are printed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from fcnbook.config import RunConfig
from fcnbook.paths import results_dir
from fcnbook.report import experiments, ladder
from fcnbook.report.ladder import FRONTIER_SEEDS

FRONTIER = "13_frontier"  # the section of runs on the frontier's seeds (trained by `fcnbook frontier`, not the book)


def stored(root: Path | None = None, code_version: int | None = None, study: bool = False) -> list[dict]:
    """Every readable run record under ``root`` (default the results folder), optionally of one code version.

    A hyperparameter study's trial records (trained without their test evaluation) are left out unless ``study``.
    """
    out = []
    for path in sorted((Path(root or results_dir()) / "runs").glob("*/seed-*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if record.get("test_evaluated") is False and not study:
            continue
        if code_version is None or record.get("code_version") == code_version:
            out.append(record)
    return out


def table(records: list[dict], profile: str = "full") -> pd.DataFrame:
    """One row per stored configuration and CPU: section, label, seeds, epochs, training seconds, machine, version,
    date.

    ``section`` is the book section that trains the configuration under ``profile`` (empty when none does), or
    :data:`FRONTIER` for runs on the frontier's fresh seeds (:data:`fcnbook.report.ladder.FRONTIER_SEEDS`, and
    :data:`~fcnbook.report.ladder.CHECK_TEACHER_SEEDS` of its distillation check's teachers).
    """
    section_of = {c.key(): name for name, cs in experiments.book_configs(profile).items() for c in cs}
    order = {key: i for i, key in enumerate(section_of)}
    frontier_seeds = set(FRONTIER_SEEDS) | set(ladder.CHECK_TEACHER_SEEDS)  # the check's teachers train on their own
    rows, frame = [], pd.DataFrame(records)
    # One row per configuration and machine: seeds trained elsewhere (the frontier's 5-9) are not credited to the
    # machine of the book's seeds.
    frame["_cpu"] = frame["machine"].map(lambda m: m.get("cpu", "") if isinstance(m, dict) else "") \
        if "machine" in frame else ""
    for (key, _), group in frame.groupby(["key", "_cpu"], sort=False):
        config = RunConfig.from_dict(group["config"].iloc[0])
        machines = group["machine"].dropna() if "machine" in group else pd.Series(dtype=object)
        m = machines.iloc[0] if len(machines) else {}
        rows.append({
            "section": FRONTIER if set(group["seed"]) <= frontier_seeds else section_of.get(key, ""),
            "configuration": config.label(), "dataset": config.dataset,
            "seeds": ",".join(map(str, sorted(group["seed"]))), "epochs": config.epochs,
            "training s": float(group["seconds"].sum()), "device": ", ".join(sorted(set(group["device"]))),
            "cpu": m.get("cpu", "not recorded"), "cores": m.get("cores"), "torch": m.get("torch"),
            "mkl": m.get("mkl"), "code version": int(group["code_version"].iloc[0]),
            "created": str(group["created"].max())[:10], "key": key, "_order": order.get(key, len(order)),
        })
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    return frame.sort_values(["_order", "configuration"]).drop(columns="_order").reset_index(drop=True)


#: How :func:`constant_text` states a column that holds one value for every record.
_FACTS = {"section": "section {}", "dataset": "dataset {}", "seeds": "seeds {}", "epochs": "{} epochs",
          "device": "device {}", "cpu": "CPU {}", "cores": "{} cores", "torch": "torch {}", "mkl": "MKL {}",
          "code version": "training code version {}", "created": "made on {}"}


def split_constant(provenance: pd.DataFrame, keep=("configuration",)) -> tuple[pd.DataFrame, dict]:
    """The table without the columns that hold one value in every row, and those values (column -> value).

    ``keep`` are never moved out (the row's name); a table of one row keeps everything, since nothing varies.
    """
    if len(provenance) < 2:
        return provenance, {}
    same = [c for c in provenance.columns
            if c in _FACTS and c not in keep and provenance[c].astype(str).nunique() == 1]
    return provenance.drop(columns=same), {c: provenance[c].iloc[0] for c in same}


def constant_text(constants: dict) -> str:
    """One sentence naming what every record of the table shares (:func:`split_constant`), or ""."""
    if not constants:
        return ""
    facts = "; ".join(_FACTS[c].format(v) for c, v in constants.items())
    return f"Every configuration below shares: {facts}. The table lists what differs between them."


def section_totals(provenance: pd.DataFrame) -> pd.DataFrame:
    """Configurations, runs and training minutes per section of a :func:`table`."""
    t = provenance.assign(runs=provenance["seeds"].str.count(",") + 1,
                          section=provenance["section"].replace("", "no section (make bench)"))
    out = t.groupby("section", sort=False).agg(configurations=("key", "size"), runs=("runs", "sum"),
                                               minutes=("training s", "sum"))
    out["minutes"] = out["minutes"] / 60
    return out


def summary_text(provenance: pd.DataFrame, code_version: int) -> str:
    """Sentences on the whole store: how many configurations and runs, training time, machines, dates."""
    if provenance.empty:
        return f"The results folder holds no records of training code version {code_version} yet."
    runs = int((provenance["seeds"].str.count(",") + 1).sum())
    machines = sorted(set(zip(provenance["cpu"], provenance["cores"], provenance["torch"], strict=True)))
    where = "; ".join(f"{cpu} ({cores} cores, torch {torch})" for cpu, cores, torch in machines)
    return (f"The store holds {len(provenance)} configurations and {runs} runs of training code version "
            f"{code_version}, {provenance['training s'].sum() / 60:.1f} minutes of training in all, made on: "
            f"{where}; the newest record is from {provenance['created'].max()}.")


def untimed_text(records: list[dict]) -> str:
    """One sentence on the distilled records stored before their teacher's pass for the soft labels was timed (their
    ``extra`` has no ``soft_label_seconds``), or "": their training seconds leave that pass out."""
    old = [r for r in records if r["config"].get("teacher") and "soft_label_seconds" not in r.get("extra", {})]
    if not old:
        return ""
    return (f"{len(old)} runs distilled from a teacher were stored before the teacher's pass over the training "
            "images for their soft labels was timed, so their training seconds above leave that pass out (its "
            "counted work is in the frontier chapter's compute); later distilled runs count their share of it.")


def study_text(records: list[dict]) -> str:
    """One sentence on the hyperparameter study's trial runs (records without test figures), if any are stored."""
    trials = [r for r in records if r.get("test_evaluated") is False]
    if not trials:
        return ""
    minutes = sum(r["seconds"] for r in trials) / 60
    rescored = sum(r["seed"] != 0 for r in trials)  # the study's trials use seed 0; its finalists' re-scores others
    return (f"The store also holds {len(trials)} runs kept without test figures ({minutes:.0f} minutes of training): "
            f"{len(trials) - rescored} trials of the hyperparameter study and {rescored} re-scorings of its "
            "finalists on further seeds; neither evaluates the test set. The chapter *Beyond the report* shows them; "
            "pruned trials stored nothing.")




def results_rows(root: Path | None = None, profile: str = "full") -> list[dict]:
    """Table 1's rows and the tuned network on MNIST with the store's mean test accuracy (SD, n); nothing trained.

    Rows whose records are missing (or of another code version) say so instead of a number.
    """
    from fcnbook.report import paper
    from fcnbook.store import records as store
    from fcnbook.store.frames import Results
    from fcnbook.version import TRAINING_CODE_VERSION

    S = experiments.settings(profile)
    wanted = [(r.describe(), r.accuracy, c) for r, c in experiments.table1(S) if r.number != 2]
    wanted[0] = (wanted[0][0], "0.8764 / 0.8507", wanted[0][2])  # rows 1 and 2: one configuration, run twice
    wanted.append(("tuned on MNIST", paper.MNIST_TUNED_ACCURACY, experiments.tuned(S, "mnist")))
    from fcnbook.report import selection

    recipes = selection.recipes(S, root)  # the stored study's choice, beyond the report (none until it is made)
    for config in recipes:
        reference = paper.MNIST_TUNED_ACCURACY if config.dataset == "mnist" else paper.ROWS[-1].accuracy
        where = "MNIST" if config.dataset == "mnist" else "FashionMNIST"
        wanted.append((f"beyond the report: the study's recipe on {where}, one network", reference, config))
    rows = []
    for name, paper_value, config in wanted:
        seeds = ladder.seeds(S) if name.startswith("beyond") else S.seeds  # the recipe is tested on fresh seeds
        records = [store.record_path(config, s, root) for s in seeds]
        loaded = [json.loads(p.read_text()) for p in records if p.exists()]
        loaded = [r for r in loaded if r.get("code_version") == TRAINING_CODE_VERSION]
        if len(loaded) < len(seeds):
            rows.append({"configuration": name, "paper": paper_value, "here": "not in the store"})
            continue
        summary = Results.from_records(loaded).summary().iloc[0]
        diverged = sum(r["diverged"] for r in loaded)
        note = f", {diverged} diverged" if diverged else ""
        rows.append({"configuration": name, "paper": paper_value,
                     "here": f"{summary['mean']:.4f} ({summary['sd']:.4f}, n={int(summary['n'])}{note})"})
        ensemble = loaded[0].get("extra", {}).get("ensemble")
        if name.startswith("beyond") and ensemble and len(ensemble["seeds"]) == len(seeds):
            rows.append({"configuration": name.replace("one network", f"ensemble of {len(ensemble['seeds'])}"),
                         "paper": paper_value, "here": f"{ensemble['test_accuracy']:.4f} (n=1 ensemble)"})
    return rows


def study_line(root: Path | None = None) -> str:
    """The shipped hyperparameter study in one sentence (trials, training time, stored size), or "" without one."""
    from fcnbook.report.chapters import beyond
    from fcnbook.tuning import study as tune

    try:
        study = tune.load(beyond.STUDY["full"], root=root)
    except (KeyError, ImportError):
        return ""
    facts = beyond.study_facts(study, tune.journal_path(study.study_name, root))
    c = facts["counts"]
    kept = [r for r in stored(root, study=True) if r.get("test_evaluated") is False]
    trial_kb = sum((Path(root or results_dir()) / "runs" / r["key"] / f"seed-{r['seed']}.json").stat().st_size
                   for r in kept) / 1e3
    return (f"The study rows come from the shipped Optuna study `{study.study_name}`: {facts['trials']} trials "
            f"({c.get('COMPLETE', 0)} complete, {c.get('PRUNED', 0)} pruned), {facts['trial_minutes']:.0f} min of "
            "training. Its finalists are re-scored on seeds 1-3 without the test set, and only the chosen recipe is "
            "tested, on seeds 5-9 (the chapter *Beyond the report*). The study is stored as a "
            f"{facts['journal_mb'] * 1e3:.0f} kB journal plus {trial_kb:.0f} kB of records trained without the test "
            "set.")
