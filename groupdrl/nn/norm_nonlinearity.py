"""Equivariant non-linearity acting on the norms of the irreducible blocks of a representation."""
from __future__ import annotations

import functools

import numpy as np
import torch
from torch import nn

from groupdrl.groups import Representation
from groupdrl.nn.equivariant_linear import check_rep, constraint_elements, equivariant_basis

#: Eigenvalues of the random self-intertwiner closer than this (relative) belong to one block.
CLUSTER_RTOL = 1e-6


@functools.lru_cache(maxsize=256)
def irreducible_blocks(rep: Representation) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split an orthogonal representation into irreducible invariant subspaces (float64, cached).

    For orthogonal ``rho`` the self-intertwiners form an algebra closed under
    transposition; a generic symmetric element ``C = Σ c_m (B_m + B_m^T)`` (fixed
    seed) commutes with every ``rho(g)``, so its eigenspaces are invariant, and
    for generic ``c`` each is one irreducible component (Schur's lemma: within an
    isotypic component of multiplicity ``k`` the symmetric commutant elements have
    ``k`` distinct eigenvalues, each of the irreducible dimension).

    Returns
    -------
    q : Tensor, shape (d, d)
        Orthogonal matrix whose columns are grouped by block, each column's largest
        entry positive (so a coordinate axis that is already invariant is kept as is).
    block : Tensor, shape (d,)
        int64 index of the block of each column of ``q``.
    trivial : Tensor, shape (n_blocks,)
        bool, whether ``rho`` acts trivially on the block.
    """
    basis, _ = equivariant_basis(rep, rep)
    coeffs = np.random.default_rng(0).standard_normal(basis.shape[0])
    c = np.einsum("m,mij->ij", coeffs, basis.numpy())
    values, q = np.linalg.eigh(c + c.T)
    q = q * np.sign(q[np.abs(q).argmax(0), np.arange(len(q))])  # canonical signs: largest entry positive
    gaps = np.diff(values) > CLUSTER_RTOL * max(1.0, float(np.abs(values).max()))
    block = np.concatenate([[0], np.cumsum(gaps)])
    r = rep(constraint_elements(rep.group), torch.float64).numpy()
    trivial = [np.allclose(r @ q[:, block == k], q[:, block == k], atol=1e-8) for k in range(block[-1] + 1)]
    return torch.from_numpy(q.copy()), torch.from_numpy(block), torch.tensor(trivial)


class NormNonlinearity(nn.Module):
    """Norm-ReLU on each irreducible block of an orthogonal representation; ReLU on invariant scalars.

    With ``u_k = Q_k^T z`` the coordinates of ``z`` in the ``k``-th irreducible block,

        u_k -> ReLU(|u_k| + b_k) u_k / |u_k|   (non-trivial blocks, Worrall et al. 2017;
                                                Weiler & Cesa 2019, "norm-ReLU")
        u_k -> ReLU(u_k + b_k)                 (1-D blocks on which rho is trivial)

    Since ``rho`` is orthogonal it preserves each ``|u_k|`` and the trivial
    coordinates, so the map is equivariant. The biases start at ``-0.1``.

    Parameters
    ----------
    rep : Representation
        An orthogonal representation (checked in float64 on the constraint elements).
    eps : float
        Added under the square root so that the gradient at ``u_k = 0`` is finite.
    """

    def __init__(self, rep: Representation, eps: float = 1e-12) -> None:
        super().__init__()
        self.rep = check_rep(rep, "rep")
        r = rep(constraint_elements(rep.group), torch.float64)
        if not torch.allclose(r @ r.transpose(1, 2), torch.eye(rep.dim, dtype=torch.float64).expand_as(r), atol=1e-8):
            raise ValueError(f"rep: the norm non-linearity needs an orthogonal representation, got {rep!r}")
        q, block, trivial = irreducible_blocks(rep)
        self._q = q
        self._cast: dict[tuple[torch.dtype, torch.device], torch.Tensor] = {}
        self.register_buffer("block", block, persistent=False)
        self.register_buffer("trivial", trivial[block], persistent=False)
        self.n_blocks = int(block.max()) + 1
        self.bias = nn.Parameter(torch.full((self.n_blocks,), -0.1))
        self.eps = eps

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Apply the non-linearity to ``z`` of shape ``(..., d)``."""
        if not isinstance(z, torch.Tensor) or z.dim() == 0 or z.shape[-1] != self.rep.dim:
            shape = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
            raise ValueError(f"z: expected a tensor of shape (..., {self.rep.dim}), got {shape}")
        key = (z.dtype, z.device)
        if key not in self._cast:
            self._cast[key] = self._q.to(dtype=z.dtype, device=z.device)
        q = self._cast[key]
        u = z @ q
        sq = torch.zeros(*u.shape[:-1], self.n_blocks, dtype=u.dtype, device=u.device)
        norms = (sq.index_add(-1, self.block, u * u) + self.eps).sqrt()[..., self.block]
        bias = self.bias.to(u.dtype)[self.block]
        scaled = torch.relu(norms + bias) / norms * u
        return torch.where(self.trivial, torch.relu(u + bias), scaled) @ q.T
