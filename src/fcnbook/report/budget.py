"""What a build of the book costs: its counted matmul work, this machine's sgemm peak, and timed builds.

The performance issue judges a full build from an empty store against ``1.25 x FLOP bound + 3 min``, where the
bound is the counted work of the build at the machine's sgemm peak. The three pieces live here so that the
benchmarks, the book build and the README all use the same ones:

- :func:`book_budget`: the matmul FLOPs of every run the profile declares
(:func:`fcnbook.report.experiments.book_configs`),
  counted by :func:`fcnbook.stats.flops.run_flops` on the real split sizes (read from the label files: no torch, no
  images);
- :func:`sgemm_gflops`: ``torch.mm`` of two 4096 x 4096 float32 matrices, the peak of ``make bench``;
- :func:`record` / :func:`latest`: one JSON line per timed build in ``<results>/timings/book.jsonl``, written by
  :func:`fcnbook.book.build.build_book` and read by the README's generated block.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from fcnbook.paths import results_dir

TARGET_FACTOR, TARGET_EXTRA_MIN = 1.25, 3.0  # the budget: 1.25 x bound + 3 min


def run_gflop(config) -> float:
    """Counted training and evaluation work of one seed's run of ``config``, in GFLOP."""
    from fcnbook.stats.flops import run_flops

    n_train, n_val, n_test = split_sizes(config)
    return run_flops(config, n_train, n_val, n_test, n_probe=n_val) / 1e9


def split_sizes(config) -> tuple[int, int, int]:
    """(n_train, n_val, n_test) that ``fcnbook.data.splits.load_for(config)`` gives, from the label files alone."""
    from fcnbook.data.indices import labels as read_labels
    from fcnbook.data.indices import stratified_split

    labels = read_labels(config.dataset, train=True)
    n_test = len(read_labels(config.dataset, train=False))
    train_idx, val_idx = stratified_split(labels, config.val_fraction, config.split_seed)
    n_train = len(train_idx) if config.subset is None else config.subset
    return n_train, len(val_idx), n_test


def book_budget(profile: str = "full", declared: dict | None = None) -> dict:
    """Per-configuration and per-section matmul FLOPs of ``profile``; GFLOP figures are for all seeds together.

    ``declared``: the profile's :func:`fcnbook.report.experiments.book_configs`, when the caller has it already (it
    reads the stored study).

    Each run costs ``epochs`` x (training + one validation pass) + one test pass; ``probe_gflop`` is the
    evaluation of the training probe after every epoch (training code version 3), kept apart so that totals stay
    comparable with the budgets made before it. The SVD chapter's classifiers are not counted.

    Returns
    -------
    dict
        ``profile``, ``seeds``, ``sections`` (name -> ``{"configs", "runs", "gflop", "probe_gflop"}``),
        ``configs`` (one row per configuration), ``total_gflop`` and ``probe_gflop``.
    """
    from fcnbook.report import experiments
    from fcnbook.stats.flops import run_flops

    S = experiments.settings(profile)
    n_seeds = len(S.seeds)
    sizes: dict[tuple, tuple[int, int, int]] = {}
    rows, sections = [], {}
    for section, configs in (declared or experiments.book_configs(profile)).items():
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
    return {"profile": profile, "seeds": S.seeds, "sections": sections, "configs": rows,
            "total_gflop": sum(r["gflop"] for r in rows), "probe_gflop": sum(r["probe_gflop"] for r in rows)}


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


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def build_text(entry: dict, *, target: bool = True) -> str:
    """A timed build in one paragraph: wall time, where it went, and (``target``) the issue's budget for it; without
    ``target`` (the book's provenance page) the build is set against its FLOP bound alone."""
    minutes = entry["total_s"] / 60
    sections = sorted(entry["sections"].items(), key=lambda kv: -kv[1])
    top = ", ".join(f"{name} {_duration(s)}" for name, s in sections[:3])
    work = (entry["gflop"] + entry["probe_gflop"]) / 1e3
    peaks = [entry[k] for k in ("sgemm_gflops_before", "sgemm_gflops_after") if k in entry]
    m = entry["machine"]
    text = (f"Full book from an empty store (`make book RETRAIN=1`, i.e. `fcnbook book --profile full --retrain`): "
            f"**{minutes:.1f} min** of wall time on {entry['started'][:10]} ({m['cores']}-core {m['cpu']}, "
            f"{m['torch_threads']} threads, training code version {entry['code_version']}, commit {m['commit']}), "
            f"all {entry['runs']} runs trained and the SVD chapter's cache filled; the longest sections took "
            f"{top}, Jupyter Book {_duration(entry.get('jupyter_book_s', 0))}; the largest process peaked at "
            f"{entry['peak_rss_children_mb'] / 1024:.2f} GiB.")
    if peaks:
        peak = max(peaks)  # the faster reading: the stricter bound
        bound = work * 1e3 / peak / 60
        text += (f" Its counted matmul work, {work:.1f} TFLOP (training, validation, training-probe and test "
                 f"passes), takes {bound:.1f} min at the sgemm peak measured around the build "
                 f"({' and '.join(f'{p:.0f}' for p in peaks)} GFLOP/s before and after; the faster is used)")
        if not target:
            return text + f": the build took {minutes / bound:.1f} times that bound."
        limit = target_minutes(bound)
        verdict = "met" if minutes <= limit else "**not met**"
        text += (f", so the performance issue's budget of {TARGET_FACTOR} x bound + {TARGET_EXTRA_MIN:.0f} min is "
                 f"{limit:.1f} min: {verdict} ({minutes / bound:.1f} x the bound).")
    return text


