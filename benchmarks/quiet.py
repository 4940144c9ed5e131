"""Wait until nobody else is using the CPUs: for timing on a machine that other people's jobs share.

``busy_fraction()`` reads ``/proc/stat`` twice and returns the share of all CPU time that was not idle in between
(this process sleeps meanwhile, so the rest is other work). ``wait_quiet()`` polls it until it drops below a
threshold or a timeout passes, and says which.
"""

from __future__ import annotations

import time
from pathlib import Path


def _times() -> tuple[int, int] | None:
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields), idle


def busy_fraction(interval: float = 0.5) -> float | None:
    """Share of CPU time (all cores) spent busy during ``interval`` seconds; None without /proc/stat."""
    a = _times()
    time.sleep(interval)
    b = _times()
    if a is None or b is None or b[0] == a[0]:
        return None
    return 1 - (b[1] - a[1]) / (b[0] - a[0])


def wait_quiet(timeout: float, threshold: float = 0.1, interval: float = 0.5) -> tuple[bool, float]:
    """Poll until others use less than ``threshold`` of the CPUs (True) or ``timeout`` s pass (False).

    Returns (quiet, seconds waited). ``timeout <= 0`` returns at once without looking.
    """
    t0 = time.perf_counter()
    if timeout <= 0:
        return False, 0.0
    while True:
        busy = busy_fraction(interval)
        waited = time.perf_counter() - t0
        if busy is None:
            return False, waited
        if busy < threshold:
            return True, waited
        if waited >= timeout:
            return False, waited
