"""How the long-running commands (``fcnbook train``, ``frontier``, ``book``, ``tune``) end when they are stopped.

Ctrl-C (SIGINT) and SIGTERM end them with one line saying what was kept and how to continue, and exit
status 130 or 143; every stored record and the interrupted configuration's epoch checkpoint stay, and the same
command continues from there. Unusable records or checkpoints are reported in one line, not as tracebacks.
"""

from __future__ import annotations

import sys

from fcnbook import signals


def one_line_cache_warnings() -> None:
    """Show a :class:`fcnbook.io.CacheWarning` (an unusable record or checkpoint) as one line on stderr."""
    import warnings

    from fcnbook.io import CacheWarning

    default = warnings.formatwarning
    erase = "\r\033[K" if sys.stderr.isatty() else "\r"  # over the progress bar, not after it

    def one_line(message, category, *args, **kwargs):
        if issubclass(category, CacheWarning):
            return f"{erase}fcnbook: {message}\n"
        return default(message, category, *args, **kwargs)

    warnings.formatwarning = one_line


def stop_on_sigterm() -> None:
    """SIGTERM stops ``train``, ``book`` and ``tune`` as Ctrl-C does: one line saying what was kept, status 143."""
    import signal

    def stop(signum, frame):
        signals.note(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def in_worker_thread(work):
    """``work()`` run in a worker thread; its value, or its exception raised here.

    papermill's nbclient turns SIGINT and SIGTERM in the main thread into "shut this section's kernel down", and
    the build then goes on with the next section; from a worker thread it cannot install those handlers, so
    the signals reach the main thread as KeyboardInterrupt and stop the whole build.
    """
    import threading

    box = {}

    def target():
        try:
            box["value"] = work()
        except BaseException as exc:  # handed to the main thread
            box["error"] = exc

    worker = threading.Thread(target=target, name="fcnbook-book", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.2)
    if "error" in box:
        raise box["error"]
    return box["value"]


def interrupted(args, exc: KeyboardInterrupt) -> int:
    """Say in one line what an interrupted command kept and how to continue; return the exit status."""
    import os

    from fcnbook.paths import results_dir

    code = 128 + signals.stopped_by()
    again = "run the same command again to continue"
    if args.verb in ("train", "frontier"):  # the runner's Interrupted says what was kept
        kept = str(exc) or f"every stored record and epoch checkpoint under {results_dir()}"
        print(f"fcnbook {args.verb}: interrupted; kept: {kept}; {again} from there", file=sys.stderr)
    elif args.verb == "book":
        print(f"fcnbook book: interrupted; kept: the sections executed so far, every stored run record and the "
              f"interrupted configuration's epoch checkpoint (under {results_dir()}); {again}: stored runs are "
              "not trained again and the interrupted one resumes from its checkpoint", file=sys.stderr)
        from fcnbook.book import sections

        # The build is still running in its worker thread: end now. The section's kernel sees its parent go and
        # exits within a second. Its half-written notebook (a temporary name, never taken as a section) goes.
        for partial in (sections.BOOK / "sections").glob(f".*.partial-{os.getpid()}.ipynb"):
            partial.unlink(missing_ok=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    else:
        print("fcnbook: interrupted (stored results are kept)", file=sys.stderr)
    return code
