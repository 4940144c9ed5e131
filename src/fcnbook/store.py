"""The run store: one JSON record per (config, seed), so that nothing is trained twice.

Layout: ``<results>/runs/<config key>/seed-<seed>.json`` under :func:`fcnbook.paths.results_dir`. A record is
reused only when its configuration, the checksum of the data it was trained on and the training-code version all
match; anything else (an older code version, other data, a file that cannot be read) is reported and retrained.
Records are written atomically (temporary file, then rename), so an interrupt or a crash never leaves a
half-written record behind, and records already written stay valid.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .config import RunConfig
from .jsonio import write_json_atomic
from .paths import results_dir
from .train import TRAINING_CODE_VERSION, RunResult, fit

RECORD_FORMAT = 1
METRICS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy")


def record_path(config: RunConfig, seed: int, root: Path | None = None) -> Path:
    """Where the record of ``(config, seed)`` lives."""
    return (root or results_dir()) / "runs" / config.key() / f"seed-{seed}.json"


def _finite_or_none(x):
    """JSON has no NaN or infinity: store them as null."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, list):
        return [_finite_or_none(v) for v in x]
    if isinstance(x, dict):
        return {k: _finite_or_none(v) for k, v in x.items()}
    return x


def save(result: RunResult, data_checksum: str, root: Path | None = None) -> Path:
    """Write ``result`` as the record of its (config, seed)."""
    payload = {
        "format": RECORD_FORMAT,
        "key": result.config.key(),
        "config": result.config.to_dict(),
        "seed": result.seed,
        "data_checksum": data_checksum,
        "code_version": result.version,
        "history": result.history,
        "test_loss": result.test_loss,
        "test_accuracy": result.test_accuracy,
        "test_predictions": result.test_predictions,
        "diverged": result.diverged,
        "diverged_epoch": result.diverged_epoch,
        "device": result.device,
        "stack_size": result.stack_size,
        "seconds": result.seconds,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    path = record_path(result.config, result.seed, root)
    write_json_atomic(path, _finite_or_none(payload), separators=(",", ":"))
    return path


def load(config: RunConfig, seed: int, data_checksum: str, root: Path | None = None,
         warn: Callable[[str], None] | None = None) -> dict | None:
    """The stored record of ``(config, seed)`` if it is present, readable and current, else ``None``.

    A record that exists but cannot be used is reported through ``warn`` (default: a line on stderr), never raised.
    """
    path = record_path(config, seed, root)
    if not path.exists():
        return None
    warn = warn or (lambda msg: print(msg, file=sys.stderr))
    try:
        record = json.loads(path.read_text())
        stale = (
            record.get("format") != RECORD_FORMAT or record["config"] != config.to_dict()
            or record["seed"] != seed or not isinstance(record["test_accuracy"], float)
            or not all(len(record["history"][m]) == len(record["history"]["seconds"]) for m in METRICS)
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        warn(f"{path}: unreadable record ({type(exc).__name__}: {exc}); it will be retrained")
        return None
    if stale:
        warn(f"{path}: record does not match its configuration; it will be retrained")
        return None
    if record["code_version"] != TRAINING_CODE_VERSION or record["data_checksum"] != data_checksum:
        return None  # made by other training code or on other data: silently superseded
    return record


@dataclass
class Results:
    """Tidy results of :func:`run`.

    Attributes
    ----------
    runs : DataFrame
        One row per (config, seed): ``key``, ``label``, every RunConfig field, ``seed``, test metrics,
        ``diverged``, the final epoch's train/validation metrics, ``seconds``, ``device``.
    history : DataFrame
        Long form, one row per (run, epoch, metric): ``key``, ``label``, ``seed``, ``epoch``, ``metric``, ``value``.
    records : list of dict
        The raw records, in the order of ``runs`` (they hold e.g. ``test_predictions``).
    """

    runs: pd.DataFrame
    history: pd.DataFrame
    records: list[dict]

    def summary(self) -> pd.DataFrame:
        """:func:`summarize` of :attr:`runs`."""
        return summarize(self.runs)


def _tables(records: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, hist = [], []
    for r in records:
        config = RunConfig.from_dict(r["config"])
        h = r["history"]
        final = {f"final_{m}": (h[m][-1] if h[m] else np.nan) for m in METRICS}
        base = {"key": r["key"], "label": config.label()}
        conf = config.to_dict()
        conf["hidden"] = "-".join(map(str, config.hidden))
        nan = float("nan")
        rows.append({**base, **conf, "seed": r["seed"], "test_accuracy": r["test_accuracy"],
                     "test_loss": nan if r["test_loss"] is None else r["test_loss"], "diverged": r["diverged"],
                     "diverged_epoch": r["diverged_epoch"], **final, "epochs_run": len(h["seconds"]),
                     "seconds": r["seconds"], "device": r["device"]})
        for m in METRICS:
            for epoch, value in enumerate(h[m], start=1):
                hist.append({**base, "seed": r["seed"], "epoch": epoch, "metric": m,
                             "value": nan if value is None else value})
    history = pd.DataFrame(hist, columns=["key", "label", "seed", "epoch", "metric", "value"])
    return pd.DataFrame(rows), history


def run(configs: RunConfig | Iterable[RunConfig], seeds: Sequence[int], *, device: str = "auto",
        progress: bool = True, root: Path | None = None, log: Callable[[str], None] | None = None) -> Results:
    """Results of every (config, seed), training only what the store does not already hold.

    The missing seeds of one configuration are trained together as one stacked network
    (:func:`fcnbook.train.fit`), then each seed is stored as its own record before the next configuration
    starts, so an interrupted study resumes where it stopped.

    Parameters
    ----------
    configs : RunConfig or iterable of RunConfig
    seeds : sequence of int
    device : str
        Passed to :func:`fcnbook.train.fit` for runs that must be trained.
    progress : bool
        tqdm bars while training.
    root : Path, optional
        Store root; default :func:`fcnbook.paths.results_dir`.
    log : callable, optional
        Receives one line per configuration (trained or reused); default silent.
    """
    from .data import load_for  # here, so that `fcnbook --help` does not import torchvision

    configs = [configs] if isinstance(configs, RunConfig) else list(configs)
    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise ValueError(f"seeds must be distinct integers >= 0 (got {seeds!r})")
    log = log or (lambda msg: None)
    records = []
    for config in dict.fromkeys(configs):  # unique, in order
        splits = load_for(config)
        have = {s: load(config, s, splits.checksum, root) for s in seeds}
        missing = [s for s, rec in have.items() if rec is None]
        if missing:
            t0 = time.perf_counter()
            for result in fit(config, missing, data=splits, device=device, progress=progress):
                save(result, splits.checksum, root)
                have[result.seed] = load(config, result.seed, splits.checksum, root)
            log(f"trained {config.label()}: {len(missing)} seed(s) in {time.perf_counter() - t0:.1f} s")
        else:
            log(f"reused {config.label()}: {len(seeds)} seed(s) from the store")
        records.extend(have[s] for s in seeds)
    runs, history = _tables(records)
    return Results(runs=runs, history=history, records=records)


def summarize(runs: pd.DataFrame, value: str = "test_accuracy") -> pd.DataFrame:
    """Mean, SD (ddof=1), n and 95 % t-interval of ``value`` per configuration, in order of first appearance.

    Returns a DataFrame indexed by ``key`` with columns ``label``, ``mean``, ``sd``, ``n``, ``ci_low``,
    ``ci_high``. With one seed the SD and the interval are NaN: there is no spread to measure.
    """
    from scipy import stats

    out = []
    for key, group in runs.groupby("key", sort=False):
        x = group[value].to_numpy(dtype=float)
        n = len(x)
        mean = float(x.mean())
        sd = float(x.std(ddof=1)) if n > 1 else float("nan")
        half = float(stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)) if n > 1 else float("nan")
        out.append({"key": key, "label": group["label"].iloc[0], "mean": mean, "sd": sd, "n": n,
                    "ci_low": mean - half, "ci_high": mean + half})
    return pd.DataFrame(out, columns=["key", "label", "mean", "sd", "n", "ci_low", "ci_high"]).set_index("key")
