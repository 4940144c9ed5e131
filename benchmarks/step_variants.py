"""Candidate changes to one training step of the stacked network, timed side by side (investigation script).

Every variant runs the same optimisation step as ``fcnbook.train.fit`` for the baseline (784-500-50-10, SGD
lr 0.1, batch 512, no batch norm or dropout) on random data of the real size (54 000 x 784), so only the code
differs. Variants are interleaved in rounds and the median is reported, in milliseconds per member and step
(wall and process CPU time). An epoch is 106 steps, so 5 ms/step is about 0.53 s/epoch.

    .venv/bin/python benchmarks/step_variants.py --threads 2 --rounds 7

Variants
--------
current        fcnbook's FCN.forward (baddbmm + torch.relu), x_train[idx] gather
relu_          the same with in-place ReLU (torch.relu_ on the baddbmm output)
index_select   gather with x_train.index_select(0, idx.flatten()).view(S, B, 784) instead of x_train[idx]
loop           per-member torch.addmm on w.unbind(0) instead of one baddbmm over the stack
loop_fn        fcnbook.kernels.StackedLinear: an autograd.Function whose forward and backward run one torch.mm per
               member, writing straight into the stacked output / gradient (no unbind/stack copies)
all            loop_fn + relu_ + index_select
gather_only    just the input gather of the current code (what part of a step it costs)
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
from fcnbook.kernels import StackedLinear  # the adopted version of this candidate (training code version 2)
from fcnbook.model import FCN

N, D, B = 54_000, 784, 512


def forward(model: FCN, x: torch.Tensor, *, inplace: bool = False, loop: bool = False,
            loop_fn: bool = False) -> torch.Tensor:
    """The baseline forward of ``FCN`` (biases on every layer, no batch norm, no dropout), with options."""
    last = len(model.weights) - 1
    if loop:
        ws = [w.unbind(0) for w in model.weights]
        bs = [b.unbind(0) for b in model.biases]
        outs = []
        for s, h in enumerate(x.unbind(0)):
            for i in range(last + 1):
                h = torch.addmm(bs[i][s], h, ws[i][s])
                if i < last:
                    h = torch.relu_(h) if inplace else torch.relu(h)
            outs.append(h)
        return torch.stack(outs)
    for i, (w, b) in enumerate(zip(model.weights, model.biases, strict=True)):
        x = StackedLinear.apply(x, w, b) if loop_fn else torch.baddbmm(b, x, w)
        if i == last:
            break
        x = torch.relu_(x) if inplace else torch.relu(x)
    return x


class Variant:
    def __init__(self, name: str, S: int, x: torch.Tensor, y: torch.Tensor):
        self.name, self.S, self.x, self.y = name, S, x, y
        self.model = FCN(RunConfig(), list(range(S)))
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.1)
        g = torch.Generator().manual_seed(S)
        self.order = torch.stack([torch.randperm(N, generator=g) for _ in range(S)])
        self.k = 0

    def step(self) -> None:
        S, name = self.S, self.name
        start = (self.k * B) % (N - B)
        self.k += 1
        idx = self.order[:, start : start + B]
        if name in ("index_select", "all"):
            xb = self.x.index_select(0, idx.reshape(-1)).view(S, B, D)
        else:
            xb = self.x[idx]
        yb = self.y[idx]
        if name == "gather_only":
            return
        if name == "current":
            logits = self.model(xb)
        else:
            logits = forward(self.model, xb, inplace=name in ("relu_", "all"), loop=name == "loop",
                             loop_fn=name in ("loop_fn", "all"))
        ce = F.cross_entropy(logits.flatten(0, 1), yb.flatten(), reduction="none").view(S, -1)
        self.opt.zero_grad(set_to_none=True)
        ce.mean(1).sum().backward()
        self.opt.step()

    def time(self, steps: int) -> tuple[float, float]:
        w, c = time.perf_counter(), time.process_time()
        for _ in range(steps):
            self.step()
        w, c = time.perf_counter() - w, time.process_time() - c
        return 1e3 * w / steps / self.S, 1e3 * c / steps / self.S


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=20, help="steps per timing sample")
    p.add_argument("--quiet-wait", type=float, default=60,
                   help="before each sample wait up to this many s for other jobs to leave the CPUs (0: don't)")
    p.add_argument("--stack", type=int, nargs="+", default=[1, 5])
    p.add_argument("--variants", nargs="+",
                   default=["current", "relu_", "index_select", "loop", "loop_fn", "all", "gather_only"])
    p.add_argument("--paired", type=int, default=0, metavar="PAIRS",
                   help="instead: time each variant against 'current' in PAIRS back-to-back pairs (order "
                        "alternating) and report the median ratio, which cancels slow drifts of machine load")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x, y = torch.randn(N, D), torch.randint(0, 10, (N,))
    variants = [Variant(v, S, x, y) for S in args.stack for v in args.variants
                if not (S == 1 and v in ("loop", "loop_fn"))]
    for v in variants:
        v.time(3)  # warm-up
    if args.paired:
        return paired(variants, args)
    samples = {(v.name, v.S): [] for v in variants}
    quiet_count = 0
    for _ in range(args.rounds):
        for v in variants:
            quiet, _ = wait_quiet(args.quiet_wait)
            quiet_count += quiet
            samples[v.name, v.S].append((*v.time(args.steps), quiet))
    print(f"threads {torch.get_num_threads()}, {args.rounds} rounds x {args.steps} steps, "
          f"load {os.getloadavg()[0]:.2f}; {quiet_count} of {len(variants) * args.rounds} samples started on "
          "quiet CPUs (median over those when any)")
    print(f"{'variant':14}{'S':>3}{'wall ms/member-step: median':>29}{'best':>7}{'cpu ms':>9}{'n':>4}")
    for (name, S), xs in samples.items():
        use = [x for x in xs if x[2]] or xs
        walls = [a for a, _, _ in use]
        cpus = [b for _, b, _ in use]
        print(f"{name:14}{S:3d}{statistics.median(walls):29.2f}{min(a for a, _, _ in xs):7.2f}"
              f"{statistics.median(cpus):9.2f}{len(use):4d}")


def paired(variants: list[Variant], args) -> None:
    base = {v.S: v for v in variants if v.name == "current"}
    print(f"threads {torch.get_num_threads()}, {args.paired} pairs x {args.steps} steps; ratio = variant / "
          "current wall time (< 1: the variant is faster); median [quartiles]")
    for v in variants:
        if v.name == "current" or v.S not in base:
            continue
        ratios = []
        for k in range(args.paired):
            wait_quiet(args.quiet_wait)
            first, second = (v, base[v.S]) if k % 2 else (base[v.S], v)
            t = {first: first.time(args.steps)[0], second: second.time(args.steps)[0]}
            ratios.append(t[v] / t[base[v.S]])
        q = statistics.quantiles(ratios, n=4)
        print(f"{v.name:14}S={v.S}  {statistics.median(ratios):.3f} [{q[0]:.3f}, {q[2]:.3f}]  "
              f"load {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
