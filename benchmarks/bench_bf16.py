"""The bf16 column of ``bench.py``: CPU features, the bf16 rows and speed-up, and the accuracy cost of bf16.

``bench.py`` times the bf16 runs itself, in the same rounds as the fp32 ones; this module says whether to time
them (:func:`features`), prints and collects what they gave (:func:`report`), and compares test accuracy in
fp32 and bf16 through the run store (:func:`accuracy_cost`, :func:`print_accuracy`).
"""

from __future__ import annotations

import statistics
import time

import torch

from fcnbook.training.precision import bf16_support, cpu_flags

#: Stacked fp32 epoch ÷ stacked bf16 epoch, the issue's target on a machine with AMX.
SPEEDUP_TARGET = 2.5
#: Which CPU flags are worth recording: the bf16, AMX and AVX-512 families.
FLAG_WORDS = ("bf16", "amx", "avx512")


def features(device: str) -> dict:
    """CPU features of this machine and whether ``device`` has fast bf16 matrix products.

    ``flags``: the bf16/AMX/AVX-512 flags of ``/proc/cpuinfo``; ``torch_cpu_capability``: which vectorised
    kernels PyTorch picked; ``bf16_fast``, ``bf16_found``: :func:`fcnbook.training.precision.bf16_support` of
    ``device``;
    ``amx``: the CPU has AMX-BF16 (the machines the speed-up target is about).
    """
    flags = sorted(f for f in cpu_flags() if any(w in f for w in FLAG_WORDS))
    fast, found = bf16_support(device)
    return {"flags": flags, "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "bf16_fast": fast, "bf16_found": found, "amx": "amx_bf16" in flags, "device": device}


def header(feat: dict) -> list[str]:
    """Lines for the printed header: the CPU features, and what bf16 will run on."""
    return [f"CPU features: {' '.join(feat['flags']) or 'no bf16/AMX/AVX-512 flags'}; "
            f"PyTorch CPU kernels: {feat['torch_cpu_capability']}",
            f"bf16 on {feat['device']}: {feat['bf16_found']}"]


def skip_line(feat: dict) -> str:
    """The one line printed instead of the bf16 column on a device without fast bf16."""
    return (f"bf16: not measured, {feat['device']} has no fast bf16 matrix products ({feat['bf16_found']}); "
            "the bf16 column and the bf16 accuracy are skipped")


def _median(xs):
    return statistics.median(xs) if xs else float("nan")


def _spread(xs) -> str:
    return f"{min(xs):.2f}-{max(xs):.2f}" if xs else "-"


def verdict(speedup: float, feat: dict) -> tuple[bool | None, str]:
    """Whether the stacked speed-up meets the target, and the words for it (not judged without AMX)."""
    if not feat["amx"] or feat["device"] != "cpu":
        return None, f"target >= {SPEEDUP_TARGET:g}x is for a CPU with AMX: not judged here"
    met = speedup >= SPEEDUP_TARGET
    return met, f"target >= {SPEEDUP_TARGET:g}x on an AMX machine: {'met' if met else 'NOT met'}"


def report(*, single: list[float], stacked: list[float], mm: list[float], util: dict, paired: dict,
           fp32: dict, epoch_flop: float, mm_n: int, feat: dict) -> dict:
    """Print the bf16 rows and the speed-ups; return them for ``latest.json``.

    ``single``, ``stacked``, ``mm``: every bf16 sample (s/epoch, s/epoch per seed, GFLOP/s); ``util``: CPU/wall
    per round of b16, c16, d16; ``paired``: per-round medians of b16, c16, mm16; ``fp32``: the fp32 medians
    ``single``, ``stacked`` and the per-round medians of (c), ``stacked_rounds``.
    """
    b_s, c_s, peak = _median(single), _median(stacked), _median(mm)
    u = {k: round(_median(v), 2) for k, v in util.items()}
    pct_b, pct_c = (100 * epoch_flop / s / 1e9 / peak for s in (b_s, c_s))
    pct_c_rounds = [100 * epoch_flop / c / 1e9 / g for c, g in zip(paired["c16"], paired["mm16"], strict=True)]
    speedup_rounds = [c32 / c16 for c32, c16 in zip(fp32["stacked_rounds"], paired["c16"], strict=True)]
    speedup, speedup_b = fp32["stacked"] / c_s, fp32["single"] / b_s
    met, words = verdict(speedup, feat)
    print()
    print(f"{'bf16 column (same work, bf16 matrix products)':44}{'s/epoch':>9}{'range':>15}{'n':>4}"
          f"{'GFLOP/s':>9}{'% bf16 peak':>12}{'CPU/wall':>9}{'fp32/bf16':>10}")
    for name, s, xs, pct, ut, up in (("(b) fcnbook, 1 seed, batch 512", b_s, single, pct_b, u["b16"], speedup_b),
                                     ("(c) fcnbook, 5 seeds stacked, per seed", c_s, stacked, pct_c, u["c16"],
                                      speedup)):
        print(f"{name:44}{s:9.3f}{_spread(xs):>15}{len(xs):4d}{epoch_flop / s / 1e9:9.1f}{pct:12.1f}{ut:9.2f}"
              f"{up:9.2f}x")
    print(f"{f'(d) bf16 peak, torch.mm {mm_n}x{mm_n} bfloat16':44}{'':24}{len(mm):4d}{peak:9.1f}{100.0:12.1f}"
          f"{u['d16']:9.2f}")
    print(f"    bf16 mm range {min(mm):.1f}-{max(mm):.1f} GFLOP/s")
    print(f"c fp32 / c bf16 {speedup:8.2f}x   ({words}); per round {_median(speedup_rounds):.2f}x "
          f"(rounds {_spread(speedup_rounds)})")
    print(f"c bf16, % of bf16 peak per round against the same round's bf16 mm: {_median(pct_c_rounds):.1f} % "
          f"(rounds {_spread(pct_c_rounds)})")
    return {
        "single_epoch_s": b_s, "stacked_epoch_per_seed_s": c_s, "mm_gflops": peak,
        "percent_of_peak": pct_c, "percent_of_peak_single": pct_b, "percent_of_peak_paired": _median(pct_c_rounds),
        "speedup_stacked": speedup, "speedup_stacked_paired": _median(speedup_rounds), "speedup_single": speedup_b,
        "speedup_target": {"target": SPEEDUP_TARGET, "value": speedup, "met": met, "judged": met is not None},
        "cpu_util": u,
        "samples": {"single_epoch_s": single, "stacked_epoch_per_seed_s": stacked, "mm_gflops": mm,
                    "per_round": {**paired, "percent_of_peak": pct_c_rounds, "speedup_stacked": speedup_rounds}},
    }


# ------------------------------------------------------------------------------------------------ accuracy cost

def compare(fp32: list[float], bf16: list[float]) -> dict:
    """Mean and SD (ddof=1) over seeds of both precisions; is the bf16 mean within one fp32 SD of the fp32 mean?"""
    m32, m16 = statistics.fmean(fp32), statistics.fmean(bf16)
    sd32 = statistics.stdev(fp32) if len(fp32) > 1 else float("nan")
    sd16 = statistics.stdev(bf16) if len(bf16) > 1 else float("nan")
    return {"fp32_mean": m32, "fp32_sd": sd32, "bf16_mean": m16, "bf16_sd": sd16, "difference": m16 - m32,
            "within_one_fp32_sd": bool(abs(m16 - m32) <= sd32), "n": len(fp32), "fp32": fp32, "bf16": bf16}


def accuracy_cost(profile: str, device: str, root=None, log=print) -> dict:
    """Test accuracy of the book's baseline and tuned network in fp32 and bf16, through the run store.

    ``fcnbook.store.runner.run`` reuses every stored record and trains (and stores) only what the store under ``root``
    (default: the project's) lacks, so with the shipped store the fp32 side is instant and bf16 is trained once.
    """
    from fcnbook.report import experiments
    from fcnbook.store import runner

    S = experiments.settings(profile)
    out = {"profile": profile, "seeds": S.seeds, "root": None if root is None else str(root), "networks": {}}
    t0 = time.perf_counter()
    for name, config in (("baseline", experiments.baseline(S)), ("tuned", experiments.tuned(S))):
        pair = [config.replace(precision="fp32"), config.replace(precision="bf16")]
        res = runner.run(pair, S.seeds, device=device, progress=False, root=root, log=log)
        accs = [res.runs.loc[res.runs["key"] == c.key(), "test_accuracy"].astype(float).tolist() for c in pair]
        diverged = int(res.runs.loc[res.runs["key"] == pair[1].key(), "diverged"].sum())
        out["networks"][name] = {"label": config.label(), "epochs": config.epochs, "keys": [c.key() for c in pair],
                                 **compare(*accs), "bf16_diverged": diverged}
    out["seconds"] = time.perf_counter() - t0
    return out


def print_accuracy(acc: dict) -> None:
    seeds = acc["seeds"]
    print()
    print(f"accuracy cost of bf16: test accuracy, mean ± SD over seeds {seeds[0]}-{seeds[-1]} ({acc['profile']} "
          f"profile, {acc['seconds']:.0f} s including any training)")
    print(f"{'':44}{'fp32':>17}{'bf16':>17}{'bf16 - fp32':>13}  within 1 fp32 SD")
    for name, r in acc["networks"].items():
        title = f"{name}: {r['label'].split(' ')[0]}, {r['epochs']} epochs"
        note = f"  ({r['bf16_diverged']} bf16 run(s) diverged)" if r["bf16_diverged"] else ""
        print(f"{title:44}{r['fp32_mean']:10.4f} ± {r['fp32_sd']:.4f}{r['bf16_mean']:10.4f} ± {r['bf16_sd']:.4f}"
              f"{r['difference']:+13.4f}  {'yes' if r['within_one_fp32_sd'] else 'NO'}{note}")
