"""Side-by-side timings on this machine: the tutorial pipeline, fcnbook with 1 seed and with 5 stacked seeds.

``make bench`` runs ``.venv/bin/python benchmarks/bench.py``; see ``benchmarks/README.md`` for what each number
means. The measurements are interleaved in rounds (b, b16, c, c16, a, d, d16 in every round) so that a change of
machine load during the run hits all of them alike, and every figure is the median over all rounds. The bf16
column (b16, c16: ``precision="bf16"``; d16: the bf16 matmul peak) is measured where the device has fast bf16
(``bench_bf16.py``), and afterwards the test accuracy of the baseline and the tuned network in fp32 and bf16 is
compared through the run store (``--no-accuracy`` leaves that out). The table goes to stdout, the figures to
``benchmarks/latest.json``. ``--quick`` runs every path in tiny rounds (a smoke test; its figures mean nothing).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import bench_bf16
import torch
from quiet import busy_fraction, wait_quiet
from torch import nn
from torch.utils.data import DataLoader, Subset

from fcnbook.machine import cpu_model
from fcnbook.stats.flops import epoch_flops, layer_sizes, matmul_flops

HERE = Path(__file__).resolve().parent
SEEDS = [0, 1, 2, 3, 4]
TUTORIAL_BATCH = 64
TARGETS = {"a_over_b": 6.0, "b_over_c": 1.4, "percent_of_peak": 75.0}
#: Defaults of the sizing options, and ``--quick``'s (a smoke test: every path, in tiny rounds).
SIZES = {"rounds": 5, "single_epochs": 2, "stacked_epochs": 1, "tutorial_batches": 211, "sgemm_n": 4096,
         "sgemm_repeats": 3}
QUICK = {"rounds": 1, "single_epochs": 1, "stacked_epochs": 1, "tutorial_batches": 1, "sgemm_n": 512,
         "sgemm_repeats": 1}


def cpu_pressure() -> str | None:
    """``/proc/pressure/cpu`` (share of time runnable tasks waited for a CPU), if the kernel offers it."""
    try:
        return Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None


def git_commit() -> str | None:
    """``git describe --always --dirty`` of the working tree the benchmark ran from, if git can tell."""
    import subprocess

    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=HERE, capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def machine_info() -> dict:
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": affinity,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas": "mkl" if torch.backends.mkl.is_available() else "other",
        "python": platform.python_version(),
    }


def peak_rss_mb() -> float:
    """High-water mark of this process's resident set (``ru_maxrss`` is KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10


class Clock:
    """Wall and process-CPU time of a block; ``util`` = CPU seconds per wall second (2.0 = both cores busy)."""

    def __enter__(self):
        self.w, self.c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.w
        self.util = (time.process_time() - self.c) / self.wall if self.wall > 0 else float("nan")


def sgemm_samples(a: torch.Tensor, b: torch.Tensor, repeats: int) -> list[float]:
    """GFLOP/s of ``torch.mm(a, b)`` (square, float32 or bfloat16), one sample per repeat, after one warm-up."""
    n = a.shape[0]
    out = torch.empty(n, n, device=a.device, dtype=a.dtype)
    sync = torch.cuda.synchronize if a.device.type == "cuda" else (lambda: None)
    torch.mm(a, b, out=out)
    sync()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.mm(a, b, out=out)
        sync()  # CUDA launches return at once: time the product, not its launch
        samples.append(2 * n**3 / (time.perf_counter() - t0) / 1e9)
    return samples


class Tutorial:
    """The tutorial pipeline: torchvision dataset + ToTensor/Normalize + DataLoader(64, shuffle) + nn.Sequential.

    Trained on a ``Subset`` holding exactly fcnbook's 54 000 training indices (validation split removed), so
    (a) and (b) see the same images. Timing a chunk of ``batches`` mini-batches gives seconds per sample,
    scaled to one epoch of ``len(subset)`` samples.
    """

    def __init__(self, root: Path, train_idx):
        from torchvision import datasets, transforms

        tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.2860,), (0.3530,))])
        ds = datasets.FashionMNIST(str(root), train=True, download=False, transform=tf)
        self.subset = Subset(ds, [int(i) for i in train_idx])
        self.loader = DataLoader(self.subset, batch_size=TUTORIAL_BATCH, shuffle=True)
        torch.manual_seed(0)
        self.model = nn.Sequential(nn.Flatten(), nn.Linear(784, 500), nn.ReLU(), nn.Linear(500, 50), nn.ReLU(),
                                   nn.Linear(50, 10))
        self.loss_fn = nn.CrossEntropyLoss()
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.1)

    def run(self, batches: int | None) -> tuple[float, int]:
        """Train on ``batches`` mini-batches of a fresh shuffle (None: the whole epoch); (seconds, samples)."""
        self.model.train()
        seen = 0
        t0 = time.perf_counter()
        for k, (x, y) in enumerate(self.loader):
            if batches is not None and k == batches:
                break
            self.opt.zero_grad()
            loss = self.loss_fn(self.model(x), y)
            loss.backward()
            self.opt.step()
            seen += len(y)
        return time.perf_counter() - t0, seen


