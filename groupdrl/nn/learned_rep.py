"""A trainable, block-diagonal representation candidate ``rho(g) = matrix_exp(MLP(g))``."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from groupdrl.groups import SO3, Cyclic, Dihedral, Group, Product, Representation, Torus
from groupdrl.nn._checks import positive_int, positive_ints
from groupdrl.nn.mlp import MLP


def element_features(group: Group, g: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Continuous coordinates of a batch of elements of a (non-product) group, shape ``(n, f)``.

    ``Cyclic(n)``: ``(cos, sin)(2πk/n)``; ``Dihedral(n)``: ``(cos, sin)(2π rot/n)`` and
    ``1 − 2 flip``; ``SO2``/``Torus``: ``(cos, sin)`` of every angle; ``SO3``: the 9 matrix
    entries. These coordinates are continuous on the group, so the MLP is too.
    """
    n = len(g)
    if isinstance(group, Cyclic):
        angle = g.to(torch.float64) * (2 * math.pi / group.n)
        return torch.stack([angle.cos(), angle.sin()], 1).to(dtype)
    if isinstance(group, Dihedral):
        angle = g[:, 1].to(torch.float64) * (2 * math.pi / group.n)
        flip = 1.0 - 2.0 * g[:, 0].to(torch.float64)
        return torch.stack([angle.cos(), angle.sin(), flip], 1).to(dtype)
    if isinstance(group, Torus):  # SO2 included
        angles = g.to(dtype).reshape(n, -1)
        return torch.cat([angles.cos(), angles.sin()], 1)
    if isinstance(group, SO3):
        return g.to(dtype).reshape(n, 9)
    raise TypeError(f"G: LearnedRepresentation supports Cyclic, Dihedral, SO2, Torus and SO3 factors, got {group!r}")


def _feature_dim(group: Group) -> int:
    return element_features(group, group.identity(1), torch.float64).shape[1]


