"""A small learnable classification task in the shape of the real data (for fast trainer and store tests)."""

import torch

from fcnbook.data import Splits


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
