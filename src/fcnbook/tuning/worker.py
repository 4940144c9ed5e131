"""One worker of a study: who it is, the seed of its sampler, and why it stopped, all recorded in the study.

Every machine and process that joins a study is a worker (``fcnbook tune`` once, or each of ``--workers K``). Their
samplers must not share a seed: TPE starts with random draws, and two workers seeded alike would draw the same
configurations. :func:`sampler_seed` hashes the study's name with the worker's host name, process id and a random
draw, so that two workers differ even on machines with the same name or a reused pid; ``--seed N`` fixes it
instead (to reproduce one worker). The training seed of every trial stays :data:`fcnbook.tuning.study.SEED`, so that
configurations compete on equal terms.

Each trial a worker runs carries the user attributes ``worker`` (host:pid) and ``sampler_seed``. When the worker
stops it adds one study user attribute ``stop:<time>:<host>:<pid>:<draw>``, a dict with the reason (one of
:data:`REASONS`), a one-line detail, the time in UTC, the seed and the number of trials it ran; :func:`stop_reasons`
lists them in order. One key per worker rather than one shared list: workers often stop together (the study is
full), and a read-modify-write of a shared list would lose some of them. A worker killed outright (SIGKILL, power
loss) records nothing; its trial is failed and retried through the heartbeat (RDB storage).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import socket
import sys

#: Why a worker stopped: the study holds the trials asked for; ``--timeout`` passed; SIGINT or SIGTERM; an exception.
REASONS = ("trials", "timeout", "interrupted", "error")
PREFIX = "stop:"


def identity(study: str, seed: int | None = None) -> dict:
    """This worker: host, pid, a random draw and its sampler seed (``seed`` itself when given)."""
    me = {"host": socket.gethostname(), "pid": os.getpid(), "draw": secrets.randbits(32)}
    me["sampler_seed"] = sampler_seed(study, me) if seed is None else int(seed)
    me["name"] = f"{me['host']}:{me['pid']}"
    return me


def sampler_seed(study: str, me: dict) -> int:
    """A seed in ``[0, 2**32)`` from the study's name and the worker's host, pid and random draw."""
    text = f"{study}|{me['host']}|{me['pid']}|{me['draw']}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def mark(trial, me: dict) -> None:
    """Record on ``trial`` which worker runs it and with which sampler seed."""
    trial.set_user_attr("worker", me["name"])
    trial.set_user_attr("sampler_seed", me["sampler_seed"])


def record_stop(study, me: dict, reason: str, detail: str = "", trials_run: int = 0) -> None:
    """Add this worker's stop to ``study`` (never raises: a storage that is gone must not hide the real error)."""
    if reason not in REASONS:
        raise ValueError(f"reason must be one of {', '.join(REASONS)} (got {reason!r})")
    at = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
    entry = {"reason": reason, "detail": detail, "at": at, "worker": me["name"],
             "sampler_seed": me["sampler_seed"], "trials_run": trials_run}
    try:
        study.set_user_attr(f"{PREFIX}{at}:{me['name']}:{me['draw']}", entry)
    except Exception as exc:  # the storage may be what failed
        print(f"fcnbook tune: could not record why this worker stopped ({reason}): {type(exc).__name__}: {exc}",
              file=sys.stderr)


def stop_reasons(study) -> list[dict]:
    """Every recorded stop of ``study``'s workers, oldest first."""
    entries = [v for k, v in study.user_attrs.items() if k.startswith(PREFIX) and isinstance(v, dict)]
    return sorted(entries, key=lambda e: e.get("at", ""))


def describe(entry: dict) -> str:
    """One stop in words, e.g. ``2026-12-01T10:00:00Z host:123 stopped: timeout, 4 trials, sampler seed 17``."""
    words = {"trials": "the study held the trials asked for", "timeout": "timeout",
             "interrupted": "interrupted", "error": "error"}
    what = words.get(entry.get("reason"), str(entry.get("reason")))
    detail = f" ({entry['detail']})" if entry.get("detail") else ""
    return (f"{entry.get('at', '?')} {entry.get('worker', '?')} stopped: {what}{detail}; "
            f"{entry.get('trials_run', 0)} trials run, sampler seed {entry.get('sampler_seed')}")
