"""Apply a representation ``rho(g)`` to a batch of latent vectors."""
from __future__ import annotations

import torch
from torch import nn

from groupdrl.groups import Representation
from groupdrl.nn.learned_rep import LearnedRepresentation


class GroupAction(nn.Module):
    """``z -> rho(g) z`` for a batch of elements ``g`` and latents ``z`` of shape ``(n, d)``.

    Differentiable in ``z`` and, when ``rep`` is a :class:`LearnedRepresentation`
    (registered as a sub-module, so its parameters are this module's), in the
    parameters of ``rho``. This is the latent action ``g · f(x)`` of the linear
    disentanglement definition (Higgins et al. 2018, §6).

    Parameters
    ----------
    rep : Representation or LearnedRepresentation
        The representation acting on the latent space (``rep.dim = d``).

    Examples
    --------
    >>> from groupdrl.groups import Cyclic
    >>> act = GroupAction(Cyclic(4).representation("irrep:1"))
    >>> z = act(torch.tensor([1]), torch.tensor([[1.0, 0.0]]))  # rotate by 90 degrees
    >>> torch.allclose(z, torch.tensor([[0.0, 1.0]]), atol=1e-6)
    True
    """

    def __init__(self, rep: Representation | LearnedRepresentation) -> None:
        super().__init__()
        if not isinstance(rep, (Representation, LearnedRepresentation)):
            raise TypeError(f"rep: expected a Representation or LearnedRepresentation, got {type(rep).__name__}")
        self.rep = rep

    def forward(self, g: object, z: torch.Tensor) -> torch.Tensor:
        """Return ``rho(g) z`` of shape ``(n, d)``."""
        if not isinstance(z, torch.Tensor) or not z.is_floating_point():
            raise TypeError(f"z: expected a floating torch.Tensor, got {type(z).__name__}")
        if z.dim() != 2 or z.shape[1] != self.rep.dim:
            raise ValueError(f"z: expected shape (n, {self.rep.dim}), got {tuple(z.shape)}")
        self.rep.group.validate(g, "g")
        n = self.rep.group.batch_size(g)
        if n != z.shape[0]:
            raise ValueError(f"g: batch of {n} elements for {z.shape[0]} latents in z")
        rho = self.rep(g, z.dtype).to(z.device)
        return torch.einsum("nij,nj->ni", rho, z)
