"""Linear representations rho: G -> GL(d) evaluated on batches of group elements."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import torch

if TYPE_CHECKING:
    from groupdrl.groups.base import Group

RepFn = Callable[[object, torch.dtype], torch.Tensor]


class Representation:
    """A batched linear representation ``rho(g) -> (n, d, d)``.

    Parameters
    ----------
    group : Group
        The group the representation is of.
    fn : callable
        ``fn(g, dtype) -> (n, d, d)`` tensor for a validated batch ``g``.
    dim : int
        Dimension ``d`` of the representation space.
    name : str
        Human readable name, e.g. ``"irrep:1"``.
    blocks : dict[str, slice], optional
        For representations of a :class:`~groupdrl.groups.Product`: which latent
        coordinates each factor acts on (rho = rho_1 ⊕ … ⊕ rho_k).
    basis : Tensor, optional
        Change of basis ``Q`` already applied (``rho = Q rho_0 Q^{-1}``); the subspace of
        factor ``i`` is then spanned by ``Q[:, blocks[i]]``.

    Examples
    --------
    >>> import groupdrl.groups as g
    >>> rho = g.Cyclic(4).representation("irrep:1")
    >>> rho(torch.tensor([1])).shape
    torch.Size([1, 2, 2])
    """

    def __init__(
        self,
        group: Group,
        fn: RepFn,
        dim: int,
        name: str,
        blocks: dict[str, slice] | None = None,
        basis: torch.Tensor | None = None,
    ) -> None:
        self.group = group
        self._fn = fn
        self.dim = int(dim)
        self.name = name
        self.blocks = dict(blocks) if blocks is not None else None
        self.basis = basis
        self._basis_inv = None if basis is None else torch.linalg.inv(basis.to(torch.float64))

    def __call__(self, g: object, dtype: torch.dtype | None = None) -> torch.Tensor:
        self.group.validate(g, "g")
        dtype = dtype or torch.get_default_dtype()
        out = self._fn(g, dtype)
        if self.basis is not None:
            out = self.basis.to(dtype) @ out @ self._basis_inv.to(dtype)
        return out

    def __repr__(self) -> str:
        return f"Representation({self.group!r}, {self.name!r}, dim={self.dim})"

    def __add__(self, other: Representation) -> Representation:
        """Direct sum ``rho ⊕ other`` (block diagonal)."""
        if not isinstance(other, Representation):
            raise TypeError(f"other: expected a Representation, got {type(other).__name__}")
        if other.group != self.group:
            raise ValueError(f"other: representation of {other.group!r}, expected one of {self.group!r}")

        def fn(g: object, dtype: torch.dtype) -> torch.Tensor:
            return _block_diag([self(g, dtype), other(g, dtype)])

        return Representation(self.group, fn, self.dim + other.dim, f"{self.name}+{other.name}")

    def change_basis(self, q: torch.Tensor) -> Representation:
        """Return ``g -> Q rho(g) Q^{-1}`` for an invertible ``(d, d)`` matrix ``Q``."""
        q = torch.as_tensor(q)
        if q.shape != (self.dim, self.dim):
            raise ValueError(f"q: expected shape ({self.dim}, {self.dim}), got {tuple(q.shape)}")
        q64 = q.to(torch.float64)
        if torch.linalg.matrix_rank(q64) < self.dim:
            raise ValueError("q: change of basis must be invertible")
        basis = q64 if self.basis is None else q64 @ self.basis.to(torch.float64)
        return Representation(self.group, self._fn, self.dim, f"Q·{self.name}·Q⁻¹", self.blocks, basis)

    def subspaces(self) -> dict[str, torch.Tensor]:
        """Basis ``(d, d_i)`` (float64) of the subspace each factor acts on (products only)."""
        if self.blocks is None:
            raise ValueError("subspaces: this representation has no factor blocks (not built by Product.representation)")
        eye = torch.eye(self.dim, dtype=torch.float64)
        q = eye if self.basis is None else self.basis.to(torch.float64)
        return {name: q[:, sl] for name, sl in self.blocks.items()}

    def is_orthogonal(self, n: int = 16, atol: float = 1e-5) -> bool:
        """Numerically check ``rho(g) rho(g)^T = I`` on ``n`` seeded Haar samples, evaluated in float64.

        The samples are in torch's default dtype (float32 angles or matrices), hence ``atol = 1e-5``.
        """
        g = self.group.sample(n, generator=torch.Generator().manual_seed(0))
        r = self(g, torch.float64)
        eye = torch.eye(self.dim, dtype=torch.float64)
        return bool(torch.allclose(r @ r.transpose(-1, -2), eye.expand_as(r), atol=atol))


def _block_diag(mats: list[torch.Tensor]) -> torch.Tensor:
    """Batched block-diagonal of ``(n, d_i, d_i)`` tensors -> ``(n, Σd_i, Σd_i)``."""
    n = mats[0].shape[0]
    d = sum(m.shape[-1] for m in mats)
    out = mats[0].new_zeros((n, d, d))
    i = 0
    for m in mats:
        k = m.shape[-1]
        out[:, i : i + k, i : i + k] = m
        i += k
    return out


def rotation_2d(theta: torch.Tensor) -> torch.Tensor:
    """Batched 2x2 rotation matrices ``[[cos, -sin], [sin, cos]]`` of angles ``theta`` (n,)."""
    c, s = torch.cos(theta), torch.sin(theta)
    return torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)


def scalar(values: torch.Tensor) -> torch.Tensor:
    """Batched 1x1 matrices from a batch of scalars (n,)."""
    return values.reshape(-1, 1, 1)


def parse_spec(spec: str) -> tuple[str, str | None]:
    """Split ``"irrep:2"`` into ``("irrep", "2")``; ``"trivial"`` into ``("trivial", None)``."""
    if not isinstance(spec, str):
        raise TypeError(f"spec: expected a string such as 'irrep:1', got {type(spec).__name__}")
    kind, _, arg = spec.partition(":")
    return kind.strip(), (arg.strip() or None)