def time_fit(config, seeds, epochs: int, splits, device: str) -> tuple[list[float], float]:
    """``epochs`` timed epochs of ``fit`` after one discarded warm-up epoch (stacked seeds: seconds per seed), and
    the CPU/wall of the whole fit."""
    from fcnbook.training.fit import fit

    with Clock() as c:
        res = fit(config.replace(epochs=1 + epochs), seeds, data=splits, device=device, progress=False)
    res = res if isinstance(seeds, int) else res[0]  # a stack's history is already divided by the seeds
    return res.history["seconds"][1:], c.util


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, help="interleaved rounds of (b, b16, c, c16, a, d, d16); default 5")
    p.add_argument("--single-epochs", type=int,
                   help="timed epochs per round of (b), after one discarded warm-up epoch; default 2")
    p.add_argument("--stacked-epochs", type=int,
                   help="timed epochs per round of (c), after one discarded warm-up epoch; default 1")
    p.add_argument("--tutorial-batches", type=int,
                   help="mini-batches per round of (a) (default 211 = a quarter epoch); 0 = a whole epoch")
    p.add_argument("--sgemm-n", type=int, help="size of the square sgemm (and bf16 mm); default 4096")
    p.add_argument("--sgemm-repeats", type=int, help="sgemm (and bf16 mm) products per round; default 3")
    p.add_argument("--quick", action="store_true",
                   help="smoke test: 1 round of 1 epoch, 1 tutorial batch, a 512² sgemm, the accuracy of the quick "
                        "profile in a throwaway store, figures to a temporary file (explicit options still win)")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument("--quiet-wait", type=float, default=0,
                   help="before each round wait up to this many s for other jobs to leave the CPUs (default 0)")
    p.add_argument("--device", default="cpu",
                   help="device of the fcnbook runs (b, c) and of the sgemm peak (d); default cpu")
    p.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=True,
                   help="measure the bf16 column where the device has fast bf16 (default: on)")
    p.add_argument("--accuracy", action=argparse.BooleanOptionalAction, default=True,
                   help="compare the test accuracy of the baseline and the tuned network in fp32 and bf16 through "
                        "the run store, training (and storing) what it lacks (default: on)")
    p.add_argument("--accuracy-profile", choices=["full", "quick"],
                   help="profile of that comparison (default full; quick with --quick)")
    p.add_argument("--results-root", type=Path,
                   help="run store of that comparison (default: the project's; with --quick a temporary one)")
    p.add_argument("--json", type=Path, help="where to write the figures (default benchmarks/latest.json; with "
                                             "--quick a file in the temporary folder)")
    args = p.parse_args(argv)
    for name, value in (QUICK if args.quick else SIZES).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.accuracy_profile = args.accuracy_profile or ("quick" if args.quick else "full")
    if args.json is None:
        args.json = Path(tempfile.gettempdir()) / "fcnbook-bench-quick.json" if args.quick else HERE / "latest.json"
    if args.rounds < 1 or args.single_epochs < 1 or args.stacked_epochs < 1 or args.sgemm_repeats < 1:
        p.error("rounds, epochs and repeats must be >= 1")
    return args


