"""Plain multilayer perceptrons: encoder and decoder for vector-valued worlds."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from groupdrl.nn._checks import check_batch, positive_int, positive_ints
from groupdrl.nn.init import relu_init_


class MLP(nn.Module):
    """Fully connected network ``(n, in_dim) -> (n, out_dim)`` with ReLU between layers.

    ``in_dim -> hidden[0] -> ... -> hidden[-1] -> out_dim``; no activation after
    the last layer (a decoder's output is logits / means).

    Parameters
    ----------
    in_dim : int
        Input width.
    hidden : int or sequence of int
        Hidden widths; an int means one hidden layer, ``()`` a single linear map.
    out_dim : int
        Output width.
    out_bias : bool
        Whether the last layer has a bias.
    batch_norm : bool
        Batch normalisation before every ReLU (as :class:`~groupdrl.nn.ConvDecoder`'s option).
    """

    def __init__(self, in_dim: int, hidden: int | Sequence[int], out_dim: int, *, out_bias: bool = True,
                 batch_norm: bool = False) -> None:
        super().__init__()
        self.in_dim = positive_int(in_dim, "in_dim")
        self.out_dim = positive_int(out_dim, "out_dim")
        self.hidden = positive_ints(hidden, "hidden")
        widths = (self.in_dim, *self.hidden, self.out_dim)
        layers: list[nn.Module] = []
        for i in range(len(widths) - 1):
            last = i == len(widths) - 2
            layers.append(nn.Linear(widths[i], widths[i + 1], bias=out_bias or not last))
            if not last:
                layers += [nn.BatchNorm1d(widths[i + 1])] if batch_norm else []
                layers.append(nn.ReLU())
        self.net = relu_init_(nn.Sequential(*layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``x`` of shape ``(n, in_dim)`` to ``(n, out_dim)``."""
        check_batch(x, "x", (self.in_dim,), "(n, in_dim)")
        return self.net(x)


class MLPEncoder(MLP):
    """Encoder for vector observations: an :class:`MLP` from ``in_dim`` observation features to ``out_dim``."""


class MLPDecoder(MLP):
    """Decoder for vector observations: an :class:`MLP` from ``in_dim`` latent dims to ``out_dim`` outputs."""