def section_table(entry: dict):
    """A timed build per section (minutes and share of the wall time), with Jupyter Book and the total."""
    import pandas as pd

    rows = [*entry["sections"].items(), ("Jupyter Book", entry.get("jupyter_book_s", 0.0))]
    total = entry["total_s"]
    table = pd.DataFrame([{"part": name, "minutes": s / 60, "share of the build (%)": 100 * s / total}
                          for name, s in rows])
    table.loc[len(table)] = {"part": "total (with start-up and the records)", "minutes": total / 60,
                             "share of the build (%)": 100.0}
    return table.set_index("part")


BENCH_START = "<!-- benchmark table: generated by `python -m fcnbook.book.readme` from benchmarks/latest.json -->"
BENCH_END = "<!-- end of benchmark table -->"


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def bench_block(latest: dict) -> str:
    """The README's performance table from what ``make bench`` measured (``benchmarks/latest.json``)."""
    m, peak, work = latest["machine"], latest["sgemm_gflops"], latest["epoch_gflop"]
    b16 = latest.get("bf16") or {}
    rows = [("(a) tutorial pipeline: torchvision + DataLoader, batch 64", latest["tutorial_epoch_s"],
             latest["epoch_train_gflop"], None, None),
            ("(b) fcnbook, one seed, batch 512", latest["single_epoch_s"], work, b16.get("single_epoch_s"),
             b16.get("percent_of_peak_single")),
            ("(c) fcnbook, five seeds stacked, per seed", latest["stacked_epoch_per_seed_s"], work,
             b16.get("stacked_epoch_per_seed_s"), b16.get("percent_of_peak"))]
    lines = [BENCH_START, "",
             f"Measured on {latest['date'][:10]} by `make bench` ({latest['method']['rounds']} rounds, training code "
             f"version {latest['training_code_version']}, commit {latest['git_commit']}) on a {m['cores']}-core "
             f"{m['cpu']}, torch {m['torch']} ({m['blas'].upper()}, {m['threads']} threads), load average "
             f"{latest['load_average']['start'][0]:.2f} at the start; "
             f"{(latest.get('cpu_features') or {}).get('bf16_found') or 'no fast bf16 found'}.", "",
             "| | fp32 s/epoch | fp32 % of sgemm peak | bf16 s/epoch | bf16 % of bf16 peak | fp32 / bf16 |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, s, gflop, s16, pct16 in rows:
        bf = (f"{s16:.3f} | {pct16:.1f} | {s / s16:.2f}x" if s16 else "| | ").strip()
        lines.append(f"| {name} | {s:.3f} | {100 * gflop / s / peak:.1f} | {bf} |")
    mm16 = b16.get("mm_gflops")
    lines.append(f"| (d) matmul peak, `torch.mm` 4096 x 4096 | {peak:.0f} GFLOP/s | 100 | "
                 + (f"{mm16:.0f} GFLOP/s | 100 | {mm16 / peak:.1f}x |" if mm16 else "| | |"))
    t = latest["targets"]
    text = (f"Targets: a / b = {t['a_over_b']['value']:.1f}x (>= {t['a_over_b']['target']:.0f}x: "
            f"{_met(t['a_over_b']['met'])}); b / c = {t['b_over_c']['value']:.2f}x (>= {t['b_over_c']['target']}x: "
            f"{_met(t['b_over_c']['met'])}); (c) at {t['percent_of_peak']['value']:.1f} % of the sgemm peak "
            f"(>= {t['percent_of_peak']['target']:.0f} %: {_met(t['percent_of_peak']['met'])})")
    if b16:
        st = b16["speedup_target"]
        judged = _met(st["met"]) if st.get("judged") else "not judged: no AMX"
        text += (f"; bf16 stacked {st['value']:.2f}x faster than fp32 (>= {st['target']}x on an AMX CPU: "
                 f"{judged})")
    acc = (latest.get("accuracy") or {}).get("networks") or {}
    if acc:
        parts = [f"{name} {a['bf16_mean']:.4f} (SD {a['bf16_sd']:.4f}) against fp32 {a['fp32_mean']:.4f} "
                 f"({a['fp32_sd']:.4f})" for name, a in acc.items()]
        ok = all(a["within_one_fp32_sd"] for a in acc.values())
        n = min(a["n"] for a in acc.values())
        text += (f"; bf16 test accuracy over {n} seeds: {', '.join(parts)}, within one fp32 seed-SD: {_met(ok)}")
    rss = latest.get("peak_rss_total_mb")
    text += f"; peak RSS {rss / 1024:.2f} GiB (<= 3 GB: {_met(rss * 2**20 <= 3e9)})." if rss else "."
    lines += ["", text, "", BENCH_END]
    return "\n".join(lines)
