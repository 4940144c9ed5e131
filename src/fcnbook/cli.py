"""Command line: ``fcnbook data|train|tune|book|section|verify`` (also ``python -m fcnbook``).

Every ``train`` flag is generated from a :class:`~fcnbook.config.RunConfig` field, so the CLI, the notebooks and
the run store speak one vocabulary. Bad values exit with status 2 and one line, before anything is loaded or
trained. Heavy imports (torch, papermill) happen inside the verbs, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path

from . import interrupts
from .config import AUGMENTS, DATASETS, INITS, NORMALIZATIONS, OPTIMIZERS, PRECISIONS, SCHEDULES, RunConfig, check_seeds

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
    "batch_size": "training mini-batch size",
    "epochs": "passes over the training split (>= 1)",
    "normalization": f"pixel normalisation: {', '.join(NORMALIZATIONS)} (train = training split mean/std)",
    "val_fraction": "fraction of the training images held out for validation, in (0, 0.5]",
    "split_seed": "seed of the stratified validation split",
    "subset": "train on a stratified subset of this many training images (quick runs)",
}


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``fcnbook train: error: ...`` on stderr, exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _fail(parser: argparse.ArgumentParser, message: str):
    parser.error(message.replace("\n", " "))


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


def _add_train(sub) -> None:
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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="fcnbook", description="Fully connected networks on FashionMNIST and MNIST: "
                     "data, training with a run store, and the report book.")
    sub = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)
    d = sub.add_parser("data", help="fetch, verify or describe the datasets",
                       description="Manage the offline datasets under $FCNBOOK_DATA (default <project>/data).")
    d.add_argument("action", choices=["fetch", "verify", "info"],
                   help="fetch: install both datasets (idempotent); verify: MD5-check all eight files; "
                        "info: show paths and file status")
    d.set_defaults(subparser=d)
    _add_train(sub)
    from .tune_cli import add_parser as add_tune

    add_tune(sub)
    b = sub.add_parser("book", help="execute the sections and build the HTML report",
                       description="Execute every section with papermill, then build the book with Jupyter Book.")
    b.add_argument("--profile", choices=["quick", "full"], default="full",
                   help="quick: subset, 2 epochs, 2 seeds (minutes); full: the report (default)")
    b.add_argument("--only", nargs="+", metavar="SECTION", help="execute only these sections")
    b.add_argument("--retrain", nargs="?", const="results-retrain", metavar="DIR",
                   help="recompute every result into the fresh results folder DIR (default results-retrain/ in the "
                        "project); nothing stored or shipped is reused")
    b.add_argument("--pdf", action="store_true",
                   help="also print the whole book to one PDF, book/_build/pdf/fcnbook.pdf (headless Chromium)")
    b.set_defaults(subparser=b)
    s = sub.add_parser("section", help="re-execute one section with parameter overrides",
                       description="Execute one section notebook with papermill-style parameters, e.g. "
                                   "fcnbook section 03_optimizers -p epochs 3 -o /tmp/x.ipynb")
    s.add_argument("name", help="section name, e.g. 03_optimizers")
    s.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="override a name of the section's parameters cell (repeatable); VALUE is read as "
                        "papermill's -p reads it (True/False/None, int, float, else text), and as YAML when it "
                        "starts with [ or { (-p seeds '[0, 1]')")
    s.add_argument("-o", "--output", help="executed notebook path (default book/sections/NAME.ipynb)")
    s.add_argument("--profile", choices=["quick", "full"], help="shorthand for -p profile VALUE")
    s.set_defaults(subparser=s)
    v = sub.add_parser("verify", help="retrain randomly chosen stored records and compare them",
                       description="Retrain K randomly chosen run records of the current training code alone and "
                                   "compare history, test accuracy and predictions with what is stored: exactly "
                                   "on the CPU model, torch and thread count that made them, else the test "
                                   "accuracy within 0.01. With --against DIR, compare a whole retrained results "
                                   "folder with the stored records instead, exactly. Exit 1 when any differs.")
    v.add_argument("--sample", type=int, default=2, metavar="K", help="records to retrain (default 2)")
    v.add_argument("--seed", type=int, default=None, help="seed of the random choice (default: a new choice)")
    v.add_argument("--device", default="cpu", help="device to retrain on (default cpu)")
    v.add_argument("--against", metavar="DIR", default=None,
                   help="train nothing: compare every record of the results folder DIR (e.g. results-retrain/ "
                        "after `make book RETRAIN=1`) with the stored one of the same configuration and seed")
    v.set_defaults(subparser=v)
    return parser


def _train(args, parser) -> int:
    changes = {}
    for f in dataclasses.fields(RunConfig):
        value = getattr(args, f.name)
        if value is None:
            continue
        try:
            changes[f.name] = value if isinstance(value, bool) else _convert(f, value)
        except ValueError as exc:
            _fail(parser, str(exc))
    try:
        config = RunConfig(**changes)
        seeds = parse_seeds(args.seeds)
        from .precision import check
        from .train import resolve_device

        check(config.precision, resolve_device(args.device), force=args.force_precision)
    except ValueError as exc:
        _fail(parser, str(exc))

    from . import runner

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


def _data(args) -> int:
    from . import data, fetch

    if args.action == "fetch":
        fetch.fetch()
    elif args.action == "verify":
        for dataset in DATASETS:
            files = data.verify(dataset)
            print(f"{dataset}: {len(files)} files verified")
    else:
        print(data.info())
    return 0


def _fresh_results(folder: str, parser) -> None:
    """Point ``FCNBOOK_RESULTS`` (inherited by the section kernels) at ``folder``, which must be empty or new."""
    import os

    from .paths import project_root

    path = Path(folder).expanduser()
    path = path if path.is_absolute() else project_root() / path
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        _fail(parser, f"--retrain folder {path} is not empty: remove it or name another (--retrain DIR)")
    path.mkdir(parents=True, exist_ok=True)
    os.environ["FCNBOOK_RESULTS"] = str(path)
    print(f"fcnbook book: retraining everything into {path}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """``fcnbook``'s entry point: the exit status of the verb."""
    try:
        return _main(argv)
    except BrokenPipeError:  # the reader of our output went away (``| head``): stop quietly, as Unix tools do
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by it


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verb in ("train", "book", "tune"):
        interrupts.stop_on_sigterm()
    try:
        if args.verb == "data":
            return _data(args)
        if args.verb == "train":
            return _train(args, args.subparser)
        if args.verb == "tune":
            from .tune_cli import run as tune

            return tune(args, args.subparser)
        if args.verb == "verify":
            from .provenance import verify

            if args.against is not None:
                from .provenance import compare_stores

                try:
                    c = compare_stores(Path(args.against).expanduser())
                except ValueError as exc:
                    _fail(args.subparser, str(exc))
                return 0 if c["compared"] and not c["different"] else 1
            if args.sample < 1:
                _fail(args.subparser, f"--sample must be an integer >= 1 (got {args.sample})")
            try:
                return 0 if verify(args.sample, rng_seed=args.seed, device=args.device) else 1
            except ValueError as exc:
                _fail(args.subparser, str(exc))
        if args.verb == "book":
            from .bookbuild import build_book

            if args.retrain:
                _fresh_results(args.retrain, args.subparser)
            try:
                html = interrupts.in_worker_thread(
                    lambda: build_book(profile=args.profile, only=args.only, pdf=args.pdf))
            except ValueError as exc:  # an unknown --only section: named before anything runs
                _fail(args.subparser, str(exc))
            print(f"book built: {html}")
            if args.pdf:
                from .pdf import PDF_NAME

                print(f"PDF: {html.parents[1] / 'pdf' / PDF_NAME}")
            return 0
        from .sections import parse_parameter_value, run_section

        params = {name: parse_parameter_value(value) for name, value in args.parameter}
        try:  # an unknown section or parameter, a value of the wrong kind: one line, before anything runs
            out = run_section(args.name, params, out=args.output, profile=args.profile)
        except ValueError as exc:
            _fail(args.subparser, str(exc))
        print(f"section {args.name} executed: {out}")
        return 0
    except KeyboardInterrupt as exc:
        return interrupts.interrupted(args, exc)
    except Exception as exc:  # data, section or build failures: one clear line, not a traceback
        from .cache import NotWritableError
        from .data import DataError

        named = ("SectionError", "BookError", "FetchError")
        named = (*named, "StorageError")
        if isinstance(exc, DataError | NotWritableError) or type(exc).__name__ in named:
            print(f"fcnbook {args.verb}: {exc}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
