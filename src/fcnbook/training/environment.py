"""Where a run was computed: the machine, its libraries and the training process's threads (imports torch)."""

from __future__ import annotations

import functools
import os
import platform
import re

from fcnbook import machine


@functools.cache
def _static() -> dict:
    import numpy as np
    import torch

    mkl = re.search(r"Math Kernel Library Version ([\d.]+)", torch.__config__.show())
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": machine.cpu_model(), "cores": cores, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu_bf16": machine.bf16_flags(),
        "python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
        "mkl": mkl.group(1) if mkl else None, "commit": machine.git_commit(),
    }


def describe(device: str = "cpu") -> dict:
    """The machine a run on ``device`` used: CPU model, cores, library versions, GPU name, git commit."""
    import torch

    info = dict(_static())
    # Read now, not cached: a process may change it (numbers can depend on it, see
    # fcnbook.report.chapters.provenance.verify).
    info["torch_threads"] = torch.get_num_threads()
    info["device"] = str(device)
    if str(device).startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info
