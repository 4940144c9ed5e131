"""Which signal stopped this process: SIGINT (Ctrl-C) or SIGTERM, both raised as ``KeyboardInterrupt``.

The command line's SIGTERM handler (:func:`fcnbook.cli.interrupts.stop_on_sigterm`) notes it here, so that a study
worker (:mod:`fcnbook.tuning.objective`) can record why it stopped without importing the command line.
"""

from __future__ import annotations

_STOPPED_BY = [2]  # SIGINT unless a SIGTERM was noted


def note(signum: int) -> None:
    """Remember that ``signum`` is stopping the process (before ``KeyboardInterrupt`` is raised)."""
    _STOPPED_BY[0] = signum


def stopped_by() -> int:
    """The signal behind the current KeyboardInterrupt: SIGTERM (15) once one was noted, else SIGINT (2)."""
    return _STOPPED_BY[0]
