"""Linear maps between any two groupdrl representations, equivariant by construction."""
from __future__ import annotations

import functools
import math

import numpy as np
import torch
from torch import nn

from groupdrl.groups import SO3, Group, Product, Representation

#: Haar samples added to the generators of an infinite group when solving the constraints.
N_SAMPLES = 8
#: Singular values below ``RTOL * largest`` span the solution space.
RTOL = 1e-9


def _float64(group: Group, g: object) -> object:
    """The batch ``g`` in float64, rotation matrices re-orthogonalised (polar factor ``U V^T``)."""
    if isinstance(group, Product):
        return {k: _float64(f, g[k]) for k, f in group.factors.items()}
    if not g.is_floating_point():
        return g
    if isinstance(group, SO3):
        u, _, vh = torch.linalg.svd(g.to(torch.float64))
        return u @ vh
    return g.to(torch.float64)


def constraint_elements(group: Group) -> object:
    """Elements whose constraints characterise equivariance to all of ``group``.

    The generators of a finite group; for a continuous one (``SO2``, ``Torus``,
    ``SO3`` and products with them) its topological generators plus ``N_SAMPLES``
    Haar samples from a fixed seed. A continuous ``rho`` that commutes with a set
    of elements commutes with the closure of the subgroup they generate, which is
    dense here, hence with every element; the extra samples keep the constraints
    well conditioned (an irrational rotation alone may come close to a rational one).
    Continuous elements are returned in float64 so that the constraints are exact.
    """
    gens = group.generators()
    if not group.is_finite:
        gens = group.cat([gens, group.sample(N_SAMPLES, generator=torch.Generator().manual_seed(0))])
    return _float64(group, gens)


def _nullspace(blocks: list[np.ndarray]) -> np.ndarray:
    """Orthonormal basis (rows) of ``{v : B v = 0 for every block B}`` via one SVD in float64."""
    stacked = np.concatenate(blocks, 0)
    _, s, vh = np.linalg.svd(stacked, full_matrices=False)
    rank = int((s > RTOL * max(float(s[0]) if s.size else 0.0, 1.0)).sum())
    return vh[rank:]


@functools.lru_cache(maxsize=256)
def equivariant_basis(rep_in: Representation, rep_out: Representation) -> tuple[torch.Tensor, torch.Tensor]:
    """Bases of the equivariant maps and biases from ``rep_in`` to ``rep_out`` (float64, cached).

    Solves ``rho_out(g) W = W rho_in(g)`` for ``g`` in :func:`constraint_elements`,
    i.e. ``(rho_out(g) ⊗ I − I ⊗ rho_in(g)^T) vec(W) = 0`` (row-major ``vec``), as the
    null space of the stacked constraints (one SVD); likewise the invariant
    biases ``rho_out(g) b = b``. The bases are orthonormal (Frobenius / Euclidean).
    The SVD costs ``O(m (d_in d_out)^3)`` for ``m`` constraint elements: instant up to
    ``d_in d_out`` of a few hundred, seconds at a few thousand.

    Returns
    -------
    weights : Tensor, shape (m, d_out, d_in)
    biases : Tensor, shape (k, d_out)
    """
    group = rep_in.group
    g = constraint_elements(group)
    r_in = rep_in(g, torch.float64).numpy()
    r_out = rep_out(g, torch.float64).numpy()
    d_in, d_out = rep_in.dim, rep_out.dim
    eye_in, eye_out = np.eye(d_in), np.eye(d_out)
    w = _nullspace([np.kron(ro, eye_in) - np.kron(eye_out, ri.T) for ro, ri in zip(r_out, r_in)])
    b = _nullspace([ro - eye_out for ro in r_out])
    return torch.from_numpy(w.reshape(-1, d_out, d_in).copy()), torch.from_numpy(b.copy())


def check_rep(rep: object, name: str) -> Representation:
    """Raise ``TypeError`` naming ``name`` unless ``rep`` is a fixed groupdrl Representation."""
    if not isinstance(rep, Representation):
        raise TypeError(f"{name}: expected a groupdrl Representation, got {type(rep).__name__}")
    return rep


