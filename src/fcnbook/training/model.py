"""The fully connected network, as a stack of independent members (one per seed).

Per hidden layer: Linear -> [BatchNorm1d] -> ReLU -> [Dropout]; then a Linear output layer (the logits).

Every run of the report is repeated over seeds, and one small network cannot keep two CPU cores busy, so the
S seeds of one configuration are trained *together*: each weight has shape ``(S, fan_in, fan_out)`` and a layer
is one stacked matmul (:func:`fcnbook.training.kernels.stacked_linear`, equal to ``torch.baddbmm``). Nothing is shared
between members: member ``s`` has its own initial weights, its own batch-norm statistics and its own dropout
masks, so it computes exactly what a lone network with seed ``s`` computes. ``S = 1`` is the ordinary single
network; there is no second implementation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from fcnbook.config import RunConfig
from fcnbook.training.kernels import DropoutMasks, stacked_linear

BN_EPS = 1e-5  # nn.BatchNorm1d's defaults, so that S = 1 matches PyTorch's own module
BN_MOMENTUM = 0.1


def _init_layer(weight: torch.Tensor, bias: torch.Tensor | None, config: RunConfig, g: torch.Generator) -> None:
    """Initialise one member's ``weight`` of shape (out, in) and ``bias`` of shape (out,) (if any) in place.

    ``default`` reproduces ``nn.Linear.reset_parameters`` draw for draw (Kaiming uniform with a=sqrt(5), i.e.
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and a bias from the same interval). Every other scheme sets the weights
    as named and the biases to zero, the usual convention when an initialiser is chosen explicitly, or, with
    ``config.default_bias``, draws the biases from that default interval after the weights.
    """
    fan_in = weight.shape[1]
    init = config.init
    if init == "default":
        nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=g)
        if bias is not None:
            bound = 1 / math.sqrt(fan_in)
            nn.init.uniform_(bias, -bound, bound, generator=g)
        return
    if init == "normal":
        nn.init.normal_(weight, 0.0, config.init_std, generator=g)
    elif init == "xavier_normal":
        nn.init.xavier_normal_(weight, generator=g)
    elif init == "kaiming_uniform":
        nn.init.kaiming_uniform_(weight, nonlinearity="relu", generator=g)
    elif init == "kaiming_normal":
        nn.init.kaiming_normal_(weight, nonlinearity="relu", generator=g)
    else:  # RunConfig validates init; this guards against a new name added there but not here
        raise ValueError(f"init {init!r} is not implemented")
    if bias is None:
        return
    if config.default_bias:  # the report's code: weights re-drawn, biases left at nn.Linear's default draw
        bound = 1 / math.sqrt(fan_in)
        nn.init.uniform_(bias, -bound, bound, generator=g)
    else:
        nn.init.zeros_(bias)


class FCN(nn.Module):
    """S independent fully connected networks evaluated with batched matmuls.

    Parameters
    ----------
    config : RunConfig
        Hidden sizes, dropout, batch norm and initialisation are taken from it.
    init_seeds : sequence of int
        One seed per member; member ``s`` draws its initial weights from ``torch.Generator().manual_seed(
        init_seeds[s])``, layer by layer (weight, then bias), in the order ``nn.Linear`` would.
    in_features, n_classes : int
        784 pixels in, 10 classes out.

    Notes
    -----
    ``weights[i]`` has shape (S, fan_in, fan_out) (the transpose of ``nn.Linear.weight`` per member) and
    each bias (S, 1, fan_out); with batch norm the hidden Linears have no bias (``has_bias``). Batch norm keeps
    per-member ``bn_weight``/``bn_bias`` parameters and
    ``running_mean``/``running_var`` buffers of shape (S, width), with ``nn.BatchNorm1d``'s eps and momentum.
    Dropout masks come from the per-member :class:`~fcnbook.training.kernels.DropoutMasks` passed to :meth:`forward`.
    """

    def __init__(self, config: RunConfig, init_seeds: Sequence[int], in_features: int = 784, n_classes: int = 10):
        super().__init__()
        self.config = config
        self.size = len(init_seeds)
        if self.size < 1:
            raise ValueError("init_seeds must name at least one seed")
        sizes = [in_features, *config.hidden, n_classes]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        layers = list(zip(sizes[:-1], sizes[1:], strict=True))
        # A Linear followed by batch norm gets no bias: the normalisation subtracts it again, so its gradient is
        # pure rounding noise, which adaptive optimizers (RMSProp, Adam) would blow up into lr-sized steps.
        self.has_bias = [not (config.batch_norm and i < len(layers) - 1) for i in range(len(layers))]
        stacked_w = [torch.empty(self.size, fi, fo) for fi, fo in layers]
        stacked_b = [torch.empty(self.size, 1, fo) for _, fo in layers]
        for s, seed in enumerate(init_seeds):
            g = torch.Generator().manual_seed(int(seed))
            for i, ((fi, fo), w, b) in enumerate(zip(layers, stacked_w, stacked_b, strict=True)):
                weight, bias = torch.empty(fo, fi), torch.empty(fo)
                _init_layer(weight, bias if self.has_bias[i] else None, config, g)
                w[s].copy_(weight.T)
                b[s, 0].copy_(bias if self.has_bias[i] else 0.0)
        for i, (w, b) in enumerate(zip(stacked_w, stacked_b, strict=True)):
            self.weights.append(nn.Parameter(w))
            if self.has_bias[i]:
                self.biases.append(nn.Parameter(b))
        self.bn_weight = nn.ParameterList()
        self.bn_bias = nn.ParameterList()
        if config.batch_norm:
            for i, width in enumerate(config.hidden):
                self.bn_weight.append(nn.Parameter(torch.ones(self.size, width)))
                self.bn_bias.append(nn.Parameter(torch.zeros(self.size, width)))
                self.register_buffer(f"running_mean_{i}", torch.zeros(self.size, width))
                self.register_buffer(f"running_var_{i}", torch.ones(self.size, width))

    def _batch_norm(self, h: torch.Tensor, i: int) -> torch.Tensor:
        """Per-member BatchNorm1d over the batch dimension of ``h`` (S, B, C)."""
        running_mean = getattr(self, f"running_mean_{i}")
        running_var = getattr(self, f"running_var_{i}")
        if self.training:
            mean = h.mean(1)
            var = h.var(1, unbiased=False)
            with torch.no_grad():  # running statistics use the unbiased variance, as nn.BatchNorm1d does
                n = h.shape[1]
                running_mean.lerp_(mean, BN_MOMENTUM)
                running_var.lerp_(var * (n / (n - 1)), BN_MOMENTUM)
        else:
            mean, var = running_mean, running_var
        scale = self.bn_weight[i] * torch.rsqrt(var + BN_EPS)
        return (h - mean.unsqueeze(1)) * scale.unsqueeze(1) + self.bn_bias[i].unsqueeze(1)

    def forward(self, x: torch.Tensor, dropout_masks: DropoutMasks | None = None) -> torch.Tensor:
        """Logits of every member.

        Parameters
        ----------
        x : Tensor
            (S, B, in_features), member ``s`` reading ``x[s]``; or (B, in_features), shared by all members.
        dropout_masks : DropoutMasks, optional
            One stream per member; needed in training mode when the config has dropout.

        Returns
        -------
        Tensor of shape (S, B, n_classes).
        """
        if x.dim() == 2:
            x = x.expand(self.size, *x.shape)
        p = self.config.dropout
        if p and self.training and (dropout_masks is None or len(dropout_masks) != self.size):
            raise ValueError("dropout_masks must hold one stream per member in training mode")
        # precision="bf16": the matrix products (and the activations between them) in bfloat16, cast from the fp32
        # master weights inside the autograd graph so that gradients arrive in fp32; batch norm and the logits
        # handed to the loss stay fp32. (Explicit casts rather than torch.autocast: autocast does not reach into
        # the custom StackedLinear, and explicit casts do the same on every device.)
        low = torch.bfloat16 if self.config.precision == "bf16" else None
        last = len(self.weights) - 1
        biases = iter(self.biases)
        for i, w in enumerate(self.weights):
            b = next(biases) if self.has_bias[i] else None
            if low is not None:
                x, w, b = x.to(low), w.to(low), (b.to(low) if b is not None else None)
            x = stacked_linear(x, w, b)
            if i == last:
                break
            if self.config.batch_norm:
                x = self._batch_norm(x.float() if low is not None else x, i)
            x = torch.relu_(x)  # in place: the matmul/batch-norm output is not needed again, saves a pass
            if p and self.training:
                x = x * dropout_masks(x.shape[1:], p, dtype=x.dtype, device=x.device)
        return x.float() if low is not None else x

    def member(self, s: int) -> nn.Sequential:
        """Member ``s`` as an ordinary ``nn.Sequential`` in eval mode (for inspection and oracle tests)."""
        layers: list[nn.Module] = []
        n = len(self.weights)
        biases = iter(self.biases)
        for i in range(n):
            w = self.weights[i][s]
            lin = nn.Linear(w.shape[0], w.shape[1], bias=self.has_bias[i])
            with torch.no_grad():
                lin.weight.copy_(w.T)
                if self.has_bias[i]:
                    lin.bias.copy_(next(biases)[s, 0])
            layers.append(lin)
            if i == n - 1:
                break
            if self.config.batch_norm:
                bn = nn.BatchNorm1d(w.shape[1], eps=BN_EPS, momentum=BN_MOMENTUM)
                with torch.no_grad():
                    bn.weight.copy_(self.bn_weight[i][s])
                    bn.bias.copy_(self.bn_bias[i][s])
                    bn.running_mean.copy_(getattr(self, f"running_mean_{i}")[s])
                    bn.running_var.copy_(getattr(self, f"running_var_{i}")[s])
                layers.append(bn)
            layers.append(nn.ReLU())
            if self.config.dropout:
                layers.append(nn.Dropout(self.config.dropout))
        return nn.Sequential(*layers).eval()
