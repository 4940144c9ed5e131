"""``fcnbook tune``: the command line of :mod:`fcnbook.tuning.study` (its options, checks and worker processes)."""

from __future__ import annotations

import argparse
import sys

from fcnbook.cli import interrupts
from fcnbook.config import DATASETS, PRECISIONS


def add_parser(sub) -> None:
    """The ``tune`` verb's parser, under the ``fcnbook`` command's subparsers ``sub``."""
    from fcnbook.tuning.sampling import PRUNERS
    from fcnbook.tuning.space import PROFILES

    p = sub.add_parser(
        "tune", help="hyperparameter search on Optuna, validation accuracy only",
        description="Run (or join) an Optuna study: TPE sampling of the search space in fcnbook.tuning.space, one "
                    "seed per trial through the run store, Hyperband pruning on per-epoch validation accuracy, the "
                    "named recipes of fcnbook.tuning.recipes tried first (once per study); the test set is never "
                    "evaluated. Storage: a journal file <results>/tune/STUDY.journal by default (several "
                    "processes on one machine), or --storage postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB for "
                    "many machines: run the same command on each and they share the study.")
    p.add_argument("--study", help="study name (letters, digits, - _ .); required unless --show NAME")
    p.add_argument("--trials", type=int, default=None,
                   help="finish when the study holds this many complete or pruned trials (all workers together)")
    p.add_argument("--timeout", type=float, default=None, help="stop starting trials after this many seconds")
    p.add_argument("--storage", default=None, metavar="URL",
                   help="SQLAlchemy URL of an RDB storage (default: the journal file)")
    p.add_argument("--workers", type=int, default=1,
                   help="local worker processes (the cores are split between them; default 1)")
    p.add_argument("--profile", choices=list(PROFILES), default="full",
                   help="full: all training images, widths 50-2048, 10-300 epochs; quick: a 2000-image subset, "
                        "tiny networks, 1-2 epochs (seconds)")
    p.add_argument("--dataset", choices=list(DATASETS), default="fashion", help="dataset (default fashion)")
    p.add_argument("--precision", choices=list(PRECISIONS), default="fp32",
                   help="arithmetic of every trial (default fp32)")
    p.add_argument("--force-precision", action="store_true", help="bf16 even without fast bf16 hardware")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of this worker's TPE sampler (default: derived from the study, host, process and a "
                        "random draw, so that workers differ; recorded with every trial); with --workers K, "
                        "worker i gets SEED+i")
    p.add_argument("--pruner", choices=list(PRUNERS), default="hyperband",
                   help="hyperband (default): stop trials that trail at 5, 15, 45, 135 epochs; none: never")
    p.add_argument("--no-recipes", action="store_true",
                   help="do not enqueue the named recipes of fcnbook.tuning.recipes (each is tried once per study)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    p.add_argument("--show", nargs="?", const="", default=None, metavar="NAME",
                   help="print the best trials of study NAME (or of --study) instead of running it")
    p.add_argument("--select", default=None, metavar="NAME",
                   help="choose study NAME's recipe (fcnbook.report.selection): retrain its 5 best complete trials and "
                        "every complete named recipe on seeds 1-3 without the test set, take the best validation "
                        "mean, then train that recipe on seeds 5-9 (FashionMNIST, and MNIST without flips) with its "
                        "one test evaluation; what is stored is reused, so it resumes where it stopped")
    p.add_argument("--top", type=int, default=10, help="rows of --show (default 10)")
    p.add_argument("--json", action="store_true", help="with --show: one JSON object")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--worker-index", type=int, default=0, help=argparse.SUPPRESS)
    p.set_defaults(subparser=p)


