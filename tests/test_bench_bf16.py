"""The bf16 column of benchmarks/bench.py: option handling, feature detection, the report and the accuracy table.

Nothing here times or trains anything: the measurements are replaced by fixed numbers, ``runner.run`` by a fake.
"""

import sys
from pathlib import Path

import pandas as pd
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def modules(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))  # bench.py imports its neighbours quiet and bench_bf16 by name
    import bench
    import bench_bf16

    yield bench, bench_bf16
    for name in ("bench", "bench_bf16", "quiet"):
        sys.modules.pop(name, None)


def test_quick_sizes_and_explicit_options_win(modules):
    bench, _ = modules
    full = bench.parse_args([])
    assert (full.rounds, full.sgemm_n, full.accuracy, full.bf16) == (5, 4096, True, True)
    assert full.accuracy_profile == "full" and full.json == BENCH / "latest.json"
    quick = bench.parse_args(["--quick", "--rounds", "2", "--no-accuracy"])
    assert (quick.rounds, quick.sgemm_n, quick.tutorial_batches, quick.accuracy) == (2, 512, 1, False)
    assert quick.accuracy_profile == "quick" and quick.json != BENCH / "latest.json"
    assert bench.parse_args(["--tutorial-batches", "0"]).tutorial_batches == 0  # 0 (whole epochs) is kept
    with pytest.raises(SystemExit):
        bench.parse_args(["--rounds", "0"])


def test_features_keep_the_bf16_amx_and_avx512_flags(modules, monkeypatch):
    _, bf = modules
    monkeypatch.setattr(bf, "cpu_flags", lambda: {"sse2", "avx2", "avx512f", "avx512_bf16", "amx_tile", "fma"})
    monkeypatch.setattr(bf, "bf16_support", lambda device: (False, "a phrase"))
    feat = bf.features("cpu")
    assert feat["flags"] == ["amx_tile", "avx512_bf16", "avx512f"]
    assert feat["bf16_fast"] is False and feat["amx"] is False
    assert "a phrase" in bf.skip_line(feat) and "skipped" in bf.skip_line(feat)
    assert "amx_tile avx512_bf16 avx512f" in bf.header(feat)[0]


def test_speedup_is_judged_only_on_an_amx_cpu(modules):
    _, bf = modules
    amx = {"amx": True, "device": "cpu"}
    assert bf.verdict(2.6, amx)[0] is True
    assert bf.verdict(2.4, amx)[0] is False
    assert bf.verdict(2.4, {"amx": False, "device": "cpu"})[0] is None
    assert bf.verdict(9.0, {"amx": True, "device": "cuda"})[0] is None


def test_report_figures(modules, capsys):
    _, bf = modules
    out = bf.report(single=[0.5, 0.4, 0.6], stacked=[0.2, 0.25], mm=[1000.0, 900.0, 1100.0],
                    util={"b16": [1.9], "c16": [2.0], "d16": [2.0]},
                    paired={"b16": [0.45, 0.6], "c16": [0.2, 0.25], "mm16": [950.0, 1100.0]},
                    fp32={"single": 1.0, "stacked": 0.6, "stacked_rounds": [0.6, 0.5]}, epoch_flop=100e9,
                    mm_n=512, feat={"amx": True, "device": "cpu"})
    assert out["stacked_epoch_per_seed_s"] == pytest.approx(0.225)
    assert out["speedup_stacked"] == pytest.approx(0.6 / 0.225)
    assert out["speedup_single"] == pytest.approx(2.0)
    assert out["speedup_stacked_paired"] == pytest.approx((3.0 + 2.0) / 2)
    assert out["percent_of_peak"] == pytest.approx(100 * 100 / 0.225 / 1000)
    assert out["speedup_target"]["met"] is True
    printed = capsys.readouterr().out
    assert "2.67x" in printed and "met" in printed


def test_accuracy_cost_compares_both_precisions_per_network(modules, monkeypatch, capsys):
    _, bf = modules
    from fcnbook.store import runner
    from fcnbook.store.frames import Results

    calls = []

    def fake_run(configs, seeds, **kw):
        calls.append(([c.precision for c in configs], list(seeds), kw["device"]))
        fp32, bf16 = configs
        rows = [{"key": fp32.key(), "test_accuracy": a, "diverged": False} for a in (0.88, 0.89, 0.90)]
        rows += [{"key": bf16.key(), "test_accuracy": a, "diverged": a < 0.5} for a in (0.87, 0.88, 0.10)]
        return Results(runs=pd.DataFrame(rows), history=pd.DataFrame(), records=[])

    monkeypatch.setattr(runner, "run", fake_run)
    acc = bf.accuracy_cost("full", "cpu", root=None, log=lambda msg: None)
    assert calls == [(["fp32", "bf16"], [0, 1, 2, 3, 4], "cpu")] * 2
    base = acc["networks"]["baseline"]
    assert base["fp32_mean"] == pytest.approx(0.89) and base["fp32_sd"] == pytest.approx(0.01)
    assert base["within_one_fp32_sd"] is False and base["bf16_diverged"] == 1
    bf.print_accuracy(acc)
    assert "NO  (1 bf16 run(s) diverged)" in capsys.readouterr().out


def test_within_one_sd(modules):
    _, bf = modules
    assert bf.compare([0.88, 0.90], [0.885, 0.886])["within_one_fp32_sd"] is True
    assert bf.compare([0.88, 0.90], [0.86, 0.87])["within_one_fp32_sd"] is False
