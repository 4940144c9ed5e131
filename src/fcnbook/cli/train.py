"""``fcnbook train``: one :class:`~fcnbook.config.RunConfig` over several seeds, through the run store.

Every flag is generated from a ``RunConfig`` field, so the CLI, the notebooks and the run store speak one
vocabulary. Bad values exit with status 2 and one line, before anything is loaded or trained.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys

from fcnbook.cli import interrupts
from fcnbook.config import (
    AUGMENTS,
    DATASETS,
    INITS,
    NORMALIZATIONS,
    OPTIMIZERS,
    PRECISIONS,
    SCHEDULES,
    RunConfig,
    check_seeds,
)

HELP = {
    "dataset": f"dataset: {', '.join(DATASETS)}",
    "hidden": "hidden layer widths, comma separated (e.g. 500,50)",
    "dropout": "dropout probability after each hidden layer, in [0, 1)",
    "batch_norm": "batch normalisation after each hidden Linear (--no-batch-norm to turn off)",
    "init": f"weight initialisation: {', '.join(INITS)}",
    "init_std": "standard deviation of the 'normal' initialisation",
    "default_bias": "with an explicit --init, keep nn.Linear's default bias draw (the report's code) instead of "
                    "zero biases (--no-default-bias to turn off)",
    "optimizer": f"optimizer: {', '.join(OPTIMIZERS)}",
    "lr": "learning rate (> 0)",
    "momentum": "momentum of sgd / rmsprop, in [0, 1)",
    "weight_decay": "weight decay (>= 0; decoupled for adamw, L2 otherwise)",
    "nesterov": "Nesterov momentum (sgd with momentum > 0; --no-nesterov to turn off)",
    "schedule": f"learning-rate schedule per step: {', '.join(SCHEDULES)}",
    "warmup": "fraction of the steps spent warming up, in [0, 0.5] (cosine, onecycle)",
    "label_smoothing": "label smoothing of the training loss, in [0, 0.5)",
    "augment": f"training augmentation: {', '.join(AUGMENTS)} (shift_flip: FashionMNIST only)",
    "max_shift": "largest random shift in pixels, 1 to 4 (with --augment)",
    "erase": "random erasing: probability that a training image gets one box of background, in [0, 1]",
    "erase_scale": "erased area as a fraction of the image, low,high with 0 < low <= high <= 1 (with --erase)",
    "erase_ratio": "aspect ratio (height/width) of an erased box, low,high with 0 < low <= high (with --erase)",
    "precision": f"arithmetic of the matrix products: {', '.join(PRECISIONS)} (bf16 needs AMX/AVX512-BF16 or a "
                 "CUDA GPU of compute capability >= 8.0, unless --force-precision)",
    "ema": "decay of a moving average of the weights and batch-norm statistics used for every evaluation, "
           "in [0, 1) (0 = off)",
    "teacher": "knowledge distillation: the key of a configuration (same data) whose seeds' ensemble teaches; "
               "trained first when its weights are not stored",
    "teacher_seeds": "seeds of the teacher's members, comma separated (with --teacher)",
    "distill_temperature": "softmax temperature of the distillation term, > 0 (with --teacher)",
    "distill_weight": "weight w of the distillation term, in (0, 1]: (1-w) CE + w T^2 KL (with --teacher)",
    "distill_views": "soft labels of the clean training images or of each augmented image the student sees: "
                     "clean, augmented (with --teacher and --augment, no --erase)",
    "batch_size": "training mini-batch size",
    "epochs": "passes over the training split (>= 1)",
    "normalization": f"pixel normalisation: {', '.join(NORMALIZATIONS)} (train = training split mean/std)",
    "val_fraction": "fraction of the training images held out for validation, in (0, 0.5]",
    "split_seed": "seed of the stratified validation split",
    "subset": "train on a stratified subset of this many training images (quick runs)",
}


def parse_seeds(text: str) -> list[int]:
    """``"0-4"`` -> [0, 1, 2, 3, 4]; ``"0,2,7"`` -> [0, 2, 7]; mixed forms like ``"0-2,5"`` allowed."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            lo, _, hi = part.strip().partition("-")
            seeds.extend(range(int(lo), int(hi) + 1) if hi else [int(lo)])
    except ValueError:
        raise ValueError(f"--seeds must look like 0-4 or 0,1,2 (got {text!r})") from None
    try:
        return check_seeds(seeds)
    except ValueError:
        raise ValueError(f"--seeds must name distinct integers >= 0 (got {text!r})") from None


