"""``fcnbook data``: install, verify or describe the offline datasets (:mod:`fcnbook.data`)."""

from __future__ import annotations

from fcnbook.config import DATASETS


def add_parser(sub) -> None:
    """The ``data`` verb's parser, under the ``fcnbook`` command's subparsers ``sub``."""
    d = sub.add_parser("data", help="fetch, verify or describe the datasets",
                       description="Manage the offline datasets under $FCNBOOK_DATA (default <project>/data).")
    d.add_argument("action", choices=["fetch", "verify", "info"],
                   help="fetch: install both datasets (idempotent); verify: MD5-check all eight files; "
                        "info: show paths and file status")
    d.set_defaults(subparser=d)


def run(args, parser) -> int:
    """``fcnbook data fetch|verify|info`` (exit status)."""
    from fcnbook.data import fetch
    from fcnbook.data import splits as data

    if args.action == "fetch":
        fetch.fetch()
    elif args.action == "verify":
        for dataset in DATASETS:
            files = data.verify(dataset)
            print(f"{dataset}: {len(files)} files verified")
    else:
        print(data.info())
    return 0
