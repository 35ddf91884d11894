"""Ground-truth worlds: factors, the group acting on them, and a renderer."""
from __future__ import annotations

from typing import Callable

import torch

from groupdrl.groups import Cyclic, Product
from groupdrl.worlds.factor import Factor, factor_label

__all__ = ["Factor", "World", "check_render", "factor_label"]


def check_render(x: object, n: int, shape: tuple[int, ...] | None, world: str) -> torch.Tensor:
    """Validate what a renderer returned for ``n`` states: a real floating ``(n, *shape)`` tensor, all finite.

    Finiteness costs one reduction (``x.sum()`` is finite unless some entry is NaN/inf or the sum
    overflows, which the exact per-entry check then tells apart).
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"render: world {world!r} returned {type(x).__name__}; expected a torch.Tensor of observations")
    if not x.dtype.is_floating_point:
        raise TypeError(f"render: world {world!r} returned dtype {x.dtype}; expected a real floating tensor "
                        "(e.g. float32) of observations")
    if x.dim() < 2 or x.shape[0] != n:
        raise ValueError(f"render: world {world!r} returned shape {tuple(x.shape)} for {n} states; expected "
                         f"({n}, *observation_shape)")
    if shape is not None and tuple(x.shape[1:]) != shape:
        raise ValueError(f"render: world {world!r} returned observations of shape {tuple(x.shape[1:])}; "
                         f"earlier ones had shape {shape}")
    if not bool(torch.isfinite(x.sum())):
        bad = ~torch.isfinite(x.reshape(n, -1)).all(1)
        if bool(bad.any()):
            raise ValueError(f"render: world {world!r} returned NaN or inf for {int(bad.sum())} of {n} states "
                             f"(first at row {int(bad.nonzero()[0, 0])})")
    return x


class World:
    """A world ``W`` of factor states, a group ``G = Π_i G_i`` acting on it and a renderer.

    States are one tensor ``(n, D)``: factor ``i`` takes the columns ``state_columns[name]``. A world
    of finite factors has int64 states ``(n, k)`` of indices (one column per factor); a world with a
    compact Lie factor has float64 states, a finite factor's index stored as an exact integer and a
    Lie factor's state flattened (an angle; the 9 entries of a rotation matrix, row by row; a point).
    ``factor_states(states)`` returns each factor's part in its natural form.

    Parameters
    ----------
    factors : sequence of Factor
        The factors of variation (see :class:`Factor`).
    render : callable
        ``render(states) -> (n, *observation_shape)`` real floating tensor (checked: dtype, batch
        size, shape and finiteness; a wrong one raises naming the world).
    name : str, optional
    support : bool array, optional
        Finite worlds only: which states of the grid exist, as a bool mask of shape ``sizes`` (or flat,
        in full-grid order); ``None`` (default) means all of them. A world with a smaller support (e.g.
        a dataset whose grid of factor values is incomplete, see :func:`~groupdrl.worlds.from_arrays`)
        samples only its states, refuses others (``validate_states``), and its action is partial: a move
        is valid iff the target state exists (``act``'s mask).

    Examples
    --------
    >>> w = World([Factor("a", 8), Factor("b", 5)], render=lambda s: s.float())
    >>> w.render(w.sample_states(3, generator=torch.Generator().manual_seed(0))).shape
    torch.Size([3, 2])
    """

    def __init__(self, factors, render: Callable[[torch.Tensor], torch.Tensor], name: str | None = None,
                 support=None) -> None:
        factors = tuple(factors)
        if not factors or not all(isinstance(f, Factor) for f in factors):
            raise TypeError("factors: expected a non-empty sequence of Factor")
        names = [f.name for f in factors]
        if len(set(names)) != len(names):
            raise ValueError(f"factors: duplicate factor names {names}")
        if not callable(render):
            raise TypeError(f"render: expected a callable, got {type(render).__name__}")
        self.factors = factors
        self._render = render
        self.name = name or "world"
        self.group = Product(**{f.name: f.group for f in factors})
        self.is_finite = all(f.is_finite for f in factors)
        self.state_dtype = torch.long if self.is_finite else torch.float64
        self.state_columns: dict[str, slice] = {}
        start = 0
        for f in factors:
            self.state_columns[f.name] = slice(start, start + f.state_dim)
            start += f.state_dim
        self.state_dim = start
        self._observation_shape: tuple[int, ...] | None = None
        self._present: torch.Tensor | None = None
        #: Sorted grid positions (``state_index``) of the states that exist, or ``None``: the whole grid.
        self.support: torch.Tensor | None = None
        if support is not None:
            self._set_support(support)

    def _set_support(self, support) -> None:
        self._finite("support")
        mask = support if isinstance(support, torch.Tensor) else torch.tensor(support)
        if mask.dtype != torch.bool:
            raise TypeError(f"support: expected a bool mask of the grid, got dtype {mask.dtype}")
        if tuple(mask.shape) not in (self.sizes, (self.num_states,)):
            raise ValueError(f"support: expected a bool mask of shape {self.sizes} (the grid) or "
                             f"({self.num_states},), got {tuple(mask.shape)}")
        mask = mask.reshape(-1).clone()
        if not bool(mask.any()):
            raise ValueError("support: no state exists (the mask is all False)")
        if not bool(mask.all()):
            self._present = mask
            self.support = torch.nonzero(mask).flatten()

    def __repr__(self) -> str:
        partial = "" if self.support is None else f", {len(self.support)} of {self.num_states} states"
        return f"World({self.name!r}, " + ", ".join(
            f"{f.name}={f.size}" if isinstance(f.group, Cyclic) else f"{f.name}={factor_label(f)}"
            for f in self.factors) + partial + ")"

    @property
    def factor_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.factors)

    def _finite(self, what: str) -> None:
        if not self.is_finite:
            lie = [f"{f.name} ({f.group!r})" for f in self.factors if not f.is_finite]
            raise ValueError(f"{what}: world {self.name!r} has continuous factors {lie}; it has no finite grid of "
                             "states (sample them with sample_states)")

    @property
    def sizes(self) -> tuple[int, ...]:
        """Number of states of each factor (finite worlds only)."""
        self._finite("sizes")
        return tuple(f.size for f in self.factors)

    @property
    def num_states(self) -> int:
        """Number of grid positions (``Π sizes``); a world with a ``support`` has ``len(support)`` of them."""
        self._finite("num_states")
        out = 1
        for s in self.sizes:
            out *= s
        return out

    @property
    def observation_shape(self) -> tuple[int, ...]:
        if self._observation_shape is None:
            self.render(self.identity_state())
        return self._observation_shape

    def identity_state(self) -> torch.Tensor:
        """The state ``(1, D)`` every factor has at its identity (index 0, the identity element, the base point)."""
        return torch.cat([f.identity_state() for f in self.factors], 1).to(self.state_dtype)

    def factor_states(self, states: torch.Tensor) -> dict[str, torch.Tensor]:
        """Each factor's part of ``states`` in natural form: indices ``(n,)``, angles, matrices, points."""
        return {f.name: f.natural(states[:, self.state_columns[f.name]]) for f in self.factors}

    def validate_states(self, states, name: str = "states") -> torch.Tensor:
        """Check a batch of states ``(n, D)`` (see the class docstring); return it as ``state_dtype``."""
        if not isinstance(states, torch.Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor, got {type(states).__name__}")
        if self.is_finite and (states.dtype.is_floating_point or states.dtype.is_complex or states.dtype == torch.bool):
            raise TypeError(f"{name}: expected integer factor indices, got dtype {states.dtype}")
        if not self.is_finite and not states.dtype.is_floating_point:
            raise TypeError(f"{name}: world {self.name!r} has continuous factors; expected a floating tensor of "
                            f"states, got dtype {states.dtype}")
        if states.dim() != 2 or states.shape[1] != self.state_dim:
            layout = {k: (s.stop - s.start) for k, s in self.state_columns.items()}
            raise ValueError(f"{name}: expected shape (n, {self.state_dim}) (columns per factor {layout}), "
                             f"got {tuple(states.shape)}")
        if self.is_finite:
            sizes = torch.tensor(self.sizes)
            if states.numel() and (bool((states < 0).any()) or bool((states >= sizes).any())):
                raise ValueError(f"{name}: factor indices out of range; sizes are "
                                 f"{dict(zip(self.factor_names, self.sizes))}")
            states = states.long()
            if self._present is not None and states.numel():
                missing = ~self._present[self._grid_index(states)]
                if bool(missing.any()):
                    first = dict(zip(self.factor_names, states[missing][0].tolist()))
                    raise ValueError(f"{name}: {int(missing.sum())} of {len(states)} states are not in world "
                                     f"{self.name!r}, which has {len(self.support)} of the {self.num_states} "
                                     f"states of its grid (first missing: {first})")
            return states
        states = states.to(torch.float64)
        if not bool(torch.isfinite(states).all()):
            raise ValueError(f"{name}: contains NaN or inf")
        for f in self.factors:
            f.validate(states[:, self.state_columns[f.name]], name)
        return states

    def render(self, states: torch.Tensor) -> torch.Tensor:
        """Observations ``(n, *observation_shape)`` of ``states`` (checked; see :func:`check_render`)."""
        states = self.validate_states(states)
        x = check_render(self._render(states), len(states), self._observation_shape, self.name)
        if self._observation_shape is None:
            self._observation_shape = tuple(x.shape[1:])
        return x

    def act(self, g: dict, states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Apply ``g`` (a batch of ``self.group`` elements) to ``states``.

        Returns ``(new_states, valid)``; ``valid`` is False where a bounded factor would
        leave its range (such states are left unchanged in that factor) and, in a world with a
        ``support``, where the target state does not exist (such states are left unchanged).
        """
        states = self.validate_states(states)
        self.group.validate(g, "g")
        if self.group.batch_size(g) != len(states):
            raise ValueError(f"g: batch of {self.group.batch_size(g)} elements for {len(states)} states")
        new = states.clone()
        valid = torch.ones(len(states), dtype=torch.bool)
        for f in self.factors:
            cols = self.state_columns[f.name]
            part = states[:, cols]
            moved, ok = f.act(g[f.name], part.long() if f.is_finite else part)
            new[:, cols] = moved.to(new.dtype)
            valid &= ok
        if self._present is not None:  # a move is valid iff its target exists; else the state stays
            exists = self._present[self._grid_index(new)]
            new = torch.where(exists[:, None], new, states)
            valid &= exists
        return new, valid

    def sample_states(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` states drawn uniformly from the world's states (Haar measure on continuous factors)."""
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"n: expected a non-negative int, got {n!r}")
        if self.support is not None:
            return self.states_at(self.support[torch.randint(len(self.support), (n,), generator=generator)])
        return torch.cat([f.sample(n, generator=generator).to(self.state_dtype) for f in self.factors], 1)

    def all_states(self) -> torch.Tensor:
        """Every state, in full-grid order (index = Σ_i s_i Π_{j>i} size_j); finite worlds only.

        A world with a ``support`` gives the states that exist, still in grid order.
        """
        self._finite("all_states")
        if self.support is not None:
            return self.states_at(self.support)
        return torch.cartesian_prod(*[torch.arange(s) for s in self.sizes]).reshape(-1, len(self.factors))

    def state_index(self, states: torch.Tensor) -> torch.Tensor:
        """Grid position of each state, ``Σ_i s_i Π_{j>i} size_j`` (finite worlds only)."""
        self._finite("state_index")
        return self._grid_index(self.validate_states(states))

    def _grid_index(self, states: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(len(states), dtype=torch.long)
        for i, s in enumerate(self.sizes):
            out = out * s + states[:, i]
        return out

    def states_at(self, index: torch.Tensor) -> torch.Tensor:
        """The states at grid positions ``index`` (the inverse of ``state_index``)."""
        index = torch.as_tensor(index)
        if index.dtype.is_floating_point or index.dtype == torch.bool:
            raise TypeError(f"index: expected integer positions, got dtype {index.dtype}")
        index = index.long().reshape(-1)
        if index.numel() and (bool((index < 0).any()) or bool((index >= self.num_states).any())):
            raise ValueError(f"index: positions must lie in [0, {self.num_states}) for {self!r}")
        cols = []
        for s in reversed(self.sizes):
            cols.append(torch.remainder(index, s))
            index = torch.div(index, s, rounding_mode="floor")
        return torch.stack(cols[::-1], 1)
