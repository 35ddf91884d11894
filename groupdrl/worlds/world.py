"""Ground-truth worlds: discrete factors, the group acting on them, and a renderer."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from groupdrl.groups import Cyclic, Group, Product


@dataclass(frozen=True)
class Factor:
    """One factor of variation with ``size`` discrete values (state index in ``[0, size)``).

    ``group`` acts on the index by ``i ↦ i + g`` (default ``Cyclic(size)``). A ``periodic``
    factor wraps around (a group action); a bounded one (``periodic=False``, e.g. dSprites
    position) only has a partial action: a move leaving ``[0, size)`` is invalid.
    ``values`` optionally holds the physical value of each index (e.g. the scale).
    """

    name: str
    size: int
    group: Group | None = None
    periodic: bool = True
    values: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"name: expected an identifier string, got {self.name!r}")
        if not isinstance(self.size, int) or self.size < 1:
            raise ValueError(f"size: expected a positive int for factor {self.name!r}, got {self.size!r}")
        if self.group is None:
            object.__setattr__(self, "group", Cyclic(self.size))
        if not isinstance(self.group, Cyclic) or self.group.n != self.size:
            raise ValueError(f"group: factor {self.name!r} needs Cyclic({self.size}) acting on its index, "
                             f"got {self.group!r}")
        if self.values is not None and len(self.values) != self.size:
            raise ValueError(f"values: factor {self.name!r} needs {self.size} values, got {len(self.values)}")


class World:
    """A world ``W`` of factor states, a group ``G = Π_i G_i`` acting on it and a renderer.

    Parameters
    ----------
    factors : sequence of Factor
        The factors of variation; states are int64 ``(n, k)`` factor indices.
    render : callable
        ``render(states) -> (n, *observation_shape)`` float tensor.
    name : str, optional

    Examples
    --------
    >>> w = World([Factor("a", 8), Factor("b", 5)], render=lambda s: s.float())
    >>> w.render(w.sample_states(3, generator=torch.Generator().manual_seed(0))).shape
    torch.Size([3, 2])
    """

    def __init__(self, factors, render: Callable[[torch.Tensor], torch.Tensor], name: str | None = None) -> None:
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
        self._observation_shape: tuple[int, ...] | None = None

    def __repr__(self) -> str:
        return f"World({self.name!r}, " + ", ".join(f"{f.name}={f.size}" for f in self.factors) + ")"

    @property
    def factor_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.factors)

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(f.size for f in self.factors)

    @property
    def num_states(self) -> int:
        out = 1
        for s in self.sizes:
            out *= s
        return out

    @property
    def observation_shape(self) -> tuple[int, ...]:
        if self._observation_shape is None:
            self._observation_shape = tuple(self.render(torch.zeros(1, len(self.factors), dtype=torch.long)).shape[1:])
        return self._observation_shape

    def validate_states(self, states, name: str = "states") -> torch.Tensor:
        """Check an int64 ``(n, k)`` batch of factor indices within the factor sizes."""
        if not isinstance(states, torch.Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor, got {type(states).__name__}")
        if states.dtype.is_floating_point or states.dtype == torch.bool:
            raise TypeError(f"{name}: expected integer factor indices, got dtype {states.dtype}")
        k = len(self.factors)
        if states.dim() != 2 or states.shape[1] != k:
            raise ValueError(f"{name}: expected shape (n, {k}) for factors {list(self.factor_names)}, "
                             f"got {tuple(states.shape)}")
        sizes = torch.tensor(self.sizes)
        if states.numel() and (bool((states < 0).any()) or bool((states >= sizes).any())):
            raise ValueError(f"{name}: factor indices out of range; sizes are {dict(zip(self.factor_names, self.sizes))}")
        return states.long()

    def render(self, states: torch.Tensor) -> torch.Tensor:
        """Observations of ``states`` (int64 ``(n, k)``)."""
        return self._render(self.validate_states(states))

    def act(self, g: dict, states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Apply ``g`` (a batch of ``self.group`` elements) to ``states``.

        Returns ``(new_states, valid)``; ``valid`` is False where a bounded factor would
        leave its range (such states are left unchanged in that factor).
        """
        states = self.validate_states(states)
        self.group.validate(g, "g")
        if self.group.batch_size(g) != len(states):
            raise ValueError(f"g: batch of {self.group.batch_size(g)} elements for {len(states)} states")
        new = states.clone()
        valid = torch.ones(len(states), dtype=torch.bool)
        for i, f in enumerate(self.factors):
            shift = g[f.name].long()
            if f.periodic:
                new[:, i] = torch.remainder(states[:, i] + shift, f.size)
            else:
                # a bounded factor: the element k of C_size is read as the shift k (k < size/2) or k - size
                signed = torch.where(shift > f.size // 2, shift - f.size, shift)
                moved = states[:, i] + signed
                ok = (moved >= 0) & (moved < f.size)
                new[:, i] = torch.where(ok, moved, states[:, i])
                valid &= ok
        return new, valid

    def sample_states(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` states drawn uniformly from the factor grid."""
        if not isinstance(n, int) or n < 0:
            raise ValueError(f"n: expected a non-negative int, got {n!r}")
        return torch.stack([torch.randint(f.size, (n,), generator=generator) for f in self.factors], 1)

    def all_states(self) -> torch.Tensor:
        """Every state, in full-grid order (index = Σ_i s_i Π_{j>i} size_j)."""
        return torch.cartesian_prod(*[torch.arange(s) for s in self.sizes]).reshape(-1, len(self.factors))

    def state_index(self, states: torch.Tensor) -> torch.Tensor:
        """Position of each state in ``all_states()``."""
        states = self.validate_states(states)
        out = torch.zeros(len(states), dtype=torch.long)
        for i, s in enumerate(self.sizes):
            out = out * s + states[:, i]
        return out

    def states_at(self, index: torch.Tensor) -> torch.Tensor:
        """The states at positions ``index`` of ``all_states()`` (the inverse of ``state_index``)."""
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