class LearnedRepresentation(nn.Module):
    """Trainable homomorphism candidate, block-diagonal over the factors of ``G``.

    For each factor ``G_i`` with block dimension ``d_i``, a small MLP maps the element's
    coordinates ``phi(g)`` (see :func:`element_features`) to a skew-symmetric
    ``A_i(g) = skew(MLP_i(phi(g)) − MLP_i(phi(e)))`` and

        rho(g) = diag(matrix_exp(A_1(g_1)), …, matrix_exp(A_k(g_k))),

    as in the homomorphism autoencoder (Keurti et al. 2023, "Homomorphism
    Autoencoder — Learning Group Structured Representations from Observed
    Transitions", ICML): ``rho(g) = matrix_exp(MLP(g))``. Every ``rho(g)`` is in
    SO(d) (GL+(d) with ``orthogonal=False``) and block-diagonal by construction, and ``rho(e) = I`` exactly (so a factor's
    identity leaves every block fixed, as Higgins et al. 2018 require); being a homomorphism is what
    training must achieve (check it with ``groupdrl.testing.assert_homomorphism`` on
    :meth:`to_representation`). Orientation-reversing blocks (det −1, such as the
    reflections of ``Dihedral``'s 2-D irreps) are out of reach of ``matrix_exp``.

    It exposes the interface of :class:`groupdrl.groups.Representation`: it is
    called as ``rho(g, dtype=None) -> (n, d, d)`` and has ``.dim``, ``.group``,
    ``.name``, ``.blocks`` (``None`` for a single group), ``.basis`` (``None``),
    ``subspaces()`` and ``is_orthogonal()``.

    Parameters
    ----------
    G : Group
        A :class:`~groupdrl.groups.Product` or a single group.
    dims : int or mapping of str to int
        For a product: factor name -> block dimension (factors left out act
        trivially on 0 dimensions); for a single group: its dimension.
    hidden : int or sequence of int
        Hidden widths of each factor's MLP.
    orthogonal : bool
        ``A_i`` skew-symmetric (``so(d_i)``, ``rho`` orthogonal; default) or a general
        matrix (``gl(d_i)``, ``rho(g)`` invertible with positive determinant).

    Examples
    --------
    >>> from groupdrl.groups import Cyclic, Product
    >>> rho = LearnedRepresentation(Product(x=Cyclic(8), y=Cyclic(8)), {"x": 2, "y": 2})
    >>> rho({"x": torch.tensor([1]), "y": torch.tensor([3])}).shape
    torch.Size([1, 4, 4])
    """

    name = "learned"
    basis = None

    def __init__(self, G: Group, dims: int | Mapping[str, int], hidden: int | Sequence[int] = 64,
                 orthogonal: bool = True) -> None:
        super().__init__()
        self.orthogonal = bool(orthogonal)
        if not isinstance(G, Group):
            raise TypeError(f"G: expected a groupdrl Group, got {type(G).__name__}")
        self.group = G
        factors = G.factors if isinstance(G, Product) else {"": G}
        if isinstance(G, Product):
            if not isinstance(dims, Mapping) or not dims:
                raise TypeError(f"dims: expected a non-empty mapping factor name -> dimension for {G!r}, got {dims!r}")
            unknown = [k for k in dims if k not in factors]
            if unknown:
                raise ValueError(f"dims: unknown factor name(s) {unknown}; factors are {list(factors)}")
            sizes = {k: positive_int(dims[k], f"dims[{k!r}]") for k in factors if k in dims}
        else:
            sizes = {"": positive_int(dims, "dims")}
        hidden = positive_ints(hidden, "hidden")
        self._slices: dict[str, slice] = {}
        self.nets = nn.ModuleDict()
        start = 0
        for k, d in sizes.items():
            self._slices[k] = slice(start, start + d)
            start += d
            n_coeffs = d * (d - 1) // 2 if self.orthogonal else d * d
            if n_coeffs:  # a 1-D block of SO(1) is the trivial representation: nothing to learn
                self.nets[f"f_{k}"] = MLP(_feature_dim(factors[k]), hidden, n_coeffs, out_bias=False)
        self.dim = start
        self._factors = factors

    def _block(self, name: str, g: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        d = self._slices[name].stop - self._slices[name].start
        device = next(self.parameters(), torch.empty(0)).device
        if f"f_{name}" not in self.nets:
            return torch.ones(len(g), 1, 1, dtype=dtype, device=device)
        group = self._factors[name]
        feats = element_features(group, group.cat([g, group.identity(1).to(g.device)]), dtype).to(device)
        out = self.nets[f"f_{name}"](feats)
        coeffs = out[:-1] - out[-1:]  # A(e) = 0, so rho(e) = I exactly
        if not self.orthogonal:
            return torch.linalg.matrix_exp(coeffs.reshape(len(g), d, d))
        rows, cols = torch.triu_indices(d, d, offset=1)
        upper = coeffs.new_zeros(len(g), d, d)
        upper[:, rows, cols] = coeffs
        return torch.linalg.matrix_exp(upper - upper.transpose(1, 2))

    def forward(self, g: object, dtype: torch.dtype | None = None) -> torch.Tensor:
        """``rho(g)`` as an ``(n, dim, dim)`` tensor (``dtype`` defaults to torch's default dtype)."""
        self.group.validate(g, "g")
        param = next(self.parameters(), None)
        work = param.dtype if param is not None else torch.float64
        parts = g if isinstance(self.group, Product) else {"": g}
        n = self.group.batch_size(g)
        out = torch.zeros(n, self.dim, self.dim, dtype=work, device=None if param is None else param.device)
        for name, sl in self._slices.items():
            out[:, sl, sl] = self._block(name, parts[name], work)
        return out.to(dtype or torch.get_default_dtype())

    @property
    def blocks(self) -> dict[str, slice] | None:
        """Factor name -> latent coordinates it acts on (products only; ``None`` for a single group,
        as for :class:`~groupdrl.groups.Representation`)."""
        return dict(self._slices) if isinstance(self.group, Product) else None

    def subspaces(self) -> dict[str, torch.Tensor]:
        """Basis ``(d, d_i)`` (float64) of the subspace each factor acts on (products only)."""
        if self.blocks is None:
            raise ValueError("subspaces: a representation of a single group has no factor blocks")
        eye = torch.eye(self.dim, dtype=torch.float64)
        return {name: eye[:, sl] for name, sl in self.blocks.items()}

    def is_orthogonal(self, n: int = 16, atol: float = 1e-8) -> bool:
        """``orthogonal``: ``matrix_exp`` of a skew-symmetric matrix is orthogonal (the arguments are unused)."""
        return self.orthogonal

    def to_representation(self) -> Representation:
        """A frozen :class:`~groupdrl.groups.Representation` evaluating the current parameters without grad."""

        def fn(g: object, dtype: torch.dtype) -> torch.Tensor:
            with torch.no_grad():
                return self(g, dtype)

        return Representation(self.group, fn, self.dim, self.name, blocks=self.blocks)
