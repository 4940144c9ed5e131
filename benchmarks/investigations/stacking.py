"""How to train the five seeds of one configuration fastest on this machine (investigation script).

Strategies, all training ``RunConfig(epochs=E)`` (the baseline) for seeds 0-4 with the unchanged
``fcnbook.training.fit.fit`` on the real data, timed from start to the last result (so model set-up, the warm-up epoch
and the final test pass are included for every strategy alike):

seq1      five single-seed fits, one after the other
stack5    one stacked fit of all five seeds (what ``runner.run`` does today)
stack32   stacked fits of seeds [0, 1, 2] and then [3, 4]
procs32   two worker processes with one thread each, running the [0, 1, 2] and [3, 4] stacks at the same time
procs1    two single-threaded worker processes sharing five single-seed fits (a pool)

``--threads`` sets the torch threads of the in-process strategies (the workers always use one). Strategies
are interleaved in rounds; the table gives the median seconds per seed-epoch.

    .venv/bin/python benchmarks/investigations/stacking.py --threads 2 1 --rounds 3 --epochs 2

``--subset N`` trains on a stratified N-image subset instead (a quick check that the script still runs; the
findings in ``FINDINGS.md`` used all 54 000 images).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for quiet.py
from quiet import wait_quiet  # noqa: E402

SEEDS = [0, 1, 2, 3, 4]


def _worker_init(subset: int | None = None) -> None:
    torch.set_num_threads(1)
    from fcnbook.data.splits import load

    load("fashion", subset=subset)


def _worker_fit(epochs: int, seeds: list[int], subset: int | None = None) -> int:
    from fcnbook.config import RunConfig
    from fcnbook.data.splits import load
    from fcnbook.training.fit import fit

    fit(RunConfig(epochs=epochs, subset=subset), seeds, data=load("fashion", subset=subset), device="cpu",
        progress=False)
    return len(seeds)


def run_inprocess(groups: list[list[int]], epochs: int, splits, subset: int | None = None) -> float:
    from fcnbook.config import RunConfig
    from fcnbook.training.fit import fit

    t0 = time.perf_counter()
    for g in groups:
        fit(RunConfig(epochs=epochs, subset=subset), g, data=splits, device="cpu", progress=False)
    return time.perf_counter() - t0


def run_pool(pool, groups: list[list[int]], epochs: int, subset: int | None = None) -> float:
    t0 = time.perf_counter()
    pending = [pool.apply_async(_worker_fit, (epochs, g, subset)) for g in groups]
    for p in pending:
        p.get()
    return time.perf_counter() - t0


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--quiet-wait", type=float, default=60,
                   help="before each sample wait up to this many s for other jobs to leave the CPUs (0: don't)")
    p.add_argument("--strategies", nargs="+", default=["seq1", "stack5", "stack32", "procs32", "procs1"])
    p.add_argument("--subset", type=int, default=None, help="train on this many images (default: all 54 000)")
    args = p.parse_args(argv)
    from fcnbook.data.splits import load

    splits = load("fashion", subset=args.subset)
    groups = {"seq1": [[s] for s in SEEDS], "stack5": [SEEDS], "stack32": [SEEDS[:3], SEEDS[3:]],
              "procs32": [SEEDS[:3], SEEDS[3:]], "procs1": [[s] for s in SEEDS]}
    jobs = [(s, t) for s in args.strategies if not s.startswith("procs") for t in args.threads]
    jobs += [(s, 1) for s in args.strategies if s.startswith("procs")]
    pool = None
    if any(s.startswith("procs") for s, _ in jobs):
        pool = mp.get_context("spawn").Pool(2, initializer=_worker_init, initargs=(args.subset,))
        run_pool(pool, [[0], [1]], 1, args.subset)  # warm-up of both workers
    run_inprocess([[0], SEEDS], 1, splits, args.subset)  # warm-up in process
    samples = {j: [] for j in jobs}
    loads = []
    for r in range(args.rounds):
        for strategy, threads in jobs:
            wait_quiet(args.quiet_wait)
            if strategy.startswith("procs"):
                wall = run_pool(pool, groups[strategy], args.epochs, args.subset)
            else:
                torch.set_num_threads(threads)
                wall = run_inprocess(groups[strategy], args.epochs, splits, args.subset)
            samples[strategy, threads].append(wall / len(SEEDS) / args.epochs)
        loads.append(os.getloadavg()[0])
        print(f"round {r + 1}: " + ", ".join(f"{s}/{t}t {v[-1]:.2f}" for (s, t), v in samples.items()),
              flush=True)
    if pool is not None:
        pool.close()
        pool.join()
    print(f"\n{args.rounds} rounds, {args.epochs} epochs per fit, load average (1 min) "
          f"{min(loads):.2f}-{max(loads):.2f} on {os.cpu_count()} cores")
    print(f"{'strategy':10}{'threads':>8}{'s per seed-epoch':>18}{'range':>14}")
    for (strategy, threads), xs in samples.items():
        label = "2x1" if strategy.startswith("procs") else str(threads)
        print(f"{strategy:10}{label:>8}{statistics.median(xs):18.3f}{min(xs):8.2f}-{max(xs):.2f}")


if __name__ == "__main__":
    main()
