"""Where one epoch of ``fcnbook.train.fit`` goes: the optimisation steps, their bookkeeping, the validation pass.

Rebuilds fit's epoch from its parts on the real data (baseline config) and times each part, S = 1 and S = 5,
interleaved in rounds; prints the best and median seconds per seed-epoch of every part.

    .venv/bin/python benchmarks/epoch_parts.py [--threads 2] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
import torch.nn.functional as F
from quiet import wait_quiet

from fcnbook.config import RunConfig
from fcnbook.data import load
from fcnbook.model import FCN
from fcnbook.train import evaluate


def epoch(model, opt, data, S, B, bookkeeping: bool) -> float:
    N = len(data.y_train)
    t0 = time.perf_counter()
    order = torch.stack([torch.randperm(N) for _ in range(S)])
    loss_sum = torch.zeros(S, dtype=torch.float64)
    correct = torch.zeros(S, dtype=torch.long)
    for start in range(0, N, B):
        idx = order[:, start : start + B]
        xb, yb = data.x_train[idx], data.y_train[idx]
        logits = model(xb)
        ce = F.cross_entropy(logits.flatten(0, 1), yb.flatten(), reduction="none").view(S, -1)
        opt.zero_grad(set_to_none=True)
        ce.mean(1).sum().backward()
        opt.step()
        if bookkeeping:
            with torch.no_grad():
                loss_sum += ce.detach().sum(1, dtype=torch.float64)
                correct += (logits.argmax(-1) == yb).sum(1)
    (loss_sum / N).tolist()
    return time.perf_counter() - t0


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--quiet-wait", type=float, default=60,
                   help="before each sample wait up to this many s for other jobs to leave the CPUs (0: don't)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    data = load("fashion")
    cfg = RunConfig()
    parts = {}
    models = {S: FCN(cfg, list(range(S))) for S in (1, 5)}
    opts = {S: torch.optim.SGD(m.parameters(), lr=0.1) for S, m in models.items()}
    for S in (1, 5):
        epoch(models[S], opts[S], data, S, cfg.batch_size, True)  # warm-up
    for _ in range(args.rounds):
        for S in (1, 5):
            m, o = models[S], opts[S]
            wait_quiet(args.quiet_wait)
            parts.setdefault((S, "epoch steps + bookkeeping"), []).append(
                epoch(m, o, data, S, cfg.batch_size, True) / S)
            wait_quiet(args.quiet_wait)
            parts.setdefault((S, "epoch steps only"), []).append(epoch(m, o, data, S, cfg.batch_size, False) / S)
            wait_quiet(args.quiet_wait)
            t0 = time.perf_counter()
            evaluate(m, data.x_val, data.y_val)
            parts.setdefault((S, "validation pass"), []).append((time.perf_counter() - t0) / S)
    print(f"threads {torch.get_num_threads()}, {args.rounds} rounds, load {os.getloadavg()[0]:.2f}; "
          "seconds per seed-epoch, best (median)")
    for (S, name), xs in parts.items():
        print(f"S={S}  {name:28}{min(xs):8.3f} ({statistics.median(xs):.3f})")


if __name__ == "__main__":
    main()