def run(args, parser) -> int:
    """``fcnbook tune``: check every option, then show, run or join a study (exit status)."""
    import os

    from fcnbook.tuning import objective, show
    from fcnbook.tuning import study as tune

    try:
        if args.show:  # --show NAME names the study itself
            args.study = args.show
        if args.select:
            args.study = args.select
        if args.study is None:
            raise ValueError("study must be named: --study NAME (or --show NAME)")
        check_options(args.study, args.trials, args.profile, args.dataset, args.precision, args.workers,
                      args.timeout, args.pruner)
        if args.show is not None:
            print(show.show(tune.load(args.study, args.storage), top=args.top, as_json=args.json))
            return 0
        if args.select is not None:
            study = tune.load(args.study, args.storage)  # a missing study: one line, before anything trains
            return select(study, args.profile, args.device)
        if args.trials is None and args.timeout is None:
            raise ValueError("trials or timeout must be given: --trials N and/or --timeout SECONDS")
        from fcnbook.training.precision import check
        from fcnbook.training.setup import resolve_device

        check(args.precision, resolve_device(args.device), force=args.force_precision)
        tune.create(args.study, args.storage, profile=args.profile, dataset=args.dataset, precision=args.precision,
                    pruner=args.pruner)  # a bad URL or clashing settings: one line here, before any worker starts
    except (ValueError, KeyError) as exc:
        parser.error(str(exc).strip("'\"").replace("\n", " "))
    if args.workers > 1:
        threads = max(1, (os.cpu_count() or 1) // args.workers)
        argv = [a for a in sys.argv[2:]]
        i = argv.index("--workers")
        del argv[i : i + 2]
        return objective.start_workers(argv, args.workers, threads)
    _threads_from_env()
    interrupts.one_line_cache_warnings()
    seed = None if args.seed is None else args.seed + args.worker_index
    st = objective.optimize(args.study, args.trials or 10**9, url=args.storage, timeout=args.timeout,
                       profile=args.profile, dataset=args.dataset, precision=args.precision, seed=seed,
                       device=args.device, progress=not args.no_progress, recipes={} if args.no_recipes else None,
                       pruner=args.pruner)
    if args.worker_index == 0:
        print(show.show(st, top=args.top, as_json=args.json))
    return 0


def _threads_from_env() -> None:
    """Use ``FCNBOOK_THREADS`` torch threads when set (a worker of ``--workers K`` gets its share of the cores)."""
    import os

    if threads := os.environ.get("FCNBOOK_THREADS"):
        import torch

        torch.set_num_threads(int(threads))


def select(study, profile: str, device: str) -> int:
    """``fcnbook tune --select``: re-score the finalists, then train the recipe on the test seeds (exit status)."""
    from fcnbook.lab import Lab
    from fcnbook.report import experiments, selection
    from fcnbook.report.budget import run_gflop

    _threads_from_env()
    interrupts.one_line_cache_warnings()
    S = experiments.settings(profile, lab=Lab(device))
    # the cheapest finalists first, so that an interrupted selection has stored as many of them as it could
    for config in sorted({selection.config_of(t) for t in selection.finalists(study)}, key=run_gflop):
        S.lab.validation([config], list(selection.SELECTION_SEEDS))
    table = selection.scores(S, study, train=True)
    print(table[["recipe", "seed 0", "mean", "sd", "n", "label", "epochs"]].to_string())
    number = selection.chosen_number(table)
    if number is None:
        print(f"study {study.study_name!r} has no complete trial: nothing to choose", file=sys.stderr)
        return 1
    configs = [selection.config_of(study.trials[number], ds) for ds in ("fashion", "mnist")]
    seeds = list(selection.test_seeds(S))
    res = S.lab.results(configs, seeds)
    summary = res.summary()
    print(f"recipe: trial {number}, {configs[0].label()}, {configs[0].epochs} epochs")
    for c in configs:
        row = summary.loc[c.key()]
        print(f"  {c.dataset}, seeds {seeds[0]}-{seeds[-1]}: test accuracy {row['mean']:.4f} (SD {row['sd']:.4f})")
    return 0


def check_options(study: str, trials: int | None, profile: str, dataset: str, precision: str, workers: int,
                  timeout: float | None, pruner: str = "hyperband") -> None:
    """One-line ``ValueError`` for any bad option of ``fcnbook tune``, before anything starts."""
    from fcnbook.tuning.sampling import PRUNERS
    from fcnbook.tuning.space import PROFILES
    from fcnbook.tuning.study import check_study_name

    check_study_name(study)
    if trials is not None and (not isinstance(trials, int) or trials < 1):
        raise ValueError(f"trials must be an integer >= 1 (got {trials!r})")
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)} (got {profile!r})")
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)} (got {dataset!r})")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)} (got {precision!r})")
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1 (got {workers!r})")
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout must be a number of seconds > 0 (got {timeout!r})")
    if pruner not in PRUNERS:
        raise ValueError(f"pruner must be one of {', '.join(PRUNERS)} (got {pruner!r})")