def fmt_share(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f} %"


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def spread(xs) -> str:
    return f"{min(xs):.2f}-{max(xs):.2f}" if xs else "-"


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    from fcnbook.config import RunConfig
    from fcnbook.data.indices import stratified_split
    from fcnbook.data.splits import load, load_raw
    from fcnbook.paths import data_dir
    from fcnbook.version import TRAINING_CODE_VERSION

    load_start = os.getloadavg()
    loads = [load_start[0]]
    date = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    machine = machine_info()
    print(f"fcnbook bench  {date}")
    print(f"machine: {machine['cpu']}, {machine['cores']} cores ({machine['cores_usable']} usable), "
          f"torch {machine['torch']}, {machine['threads']} threads, BLAS {machine['blas']}")
    feat = bench_bf16.features(args.device)
    for line in bench_bf16.header(feat):
        print(line)
    do_bf16 = args.bf16 and feat["bf16_fast"]
    if args.bf16 and not do_bf16:
        print(bench_bf16.skip_line(feat))
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in load_start)}", flush=True)
    if args.quick:
        print("--quick: a smoke test in tiny rounds; its figures measure nothing useful")

    splits = load("fashion")
    rss_load = peak_rss_mb()
    config = RunConfig()
    n_train, n_val = len(splits.y_train), len(splits.y_val)
    sizes = layer_sizes(config.hidden)
    train_flop = matmul_flops(sizes, n_train)
    # fit's timed epoch: training, the validation pass and (training code version 3) the training probe,
    # as many images as the validation split, both evaluated after the epoch.
    n_probe = min(n_val, n_train)
    val_flop = matmul_flops(sizes, n_val + n_probe, backward=False)
    epoch_flop = epoch_flops(config, n_train, n_val, n_probe)
    _, labels = load_raw("fashion", True)
    train_idx, _ = stratified_split(labels.numpy(), config.val_fraction, config.split_seed)
    tutorial = Tutorial(data_dir(), train_idx)
    assert len(tutorial.subset) == n_train
    # The peak is measured on the device the fcnbook runs use, so "% of peak" compares like with like.
    a_mat, b_mat = (torch.randn(args.sgemm_n, args.sgemm_n, device=args.device) for _ in range(2))
    a16 = b16 = None  # the bf16 peak's: the same matrices rounded to bfloat16, made after the RSS reading
    config16 = config.replace(precision="bf16")

    single, stacked, tut, sgemm, util = [], [], [], [], {"a": [], "b": [], "c": [], "d": []}
    single16, stacked16, mm16, util16 = [], [], [], {"b16": [], "c16": [], "d16": []}
    paired16 = {"b16": [], "c16": [], "mm16": []}
    rss_training = None
    tut_batches = args.tutorial_batches or None
    others = []  # share of the CPUs other processes used just before each round (we sleep meanwhile)
    paired = {"b": [], "c": [], "sgemm": []}  # per-round medians, to compare b, c and d within one round
    for r in range(args.rounds):
        wait_quiet(args.quiet_wait)
        others.append(busy_fraction(0.5))
        seconds, ut = time_fit(config, 0, args.single_epochs, splits, args.device)
        single += seconds
        paired["b"].append(median(seconds))
        util["b"].append(ut)
        if do_bf16:
            seconds, ut = time_fit(config16, 0, args.single_epochs, splits, args.device)
            single16 += seconds
            paired16["b16"].append(median(seconds))
            util16["b16"].append(ut)
        seconds, ut = time_fit(config, SEEDS, args.stacked_epochs, splits, args.device)
        stacked += seconds
        paired["c"].append(median(seconds))
        util["c"].append(ut)
        if do_bf16:
            seconds, ut = time_fit(config16, SEEDS, args.stacked_epochs, splits, args.device)
            stacked16 += seconds
            paired16["c16"].append(median(seconds))
            util16["c16"].append(ut)
        with Clock() as c:
            seconds, seen = tutorial.run(tut_batches)
        tut.append(seconds / seen * n_train)
        util["a"].append(c.util)
        if rss_training is None:
            rss_training = peak_rss_mb()  # before the sgemm matrices are touched
        with Clock() as c:
            sgemm += sgemm_samples(a_mat, b_mat, args.sgemm_repeats)
        paired["sgemm"].append(median(sgemm[-args.sgemm_repeats:]))
        util["d"].append(c.util)
        bf16_note = ""
        if do_bf16:
            if a16 is None:
                a16, b16 = a_mat.to(torch.bfloat16), b_mat.to(torch.bfloat16)
            with Clock() as c:
                mm16 += sgemm_samples(a16, b16, args.sgemm_repeats)
            paired16["mm16"].append(median(mm16[-args.sgemm_repeats:]))
            util16["d16"].append(c.util)
            bf16_note = (f"; bf16: b {single16[-1]:.2f} s, c {stacked16[-1]:.2f} s/seed, mm {mm16[-1]:.0f} "
                         "GFLOP/s")
        loads.append(os.getloadavg()[0])
        print(f"round {r + 1}/{args.rounds}: b {single[-1]:.2f} s, c {stacked[-1]:.2f} s/seed, "
              f"a {tut[-1]:.2f} s, sgemm {sgemm[-1]:.0f} GFLOP/s{bf16_note}, load {loads[-1]:.2f}, "
              f"others' CPU share before the round {fmt_share(others[-1])}", flush=True)

    load_end = os.getloadavg()
    a_s, b_s, c_s, peak = median(tut), median(single), median(stacked), median(sgemm)
    pct = lambda flop, s: 100 * flop / s / 1e9 / peak  # noqa: E731
    pct_b, pct_c = pct(epoch_flop, b_s), pct(epoch_flop, c_s)
    rss_total = peak_rss_mb()
    # The machine's speed drifts between rounds (sgemm varied 200-307 GFLOP/s within one run), so the same
    # figures are also given per round, each against that round's own sgemm, and their median reported.
    pct_c_rounds = [100 * epoch_flop / c / 1e9 / g for c, g in zip(paired["c"], paired["sgemm"], strict=True)]
    b_over_c_rounds = [b / c for b, c in zip(paired["b"], paired["c"], strict=True)]
    u = {k: round(median(v), 2) for k, v in util.items()}

    tut_how = "whole epochs" if tut_batches is None else f"{tut_batches} batches of {TUTORIAL_BATCH} per round"
    print()
    print(f"{'':44}{'s/epoch':>9}{'range':>15}{'n':>4}{'GFLOP/s':>9}{'% peak':>8}{'CPU/wall':>9}")
    rows = [
        ("(a) tutorial: DataLoader, batch 64", a_s, tut, train_flop, u["a"]),
        ("(b) fcnbook, 1 seed, batch 512", b_s, single, epoch_flop, u["b"]),
        ("(c) fcnbook, 5 seeds stacked, per seed", c_s, stacked, epoch_flop, u["c"]),
    ]
    for name, s, xs, flop, ut in rows:
        rate = flop / s / 1e9
        print(f"{name:44}{s:9.3f}{spread(xs):>15}{len(xs):4d}{rate:9.1f}{100 * rate / peak:8.1f}{ut:9.2f}")
    print(f"{f'(d) sgemm peak, torch.mm {args.sgemm_n}x{args.sgemm_n} float32':44}{'':9}{'':15}{len(sgemm):4d}"
          f"{peak:9.1f}{100.0:8.1f}{u['d']:9.2f}")
    print(f"    sgemm range {min(sgemm):.1f}-{max(sgemm):.1f} GFLOP/s")
    print()
    print(f"epoch work (counted matmul FLOPs): train {train_flop / 1e9:.2f} + validation and training probe "
          f"{val_flop / 1e9:.2f} = {epoch_flop / 1e9:.2f} GFLOP ((a) evaluates nothing: {train_flop / 1e9:.2f} GFLOP)")
    print(f"(a): {tut_how}, scaled to {n_train} samples; (b), (c): fit() history seconds, warm-up epoch "
          "of every fit discarded; (c) seconds are per seed")
    checks = [
        ("a / b", a_s / b_s, TARGETS["a_over_b"], "x"),
        ("b / c", b_s / c_s, TARGETS["b_over_c"], "x"),
        ("c, % of sgemm peak", pct_c, TARGETS["percent_of_peak"], " %"),
    ]
    for name, value, target, unit in checks:
        verdict = "met" if value >= target else "NOT met"
        print(f"{name:22}{value:8.2f}{unit}   (target >= {target:g}{unit.strip()}: {verdict})")
    print(f"(b), % of sgemm peak    {pct_b:8.2f} %")
    print(f"per round, against the same round's sgemm: c {median(pct_c_rounds):.1f} % of peak "
          f"(rounds {spread(pct_c_rounds)}), b / c {median(b_over_c_rounds):.2f}x (rounds {spread(b_over_c_rounds)})")
    print(f"peak RSS: {rss_training:.0f} MB before the sgemm buffers ({rss_load:.0f} MB of it reached while "
          f"loading the data), {rss_total:.0f} MB at the end")
    print(f"load average: start {' '.join(f'{x:.2f}' for x in load_start)}, "
          f"end {' '.join(f'{x:.2f}' for x in load_end)}, highest 1-min seen {max(loads):.2f} "
          f"({machine['cores']} cores; this benchmark itself adds about {machine['threads']})")
    seen = [x for x in others if x is not None]
    print(f"other processes' share of the CPUs before each round: {', '.join(map(fmt_share, others))}")
    if seen and max(seen) > 0.1:
        print("note: other jobs were using the CPUs; timings are slower and noisier than on an idle machine "
              "(see benchmarks/README.md; --quiet-wait 120 waits for quiet moments)")

    bf16 = None
    if do_bf16:
        fp32 = {"single": b_s, "stacked": c_s, "stacked_rounds": paired["c"]}
        bf16 = bench_bf16.report(single=single16, stacked=stacked16, mm=mm16, util=util16, paired=paired16,
                                 fp32=fp32, epoch_flop=epoch_flop, mm_n=args.sgemm_n, feat=feat)

    out = {
        "tutorial_epoch_s": a_s,
        "single_epoch_s": b_s,
        "stacked_epoch_per_seed_s": c_s,
        "sgemm_gflops": peak,
        "epoch_gflop": epoch_flop / 1e9,
        "epoch_train_gflop": train_flop / 1e9,
        "epoch_eval_images": n_val + n_probe,
        "training_code_version": TRAINING_CODE_VERSION,
        "git_commit": git_commit(),
        "percent_of_peak": pct_c,
        "percent_of_peak_single": pct_b,
        "percent_of_peak_paired": median(pct_c_rounds),
        "b_over_c_paired": median(b_over_c_rounds),
        "a_over_b": a_s / b_s,
        "b_over_c": b_s / c_s,
        "targets": {k: {"target": TARGETS[k], "value": v, "met": v >= TARGETS[k]}
                    for k, v in (("a_over_b", a_s / b_s), ("b_over_c", b_s / c_s), ("percent_of_peak", pct_c))},
        "cpu_features": feat,
        "bf16": bf16,
        "bf16_skipped": None if do_bf16 else ("--no-bf16" if not args.bf16 else bench_bf16.skip_line(feat)),
        "accuracy": None,
        "peak_rss_mb": rss_training,
        "peak_rss_after_data_load_mb": rss_load,
        "peak_rss_total_mb": rss_total,
        "machine": machine,
        "date": date,
        "load_average": {"start": list(load_start), "end": list(load_end), "max_1min_seen": max(loads),
                         "others_cpu_share_before_rounds": others, "cpu_pressure_end": cpu_pressure()},
        "cpu_util": u,
        "samples": {"tutorial_epoch_s": tut, "single_epoch_s": single, "stacked_epoch_per_seed_s": stacked,
                    "sgemm_gflops": sgemm, "per_round": {**paired, "percent_of_peak": pct_c_rounds,
                                                          "b_over_c": b_over_c_rounds}},
        "method": {
            "rounds": args.rounds,
            "tutorial": f"{tut_how}, seconds per sample x {n_train} (Subset of fcnbook's training indices)",
            "single": f"fit(RunConfig(epochs={1 + args.single_epochs}), 0); epoch 1 discarded",
            "stacked": f"fit(RunConfig(epochs={1 + args.stacked_epochs}), {SEEDS}); epoch 1 discarded",
            "sgemm": f"torch.mm {args.sgemm_n}x{args.sgemm_n} float32, {args.sgemm_repeats} per round",
            "bf16": "b16, c16: (b), (c) with RunConfig(precision='bf16'); d16: the sgemm's matrices in bfloat16, "
                    "same n and repeats; each measured right after its fp32 twin in every round",
            "device": args.device,
            "quick": args.quick,
        },
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2) + "\n")  # the timings are kept even if training fails below
    if args.accuracy and do_bf16:
        out["accuracy"] = run_accuracy(args)
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    elif args.accuracy and not args.bf16:
        print("accuracy cost of bf16: skipped (--no-bf16)")  # without fast bf16 the header's line said so
    print(f"wrote {args.json}")
    return out


def run_accuracy(args) -> dict:
    """The accuracy cost of bf16 (``bench_bf16.accuracy_cost``), printed. ``--quick`` without
    ``--results-root`` trains in a throwaway store, deleted afterwards."""
    log = lambda msg: print(f"  {msg}", flush=True)  # noqa: E731
    print(f"\naccuracy: {args.accuracy_profile} profile, training in bf16 (and fp32) what the store lacks",
          flush=True)
    if args.results_root is None and args.quick:
        with tempfile.TemporaryDirectory(prefix="fcnbook-bench-") as tmp:
            acc = bench_bf16.accuracy_cost(args.accuracy_profile, args.device, Path(tmp), log)
        acc["root"] = "temporary (deleted)"
    else:
        acc = bench_bf16.accuracy_cost(args.accuracy_profile, args.device, args.results_root, log)
    bench_bf16.print_accuracy(acc)
    return acc


if __name__ == "__main__":
    main()
