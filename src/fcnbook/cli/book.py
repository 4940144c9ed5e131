"""``fcnbook book``: execute every section and build the HTML report (:mod:`fcnbook.book.build`), optionally a PDF."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from fcnbook.cli import interrupts


def add_parser(sub) -> None:
    """The ``book`` verb's parser, under the ``fcnbook`` command's subparsers ``sub``."""
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


def _fresh_results(folder: str, parser) -> None:
    """Point ``FCNBOOK_RESULTS`` (inherited by the section kernels) at ``folder``, which must be empty or new."""
    from fcnbook.paths import project_root

    path = Path(folder).expanduser()
    path = path if path.is_absolute() else project_root() / path
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        message = f"--retrain folder {path} is not empty: remove it or name another (--retrain DIR)"
        parser.error(message.replace("\n", " "))
    path.mkdir(parents=True, exist_ok=True)
    os.environ["FCNBOOK_RESULTS"] = str(path)
    print(f"fcnbook book: retraining everything into {path}", file=sys.stderr)


def run(args, parser) -> int:
    """``fcnbook book``: every section, then the HTML (and the PDF with ``--pdf``); exit status."""
    from fcnbook.book.build import build_book
    from fcnbook.training.environment import describe
    from fcnbook.training.precision import sgemm_gflops

    if args.retrain:
        _fresh_results(args.retrain, parser)
    try:
        html = interrupts.in_worker_thread(
            lambda: build_book(profile=args.profile, only=args.only, pdf=args.pdf, peak=sgemm_gflops,
                               describe=lambda: describe("cpu")))
    except ValueError as exc:  # an unknown --only section: named before anything runs
        parser.error(str(exc).replace("\n", " "))
    print(f"book built: {html}")
    if args.pdf:
        from fcnbook.book.pdf import PDF_NAME

        print(f"PDF: {html.parents[1] / 'pdf' / PDF_NAME}")
    return 0
