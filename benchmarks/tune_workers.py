"""Is a 2-core machine better used by two tuning workers of one thread each, or one worker with two threads?

The same six full-data trials (fixed parameters, enqueued so that no sampler decides anything) run once as
``fcnbook tune --workers 1`` (PyTorch's two threads) and once as ``--workers 2`` (one thread each), each in a
fresh results folder so that nothing is reused. The figure is the time from the start to the sixth completed
trial: with two workers the study ends with one more trial started while the last finishes (Optuna's
``MaxTrialsCallback`` checks after each trial), so two spare fixed trials are enqueued too and the extra one is not
counted. Prints the figures and their ratio; writes ``benchmarks/tune_workers.json``. Run it on an otherwise idle
machine: ``.venv/bin/python benchmarks/tune_workers.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fcnbook.tuning import study as tune

HERE = Path(__file__).resolve().parent
TRIALS = [  # small and mid-sized networks of the full search space, 10 epochs each
    {"depth": d, **{f"width_{i}": w for i in range(d)}, "batch_norm": bn, "dropout": 0.2, "optimizer": "adam",
     "lr_adaptive": 1e-3, "weight_decay": 1e-4, "schedule": "cosine", "warmup": 0.1, "label_smoothing": 0.05,
     "batch_size": bs, "augment": aug, "epochs": 10}
    for d, w, bn, bs, aug in [(1, 256, False, 256, "none"), (2, 512, True, 256, "shift"), (1, 1024, False, 512, "none"),
                              (2, 256, True, 128, "shift_flip"), (2, 384, False, 256, "shift"),
                              (1, 512, True, 512, "shift_flip")]
]


def one(workers: int) -> float:
    root = Path(tempfile.mkdtemp(prefix=f"tune-workers-{workers}-"))
    env = dict(os.environ, FCNBOOK_RESULTS=str(root))
    study = tune.create("bench", root=root)
    for params in TRIALS + TRIALS[:2]:  # two spares: the overshoot of a second worker is a known small trial
        study.enqueue_trial(params)
    t0 = dt.datetime.now()
    # no recipes and no pruning: only the fixed trials run, each to its end, as when this was first measured
    subprocess.run([sys.executable, "-m", "fcnbook", "tune", "--study", "bench", "--trials", str(len(TRIALS)),
                    "--workers", str(workers), "--no-progress", "--no-recipes", "--pruner", "none"], env=env,
                   check=True, capture_output=True)
    done = sorted(t.datetime_complete for t in tune.load("bench", root=root).trials if t.datetime_complete)
    assert len(done) >= len(TRIALS), done
    return (done[len(TRIALS) - 1] - t0).total_seconds()


if __name__ == "__main__":
    cores = len(os.sched_getaffinity(0))
    walls = {"1 worker x 2 threads": one(1), f"2 workers x {max(1, cores // 2)} thread(s)": one(2)}
    for name, wall in walls.items():
        print(f"{name:28s} {wall:7.1f} s to the {len(TRIALS)}th completed trial")
    a, b = walls.values()
    print(f"ratio (1 worker / 2 workers): {a / b:.2f}x")
    out = {"date": time.strftime("%Y-%m-%d"), "cores": cores, "trials": len(TRIALS), "wall_s": walls,
           "ratio": a / b}
    (HERE / "tune_workers.json").write_text(json.dumps(out, indent=1) + "\n")
