"""fcnbook.report.budget: the build timing records, the README's sentence about them, and the sgemm peak."""

from __future__ import annotations

import json

import pytest

from fcnbook.book import readme
from fcnbook.report import budget
from fcnbook.training import precision

MACHINE = {"cores": 2, "cpu": "Test CPU", "torch_threads": 2, "commit": "abc1234"}


def _entry(**changes) -> dict:
    entry = {"profile": "full", "only": [], "failed": [], "runs": 135, "runs_stored_at_start": 0,
             "svd_entries_at_start": 0, "gflop": 300_000.0, "probe_gflop": 0.0, "started": "2026-11-30T05:00:00",
             "sections": {"02_baseline": 60.0, "07_tuned": 600.0, "09_svd_classifier": 300.0},
             "jupyter_book_s": 30.0, "total_s": 1800.0, "peak_rss_children_mb": 2048.0, "code_version": 3,
             "machine": MACHINE, "sgemm_gflops_before": 400.0, "sgemm_gflops_after": 500.0}
    return entry | changes


def test_records_append_and_torn_lines_are_skipped(tmp_path):
    budget.record(_entry(total_s=1.0), tmp_path)
    with open(budget.timings_path(tmp_path), "a") as f:
        f.write('{"total_s": 3, "profi')  # a build killed mid-write
        f.write("\n[1, 2]\n")
    budget.record(_entry(total_s=2.0), tmp_path)
    assert [b["total_s"] for b in budget.builds(tmp_path)] == [1.0, 2.0]
    assert budget.builds(tmp_path / "nowhere") == []


def test_latest_from_empty_takes_only_complete_full_builds_from_an_empty_store(tmp_path):
    assert budget.latest_from_empty(tmp_path) is None
    budget.record(_entry(total_s=10.0), tmp_path)
    for partial in ({"runs_stored_at_start": 5}, {"svd_entries_at_start": 1}, {"only": ["02_baseline"]},
                    {"failed": ["07_tuned"]}, {"profile": "quick"}):
        budget.record(_entry(total_s=99.0, **partial), tmp_path)
    assert budget.latest_from_empty(tmp_path)["total_s"] == 10.0
    budget.record(_entry(total_s=20.0), tmp_path)
    assert budget.latest_from_empty(tmp_path)["total_s"] == 20.0


