"""Where a result was computed: the machine, its libraries and the code, recorded beside every run record."""

from __future__ import annotations

import functools
import os
import platform
import re
import subprocess
from pathlib import Path


def cpu_model() -> str:
    """The CPU model name as /proc/cpuinfo gives it (else the platform's processor or machine name)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _bf16_flags() -> list[str]:
    """The CPU's bfloat16 features (AMX, AVX-512 BF16) as /proc/cpuinfo lists them."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return sorted(f for f in line.split(":", 1)[1].split() if f in ("amx_bf16", "avx512_bf16"))
    except OSError:
        pass
    return []


def _git_commit() -> str | None:
    from .paths import project_root

    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=project_root(), capture_output=True,
                             text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def cpu() -> dict:
    """The CPU model and the cores this process may use (no torch import)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": cpu_model(), "cores": cores}


@functools.cache
def _static() -> dict:
    import numpy as np
    import torch

    mkl = re.search(r"Math Kernel Library Version ([\d.]+)", torch.__config__.show())
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu_model(), "cores": cores, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu_bf16": _bf16_flags(),
        "python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
        "mkl": mkl.group(1) if mkl else None, "commit": _git_commit(),
    }


def describe(device: str = "cpu") -> dict:
    """The machine a run on ``device`` used: CPU model, cores, library versions, GPU name, git commit."""
    import torch

    info = dict(_static())
    # Read now, not cached: a process may change it (numbers can depend on it, see fcnbook.provenance.verify).
    info["torch_threads"] = torch.get_num_threads()
    info["device"] = str(device)
    if str(device).startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info
