"""Counted matrix-multiply FLOPs of training and evaluating fcnbook's fully connected networks.

One function, :func:`matmul_flops`, does the counting; everything else here (an epoch, a whole run) is a sum of
its results. ``benchmarks/bench.py`` (percent of the sgemm peak) and ``benchmarks/book_budget.py`` (the FLOP
bound of the whole book) both use it, and ``tests/test_flops.py`` checks it against
``torch.utils.flop_counter.FlopCounterMode``.

For layer sizes ``d_0, d_1, ..., d_L`` (784 -> ... -> 10) and ``n`` samples, with ``F = sum_l d_{l-1} * d_l``
(the number of weights, biases not counted):

- forward: ``2 n F`` (one multiply and one add per weight and sample),
- backward, weight gradients of every layer: ``2 n F``,
- backward, input gradients of every layer but the first (no one needs d loss / d pixels):
  ``2 n (F - d_0 d_1)``.

Training ``n`` samples therefore costs ``6 n F - 2 n d_0 d_1``; evaluating them ``2 n F``. Elementwise work
(bias, ReLU, batch norm, dropout, softmax, optimizer update) is ignored: it is O(n * sum d_l), not O(n * F).
The count does not depend on the batch size or on how many seeds are stacked (S members cost S times one).
Nothing here imports torch.
"""

from __future__ import annotations

from collections.abc import Sequence

IN_FEATURES = 784
N_CLASSES = 10


def layer_sizes(hidden: Sequence[int], in_features: int = IN_FEATURES, n_classes: int = N_CLASSES) -> list[int]:
    """Layer widths of a network, input and output included.

    Parameters
    ----------
    hidden : sequence of int
        Hidden widths, e.g. ``RunConfig.hidden``.
    in_features, n_classes : int
        Input and output widths (784 pixels, 10 classes for both datasets).

    Returns
    -------
    list of int
        ``[in_features, *hidden, n_classes]``, e.g. ``[784, 500, 50, 10]`` for the baseline.
    """
    return [int(in_features), *(int(h) for h in hidden), int(n_classes)]


def matmul_flops(sizes: Sequence[int], n: int, *, backward: bool = True) -> int:
    """Matmul FLOPs of pushing ``n`` samples through a network with layer ``sizes``.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths including input and output, e.g. ``layer_sizes(config.hidden)``.
    n : int
        Number of samples (all mini-batches of an epoch together).
    backward : bool, default True
        Also count the backward pass: weight gradients of every layer and input gradients of every layer
        except the first. ``False`` gives one evaluation (forward) pass.

    Returns
    -------
    int
        ``6 n F - 2 n d_0 d_1`` with ``backward``, else ``2 n F``.

    Raises
    ------
    ValueError
        If ``sizes`` has fewer than two entries or ``n`` is negative.

    Examples
    --------
    The baseline, 784-500-50-10: training on the 54 000 images of one epoch, then evaluating them, in GFLOP.

    >>> sizes = layer_sizes((500, 50))
    >>> sizes, matmul_flops(sizes, 54_000) / 1e9, matmul_flops(sizes, 54_000, backward=False) / 1e9
    ([784, 500, 50, 10], 92.934, 45.09)
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


def epoch_flops(config, n_train: int, n_val: int = 0, n_probe: int = 0, *, in_features: int = IN_FEATURES,
                n_classes: int = N_CLASSES) -> int:
    """One epoch of :func:`fcnbook.training.fit.fit` for one seed.

    Parameters
    ----------
    config : RunConfig
        Anything with a ``hidden`` attribute.
    n_train : int
        Training samples (one training pass: forward and backward).
    n_val : int, default 0
        Validation samples, evaluated once after the epoch.
    n_probe : int, default 0
        Samples of the fixed training probe (:func:`fcnbook.training.setup.train_probe`) evaluated once after the
        epoch; ``fit`` uses ``min(n_val, n_train)`` since training code version 3.
    in_features, n_classes : int
        Input and output widths.

    Returns
    -------
    int
        Training plus the evaluation passes. ``fit`` times all of them as the epoch (``history["seconds"]``).
    """
    sizes = layer_sizes(config.hidden, in_features, n_classes)
    return matmul_flops(sizes, n_train) + matmul_flops(sizes, n_val + n_probe, backward=False)


def run_flops(config, n_train: int, n_val: int, n_test: int, n_probe: int = 0, *, in_features: int = IN_FEATURES,
              n_classes: int = N_CLASSES) -> int:
    """A whole run of one seed: ``config.epochs`` epochs and the final test pass.

    Parameters
    ----------
    config : RunConfig
        Anything with ``hidden`` and ``epochs`` attributes.
    n_train, n_val, n_test : int
        Sizes of the training, validation and test splits.
    n_probe : int, default 0
        Training-probe samples evaluated per epoch (see :func:`epoch_flops`).
    in_features, n_classes : int
        Input and output widths.

    Returns
    -------
    int
        ``epochs * epoch_flops(...) + matmul_flops(sizes, n_test, backward=False)``. A run that diverges and
        stops early costs less; this is the full count.
    """
    sizes = layer_sizes(config.hidden, in_features, n_classes)
    epoch = epoch_flops(config, n_train, n_val, n_probe, in_features=in_features, n_classes=n_classes)
    return int(config.epochs) * epoch + matmul_flops(sizes, n_test, backward=False)
