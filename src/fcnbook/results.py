"""Results as tables and statistics: tidy frames from run records, and summaries with honest intervals.

Imports neither torch nor the trainer, so figures and tables can be made from a store without loading either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import RunConfig
from .store import METRICS


@dataclass
class Results:
    """Tidy results of :func:`fcnbook.runner.run`.

    Attributes
    ----------
    runs : DataFrame
        One row per (config, seed): ``key``, ``label``, every RunConfig field, ``seed``, test metrics,
        ``diverged``, ``diverged_epoch``, the final epoch's metrics (``final_<metric>``), ``epochs_run``,
        ``seconds``, ``device``.
    history : DataFrame
        Long form, one row per (run, epoch, metric): ``key``, ``label``, ``seed``, ``epoch``, ``metric``, ``value``.
    records : list of dict
        The raw records, in the order of ``runs`` (they hold e.g. ``test_predictions``).
    """

    runs: pd.DataFrame
    history: pd.DataFrame
    records: list[dict]

    @classmethod
    def from_records(cls, records: list[dict]) -> Results:
        """Tidy frames of ``records`` (as :func:`fcnbook.store.load` returns them)."""
        return cls(*tables(records), records=list(records))

    def summary(self) -> pd.DataFrame:
        """:func:`summarize` of :attr:`runs`."""
        return summarize(self.runs)

    def predictions(self, config: RunConfig) -> np.ndarray:
        """Test predictions of ``config``'s runs, shape (seeds, test images), in the order of :attr:`records`."""
        key = config.key()
        return np.array([r["test_predictions"] for r in self.records if r["key"] == key])


def tables(records: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(runs, history)`` frames of ``records``; see :class:`Results`."""
    rows, hist = [], []
    nan = float("nan")
    for r in records:
        config = RunConfig.from_dict(r["config"])
        h = r["history"]
        final = {f"final_{m}": (h[m][-1] if h.get(m) and h[m][-1] is not None else nan) for m in METRICS}
        base = {"key": r["key"], "label": config.label()}
        conf = config.to_dict()
        conf["hidden"] = "-".join(map(str, config.hidden))
        rows.append({**base, **conf, "seed": r["seed"], "test_accuracy": r["test_accuracy"],
                     "test_loss": nan if r["test_loss"] is None else r["test_loss"], "diverged": r["diverged"],
                     "diverged_epoch": r["diverged_epoch"], **final, "epochs_run": len(h["seconds"]),
                     "seconds": r["seconds"], "device": r["device"]})
        for m in METRICS:
            for epoch, value in enumerate(h.get(m, []), start=1):
                hist.append({**base, "seed": r["seed"], "epoch": epoch, "metric": m,
                             "value": nan if value is None else value})
    history = pd.DataFrame(hist, columns=["key", "label", "seed", "epoch", "metric", "value"])
    return pd.DataFrame(rows), history


def summarize(runs: pd.DataFrame, value: str = "test_accuracy") -> pd.DataFrame:
    """Mean, SD (ddof=1), n and 95 % t-interval of ``value`` per configuration, in order of first appearance.

    Returns a DataFrame indexed by ``key`` with columns ``label``, ``mean``, ``sd``, ``n``, ``ci_low``,
    ``ci_high``. With one seed the SD and the interval are NaN: there is no spread to measure. The interval
    is for the mean over seeds; it does not include the test set's own sampling error (see the methods page).
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
