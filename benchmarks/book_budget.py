"""Training FLOPs of the whole book under a profile, and the minutes they need at this machine's sgemm peak.

What the book trains comes from its one declaration, :func:`fcnbook.report.experiments.book_configs`: every
configuration listed once, under the section that trains it first when the book is built in order (later
sections reuse the stored runs). Each configuration is trained with the profile's seeds.

Each run (one configuration, one seed) costs :func:`fcnbook.stats.flops.run_flops`: ``epochs`` x (training on the
training split + one validation pass) + one test pass, the accounting of the book's earlier budgets. Since
training code version 3 ``fit`` also evaluates a fixed training probe (as large as the validation split) after
every epoch; that pass is reported beside the total, not in it, so the total stays comparable with figures
made before. Diverged runs that stop early are counted in full, so both are upper bounds of the matmul work.
The SVD chapter's classifiers (SVD projections and RBF-SVC fits) are not matmul networks and are not counted.

    .venv/bin/python benchmarks/book_budget.py [--profile full|quick] [--peak GFLOPS] [--configs] [--json out.json]

Without ``--peak`` the sgemm peak comes from ``benchmarks/latest.json`` (``make bench``), else it is measured.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from fcnbook.report import experiments
from fcnbook.report.budget import book_budget

HERE = Path(__file__).resolve().parent


def budget(profile: str = "full") -> dict:
    """:func:`fcnbook.report.budget.book_budget` (kept under this name for scripts that import it)."""
    return book_budget(profile)


def sgemm_peak(peak: float | None) -> tuple[float, str]:
    """GFLOP/s of the sgemm peak and where it came from: ``peak``, ``latest.json``, or measured now."""
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
    p.add_argument("--profile", default="full", choices=sorted(experiments.PROFILES), help="default full")
    p.add_argument("--peak", type=float, default=None, help="sgemm GFLOP/s (default: benchmarks/latest.json)")
    p.add_argument("--configs", action="store_true", help="also list every configuration")
    p.add_argument("--json", type=Path, default=None, help="also write the budget here")
    args = p.parse_args(argv)

    out = budget(args.profile)
    peak, peak_from = sgemm_peak(args.peak)
    total, probe = out["total_gflop"], out["probe_gflop"]
    runs = sum(s["runs"] for s in out["sections"].values())
    print(f"book profile {args.profile!r}: {len(out['configs'])} distinct configs x {len(out['seeds'])} seeds "
          f"= {runs} runs (fcnbook.report.experiments.book_configs)")
    print(f"{'section':20}{'configs':>8}{'runs':>6}{'GFLOP':>11}{'min @ peak':>12}{'+ probe GFLOP':>15}")
    for name, s in out["sections"].items():
        print(f"{name:20}{s['configs']:8d}{s['runs']:6d}{s['gflop']:11.0f}{s['gflop'] / peak / 60:12.2f}"
              f"{s['probe_gflop']:15.0f}")
    print(f"{'total':20}{len(out['configs']):8d}{runs:6d}{total:11.0f}{total / peak / 60:12.2f}{probe:15.0f}")
    if args.configs:
        print()
        print(f"{'config':52}{'data':>8}{'ep':>4}{'n_train':>8}{'GFLOP':>10}  section")
        for r in sorted(out["configs"], key=lambda r: -r["gflop"]):
            print(f"{r['label'][:52]:52}{r['dataset']:>8}{r['epochs']:4d}{r['n_train']:8d}{r['gflop']:10.0f}  "
                  f"{r['section']}")
    seconds = total / peak
    print()
    print(f"total: {total / 1e3:.2f} TFLOP of matmul work (training, per-epoch validation, final test)")
    print(f"FLOP bound at the sgemm peak of {peak:.1f} GFLOP/s [{peak_from}]: {seconds:.0f} s "
          f"= {seconds / 60:.1f} min")
    print(f"the per-epoch training-probe passes (training code version 3) add {probe / 1e3:.2f} TFLOP "
          f"({100 * probe / total:.1f} %, {probe / peak / 60:.1f} min): {(total + probe) / 1e3:.2f} TFLOP "
          f"= {(total + probe) / peak / 60:.1f} min in all")
    out.update(sgemm_gflops=peak, sgemm_from=peak_from, flop_bound_s=seconds,
               flop_bound_with_probe_s=(total + probe) / peak)
    latest = HERE / "latest.json"
    if latest.is_file() and not args.peak:
        m = json.loads(latest.read_text())
        rate = m["epoch_gflop"] / m["stacked_epoch_per_seed_s"]
        out["at_measured_stacked_rate_s"] = total / rate
        print(f"at the measured stacked rate of {rate:.1f} GFLOP/s (latest.json): {total / rate:.0f} s "
              f"= {total / rate / 60:.1f} min (matmul-proportional; batch norm and dropout cost extra)")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()
