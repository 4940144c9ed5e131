"""Provenance of the stored results, and a check that they reproduce.

Every run record names the configuration, seed, code version, data checksum, training seconds, the machine it
was made on (:mod:`fcnbook.environment`) and when. :func:`table` lists them per configuration of the book,
:func:`verify` retrains randomly chosen records and compares them with what is stored.

A member of a stack computes exactly what a lone run of its seed computes (``fcnbook.train``), so a record is
re-made by training its seed alone. On the same CPU model with the same torch the comparison is exact; elsewhere
floating-point rounding differs from the first step on and is amplified by training, so the test accuracy is
compared within :data:`TOLERANCE` and the differences are printed.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from . import experiments
from .config import RunConfig
from .paths import results_dir

#: Largest |stored - recomputed| test accuracy accepted on another machine: a few seed-to-seed SDs of the
#: book's configurations (0.001-0.008), since a different rounding acts like another draw of the same run.
TOLERANCE = 0.01
#: History entries compared exactly on the same machine (``seconds`` is wall time, never reproducible).
COMPARED = ("train_loss", "train_accuracy", "running_loss", "running_accuracy", "val_loss", "val_accuracy")


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
    """One row per stored configuration: section, label, seeds, epochs, training seconds, machine, version, date.

    ``section`` is the book section that trains the configuration under ``profile`` (empty when none does).
    """
    section_of = {c.key(): name for name, cs in experiments.book_configs(profile).items() for c in cs}
    order = {key: i for i, key in enumerate(section_of)}
    rows = []
    for key, group in pd.DataFrame(records).groupby("key", sort=False):
        config = RunConfig.from_dict(group["config"].iloc[0])
        machines = group["machine"].dropna() if "machine" in group else pd.Series(dtype=object)
        m = machines.iloc[0] if len(machines) else {}
        rows.append({
            "section": section_of.get(key, ""), "configuration": config.label(), "dataset": config.dataset,
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


def study_text(records: list[dict]) -> str:
    """One sentence on the hyperparameter study's trial runs (records without test figures), if any are stored."""
    trials = [r for r in records if r.get("test_evaluated") is False]
    if not trials:
        return ""
    minutes = sum(r["seconds"] for r in trials) / 60
    return (f"The store also holds {len(trials)} trial runs of the hyperparameter study ({minutes:.0f} minutes of "
            "training), kept without test figures: a study never evaluates the test set. The chapter *Beyond the "
            "report* shows them; pruned trials stored nothing.")


README_START = "<!-- results table: generated by `python -m fcnbook.provenance`, do not edit -->"
README_END = "<!-- end of results table -->"


def results_rows(root: Path | None = None, profile: str = "full") -> list[dict]:
    """Table 1's rows and the tuned network on MNIST with the store's mean test accuracy (SD, n); nothing trained.

    Rows whose records are missing (or of another code version) say so instead of a number.
    """
    from . import paper, store
    from .results import Results
    from .train import TRAINING_CODE_VERSION

    S = experiments.settings(profile)
    wanted = [(r.describe(), r.accuracy, c) for r, c in experiments.table1(S) if r.number != 2]
    wanted[0] = (wanted[0][0], "0.8764 / 0.8507", wanted[0][2])  # rows 1 and 2: one configuration, run twice
    wanted.append(("tuned on MNIST", paper.MNIST_TUNED_ACCURACY, experiments.tuned(S, "mnist")))
    recipes = experiments.beyond(S, root)  # the stored study's choice, beyond the report (none without a study)
    for config in recipes:
        reference = paper.MNIST_TUNED_ACCURACY if config.dataset == "mnist" else paper.ROWS[-1].accuracy
        where = "MNIST" if config.dataset == "mnist" else "FashionMNIST"
        wanted.append((f"beyond the report: the study's recipe on {where}, one network", reference, config))
    rows = []
    for name, paper_value, config in wanted:
        records = [store.record_path(config, s, root) for s in S["seeds"]]
        loaded = [json.loads(p.read_text()) for p in records if p.exists()]
        loaded = [r for r in loaded if r.get("code_version") == TRAINING_CODE_VERSION]
        if len(loaded) < len(S["seeds"]):
            rows.append({"configuration": name, "paper": paper_value, "here": "not in the store"})
            continue
        summary = Results.from_records(loaded).summary().iloc[0]
        diverged = sum(r["diverged"] for r in loaded)
        note = f", {diverged} diverged" if diverged else ""
        rows.append({"configuration": name, "paper": paper_value,
                     "here": f"{summary['mean']:.4f} ({summary['sd']:.4f}, n={int(summary['n'])}{note})"})
        ensemble = loaded[0].get("extra", {}).get("ensemble")
        if name.startswith("beyond") and ensemble and len(ensemble["seeds"]) == len(S["seeds"]):
            rows.append({"configuration": name.replace("one network", f"ensemble of {len(ensemble['seeds'])}"),
                         "paper": paper_value, "here": f"{ensemble['test_accuracy']:.4f} (n=1 ensemble)"})
    return rows


