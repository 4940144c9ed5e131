"""Results as tables and statistics: tidy frames from run records, and summaries with honest intervals.

Imports neither torch nor the trainer, so figures and tables can be made from a store without loading either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fcnbook.config import RunConfig
from fcnbook.stats.intervals import t_interval
from fcnbook.stats.paired import paired_t
from fcnbook.store.records import METRICS


@dataclass
class Results:
    """Tidy results of :func:`fcnbook.store.runner.run`.

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
        """Tidy frames of ``records`` (as :func:`fcnbook.store.records.load` returns them)."""
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
    ``ci_high`` (:func:`fcnbook.stats.intervals.t_interval` of each configuration's seeds). With one seed the SD
    and the interval are NaN: there is no spread to measure. The interval is for the mean over seeds; it does not
    include the test set's own sampling error (see the methods page).
    """
    out = [{"key": key, "label": group["label"].iloc[0], **t_interval(group[value].to_numpy(dtype=float))}
           for key, group in runs.groupby("key", sort=False)]
    return pd.DataFrame(out, columns=["key", "label", "mean", "sd", "n", "ci_low", "ci_high"]).set_index("key")


# ------------------------------------------------------------------------------------ effects against a baseline

def _key(config) -> str:
    return config if isinstance(config, str) else config.key()


def display_names(configs) -> dict[str, str]:
    """Config key -> display name of a section's declaration (:mod:`fcnbook.report.experiments`).

    String names are kept; ``(optimizer, lr)`` pairs read ``sgd lr=0.1``; a float (a dropout rate) reads
    ``dropout 0.1`` (``no dropout`` for 0). A list of configs is named by :meth:`RunConfig.label`.
    """
    if not isinstance(configs, dict):
        return {c.key(): c.label() for c in configs}

    def name(k):
        if isinstance(k, tuple):
            return f"{k[0]} lr={k[1]:g}"
        if isinstance(k, float):
            return f"dropout {k:g}" if k else "no dropout"
        return str(k)

    return {c.key(): name(k) for k, c in configs.items()}


def paired_differences(runs: pd.DataFrame, baseline_key, keys, value: str = "test_accuracy") -> pd.DataFrame:
    """Per-seed differences ``config - baseline`` of ``value``, matched by seed, with a paired t interval.

    Runs of the same seed share their mini-batch order and dropout masks, and their initial weights too when the
    architecture and initialiser match, so a configuration is compared with the baseline seed by seed: the
    differences ``d_i`` of the seeds present in both are summarised by :func:`fcnbook.stats.paired.paired_t`
    (mean, SD, ``n``, 95 % t interval and the paired t-test's p-value, the same numbers as
    :func:`scipy.stats.ttest_rel`). With one seed, or differences without spread, SD/interval/p are NaN where
    undefined. Like :func:`summarize`, the interval covers seed-to-seed variation only, not the test set's own
    sampling error.

    Parameters
    ----------
    runs : DataFrame
        :attr:`Results.runs` (``key``, ``label``, ``seed`` and ``value``).
    baseline_key : str or RunConfig
    keys : iterable of str or RunConfig
    value : str
        A column of ``runs``; e.g. ``test_accuracy`` or a gap column added by the caller.

    Returns
    -------
    DataFrame indexed by key, in the order of ``keys``: ``label``, ``mean``, ``sd``, ``n``, ``ci_low``,
    ``ci_high``, ``p``.
    """

    def by_seed(key):
        return runs.loc[runs["key"] == key].set_index("seed")[value].astype(float)

    base = by_seed(_key(baseline_key))
    out = []
    for key in map(_key, keys):
        other = by_seed(key)
        seeds = [s for s in other.index if s in base.index]
        label = runs.loc[runs["key"] == key, "label"]
        out.append({"key": key, "label": label.iloc[0] if len(label) else key,
                    **paired_t((other.loc[seeds] - base.loc[seeds]).to_numpy())})
    return pd.DataFrame(out, columns=["key", "label", "mean", "sd", "n", "ci_low", "ci_high", "p"]).set_index("key")


def divergence(runs: pd.DataFrame) -> pd.DataFrame:
    """Per configuration key: seeds ``n``, ``diverged`` runs, their ``epochs`` and a short ``note``.

    The note says over how many seeds a learning curve's mean is taken: ``n=5`` when none diverged, else e.g.
    ``n=3 of 5, 2 diverged at epoch 2`` (a diverged run's history stops before the epoch it diverged in).
    """
    out = []
    for key, g in runs.groupby("key", sort=False):
        n = len(g)
        epochs = sorted(int(e) for e in g.loc[g["diverged"].astype(bool), "diverged_epoch"])
        k = len(epochs)
        where = ", ".join(map(str, dict.fromkeys(epochs)))
        note = f"n={n}" if not k else (f"n={n - k} of {n}, {k} diverged at epoch{'s' if ',' in where else ''} "
                                        f"{where}")
        out.append({"key": key, "n": n, "diverged": k, "epochs": epochs, "note": note})
    return pd.DataFrame(out, columns=["key", "n", "diverged", "epochs", "note"]).set_index("key")


def welch_difference(a, b) -> dict:
    """Difference of means ``mean(a) - mean(b)`` of two unpaired samples with Welch's 95 % t interval.

    For runs that share no random draws (different architectures); returns ``mean``, ``ci_low``, ``ci_high``
    and ``p`` (the numbers of :func:`scipy.stats.ttest_ind` with ``equal_var=False``), NaN where undefined.
    """
    from scipy import stats

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    mean = float(a.mean() - b.mean())
    if len(a) < 2 or len(b) < 2:
        return {"mean": mean, "ci_low": float("nan"), "ci_high": float("nan"), "p": float("nan")}
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return {"mean": mean, "ci_low": mean, "ci_high": mean, "p": float("nan")}
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = float(stats.t.ppf(0.975, df) * se)
    return {"mean": mean, "ci_low": mean - half, "ci_high": mean + half, "p": float(2 * stats.t.sf(abs(mean) / se, df))}


class MissingRuns(LookupError):
    """The store lacks records that were asked for, and nothing here trains them."""


def stored_records(configs: list[RunConfig], seeds: list[int], root=None, need_test: bool = True) -> list[dict]:
    """The stored records of ``configs`` x ``seeds``, in order, without torch; :class:`MissingRuns` (naming what is
    missing and how to make it) when a record is absent, unusable or of another training-code version. Without
    ``need_test`` a record trained without the test set (a study's, a selection's) counts too."""
    from fcnbook.data.indices import checksum_for
    from fcnbook.store.records import load
    from fcnbook.version import TRAINING_CODE_VERSION

    records, missing = [], []
    for config in dict.fromkeys(configs):
        checksum = checksum_for(config)
        for seed in seeds:
            record = load(config, seed, checksum, TRAINING_CODE_VERSION, root, need_test=need_test)
            (records.append(record) if record is not None else missing.append(f"{config.label()} seed {seed}"))
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise MissingRuns(f"the store lacks {', '.join(missing[:3])}{more}; train them with `fcnbook train` or run "
                          "the section with `fcnbook section NAME` (it trains what is missing)")
    return records


def stored_results(configs: list[RunConfig], seeds: list[int], root=None) -> Results:
    """:class:`Results` of ``configs`` x ``seeds`` read from the store (:func:`stored_records`)."""
    return Results.from_records(stored_records(configs, seeds, root))
