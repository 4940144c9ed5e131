"""Which arithmetic a device does fast: the check behind ``precision="bf16"``.

bfloat16 matrix products pay off only where the hardware has them: Intel AMX or AVX512-BF16 on a CPU (oneDNN
uses them through ``torch.mm``), compute capability 8.0 or newer on an NVIDIA GPU. Elsewhere bf16 is emulated
and slower than fp32, so asking for it is refused in one line unless forced.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")


def cpu_flags() -> set[str]:
    """The CPU feature flags Linux reports (``/proc/cpuinfo``); empty where that file does not exist."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def bf16_support(device: torch.device | str) -> tuple[bool, str]:
    """Whether ``device`` has fast bf16 matrix products, and what was detected (one phrase)."""
    device = torch.device(device)
    if device.type == "cuda":
        major, minor = torch.cuda.get_device_capability(device)
        return major >= 8, f"CUDA compute capability {major}.{minor} (bf16 tensor cores need 8.0 or newer)"
    found = [f for f in BF16_CPU_FLAGS if f in cpu_flags()]
    capability = torch.backends.cpu.get_cpu_capability()
    if found:
        return True, f"CPU with {', '.join(found)} (PyTorch kernels: {capability})"
    return False, f"CPU without AMX-BF16 or AVX512-BF16 (PyTorch kernels: {capability})"


def check(precision: str, device: torch.device | str, force: bool = False) -> None:
    """Raise ``ValueError`` (one line) when ``precision`` is bf16 and ``device`` lacks fast bf16, unless ``force``."""
    if precision != "bf16" or force:
        return
    fast, found = bf16_support(device)
    if not fast:
        raise ValueError(f"precision bf16 needs fast bf16 hardware, found {found}; use precision fp32, or force "
                         "bf16 (--force-precision, or FCNBOOK_FORCE_PRECISION=1 for sections) to train emulated "
                         "and slowly")


def sgemm_gflops(n: int = 4096, repeats: int = 3) -> float:
    """The best of ``repeats`` timed ``torch.mm`` of two random n x n float32 matrices, in GFLOP/s (2 n^3 each)."""
    import torch

    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g)
    torch.mm(a, b)  # warm-up: MKL's buffers and threads
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9
