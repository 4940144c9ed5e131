"""A small learnable classification task in the shape of the real data, and an interrupt after a chosen epoch
(for fast trainer, store and fault tests)."""

import torch

from fcnbook.data.splits import Splits


def make_splits(n_train=1200, n_val=300, n_test=300, dim=784, classes=10, seed=0, noise=1.0) -> Splits:
    """Gaussian class clusters: learnable to high accuracy in a few epochs, but not instantly."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, dim, generator=g) * 0.3

    def part(n):
        y = torch.arange(n) % classes
        x = centres[y] + noise * torch.randn(n, dim, generator=g)
        return x, y

    return Splits(*part(n_train), *part(n_val), *part(n_test), mean=0.0, std=1.0,
                  classes=tuple(str(i) for i in range(classes)), checksum=f"synthetic-{seed}", dataset="fashion")


def stop_after_checkpoint(monkeypatch, epoch: int, exc: type[BaseException] = KeyboardInterrupt) -> None:
    """Make ``fit`` raise ``exc`` right after writing the checkpoint of ``epoch`` (a kill at that moment)."""
    from fcnbook.training import checkpoint

    real = checkpoint.save

    def save_then_stop(path, state, **kw):
        out = real(path, state, **kw)
        if state["epoch"] == epoch:
            raise exc
        return out

    monkeypatch.setattr(checkpoint, "save", save_then_stop)
