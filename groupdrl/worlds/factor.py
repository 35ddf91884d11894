"""One factor of variation: a group of :mod:`groupdrl.groups` acting on the factor's states.

- A **finite** factor (cyclic, dihedral) has ``size = |G|`` states, the indices
  ``0 … |G| − 1`` of ``G.elements()``, and G acts on them by left multiplication,
  ``g · s = index(g · elements()[s])``; for ``Cyclic(n)`` that is ``s ↦ s + g mod n``. A bounded
  cyclic factor (``periodic=False``) only has a partial action: a move leaving ``[0, size)`` is invalid.
- A **compact Lie** factor (``SO2()``, ``Torus(k)``, ``SO3()``) has continuous states: either the group
  elements themselves (left multiplication; the element flattened, e.g. the 9 entries of a rotation
  matrix row by row), or, with ``base_point``, the points ``ρ(g) p`` of the orbit of ``p`` under the
  group's ``standard`` representation (a circle for SO(2), a sphere for SO(3)). States are sampled by
  Haar measure (its image on the orbit: the uniform measure on the circle or sphere).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from groupdrl.groups import SO3, Cyclic, Group, Representation
from groupdrl.groups.base import TensorGroup

#: Points on an orbit keep their norm up to this relative error (float64 states).
ORBIT_RTOL = 1e-6


@dataclass(frozen=True)
class Factor:
    """One factor of variation: ``group`` acting on the factor's states.

    Parameters
    ----------
    name : str
        An identifier.
    size : int, optional
        Number of states of a finite factor (``|G|``); alone, ``Factor("x", 8)`` is ``Cyclic(8)`` on
        ``0 … 7``. ``None`` for a compact Lie group.
    group : Group, optional
        A group of :mod:`groupdrl.groups`: finite (``Cyclic``, ``Dihedral``) or compact Lie (``SO2``,
        ``Torus``, ``SO3``). A product of groups is several factors (the world's group is their product).
    periodic : bool
        ``False`` makes a cyclic factor bounded (a partial action, e.g. dSprites position).
    values : tuple of float, optional
        The physical value of each state of a finite factor (e.g. the scale).
    base_point : tuple of float, optional
        For a Lie factor: its states are the orbit ``{ρ(g) p}`` of this point under the standard
        representation instead of the group elements.

    Examples
    --------
    >>> from groupdrl.groups import Dihedral, SO3
    >>> Factor("pose", group=Dihedral(4)).size, Factor("rotation", group=SO3()).state_dim
    (8, 9)
    """

    name: str
    size: int | None = None
    group: Group | None = None
    periodic: bool = True
    values: tuple[float, ...] | None = None
    base_point: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"name: expected an identifier string, got {self.name!r}")
        size = self.size
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 1):
            raise ValueError(f"size: expected a positive int for factor {self.name!r}, got {size!r}")
        if self.group is None:
            if size is None:
                raise ValueError(f"size: factor {self.name!r} needs a size (a Cyclic(size) factor) or a group")
            object.__setattr__(self, "group", Cyclic(size))
        if not isinstance(self.group, Group):
            raise TypeError(f"group: expected a groupdrl Group for factor {self.name!r}, "
                            f"got {type(self.group).__name__}")
        if not isinstance(self.periodic, bool):
            raise TypeError(f"periodic: expected a bool for factor {self.name!r}, got {type(self.periodic).__name__}")
        if not isinstance(self.group, TensorGroup):
            raise ValueError(f"group: factor {self.name!r} has {self.group!r}; a factor's group is one of Cyclic, "
                             "Dihedral, SO2, Torus, SO3 (a product of groups is several factors of the world)")
        if self.group.is_finite:
            self._check_finite()
        else:
            self._check_lie()

    def _check_finite(self) -> None:
        order = self.group.order
        if self.size is None:
            object.__setattr__(self, "size", order)
        if self.size != order:
            raise ValueError(f"group: factor {self.name!r} has {self.size} states but {self.group!r} has {order} "
                             f"elements; a finite factor's states are its group's elements (size = order)")
        if not self.periodic and not isinstance(self.group, Cyclic):
            raise ValueError(f"periodic: only a cyclic factor can be bounded, factor {self.name!r} is {self.group!r}")
        if self.base_point is not None:
            raise ValueError(f"base_point: factor {self.name!r} is finite; its states are the elements of "
                             f"{self.group!r}, base points are for compact Lie groups")
        if self.values is not None and len(self.values) != self.size:
            raise ValueError(f"values: factor {self.name!r} needs {self.size} values, got {len(self.values)}")

    def _check_lie(self) -> None:
        if self.size is not None:
            raise ValueError(f"size: factor {self.name!r} with {self.group!r} is continuous; leave size None")
        if not self.periodic:
            raise ValueError(f"periodic: factor {self.name!r} with {self.group!r} is a group action; "
                             "it cannot be bounded")
        if self.values is not None:
            raise ValueError(f"values: factor {self.name!r} is continuous; its states are its values")
        if self.base_point is not None:
            p = tuple(float(v) for v in self.base_point)
            dim = self.group.representation("standard").dim
            if len(p) != dim or not all(math.isfinite(v) for v in p) or not any(p):
                raise ValueError(f"base_point: factor {self.name!r} needs a finite non-zero point of R^{dim} "
                                 f"(the standard representation of {self.group!r}), got {self.base_point!r}")
            object.__setattr__(self, "base_point", p)

    # ---- layout ----------------------------------------------------------------------------------
    @property
    def is_finite(self) -> bool:
        return self.group.is_finite

    @property
    def state_shape(self) -> tuple[int, ...]:
        """Shape of one state in its natural form: ``()`` (an index or an angle), ``(k,)``, ``(3, 3)``."""
        if self.is_finite:
            return ()
        if self.base_point is not None:
            return (len(self.base_point),)
        return tuple(self.group.identity(1).shape[1:])

    @property
    def state_dim(self) -> int:
        """Number of columns the factor takes in a world's state tensor."""
        return math.prod(self.state_shape)

    @property
    def standard(self) -> Representation:
        """The representation moving the base point (Lie factors with ``base_point``)."""
        return self.group.representation("standard")

    def identity_state(self) -> torch.Tensor:
        """The state of the identity element (index 0, or the base point): ``(1, state_dim)`` columns."""
        if self.is_finite:
            return torch.zeros(1, 1, dtype=torch.long)
        if self.base_point is not None:
            return torch.tensor([self.base_point], dtype=torch.float64)
        return self.group.identity(1).to(torch.float64).reshape(1, -1)

    # ---- states ----------------------------------------------------------------------------------
    def natural(self, cols: torch.Tensor) -> torch.Tensor:
        """The factor's columns ``(n, state_dim)`` in natural form: indices ``(n,)``, angles, matrices, points."""
        if self.is_finite:
            return cols[:, 0].long()
        return cols.reshape(len(cols), *self.state_shape)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` states (columns ``(n, state_dim)``; int64 for finite factors, float64 otherwise), Haar-uniform."""
        if self.is_finite:
            return torch.randint(self.size, (n, 1), generator=generator)
        return self.state_of(self.group.sample(n, generator=generator))

    def state_of(self, g: torch.Tensor) -> torch.Tensor:
        """The states ``(n, state_dim)`` of Lie group elements ``g``: ``g`` itself (float64), or ``ρ(g) p``."""
        if self.base_point is None:
            return self._element64(g).reshape(len(g), -1)
        p = torch.tensor(self.base_point, dtype=torch.float64)
        return self.standard(g, torch.float64) @ p

    def _element64(self, g: torch.Tensor) -> torch.Tensor:
        """Elements in float64; rotation matrices (float32 from ``SO3.sample``, or after products) are
        replaced by the nearest rotation ``U Vᵀ`` (polar decomposition), so states stay in SO(3) to 1e-15."""
        g = g.to(torch.float64)
        if not isinstance(self.group, SO3):
            return g
        u, _, vt = torch.linalg.svd(g)
        return u @ vt

    def act(self, g, cols: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(g · s, valid)`` for a batch of elements ``g`` and the factor's columns ``cols`` of the states."""
        n = len(cols)
        valid = torch.ones(n, dtype=torch.bool)
        if isinstance(self.group, Cyclic):
            s, shift = cols[:, 0], g.long()
            if self.periodic:
                return torch.remainder(s + shift, self.size)[:, None], valid
            # a bounded factor: the element k of C_size is read as the shift k (k < size/2) or k - size
            signed = torch.where(shift > self.size // 2, shift - self.size, shift)
            moved = s + signed
            valid = (moved >= 0) & (moved < self.size)
            return torch.where(valid, moved, s)[:, None], valid
        if self.is_finite:
            elems = self.group.take(self.group.elements(), cols[:, 0])
            return self.group.index(self.group.compose(g, elems))[:, None], valid
        if self.base_point is not None:
            return (self.standard(g, torch.float64) @ cols[:, :, None])[:, :, 0], valid
        moved = self._element64(self.group.compose(g.to(torch.float64), self.natural(cols)))
        return moved.reshape(n, -1), valid

    def validate(self, cols: torch.Tensor, name: str) -> None:
        """Check the factor's columns (integers in range, group elements, or points on the orbit)."""
        if self.is_finite:
            col = cols[:, 0]
            if cols.dtype.is_floating_point and not bool((col == torch.round(col)).all()):
                raise ValueError(f"{name}: factor {self.name!r} needs integer state indices, got non-integers")
            if col.numel() and (float(col.min()) < 0 or float(col.max()) >= self.size):
                raise ValueError(f"{name}: factor {self.name!r} indices must lie in [0, {self.size}), got range "
                                 f"[{float(col.min()):g}, {float(col.max()):g}]")
            return
        if self.base_point is None:
            self.group.validate(self.natural(cols), f"{name}[{self.name!r}]")
            return
        norm = float(torch.tensor(self.base_point, dtype=torch.float64).norm())
        err = (cols.norm(dim=1) - norm).abs()
        if err.numel() and float(err.max()) > ORBIT_RTOL * norm:
            raise ValueError(f"{name}: factor {self.name!r} states must lie on the orbit of {self.base_point} "
                             f"(norm {norm:g}), got norms off by up to {float(err.max()):.3g}")


def factor_label(f: Factor) -> str:
    """Short description of a factor's group, e.g. ``C8``, ``D4``, ``SO(3)``, ``SO(3)·p``."""
    g = f.group
    names = {"Cyclic": "C", "Dihedral": "D"}
    kind = type(g).__name__
    if kind in names:
        label = f"{names[kind]}{g.n}" + ("" if f.periodic else " (bounded)")
    else:
        label = {"SO2": "SO(2)", "SO3": "SO(3)"}.get(kind, f"T^{getattr(g, 'k', '?')}")
    return label + ("·p" if f.base_point is not None else "")
