"""``fcnbook section``: execute one section notebook with parameter overrides (:mod:`fcnbook.book.sections`)."""

from __future__ import annotations


def add_parser(sub) -> None:
    """The ``section`` verb's parser, under the ``fcnbook`` command's subparsers ``sub``."""
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


def run(args, parser) -> int:
    """``fcnbook section NAME -p ...``: the executed notebook's path is printed (exit status)."""
    from fcnbook.book.sections import parse_parameter_value, run_section

    params = {name: parse_parameter_value(value) for name, value in args.parameter}
    try:  # an unknown section or parameter, a value of the wrong kind: one line, before anything runs
        out = run_section(args.name, params, out=args.output, profile=args.profile)
    except ValueError as exc:
        parser.error(str(exc).replace("\n", " "))
    print(f"section {args.name} executed: {out}")
    return 0
