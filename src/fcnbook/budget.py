"""What a build of the book costs: its counted matmul work, this machine's sgemm peak, and timed builds.

The performance issue judges a full build from an empty store against ``1.25 x FLOP bound + 3 min``, where the
bound is the counted work of the build at the machine's sgemm peak. The three pieces live here so that the
benchmarks, the book build and the README all use the same ones:

- :func:`book_budget`: the matmul FLOPs of every run the profile declares (:func:`fcnbook.experiments.book_configs`),
  counted by :func:`fcnbook.flops.run_flops` on the real split sizes (read from the label files: no torch, no
  images);
- :func:`sgemm_gflops`: ``torch.mm`` of two 4096 x 4096 float32 matrices, the peak of ``make bench``;
- :func:`record` / :func:`latest`: one JSON line per timed build in ``<results>/timings/book.jsonl``, written by
  :func:`fcnbook.bookbuild.build_book` and read by the README's generated block.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from .paths import results_dir

TARGET_FACTOR, TARGET_EXTRA_MIN = 1.25, 3.0  # the budget: 1.25 x bound + 3 min


def split_sizes(config) -> tuple[int, int, int]:
    """(n_train, n_val, n_test) that ``fcnbook.data.load_for(config)`` gives, from the label files alone."""
    from .data import FOLDERS, read_idx, stratified_split
    from .paths import data_dir

    raw = data_dir() / FOLDERS[config.dataset] / "raw"
    labels = read_idx(raw / "train-labels-idx1-ubyte")
    n_test = len(read_idx(raw / "t10k-labels-idx1-ubyte"))
    train_idx, val_idx = stratified_split(labels, config.val_fraction, config.split_seed)
    n_train = len(train_idx) if config.subset is None else config.subset
    return n_train, len(val_idx), n_test


def book_budget(profile: str = "full") -> dict:
    """Per-configuration and per-section matmul FLOPs of ``profile``; GFLOP figures are for all seeds together.

    Each run costs ``epochs`` x (training + one validation pass) + one test pass; ``probe_gflop`` is the
    evaluation of the training probe after every epoch (training code version 3), kept apart so that totals stay
    comparable with the budgets made before it. The SVD chapter's classifiers are not counted.

    Returns
    -------
    dict
        ``profile``, ``seeds``, ``sections`` (name -> ``{"configs", "runs", "gflop", "probe_gflop"}``),
        ``configs`` (one row per configuration), ``total_gflop`` and ``probe_gflop``.
    """
    from . import experiments
    from .flops import run_flops

    S = experiments.settings(profile)
    n_seeds = len(S["seeds"])
    sizes: dict[tuple, tuple[int, int, int]] = {}
    rows, sections = [], {}
    for section, configs in experiments.book_configs(profile).items():
        sec = sections[section] = {"configs": len(configs), "runs": len(configs) * n_seeds, "gflop": 0.0,
                                   "probe_gflop": 0.0}
        for config in configs:
            shape = (config.dataset, config.subset, config.val_fraction, config.split_seed)
            if shape not in sizes:
                sizes[shape] = split_sizes(config)
            n_train, n_val, n_test = sizes[shape]
            base = run_flops(config, n_train, n_val, n_test)
            probe = run_flops(config, n_train, n_val, n_test, n_probe=min(n_val, n_train)) - base
            row = {"section": section, "key": config.key(), "label": config.label(), "dataset": config.dataset,
                   "epochs": config.epochs, "seeds": n_seeds, "n_train": n_train, "n_val": n_val,
                   "n_test": n_test, "gflop": base * n_seeds / 1e9, "probe_gflop": probe * n_seeds / 1e9}
            rows.append(row)
            sec["gflop"] += row["gflop"]
            sec["probe_gflop"] += row["probe_gflop"]
    return {"profile": profile, "seeds": S["seeds"], "sections": sections, "configs": rows,
            "total_gflop": sum(r["gflop"] for r in rows), "probe_gflop": sum(r["probe_gflop"] for r in rows)}


def sgemm_gflops(n: int = 4096, repeats: int = 3) -> float:
    """The best of ``repeats`` timed ``torch.mm`` of two random n x n float32 matrices, in GFLOP/s (2 n^3 each)."""
    import torch

    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g)
    torch.mm(a, b)  # warm-up: MKL's buffers and threads
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def timings_path(root: Path | None = None) -> Path:
    return Path(root or results_dir()) / "timings" / "book.jsonl"


def record(entry: dict, root: Path | None = None) -> Path:
    """Append ``entry`` as one JSON line to the build timings; a failure to write is reported, never raised."""
    path = timings_path(root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(entry, sort_keys=True) + "\n"
        with open(path, "a") as f:  # one write of one line: a killed build leaves whole lines behind
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        print(f"[book] could not record the build's timing in {path}: {exc.strerror or exc}", flush=True)
    return path


def builds(root: Path | None = None) -> list[dict]:
    """Every readable line of the build timings, oldest first (a torn or foreign line is skipped)."""
    path = timings_path(root)
    if not path.is_file():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and "total_s" in entry:
            out.append(entry)
    return out


def latest_from_empty(root: Path | None = None, profile: str = "full") -> dict | None:
    """The newest complete build of ``profile`` that started from an empty store (every run and SVD entry made)."""
    done = [b for b in builds(root) if b.get("profile") == profile and not b.get("only") and not b.get("failed")
            and b.get("runs_stored_at_start") == 0 and b.get("svd_entries_at_start") == 0]
    return done[-1] if done else None


def target_minutes(bound_min: float) -> float:
    """The issue's budget for a build whose counted work takes ``bound_min`` minutes at the sgemm peak."""
    return TARGET_FACTOR * bound_min + TARGET_EXTRA_MIN


