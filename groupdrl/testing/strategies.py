"""hypothesis strategies for group elements, subgroup elements, representations and states."""
from __future__ import annotations

import math

import torch
from hypothesis import strategies as st

from groupdrl.groups import SO2, SO3, Cyclic, Dihedral, Group, Product, Representation, Torus
from groupdrl.groups.so3 import quaternion_to_matrix

_ANGLE = st.floats(0.0, 2 * math.pi, exclude_max=True, allow_nan=False)


def _one(group: Group) -> st.SearchStrategy[list]:
    """Strategy for one element of ``group`` as nested python numbers."""
    if isinstance(group, Cyclic):
        return st.integers(0, group.n - 1)
    if isinstance(group, Dihedral):
        return st.tuples(st.integers(0, 1), st.integers(0, group.n - 1)).map(list)
    if isinstance(group, SO2):
        return _ANGLE
    if isinstance(group, Torus):
        return st.lists(_ANGLE, min_size=group.k, max_size=group.k)
    if isinstance(group, SO3):
        # a quaternion (1 − a, x, y, z), a ∈ [0, 2]: every rotation, shrinking to a = x = y = z = 0 (identity)
        coord = st.floats(-1.0, 1.0, allow_nan=False)
        quat = st.tuples(st.floats(0.0, 2.0, allow_nan=False), coord, coord, coord)
        return quat.map(lambda q: [1.0 - q[0], *q[1:]]).filter(lambda q: sum(x * x for x in q) > 1e-2)
    raise TypeError(f"group: no element strategy for {group!r}")


def _batch(group: Group, values: list) -> object:
    if isinstance(group, (Cyclic, Dihedral)):
        return torch.tensor(values, dtype=torch.long).reshape(len(values), *(() if isinstance(group, Cyclic) else (2,)))
    if isinstance(group, SO3):
        return quaternion_to_matrix(torch.tensor(values, dtype=torch.float64)).to(torch.get_default_dtype())
    return torch.tensor(values, dtype=torch.get_default_dtype()).reshape(len(values), *group.identity(1).shape[1:])


def elements(group: Group, n: int = 1) -> st.SearchStrategy:
    """A batch of ``n`` elements of ``group`` (a dict of batches for a :class:`Product`).

    Shrinks towards the identity (index 0 / angle 0).
    """
    if not isinstance(group, Group):
        raise TypeError(f"group: expected a groupdrl Group, got {type(group).__name__}")
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n: expected a positive int, got {n!r}")
    if isinstance(group, Product):
        return st.fixed_dictionaries({k: elements(g, n) for k, g in group.factors.items()})
    return st.lists(_one(group), min_size=n, max_size=n).map(lambda v: _batch(group, v))


def subgroup_elements(group: Product, name: str, n: int = 1) -> st.SearchStrategy:
    """Elements of the factor subgroup ``G_name`` of a product (identity in the other factors)."""
    if not isinstance(group, Product):
        raise TypeError(f"group: expected a Product, got {type(group).__name__}")
    factor = group.factor(name)
    return elements(factor, n).map(lambda e: group.embed(name, e))


def representations(group: Group, max_summands: int = 3, change_basis: bool = True) -> st.SearchStrategy:
    """Direct sums of built-in irreps of ``group``, optionally in a random orthogonal basis.

    For a :class:`Product` the summands are irreps of one factor each (disentangled form).
    """
    irreps = group.irreps()
    if not irreps:
        raise ValueError(f"group: {group!r} has no irreps to draw from")

    @st.composite
    def draw(pick) -> Representation:
        picks = pick(st.lists(st.sampled_from(irreps), min_size=1, max_size=max_summands))
        if isinstance(group, Product):
            spec: dict[str, Representation] = {}
            for rho in picks:
                (name,) = rho.blocks
                factor_rep = group.factor(name).representation(rho.name.split(":", 1)[1])
                spec[name] = factor_rep if name not in spec else spec[name] + factor_rep
            rho = group.representation(spec)
        else:
            rho = picks[0]
            for extra in picks[1:]:
                rho = rho + extra
        if change_basis and rho.dim > 1 and pick(st.booleans()):
            seed = pick(st.integers(0, 2**31 - 1))
            q, _ = torch.linalg.qr(torch.randn(rho.dim, rho.dim, generator=torch.Generator().manual_seed(seed),
                                               dtype=torch.float64))
            rho = rho.change_basis(q)
        return rho

    return draw()


def states(world, n: int = 1) -> st.SearchStrategy[torch.Tensor]:
    """A batch ``(n, D)`` of states of ``world``, shrinking towards the identity state.

    Finite factors draw an index; Lie factors an element (from :func:`elements`, so SO(3) states are
    rotation matrices) or, with a base point, its image ``ρ(g) p`` on the orbit. The batch has the
    world's ``state_dtype`` (int64 for finite worlds, float64 otherwise).
    """
    if all(f.is_finite for f in world.factors):
        cols = [st.integers(0, f.size - 1) for f in world.factors]
        row = st.tuples(*cols)
        return st.lists(row, min_size=n, max_size=n).map(
            lambda r: torch.tensor(r, dtype=torch.long).reshape(n, len(cols)))
    parts = []
    for f in world.factors:
        if f.is_finite:
            parts.append(st.lists(st.integers(0, f.size - 1), min_size=n, max_size=n).map(
                lambda v: torch.tensor(v, dtype=torch.float64)[:, None]))
        else:
            parts.append(elements(f.group, n).map(lambda g, f=f: f.state_of(g)))
    return st.tuples(*parts).map(lambda cols: torch.cat(cols, 1))
