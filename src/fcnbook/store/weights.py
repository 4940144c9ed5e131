"""Stored final weights of runs that serve as teachers (knowledge distillation), in safetensors files.

Layout: ``<results>/weights/<config key>/seed-<seed>.safetensors``, beside ``runs/``. A file holds one member of
the evaluated network (the moving average when the configuration has ``ema``) as ``FCN.state_dict()`` slices of
stack size 1, and in its metadata the configuration key, the seed, the training-code version and the data
checksum. As with run records (:mod:`fcnbook.store.records`), a file is used only when all four match: one made by other
code or on other data is superseded silently, an unreadable one is reported in one line and retrained.

Only teachers are kept: a run's record is a few hundred kilobytes of JSON, its weights up to tens of megabytes.
safetensors (not ``torch.save``) because the files are data, loaded without unpickling anything.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from fcnbook.config import RunConfig
from fcnbook.paths import results_dir
from fcnbook.store.cache import CacheWarning


def path(config: RunConfig, seed: int, root: Path | None = None) -> Path:
    """Where the weights of ``(config, seed)`` live."""
    return Path(root or results_dir()) / "weights" / config.key() / f"seed-{int(seed)}.safetensors"


def _metadata(config: RunConfig, seed: int, data_checksum: str, code_version: int) -> dict[str, str]:
    return {"key": config.key(), "seed": str(int(seed)), "code_version": str(int(code_version)),
            "data_checksum": data_checksum}


def save(state: dict[str, torch.Tensor], config: RunConfig, seed: int, data_checksum: str, code_version: int,
         root: Path | None = None) -> Path:
    """Write one member's ``state`` (tensors of stack size 1) atomically; return the file's path."""
    from safetensors.torch import save as to_bytes

    target = path(config, seed, root)
    bad = [k for k, v in state.items() if not isinstance(v, torch.Tensor) or v.shape[:1] != (1,)]
    if bad:
        raise ValueError(f"state must hold tensors of one member (leading size 1); not so: {', '.join(bad)}")
    blob = to_bytes({k: v.detach().to("cpu").contiguous() for k, v in state.items()},
                    metadata=_metadata(config, seed, data_checksum, code_version))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".safetensors")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def load(config: RunConfig, seeds: Sequence[int], data_checksum: str, code_version: int, root: Path | None = None,
         warn: Callable[[str], None] | None = None) -> dict[str, torch.Tensor] | None:
    """The stacked state (stack size ``len(seeds)``, in that order) of ``config``'s stored members, or ``None``
    when any of them is missing, unreadable (reported) or made by other code or on other data."""
    from safetensors import safe_open

    members = []
    for seed in seeds:
        file = path(config, seed, root)
        if not file.exists():
            return None
        try:
            with safe_open(str(file), framework="pt") as f:
                meta = f.metadata() or {}
                members.append({k: f.get_tensor(k) for k in f.keys()})  # noqa: SIM118 (safe_open is no dict)
        except Exception as exc:  # safetensors raises its own SafetensorError, OSError, ValueError
            (warn or _warn)(f"{file}: unreadable weights ({type(exc).__name__}: {str(exc)[:120]}); retrained")
            return None
        if meta.get("key") != config.key() or meta.get("seed") != str(int(seed)):
            (warn or _warn)(f"{file}: weights made for another configuration or seed; retrained")
            return None
        if meta != _metadata(config, seed, data_checksum, code_version):
            return None  # other code or other data: superseded
    if len({tuple(sorted(m)) for m in members}) != 1:
        return None
    return {k: torch.cat([m[k] for m in members]) for k in members[0]}


def _warn(message: str) -> None:
    warnings.warn(message, CacheWarning, stacklevel=3)
