"""The runner: results of every (configuration, seed) asked for, training only what the store lacks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from . import store
from .config import RunConfig, check_seeds
from .results import Results
from .train import TRAINING_CODE_VERSION, fit


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
        Results root; default :func:`fcnbook.paths.results_dir`.
    log : callable, optional
        Receives one line per configuration (trained or reused); default silent.
    """
    from .data import load_for  # here, so that importing the runner does not read any data

    configs = [configs] if isinstance(configs, RunConfig) else list(configs)
    seeds = check_seeds(list(seeds))
    log = log or (lambda msg: None)
    records = []
    for config in dict.fromkeys(configs):  # unique, in order
        splits = load_for(config)
        have = {s: store.load(config, s, splits.checksum, TRAINING_CODE_VERSION, root) for s in seeds}
        missing = [s for s, rec in have.items() if rec is None]
        if missing:
            t0 = time.perf_counter()
            for result in fit(config, missing, data=splits, device=device, progress=progress):
                store.save(result, splits.checksum, root)
                have[result.seed] = store.load(config, result.seed, splits.checksum, TRAINING_CODE_VERSION, root)
            log(f"trained {config.label()}: {len(missing)} seed(s) in {time.perf_counter() - t0:.1f} s")
        else:
            log(f"reused {config.label()}: {len(seeds)} seed(s) from the store")
        records.extend(have[s] for s in seeds)
    return Results.from_records(records)
