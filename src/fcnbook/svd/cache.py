"""The SVD chapter's cache: one JSON file per result, so that rebuilding the book never refits.

Files live under ``<results>/svd/`` (:func:`fcnbook.paths.results_dir`), named by a hash of everything the result
depends on (dataset, data checksum, model and its parameters (:func:`describe_estimator`), training-set size,
:data:`CODE_VERSION` and the scikit-learn version), and store that key in full. A file is reused only if its stored
key equals the requested one; an unreadable or mismatched file is reported with a
:class:`fcnbook.io.CacheWarning` and recomputed. Files are written atomically (temporary file, then
``os.replace``), under :mod:`fcnbook.store.cache`'s rules and locks. Timings in the cache are those of the run that
made it.

Every computation runs with single-threaded BLAS and OpenMP (:data:`THREADS`). On two cores shared with other
work, multi-threaded OpenBLAS was measured to make these small decompositions over ten times slower (a rank-60
fit on 3000 images: 22.6 s with two threads, 1.4 s with one), and scikit-learn's SVC is single-threaded anyway,
so one thread also keeps the timings comparable between methods.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from fcnbook.paths import results_dir
from fcnbook.store import cache

__all__ = ["CODE_VERSION", "THREADS", "cache_dir", "cached", "describe_estimator"]

#: Bump when a change in :mod:`fcnbook.svd` (the studies, the predictions, the classifier, the pipelines) alters
#: any cached result; older files are then recomputed.
CODE_VERSION = 2  # 2: predictions in PREDICT_WORKERS threads (same predictions, shorter wall-clock times)
#: BLAS/OpenMP threads for every cached computation (see the module docstring).
THREADS = 1


def cache_dir(root: Path | None = None) -> Path:
    """Folder of this module's cache: ``<root>/svd`` with ``root`` defaulting to :func:`results_dir`."""
    return Path(root or results_dir()) / "svd"


def cached(kind: str, key: dict, compute: Callable[[], dict], *, root: Path | None = None) -> dict:
    """The result of ``compute()`` for ``key``, from the cache when a current copy is there.

    Parameters
    ----------
    kind : str
        Short name of the computation (file name prefix), e.g. ``"rank"``.
    key : dict
        Everything the result depends on (JSON-serialisable). :data:`CODE_VERSION` and the scikit-learn
        version are added.
    compute : callable
        Returns the result as a JSON-serialisable dict of finite numbers, strings and lists.
    root : Path, optional
        Results root; default :func:`fcnbook.paths.results_dir`.

    Returns
    -------
    dict
        The result, plus ``"cached"``: True when it was read from disk.
    """
    import sklearn

    full_key = cache.jsonable({"kind": kind, "code_version": CODE_VERSION, "sklearn": sklearn.__version__, **key})
    path = cache_dir(root) / f"{kind}-{cache.digest(full_key)}.json"

    def check(entry: dict) -> None:
        if not isinstance(entry.get("result"), dict):
            raise ValueError("no result in the file")

    entry = cache.read(path, identity={"key": full_key}, check=check)
    if entry is not None:
        return {**entry["result"], "cached": True}
    from threadpoolctl import threadpool_limits

    # One process computes an entry; another asking for it meanwhile waits, then reads it.
    with cache.lock(Path(root or results_dir()), f"svd-{path.stem}"):
        entry = cache.read(path, identity={"key": full_key}, check=check, warn=lambda msg: None)  # told above
        if entry is not None:
            return {**entry["result"], "cached": True}
        with threadpool_limits(limits=THREADS):
            result = cache.jsonable(compute())
        cache.write(path, {"key": full_key, "result": result, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
                    indent=1, sort_keys=True)
    return {**result, "cached": False}


def _plain(value):
    """A JSON-friendly stand-in for an estimator parameter value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "get_params"):
        return describe_estimator(value)
    return repr(value)


def describe_estimator(est) -> dict:
    """Class name and every parameter of ``est`` (each step of a Pipeline in turn), for cache keys."""
    from sklearn.pipeline import Pipeline

    if isinstance(est, Pipeline):
        return {"class": "Pipeline", "steps": [[name, describe_estimator(step)] for name, step in est.steps]}
    params = est.get_params(deep=False)
    return {"class": type(est).__qualname__, "params": {k: _plain(params[k]) for k in sorted(params)}}
