"""``fcnbook frontier``: list the frontier's ingredient ladder, or train its rungs (:mod:`fcnbook.report.ladder`).

Each rung trains on the frontier's fresh seeds through the run store's runner, so a rung is trained once, resumes
from its epoch checkpoint when interrupted, and is reused by whoever asks next (the frontier chapter included).
Every rung trained here keeps its seeds' final weights (under the results folder, ignored by git), so any rung can
later teach a distilled network without being trained again.
"""

from __future__ import annotations

import sys


def add_parser(sub) -> None:
    """The ``frontier`` verb's parser, under the ``fcnbook`` command's subparsers ``sub``."""
    p = sub.add_parser("frontier", help="list or train the rungs of the frontier's ingredient ladder",
                       description="Without --train, list the ladder: each rung adds one ingredient to the one "
                                   "before; then the extras (comparators, the distilled networks, bf16, MNIST). With "
                                   "--train RUNGS (e.g. 0-2, 0,3 or peer,distilled), train those on the "
                                   "frontier's seeds (5-9 in the full profile) and store them; stored ones are "
                                   "reused.")
    p.add_argument("--train", metavar="RUNGS", help="rungs (numbers) or extras (names) to train, e.g. 0-2, 0,3 or "
                                                    "peer,distilled-best,mnist-best (default: train nothing)")
    p.add_argument("--profile", choices=["quick", "full"], default="full", help="profile (default full)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    p.set_defaults(subparser=p)


def rungs_of(text: str, n: int, names=()) -> list:
    """``"0-2"`` -> [0, 1, 2], ``"0,3"`` -> [0, 3], ``"peer,1"`` -> ["peer", 1]; ``ValueError`` naming --train
    unless each number is in [0, n) and each name is one of ``names``."""
    from fcnbook.cli.train import parse_seeds  # the same "a-b,c" syntax as --seeds

    out = []
    for part in text.split(","):
        if part.strip() in names:
            out.append(part.strip())
            continue
        try:
            numbers = parse_seeds(part)
        except ValueError:
            numbers = None
        if not numbers or any(r >= n for r in numbers):
            extra = f" or one of {', '.join(names)}" if names else ""
            raise ValueError(f"--train must list rungs from 0 to {n - 1}{extra}, e.g. 0-2 or 0,3 (got {text!r})")
        out += numbers
    return out


def run(args, parser) -> int:
    """List the ladder, or train the rungs asked for (one line per rung on stderr; exit status)."""
    from fcnbook.report import experiments, ladder

    S = experiments.settings(args.profile)
    rungs, extras = ladder.ladder(S), ladder.extras(S) | ladder.checks(S)
    if args.train is None:
        for i, r in enumerate(rungs):
            print(f"{i:>2}  {r.name:<16} {r.config.key()}  {r.config.label()}, {r.config.epochs} epochs  "
                  f"(+ {r.ingredient})")
        for name, config in extras.items():
            print(f"{name:>2}  {config.key()}  {config.label()}, {config.epochs} epochs")
        return 0
    try:
        chosen = rungs_of(args.train, len(rungs), tuple(extras))
    except ValueError as exc:
        parser.error(str(exc))
    from fcnbook.cli import interrupts
    from fcnbook.store import runner

    interrupts.one_line_cache_warnings()
    teachers = {c.key(): c for c in ladder.check_teachers(S).values()}  # not rungs: trained on their own seeds
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    for i in chosen:
        name, config = (i, extras[i]) if isinstance(i, str) else (f"rung {i} {rungs[i].name}", rungs[i].config)
        if config.teacher in teachers:  # first, so that the student finds its teacher stored, with its weights
            runner.run([teachers[config.teacher]], config.teacher_seeds, device=args.device, progress=False,
                       keep_weights=True, log=log)
        res = runner.run([config], ladder.seeds(S), device=args.device, progress=False, keep_weights=True, log=log)
        acc = res.runs.loc[res.runs["key"] == config.key(), "test_accuracy"].astype(float)
        print(f"{name}: test accuracy {acc.mean():.4f} (SD {acc.std(ddof=1):.4f}, n {len(acc)})")
    return 0