class EquivariantLinear(nn.Module):
    """``x -> W x + b`` with ``rho_out(g) W = W rho_in(g)`` and ``rho_out(g) b = b`` for every ``g``.

    ``W = Σ_m c_m B_m`` and ``b = Σ_k β_k b_k`` in the bases of
    :func:`equivariant_basis` (solved once in float64 and cached per pair of
    representations), the approach of Finzi, Welling & Wilson 2021 ("A Practical
    Method for Constructing Equivariant Multilayer Perceptrons for Arbitrary
    Matrix Groups", ICML). Works for any groupdrl representations, products and
    groups escnn does not know included.

    Parameters
    ----------
    rep_in, rep_out : Representation
        Representations of the same group acting on the input and the output.
    bias : bool
        Whether to add the equivariant bias (it lives in the trivial-isotypic part
        of ``rep_out``; there is none when ``rep_out`` has no invariant vector).

    Raises
    ------
    ValueError
        If the groups differ, or only the zero map is equivariant (``rep_in`` and
        ``rep_out`` share no irreducible component).

    Examples
    --------
    >>> from groupdrl.groups import Cyclic
    >>> G = Cyclic(4)
    >>> lin = EquivariantLinear(G.representation("regular"), G.representation("irrep:1"))
    >>> lin.n_params
    2
    """

    def __init__(self, rep_in: Representation, rep_out: Representation, bias: bool = True) -> None:
        super().__init__()
        self.rep_in = check_rep(rep_in, "rep_in")
        self.rep_out = check_rep(rep_out, "rep_out")
        if rep_out.group != rep_in.group:
            raise ValueError(f"rep_out: representation of {rep_out.group!r}, expected one of rep_in's group "
                             f"{rep_in.group!r}")
        basis, bias_basis = equivariant_basis(rep_in, rep_out)
        if basis.shape[0] == 0:
            raise ValueError(f"rep_in, rep_out: only the zero map is equivariant from {rep_in!r} to {rep_out!r} "
                             "(they share no irreducible component)")
        self._bases = {"weight": basis, "bias": bias_basis if bias else bias_basis[:0]}
        self._cast: dict[tuple[str, torch.dtype, torch.device], torch.Tensor] = {}
        m = basis.shape[0]
        # E||W||_F^2 = d_out, as for i.i.d. entries of variance 1/d_in (LeCun / nn.Linear scale)
        self.weight = nn.Parameter(torch.randn(m) * math.sqrt(rep_out.dim / (m * rep_in.dim)))
        self.bias = nn.Parameter(torch.zeros(bias_basis.shape[0])) if bias and bias_basis.shape[0] else None

    @property
    def n_params(self) -> int:
        """Number of free parameters (dimension of the equivariant maps + invariant biases)."""
        return sum(p.numel() for p in self.parameters())

    def _basis(self, kind: str, like: torch.Tensor) -> torch.Tensor:
        key = (kind, like.dtype, like.device)
        if key not in self._cast:
            self._cast[key] = self._bases[kind].to(dtype=like.dtype, device=like.device)
        return self._cast[key]

    def matrix(self) -> torch.Tensor:
        """The current ``W`` of shape ``(d_out, d_in)``."""
        return torch.einsum("m,mij->ij", self.weight, self._basis("weight", self.weight))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply ``W x + b`` to ``x`` of shape ``(..., d_in)``."""
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            raise TypeError(f"x: expected a floating torch.Tensor, got {type(x).__name__}")
        if x.dim() == 0 or x.shape[-1] != self.rep_in.dim:
            raise ValueError(f"x: expected shape (..., {self.rep_in.dim}), got {tuple(x.shape)}")
        out = x @ self.matrix().to(x.dtype).T
        if self.bias is not None:
            out = out + (self.bias @ self._basis("bias", self.bias)).to(x.dtype)
        return out

    def extra_repr(self) -> str:
        return f"{self.rep_in.name} ({self.rep_in.dim}) -> {self.rep_out.name} ({self.rep_out.dim}), n_params={self.n_params}"