def build_text(entry: dict) -> str:
    """A timed build in one paragraph: wall time, where it went, and the issue's budget for it."""
    minutes = entry["total_s"] / 60
    sections = sorted(entry["sections"].items(), key=lambda kv: -kv[1])
    top = ", ".join(f"{name} {s / 60:.1f}" for name, s in sections[:3])
    work = (entry["gflop"] + entry["probe_gflop"]) / 1e3
    peaks = [entry[k] for k in ("sgemm_gflops_before", "sgemm_gflops_after") if k in entry]
    m = entry["machine"]
    text = (f"Full book from an empty store (`make book RETRAIN=1`, i.e. `fcnbook book --profile full --retrain`): "
            f"**{minutes:.1f} min** of wall time on {entry['started'][:10]} ({m['cores']}-core {m['cpu']}, "
            f"{m['torch_threads']} threads, training code version {entry['code_version']}, commit {m['commit']}), "
            f"all {entry['runs']} runs trained and the SVD chapter's cache filled; the longest sections took "
            f"{top} min, Jupyter Book {entry.get('jupyter_book_s', 0) / 60:.1f} min; the largest process peaked at "
            f"{entry['peak_rss_children_mb'] / 1024:.2f} GiB.")
    if peaks:
        peak = max(peaks)  # the faster reading: the stricter bound
        bound = work * 1e3 / peak / 60
        target = target_minutes(bound)
        verdict = "met" if minutes <= target else "**not met**"
        text += (f" Its counted matmul work, {work:.1f} TFLOP (training, validation, training-probe and test "
                 f"passes), takes {bound:.1f} min at the sgemm peak measured around the build "
                 f"({' and '.join(f'{p:.0f}' for p in peaks)} GFLOP/s before and after; the faster is used), so the "
                 f"performance issue's budget of {TARGET_FACTOR} x bound + {TARGET_EXTRA_MIN:.0f} min is "
                 f"{target:.1f} min: {verdict} ({minutes / bound:.1f} x the bound).")
    return text
