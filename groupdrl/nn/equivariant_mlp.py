"""A multilayer perceptron equivariant between any groupdrl representations."""
from __future__ import annotations

import torch
from torch import nn

from groupdrl.groups import Representation
from groupdrl.nn.equivariant_linear import EquivariantLinear
from groupdrl.nn.norm_nonlinearity import NormNonlinearity


class EquivariantMLP(nn.Module):
    """``EquivariantLinear`` layers with a :class:`NormNonlinearity` after every hidden one.

    ``EquivariantMLP(rho_0, rho_1, …, rho_L)`` maps ``rho_0`` to ``rho_L`` through the
    hidden representations ``rho_1 … rho_{L−1}`` (which must be orthogonal); the
    composition of equivariant maps is equivariant.

    Parameters
    ----------
    *reps : Representation
        At least two representations of the same group.
    bias : bool
        Whether the linear layers have equivariant biases.

    Examples
    --------
    >>> from groupdrl.groups import Cyclic
    >>> G = Cyclic(6)
    >>> mlp = EquivariantMLP(G.representation("irrep:1"), G.representation("regular"), G.representation("irrep:1"))
    >>> mlp(torch.ones(3, 2)).shape
    torch.Size([3, 2])
    """

    def __init__(self, *reps: Representation, bias: bool = True) -> None:
        super().__init__()
        if len(reps) < 2:
            raise ValueError(f"reps: expected at least two representations (input and output), got {len(reps)}")
        layers: list[nn.Module] = []
        for i in range(len(reps) - 1):
            if i:
                layers.append(NormNonlinearity(reps[i]))
            layers.append(EquivariantLinear(reps[i], reps[i + 1], bias=bias))
        self.rep_in, self.rep_out = reps[0], reps[-1]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``x`` of shape ``(..., rep_in.dim)`` to ``(..., rep_out.dim)``."""
        return self.net(x)
