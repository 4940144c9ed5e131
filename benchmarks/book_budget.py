"""Training FLOPs of the whole book under a profile, and the seconds they need at this machine's sgemm peak.

What the book trains is read from the sections themselves: every ``notebooks/*.py`` is reduced to the top-level
statements that a ``store.run(...)`` (or ``fit(...)``) call depends on (a backward slice over assigned and used
names), those statements are executed with ``fcnbook.store.run`` and ``fcnbook.train.fit`` replaced by recorders,
and nothing is trained, loaded into the store or plotted. The (config, seed) pairs are then deduplicated by run
key, as the run store does (Table 1's rows 1 and 2 and the baseline of several sections are one set of runs).

Each run costs ``run_flops``: ``epochs`` x (training on the training split + one validation pass) + one test
pass, counted by :func:`flops.matmul_flops`, the same counter ``bench.py`` uses. Diverged runs that stop early
are counted in full, so the total is an upper bound of the matmul work.

    .venv/bin/python benchmarks/book_budget.py [--profile full] [--peak GFLOPS]

Without ``--peak`` the sgemm peak comes from ``benchmarks/latest.json`` (``make bench``), else it is measured.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections import defaultdict
from pathlib import Path
from unittest import mock

from flops import run_flops

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _is_training_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    if isinstance(f, ast.Attribute):
        return (f.attr == "run" and isinstance(f.value, ast.Name) and f.value.id == "store") or f.attr == "fit"
    return isinstance(f, ast.Name) and f.id == "fit"


def _defines(stmt: ast.stmt) -> set[str]:
    names = set()
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
    return names


def _uses(stmt: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def training_slice(source: str) -> tuple[list[ast.stmt], int]:
    """Top-level statements that training calls depend on, in order, and the number of training calls."""
    stmts = ast.parse(source).body
    calls = [any(_is_training_call(n) for n in ast.walk(s)) for s in stmts]
    needed: set[str] = set()
    keep = []
    for i in reversed(range(len(stmts))):
        if calls[i] or _defines(stmts[i]) & needed:
            keep.append(i)
            needed |= _uses(stmts[i])
    return [stmts[i] for i in sorted(keep)], sum(calls)


def planned_runs(notebooks: list[Path], profile: str) -> tuple[list[tuple[str, object, list[int]]], list[str]]:
    """(section, config, seeds) of every training call the sections make under ``profile``; and warnings."""
    import fcnbook.store
    import fcnbook.train

    calls: list[tuple[str, object, list[int]]] = []
    warnings = []
    section = None

    def record_run(configs, seeds, *args, **kwargs):
        from fcnbook.config import RunConfig

        configs = [configs] if isinstance(configs, RunConfig) else list(configs)
        calls.extend((section, c, [int(s) for s in seeds]) for c in configs)
        return mock.MagicMock()

    def record_fit(config, seeds, *args, **kwargs):
        seeds = [int(seeds)] if isinstance(seeds, int) else [int(s) for s in seeds]
        calls.append((section, config, seeds))
        return mock.MagicMock()

    with mock.patch.object(fcnbook.store, "run", record_run), mock.patch.object(fcnbook.train, "fit", record_fit):
        for path in notebooks:
            section = path.stem
            stmts, n_calls = training_slice(path.read_text())
            if not n_calls:
                continue
            before = len(calls)
            ns: dict = {"__name__": "__book_budget__"}
            for stmt in stmts:
                recorded = len(calls)
                try:
                    exec(compile(ast.Module([stmt], []), str(path), "exec"), ns)
                except Exception as exc:  # a section still being written must not stop the count
                    # A statement that recorded its training call and then failed on the fake result (e.g.
                    # ``store.summarize(store.run(...).runs)``) has done its job; anything else is reported.
                    if len(calls) == recorded:
                        warnings.append(f"{section}: line {stmt.lineno}: {type(exc).__name__}: {exc}")
                if "profile" in _defines(stmt):
                    ns["profile"] = profile
            if len(calls) == before:
                warnings.append(f"{section}: {n_calls} training call(s) in the source, none recorded")
    return calls, warnings


def split_sizes(config) -> tuple[int, int, int]:
    """(n_train, n_val, n_test) that ``fcnbook.data.load_for(config)`` gives, from the labels alone."""
    from fcnbook.data import load_raw, stratified_split

    _, labels = load_raw(config.dataset, True)
    _, test_labels = load_raw(config.dataset, False)
    train_idx, val_idx = stratified_split(labels.numpy(), config.val_fraction, config.split_seed)
    n_train = len(train_idx) if config.subset is None else config.subset
    return n_train, len(val_idx), len(test_labels)


def sgemm_peak(peak: float | None) -> tuple[float, str]:
    if peak:
        return peak, "--peak"
    latest = HERE / "latest.json"
    if latest.is_file():
        m = json.loads(latest.read_text())
        return float(m["sgemm_gflops"]), f"{latest.name} of {m.get('date', '?')}"
    import statistics

    import torch
    from bench import sgemm_samples

    a, b = torch.randn(4096, 4096), torch.randn(4096, 4096)
    return statistics.median(sgemm_samples(a, b, 5)), "measured now (torch.mm 4096, median of 5)"


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--profile", default="full", help="book profile (full, quick); default full")
    p.add_argument("--peak", type=float, default=None, help="sgemm GFLOP/s (default: benchmarks/latest.json)")
    p.add_argument("--notebooks", type=Path, default=ROOT / "notebooks")
    p.add_argument("--json", type=Path, default=None, help="also write the budget here")
    args = p.parse_args(argv)

    notebooks = sorted(args.notebooks.glob("*.py"))
    calls, warnings = planned_runs(notebooks, args.profile)
    sections_of = defaultdict(list)
    seeds_of: dict[str, set[int]] = defaultdict(set)
    configs = {}
    for section, config, seeds in calls:
        key = config.key()
        configs[key] = config
        seeds_of[key].update(seeds)
        if section not in sections_of[key]:
            sections_of[key].append(section)
    sizes = {}
    rows = []
    for key, config in configs.items():
        shape = (config.dataset, config.subset, config.val_fraction, config.split_seed)
        if shape not in sizes:
            sizes[shape] = split_sizes(config)
        n_train, n_val, n_test = sizes[shape]
        per_seed = run_flops(config, n_train, n_val, n_test)
        rows.append({"key": key, "label": config.label(), "dataset": config.dataset, "epochs": config.epochs,
                     "seeds": len(seeds_of[key]), "n_train": n_train, "gflop": per_seed * len(seeds_of[key]) / 1e9,
                     "sections": sections_of[key]})
    total = sum(r["gflop"] for r in rows)
    peak, peak_from = sgemm_peak(args.peak)

    print(f"book profile {args.profile!r}: {len(calls)} (config, seeds) requests in "
          f"{len({s for s, _, _ in calls})} sections -> {len(rows)} distinct configs, "
          f"{sum(r['seeds'] for r in rows)} runs")
    print(f"{'config':52}{'data':>8}{'ep':>4}{'seeds':>6}{'GFLOP':>10}  sections")
    for r in sorted(rows, key=lambda r: -r["gflop"]):
        print(f"{r['label'][:52]:52}{r['dataset']:>8}{r['epochs']:4d}{r['seeds']:6d}{r['gflop']:10.0f}  "
              f"{', '.join(r['sections'])}")
    seconds = total / peak
    print(f"total: {total / 1e3:.2f} TFLOP of matmul work (training, per-epoch validation, final test)")
    print(f"FLOP-bound at the sgemm peak of {peak:.1f} GFLOP/s [{peak_from}]: {seconds:.0f} s "
          f"= {seconds / 60:.1f} min")
    out = {"profile": args.profile, "total_gflop": total, "sgemm_gflops": peak, "flop_bound_s": seconds,
           "configs": rows, "warnings": warnings, "notebooks": [n.name for n in notebooks]}
    latest = HERE / "latest.json"
    if latest.is_file() and not args.peak:
        m = json.loads(latest.read_text())
        rate = m["epoch_gflop"] / m["stacked_epoch_per_seed_s"]
        out["at_measured_stacked_rate_s"] = total / rate
        print(f"at the measured stacked rate of {rate:.1f} GFLOP/s (latest.json): {total / rate:.0f} s "
              f"= {total / rate / 60:.1f} min (matmul-proportional; batch norm and dropout cost extra)")
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()