def study_line(root: Path | None = None) -> str:
    """The shipped hyperparameter study in one sentence (trials, wall time, stored size), or "" without one."""
    from . import beyond, tune

    try:
        study = tune.load(beyond.STUDY["full"], root=root)
    except (KeyError, ImportError):
        return ""
    facts = beyond.study_facts(study, tune.journal_path(study.study_name, root))
    c = facts["counts"]
    trial_kb = sum(p.stat().st_size for r in stored(root, study=True) if r.get("test_evaluated") is False
                   for p in [Path(root or results_dir()) / "runs" / r["key"] / f"seed-{r['seed']}.json"]) / 1e3
    return (f"The study rows come from the shipped Optuna study `{study.study_name}`: {facts['trials']} trials "
            f"({c.get('COMPLETE', 0)} complete, {c.get('PRUNED', 0)} pruned) in {facts['wall_minutes']:.0f} min of "
            f"wall time. The recipe is trial {facts['chosen_number']} (validation accuracy "
            f"{facts['chosen_value']:.4f}), the best whose five-seed retrain fits {beyond.RETRAIN_BUDGET_S // 60} "
            f"min (best overall: trial {facts['best_number']}, {facts['best_value']:.4f}); the test set played no "
            f"part in the choice. The study is stored as a {facts['journal_mb'] * 1e3:.0f} kB journal plus "
            f"{trial_kb:.0f} kB of trial records.")


def readme_block(root: Path | None = None) -> str:
    """The README's results table as Markdown, between its generated-block markers."""
    from .budget import build_text, latest_from_empty
    from .train import TRAINING_CODE_VERSION

    lines = [README_START, "", "| configuration (Table 1 row) | seed report (its tuned network for the study's "
             "rows) | here: mean test accuracy (SD, n) |",
             "| --- | --- | --- |"]
    for r in results_rows(root):
        paper_value = r["paper"] if isinstance(r["paper"], str) else f"{r['paper']:.4f}"
        lines.append(f"| {r['configuration']} | {paper_value} | {r['here']} |")
    lines += ["", f"Full profile, training code version {TRAINING_CODE_VERSION}; each Table 1 row's configuration is "
              "the one the report's original code ran (see the book's reproduction notes)."]
    study = study_line(root)
    lines += ["", study] if study else []
    build = latest_from_empty(root)
    lines += ["", build_text(build)] if build else []
    lines += ["", README_END]
    return "\n".join(lines)


def bench_block(latest: Path | None = None) -> str:
    """The README's performance table, from ``benchmarks/latest.json`` (what the last ``make bench`` measured)."""
    from .budget import bench_block as block
    from .paths import project_root

    return block(json.loads(Path(latest or project_root() / "benchmarks" / "latest.json").read_text()))


def update_readme(path: Path, root: Path | None = None) -> bool:
    """Replace the generated blocks of the README at ``path`` (results, benchmark); True when it changed."""
    from .budget import BENCH_END, BENCH_START

    text = new = Path(path).read_text()
    for first, last, block in ((README_START, README_END, lambda: readme_block(root)),
                               (BENCH_START, BENCH_END, bench_block)):
        start, end = new.index(first), new.index(last) + len(last)
        new = new[:start] + block() + new[end:]
    if new != text:
        Path(path).write_text(new)
    return new != text


def compare_stores(other: Path, root: Path | None = None, *, log: Callable[[str], None] = print) -> dict:
    """Every current run record under ``other`` (e.g. a ``--retrain`` folder) against the same key and seed here.

    Nothing is trained. A record is ``identical`` when its history (every compared metric), test loss, test
    accuracy, divergence and all test predictions equal the stored ones, and ``different`` otherwise (each
    printed through ``log`` with its test-accuracy difference); ``missing`` counts records with no counterpart.

    Returns
    -------
    dict
        ``compared``, ``identical``, ``different``, ``missing`` (counts) and ``differences`` (one dict each).
    """
    from .train import TRAINING_CODE_VERSION

    other = Path(other)
    if not (other / "runs").is_dir():
        raise ValueError(f"--against {other} holds no run records (no runs/ folder)")
    here = {(r["key"], r["seed"]): r for r in stored(root, TRAINING_CODE_VERSION, study=True)}
    out = {"compared": 0, "identical": 0, "different": 0, "missing": 0, "differences": []}
    for record in stored(other, TRAINING_CODE_VERSION, study=True):
        mine = here.get((record["key"], record["seed"]))
        if mine is None:
            out["missing"] += 1
            continue
        out["compared"] += 1
        same = (all(mine["history"].get(m) == record["history"].get(m) for m in COMPARED)
                and all(mine.get(k) == record.get(k) for k in ("test_loss", "test_accuracy", "diverged",
                                                                 "test_predictions")))
        if same:
            out["identical"] += 1
            continue
        out["different"] += 1
        config = RunConfig.from_dict(record["config"])
        diff = {"label": config.label(), "seed": record["seed"], "test_accuracy": record.get("test_accuracy"),
                "stored": mine.get("test_accuracy")}
        out["differences"].append(diff)
        log(f"DIFFERENT {diff['label']} seed {diff['seed']}: test accuracy {diff['test_accuracy']} here "
            f"{diff['stored']} stored")
    log(f"{out['identical']} of {out['compared']} records identical to the stored ones, {out['different']} "
        f"different; {out['missing']} with no stored counterpart")
    return out


