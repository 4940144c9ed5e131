"""Options for a faster training step that the precision issue asked to measure (investigation script).

Four measurements, each a subcommand; ``all`` runs them in turn. Run on an idle machine:

optimizers  torch's optimizer implementations on the stacked parameters of the baseline (784-500-50-10) and the
            tuned network (784-700-200-50-10), 5 members: the for-loop one ``fit`` uses today, ``foreach=True``
            and ``fused=True``. Best of 5 x 20 steps, and whether 20 steps end bit-identical to the for-loop.
compile     ``torch.compile`` of a whole one-seed training step (an ``nn.Sequential`` 784-500-50-10, SGD, batch
            512) against the same step in eager mode: the first call (compile) and one epoch after it.
workers     two book configurations (5 seeds, 3 epochs each) trained one after the other with 2 threads against
            both at once in two processes of 1 thread; and whether 1 and 2 threads give the same numbers.
casts       the bf16 step's weight casts against its bf16 matmuls (784 x 500 layer, 5 members), and whether
            ``torch.mm(..., out_dtype=torch.float32)`` (a weight gradient in fp32 from bf16 inputs) exists here.

    .venv/bin/python benchmarks/investigations/step_options.py all

Findings: ``FINDINGS.md``, 2026-11-30 (second entry).
"""

from __future__ import annotations

import subprocess
import sys
import time

import torch

BASE = [(784, 500), (500, 50), (50, 10)]
TUNED = [(784, 700), (700, 200), (200, 50), (50, 10)]


def _best(f, rounds: int = 5, n: int = 20) -> float:
    for _ in range(3):
        f()
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def optimizers() -> None:
    kinds = {"sgd": (torch.optim.SGD, {"lr": 0.1}), "sgd momentum": (torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}),
             "adam": (torch.optim.Adam, {"lr": 1e-3}), "adamw": (torch.optim.AdamW, {"lr": 1e-3, "weight_decay": 1e-4}),
             "rmsprop": (torch.optim.RMSprop, {"lr": 1e-4})}
    modes = {"for-loop": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}
    print("ms per step for 5 stacked members (bit-identical to the for-loop after 20 steps?)")
    for net, layers in (("baseline", BASE), ("tuned", TUNED)):
        shapes = [s for fi, fo in layers for s in ((5, fi, fo), (5, 1, fo))]
        for name, (cls, kw) in kinds.items():
            row, ref = [], None
            for mode, flags in modes.items():
                g = torch.Generator().manual_seed(0)
                params = [torch.nn.Parameter(torch.randn(*s, generator=g) * 0.05) for s in shapes]
                grads = [[torch.randn(*s, generator=g) * 1e-2 for s in shapes] for _ in range(20)]
                try:
                    opt = cls(params, **kw, **flags)
                except (TypeError, RuntimeError):
                    row.append(f"{mode}: not available")
                    continue
                for step in grads:  # 20 steps from the same start: compare the end points
                    for p, gr in zip(params, step, strict=True):
                        p.grad = gr
                    opt.step()
                same = ref is None or all(torch.equal(a, b) for a, b in zip(ref, params, strict=True))
                ref = ref or [p.detach().clone() for p in params]
                row.append(f"{mode} {_best(opt.step) * 1e3:.3f} ({'same' if same else 'DIFFERENT'})")
            print(f"  {net:8} {name:13} " + "; ".join(row))


def compile_step() -> None:
    import torch.nn.functional as F
    from torch import nn

    x, y = torch.randn(54_000, 784), torch.randint(0, 10, (54_000,))

    def step(model, opt, xb, yb):
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    for mode in ("eager", "compiled"):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(784, 500), nn.ReLU(), nn.Linear(500, 50), nn.ReLU(), nn.Linear(50, 10))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        f = torch.compile(step) if mode == "compiled" else step
        t0 = time.perf_counter()
        f(model, opt, x[:512], y[:512])
        first = time.perf_counter() - t0
        order = torch.randperm(54_000)
        t0 = time.perf_counter()
        for s in range(0, 54_000 - 511, 512):
            idx = order[s:s + 512]
            f(model, opt, x.index_select(0, idx), y.index_select(0, idx))
        print(f"  {mode:9} first step {first:5.1f} s, one epoch after it {time.perf_counter() - t0:.3f} s")


_WORKER = """
import sys, time, torch
from fcnbook.data.splits import load_for
from fcnbook.report.paper import BASELINE, TUNED
from fcnbook.training.fit import fit
torch.set_num_threads(int(sys.argv[1]))
configs = {"sgd": BASELINE.replace(epochs=3), "adam": BASELINE.replace(epochs=3, optimizer="adam", lr=1e-3),
           "tuned": TUNED.replace(epochs=3)}
for name in sys.argv[2].split(","):
    t0 = time.perf_counter()
    r = fit(configs[name], [0, 1, 2, 3, 4], data=load_for(configs[name]), device="cpu", progress=False)
    print(name, round(time.perf_counter() - t0, 2), repr([m.test_loss for m in r]), flush=True)
"""


def _procs(*jobs: tuple[int, str]) -> tuple[float, dict]:
    t0 = time.perf_counter()
    ps = [subprocess.Popen([sys.executable, "-c", _WORKER, str(t), names], stdout=subprocess.PIPE, text=True)
          for t, names in jobs]
    out = {}
    for p in ps:
        for line in p.communicate()[0].splitlines():
            name, _, losses = line.split(" ", 2)
            out[name] = losses
    return time.perf_counter() - t0, out


def workers() -> None:
    for pair in ("sgd,adam", "tuned,tuned"):
        a, b = pair.split(",")
        one, losses2 = _procs((2, pair))
        two, losses1 = _procs((1, a), (1, b))
        same = {n: losses1[n] == losses2[n] for n in losses1}
        print(f"  {pair:12} one after the other, 2 threads: {one:6.1f} s; at once, 2 x 1 thread: {two:6.1f} s "
              f"({one / two:.2f}x); same test losses with 1 and 2 threads: {same}")


def casts() -> None:
    w = torch.randn(5, 784, 500)
    x, g = torch.randn(512, 784).bfloat16(), torch.randn(512, 500).bfloat16()
    wb = w.bfloat16()
    print(f"  cast of the 5 x 784 x 500 weights to bf16: {_best(lambda: w.to(torch.bfloat16)) * 1e3:.3f} ms; "
          f"back to fp32: {_best(lambda: wb.float()) * 1e3:.3f} ms")
    forward = _best(lambda: [torch.mm(x, wb[s]) for s in range(5)])
    weight_grad = _best(lambda: [torch.mm(x.T, g) for _ in range(5)])
    print(f"  5 bf16 products x @ w (512 x 784 x 500): {forward * 1e3:.3f} ms; "
          f"5 weight gradients x.T @ g: {weight_grad * 1e3:.3f} ms")
    try:
        torch.mm(x.T, g, out_dtype=torch.float32)
        print("  torch.mm(out_dtype=float32) from bf16 inputs: available")
    except (RuntimeError, TypeError, NotImplementedError) as exc:
        print(f"  torch.mm(out_dtype=float32) from bf16 inputs: not on this device ({str(exc).splitlines()[0][:90]})")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    steps = {"optimizers": optimizers, "compile": compile_step, "workers": workers, "casts": casts}
    if what != "all" and what not in steps:
        sys.exit(f"usage: step_options.py [{'|'.join(steps)}|all] (got {what!r})")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for name, f in steps.items():
        if what in ("all", name):
            print(f"{name}:")
            f()
