"""Counted matrix-multiply FLOPs of training and evaluating fcnbook's fully connected networks.

One function, :func:`matmul_flops`, does the counting; everything else here (an epoch, a whole run) is a sum
of its results; ``bench.py`` (percent of peak) and ``book_budget.py`` (FLOP-bound of the book) both use it.

For layer sizes ``d_0, d_1, ..., d_L`` (784 -> ... -> 10) and ``n`` samples, with ``F = sum_l d_{l-1} * d_l``:

- forward: ``2 n F`` (one multiply and one add per weight and sample),
- backward, weight gradients of every layer: ``2 n F``,
- backward, input gradients of every layer but the first (no one needs d loss / d pixels):
  ``2 n (F - d_0 d_1)``.

Training ``n`` samples therefore costs ``6 n F - 2 n d_0 d_1``; evaluating them ``2 n F``. Elementwise work
(bias, ReLU, batch norm, dropout, softmax, optimizer update) is ignored: it is O(n * sum d_l), not O(n * F).
The count does not depend on the batch size or on how many seeds are stacked (S members cost S times one).
"""

from __future__ import annotations

from collections.abc import Sequence

IN_FEATURES = 784
N_CLASSES = 10


def layer_sizes(hidden: Sequence[int], in_features: int = IN_FEATURES,
                n_classes: int = N_CLASSES) -> list[int]:
    """``[in_features, *hidden, n_classes]``, e.g. ``[784, 500, 50, 10]`` for the baseline."""
    return [int(in_features), *(int(h) for h in hidden), int(n_classes)]


def matmul_flops(sizes: Sequence[int], n: int, *, backward: bool = True) -> int:
    """Matmul FLOPs of pushing ``n`` samples through a network with layer ``sizes`` (forward, plus backward).

    Parameters
    ----------
    sizes : sequence of int
        Layer widths including input and output, e.g. ``layer_sizes(config.hidden)``.
    n : int
        Number of samples (all mini-batches of an epoch together).
    backward : bool
        Also count the backward pass: weight gradients of every layer and input gradients of every layer
        except the first. ``False`` gives one evaluation (forward) pass.
    """
    pairs = [(int(a), int(b)) for a, b in zip(sizes[:-1], sizes[1:], strict=False)]
    if not pairs or n < 0:
        raise ValueError(f"need at least two layer sizes and n >= 0 (got {list(sizes)!r}, {n!r})")
    weights = sum(a * b for a, b in pairs)
    forward = 2 * n * weights
    if not backward:
        return forward
    weight_grads = 2 * n * weights
    input_grads = 2 * n * (weights - pairs[0][0] * pairs[0][1])
    return forward + weight_grads + input_grads


def epoch_flops(config, n_train: int, n_val: int = 0, *, in_features: int = IN_FEATURES,
                n_classes: int = N_CLASSES) -> int:
    """One epoch of :func:`fcnbook.train.fit` for one seed: train on ``n_train`` samples, evaluate ``n_val``.

    ``config`` is anything with a ``hidden`` attribute (a :class:`fcnbook.config.RunConfig`). The validation
    pass is part of what ``fit`` times as an epoch (``history["seconds"]``), so it is counted here too.
    """
    sizes = layer_sizes(config.hidden, in_features, n_classes)
    return matmul_flops(sizes, n_train) + matmul_flops(sizes, n_val, backward=False)


def run_flops(config, n_train: int, n_val: int, n_test: int, *, in_features: int = IN_FEATURES,
              n_classes: int = N_CLASSES) -> int:
    """A whole run of one seed: ``config.epochs`` epochs (training + validation) and the final test pass."""
    sizes = layer_sizes(config.hidden, in_features, n_classes)
    epoch = epoch_flops(config, n_train, n_val, in_features=in_features, n_classes=n_classes)
    return int(config.epochs) * epoch + matmul_flops(sizes, n_test, backward=False)