def _convert(field: dataclasses.Field, text: str):
    """A flag's string -> the RunConfig field's type; ValueError names the flag."""
    flag = "--" + field.name.replace("_", "-")
    try:
        if field.name == "hidden":
            return tuple(int(h) for h in text.split(","))
        if field.name in ("erase_scale", "erase_ratio"):
            return tuple(float(v) for v in text.split(","))
        if field.name == "teacher_seeds":
            return tuple(int(v) for v in text.split(","))
        if field.name == "subset":
            return None if text.lower() in ("none", "all") else int(text)
        if isinstance(field.default, int) and not isinstance(field.default, bool):
            return int(text)
        if isinstance(field.default, float):
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
            return value
    except ValueError:
        raise ValueError(f"{flag} got {text!r}, which is not a valid value ({HELP[field.name]})") from None
    return text


def add_parser(sub) -> None:
    """The ``train`` verb's parser, under the ``fcnbook`` command's subparsers ``sub``."""
    p = sub.add_parser("train", help="train a configuration over seeds and print test accuracy",
                       description="Train one RunConfig for several seeds (stacked, reusing the run store) "
                                   "and print test accuracy per seed with mean and SD. Defaults: the seed "
                                   "report's baseline (500-50, SGD, lr 0.1, 15 epochs, batch 512).")
    for f in dataclasses.fields(RunConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.name in ("batch_norm", "default_bias", "nesterov"):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=False, help=HELP[f.name])
            continue
        default = ",".join(map(str, f.default)) if isinstance(f.default, tuple) else f.default
        p.add_argument(flag, dest=f.name, metavar=f.name.upper(), default=None,
                       help=f"{HELP[f.name]} (default: {default})")
    p.add_argument("--seeds", default="0", help="seeds, e.g. 0-4 or 0,1,2 (default: 0)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    p.add_argument("--force-precision", action="store_true",
                   help="train in bf16 even where the hardware has no fast bf16 (emulated, slow)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(subparser=p)


def _config(args, parser) -> tuple[RunConfig, list[int]]:
    """The configuration and seeds the flags name, checked (bf16 hardware included); else exit 2 in one line."""
    changes = {}
    for f in dataclasses.fields(RunConfig):
        value = getattr(args, f.name)
        if value is None:
            continue
        try:
            changes[f.name] = value if isinstance(value, bool) else _convert(f, value)
        except ValueError as exc:
            parser.error(str(exc).replace("\n", " "))
    try:
        config = RunConfig(**changes)
        seeds = parse_seeds(args.seeds)
        from fcnbook.training.precision import check
        from fcnbook.training.setup import resolve_device

        check(config.precision, resolve_device(args.device), force=args.force_precision)
    except ValueError as exc:
        parser.error(str(exc).replace("\n", " "))
    return config, seeds


def run(args, parser) -> int:
    """``fcnbook train``: train what the store lacks, then print each seed's test accuracy (exit status)."""
    config, seeds = _config(args, parser)
    from fcnbook.store import runner

    interrupts.one_line_cache_warnings()
    log = None if args.json or args.quiet else (lambda msg: print(msg, file=sys.stderr))
    results = runner.run(config, seeds, device=args.device, progress=not (args.json or args.quiet), log=log)
    summary = results.summary().iloc[0]
    runs = results.runs
    if args.json:
        out = {
            "config": config.to_dict(), "key": config.key(),
            "runs": [{"seed": int(r.seed), "test_accuracy": float(r.test_accuracy), "diverged": bool(r.diverged),
                      "test_loss": None if math.isnan(r.test_loss) else float(r.test_loss)}
                     for r in runs.itertuples()],
            "summary": {k: (None if isinstance(summary[k], float) and math.isnan(summary[k]) else summary[k])
                        for k in ("mean", "sd", "n", "ci_low", "ci_high")},
        }
        out["summary"]["n"] = int(out["summary"]["n"])
        print(json.dumps(out))
        return 0
    print(f"{config.label()}  ({config.dataset}, {config.epochs} epochs, batch {config.batch_size})")
    print(f"{'seed':>6} {'test acc':>9} {'test loss':>10} {'val acc':>8}  status")
    for r in runs.itertuples():
        status = f"diverged at epoch {int(r.diverged_epoch)}" if r.diverged else "ok"
        print(f"{r.seed:>6} {r.test_accuracy:>9.4f} {r.test_loss:>10.4f} {r.final_val_accuracy:>8.4f}  {status}")
    sd = "n/a (one seed)" if math.isnan(summary["sd"]) else f"{summary['sd']:.4f}"
    ci = "" if math.isnan(summary["sd"]) else f", 95% CI [{summary['ci_low']:.4f}, {summary['ci_high']:.4f}]"
    print(f"mean test accuracy {summary['mean']:.4f}, SD {sd}, n {int(summary['n'])}{ci}")
    return 0
