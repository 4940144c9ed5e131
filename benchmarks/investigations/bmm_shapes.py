"""Per-member GFLOP/s of the baseline's big matmuls as one bmm over S members vs a loop of torch.mm.

Investigation script for the stacking slowdown: if MKL's batched GEMM hands whole members to threads, S = 5 on
2 threads runs 3 + 2 members and wastes a sixth of the machine, while even S (or a loop of 2-thread mm) does not.

    .venv/bin/python benchmarks/investigations/bmm_shapes.py [--threads 2] [--reps 7] [--stacks 1 2 3 4 5 6]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

B = 512
SHAPES = {  # (m, k, n) of one member's product, as autograd issues it (transposes are views)
    "L1 forward  x @ W1": ((B, 784), (784, 500), False),
    "L1 wgrad    x^T @ g": ((784, B), (B, 500), True),
    "L2 forward  h @ W2": ((B, 500), (500, 50), False),
    "L2 igrad    g @ W2^T": ((B, 50), (50, 500), False),
}


def bench(fn, reps: int, inner: int = 20) -> float:
    fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        ts.append((time.perf_counter() - t0) / inner)
    return min(ts), statistics.median(ts)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--stacks", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6])
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"threads {torch.get_num_threads()}, load {os.getloadavg()[0]:.2f}; per-member GFLOP/s, "
          f"best (median) of {args.reps}")
    print(f"{'product':22}" + "".join(f"{'S=' + str(s):>18}" for s in args.stacks))
    for name, ((m, k), (k2, n), transpose_a) in SHAPES.items():
        for how in ("bmm", "loop mm"):
            cells = []
            for S in args.stacks:
                a = torch.randn(S, k, m).transpose(1, 2) if transpose_a else torch.randn(S, m, k)
                b = torch.randn(S, k2, n)
                if how == "bmm":
                    fn = lambda a=a, b=b: torch.bmm(a, b)  # noqa: E731
                else:
                    fn = lambda a=a, b=b, S=S: [torch.mm(a[s], b[s]) for s in range(S)]  # noqa: E731
                best, med = bench(fn, args.reps)
                flop = 2 * m * k * n * S
                cells.append(f"{flop / best / 1e9:8.0f} ({flop / med / 1e9:4.0f})")
            print(f"{name + ' ' + how:22}" + "".join(f"{c:>18}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
