"""Command line: ``fcnbook data|train|tune|book|section|verify`` (also ``python -m fcnbook``).

Each verb is one module of :mod:`fcnbook.cli` with its parser (``add_parser``) and its work (``run``); this module
builds the command, dispatches to the verb and turns its failures into one line. Bad values exit with status 2 and
one line, before anything is loaded or trained. Heavy imports (torch, papermill) happen inside the verbs, so
``--help`` is instant.
"""

from __future__ import annotations

import argparse
import sys

from fcnbook.cli import book, data, frontier, interrupts, section, train, tune, verify

#: The verbs in the order ``fcnbook --help`` lists them, each a module with ``add_parser(sub)`` and ``run(args, p)``.
VERBS = {"data": data, "train": train, "tune": tune, "book": book, "section": section, "verify": verify,
         "frontier": frontier}


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``fcnbook train: error: ...`` on stderr, exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="fcnbook", description="Fully connected networks on FashionMNIST and MNIST: "
                     "data, training with a run store, and the report book.")
    sub = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)
    for verb in VERBS.values():
        verb.add_parser(sub)
    return parser


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
        return VERBS[args.verb].run(args, args.subparser)
    except KeyboardInterrupt as exc:
        return interrupts.interrupted(args, exc)
    except Exception as exc:  # data, section or build failures: one clear line, not a traceback
        from fcnbook.data.splits import DataError
        from fcnbook.store.cache import NotWritableError

        named = ("SectionError", "BookError", "FetchError")
        named = (*named, "StorageError")
        if isinstance(exc, DataError | NotWritableError) or type(exc).__name__ in named:
            print(f"fcnbook {args.verb}: {exc}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