def test_write_failure_is_reported_not_raised(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    budget.record(_entry(), blocker)  # timings/ cannot be made under a file
    assert "could not record the build's timing" in capsys.readouterr().out


@pytest.mark.parametrize("total_s, verdict", [(1800.0, "**not met**"), (600.0, "met")])
def test_build_text_computes_the_bound_and_the_verdict(total_s, verdict):
    text = budget.build_text(_entry(total_s=total_s))
    # 300 TFLOP at the faster reading, 500 GFLOP/s: 600 s = 10.0 min; budget 1.25 x 10 + 3 = 15.5 min.
    assert "takes 10.0 min at the sgemm peak" in text and "is 15.5 min" in text
    assert text.endswith(f"{verdict} ({total_s / 600:.1f} x the bound).")
    assert f"**{total_s / 60:.1f} min**" in text
    assert "07_tuned 10.0 min, 09_svd_classifier 5.0 min, 02_baseline 1.0 min, Jupyter Book 30 s" in text


def test_build_text_without_a_peak_states_no_verdict():
    entry = _entry()
    del entry["sgemm_gflops_before"], entry["sgemm_gflops_after"]
    assert "met" not in budget.build_text(entry)


def test_readme_block_carries_the_latest_build(tmp_path, monkeypatch):
    from fcnbook.report.chapters import provenance

    monkeypatch.setattr(provenance, "results_rows", lambda root=None: [])
    monkeypatch.setattr(provenance, "study_line", lambda root=None: "")
    assert "Full book from an empty store" not in readme.readme_block(tmp_path)
    budget.record(_entry(), tmp_path)
    assert budget.build_text(_entry()) in readme.readme_block(tmp_path)


def test_sgemm_gflops_counts_2n3_over_the_fastest_timed_product(monkeypatch):
    """With a fake clock: 2 n^3 flops over the best of ``repeats`` timed products; the warm-up is not timed."""
    import types

    import torch

    shapes, real_mm = [], torch.mm
    monkeypatch.setattr(torch, "mm", lambda a, b: shapes.append((tuple(a.shape), tuple(b.shape))) or real_mm(a, b))
    ticks = iter([10.0, 10.4, 20.0, 20.1, 30.0, 30.25])  # three timed products: 0.4 s, 0.1 s, 0.25 s
    monkeypatch.setattr(precision, "time", types.SimpleNamespace(perf_counter=lambda: next(ticks)))
    rate = precision.sgemm_gflops(n=64, repeats=3)
    assert shapes == [((64, 64), (64, 64))] * 4  # the warm-up and three timed products
    assert rate == pytest.approx(2 * 64**3 / 0.1 / 1e9)
    assert next(ticks, None) is None  # every tick read: each timed product read the clock twice, the warm-up never


def test_sgemm_gflops_agrees_with_a_numpy_matmul_timed_alike():
    """The measured rate is that of a float32 matmul on this machine: within 5x of numpy's, timed the same way.

    One thread each (on an over-subscribed machine a multi-threaded product waits for descheduled threads: rates
    from 0.1 to 175 GFLOP/s were measured back to back), best of 10. Measured on a 2-core AMD EPYC at load average
    8: torch/numpy 0.89-0.99 at n = 128 and 256, 20 ms per pair. A unit slip (MFLOP, n^2) is off by 100x or more.
    """
    import time

    import numpy as np
    import torch
    from threadpoolctl import threadpool_limits

    def numpy_gflops(n: int, repeats: int) -> float:
        rng = np.random.default_rng(0)
        a, b = rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)
        a @ b
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - t0)
        return 2 * n**3 / best / 1e9

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            ratio = precision.sgemm_gflops(n=256, repeats=10) / numpy_gflops(256, 10)
    finally:
        torch.set_num_threads(threads)
    assert 1 / 5 < ratio < 5, ratio


def test_timing_lines_are_json(tmp_path):
    path = budget.record(_entry(), tmp_path)
    assert json.loads(path.read_text().splitlines()[0])["runs"] == 135


def _latest() -> dict:
    from fcnbook.paths import project_root

    return json.loads((project_root() / "benchmarks" / "latest.json").read_text())


def test_readme_benchmark_table_is_generated_from_latest_json():
    """The README's performance figures are never typed: its block equals what benchmarks/latest.json gives."""
    from fcnbook.paths import project_root

    text = (project_root() / "README.md").read_text()
    start, end = text.index(budget.BENCH_START), text.index(budget.BENCH_END) + len(budget.BENCH_END)
    assert text[start:end] == readme.bench_block(), "run `python -m fcnbook.book.readme` and commit README.md"


def test_bench_block_states_the_measured_figures_and_verdicts():
    latest = _latest()
    latest |= {"stacked_epoch_per_seed_s": 0.5, "sgemm_gflops": 400.0, "epoch_gflop": 100.0}
    latest["targets"]["percent_of_peak"] |= {"value": 50.0, "met": False}
    block = budget.bench_block(latest)
    # (c): 100 GFLOP in 0.5 s at a 400 GFLOP/s peak is 50.0 %.
    assert "| (c) fcnbook, five seeds stacked, per seed | 0.500 | 50.0 |" in block
    assert "(c) at 50.0 % of the sgemm peak (>= 75 %: **not met**)" in block


def test_bench_block_without_bf16_leaves_its_columns_empty():
    latest = _latest() | {"bf16": None, "accuracy": None}
    block = budget.bench_block(latest)
    assert "| (d) matmul peak, `torch.mm` 4096 x 4096 | " in block and "bf16 stacked" not in block
    assert all(line.count("|") == 7 for line in block.splitlines() if line.startswith("| ("))


def test_section_table_adds_up_to_the_build():
    table = budget.section_table(_entry())
    assert list(table.index) == ["02_baseline", "07_tuned", "09_svd_classifier", "Jupyter Book",
                                 "total (with start-up and the records)"]
    assert table.loc["07_tuned", "minutes"] == 10.0 and table.loc["07_tuned", "share of the build (%)"] == 600 / 18