def _same_machine(record: dict, here: dict) -> bool:
    m = record.get("machine") or {}
    same = all(m.get(k) == here.get(k) for k in ("cpu", "torch")) and record.get("device") == here.get("device")
    # MKL splits some products differently with another thread count (a 784-700 layer at batch 64 changed in the
    # fourth decimal of its loss between 1 and 2 threads), so the thread count is part of "the same machine".
    return same and m.get("torch_threads", here.get("torch_threads")) == here.get("torch_threads")


def _threads_of(record: dict) -> int | None:
    """The record's torch thread count, when this machine can run it (else None: keep the current setting)."""
    import os

    n = (record.get("machine") or {}).get("torch_threads")
    return n if isinstance(n, int) and 1 <= n <= (os.cpu_count() or 1) else None


def _fit_with_threads(threads: int | None, *args, **kwargs):
    """``fit(*args, **kwargs)`` with ``threads`` torch threads (if given), the previous setting restored after."""
    import torch

    from .train import fit

    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        return fit(*args, **kwargs)
    finally:
        torch.set_num_threads(before)


def compare(record: dict, result) -> dict:
    """Stored ``record`` against a freshly trained ``result`` (a :class:`fcnbook.train.RunResult`)."""
    h = record["history"]
    history_diff = max((abs((a if a is not None else float("nan")) - b)
                        for m in COMPARED if m in h for a, b in zip(h[m], result.history[m], strict=True)),
                       default=0.0)
    mismatched = sum(a != b for a, b in zip(record["test_predictions"], result.test_predictions, strict=True))
    return {"test_accuracy_stored": record["test_accuracy"], "test_accuracy_now": result.test_accuracy,
            "test_accuracy_diff": result.test_accuracy - record["test_accuracy"],
            "history_max_abs_diff": history_diff, "predictions_differing": mismatched,
            "epochs": len(h["seconds"]) == len(result.history["seconds"])}


def verify(sample: int, root: Path | None = None, *, rng_seed: int | None = None, device: str = "cpu",
           log: Callable[[str], None] = print) -> bool:
    """Retrain ``sample`` randomly chosen current records and compare them with what is stored.

    Each record is retrained with the torch thread count it was made with (when this machine has that many
    CPUs). Exact equality (history, test accuracy, every prediction) is required when a record was made on
    the same CPU model with the same torch, device and thread count; otherwise the test accuracy must agree
    within :data:`TOLERANCE`.
    Returns True when every sampled record passes; each comparison is printed through ``log``.
    """
    from .data import load_for
    from .environment import describe
    from .train import TRAINING_CODE_VERSION, resolve_device

    if not isinstance(sample, int) or sample < 1:
        raise ValueError(f"sample must be an integer >= 1 (got {sample!r})")
    records = stored(root, TRAINING_CODE_VERSION)
    if not records:
        raise ValueError(f"no records of training code version {TRAINING_CODE_VERSION} under "
                         f"{Path(root or results_dir())}; run `make book` or `fcnbook train` first")
    dev = resolve_device(device)
    here = describe(str(dev))
    chosen = random.Random(rng_seed).sample(records, min(sample, len(records)))
    ok = True
    for record in chosen:
        config = RunConfig.from_dict(record["config"])
        splits = load_for(config)
        if splits.checksum != record["data_checksum"]:
            log(f"SKIP {config.label()} seed {record['seed']}: made on other data (checksum differs)")
            continue
        threads = _threads_of(record)
        result = _fit_with_threads(threads, config, record["seed"], data=splits, device=dev, progress=False)
        c = compare(record, result)
        exact = _same_machine(record, here | {"torch_threads": threads or here.get("torch_threads")})
        if exact:
            passed = c["history_max_abs_diff"] == 0 and c["predictions_differing"] == 0 and c["epochs"]
            rule = f"exact (same CPU model, torch and device, {threads or here.get('torch_threads')} threads)"
        else:
            passed = abs(c["test_accuracy_diff"]) <= TOLERANCE
            rule = f"|diff| <= {TOLERANCE} (made on {(record.get('machine') or {}).get('cpu', 'an unrecorded CPU')})"
        ok &= passed
        log(f"{'PASS' if passed else 'FAIL'} {config.label()} seed {record['seed']} ({config.epochs} epochs): "
            f"test accuracy stored {c['test_accuracy_stored']:.4f}, now {c['test_accuracy_now']:.4f} "
            f"(diff {c['test_accuracy_diff']:+.2e}); history max |diff| {c['history_max_abs_diff']:.2e}; "
            f"{c['predictions_differing']} of {len(result.test_predictions)} predictions differ; rule: {rule}")
    return ok


if __name__ == "__main__":  # python -m fcnbook.provenance: regenerate the README's results table from the store
    from .paths import project_root

    changed = update_readme(project_root() / "README.md")
    print("README.md results table " + ("regenerated" if changed else "already current"))
