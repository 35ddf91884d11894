"""Datasets of observations ``(x, state)`` and transitions ``(x, g, g·x)`` of a world.

Transitions are what learning and verifying an action need: still observations cannot
identify it (Caselles-Dupré et al. 2019, Thm 1). Both datasets are map-style torch
``Dataset``s (items drawn once from ``seed``, rendered on the fly, batched through
``__getitems__`` so a ``DataLoader`` renders a whole batch at once) and offer
``sample_batch(batch_size, generator)`` which draws fresh batches as dicts of tensors for
training loops. Group elements use the ``Product`` format: ``{factor: batch of that factor}``
(int64 indices for cyclic factors). Worlds with continuous factors have no full grid: they need
``n`` and no cache.
"""
from __future__ import annotations

import torch
from torch.utils.data import Dataset

from groupdrl.worlds.world import World

ACTIONS = ("uniform", "subgroup", "generators")
_MAX_RESAMPLE = 10_000


def render_grid(world: World, batch_size: int = 1024) -> torch.Tensor:
    """Observations of ``world.all_states()`` in full-grid order, rendered ``batch_size`` at a time.

    Stored as uint8 (``round(255 x)``) when that is lossless for every image (binary or
    8-bit worlds: 4× less memory), else as float32. Row ``i`` is grid position ``i``; a world with a
    ``support`` leaves the rows of missing states zero. Moderate batches keep each temporary
    (1024 × 64 × 64 floats = 16 MB) small enough for the allocator to reuse; larger ones
    are freshly mapped from the OS every batch and cost more in page faults than in rendering.
    """
    if not isinstance(world, World):
        raise TypeError(f"world: expected a groupdrl World, got {type(world).__name__}")
    out: torch.Tensor | None = None
    positions = torch.arange(world.num_states) if world.support is None else world.support
    for start in range(0, len(positions), batch_size):
        rows = positions[start:start + batch_size]
        x = world.render(world.states_at(rows))
        q = (x * 255).round_().clamp_(0, 255)
        exact = torch.equal(q / 255, x)
        if out is None:
            out = torch.zeros((world.num_states, *x.shape[1:]), dtype=torch.uint8 if exact else torch.float32)
        elif out.dtype == torch.uint8 and not exact:
            out = out.float().div_(255)
        out[rows] = q.to(torch.uint8) if out.dtype == torch.uint8 else x
    return out


def _generator(seed: int | None) -> torch.Generator:
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise TypeError(f"seed: expected an int or None, got {type(seed).__name__}")
    g = torch.Generator()
    if seed is None:
        g.seed()
    else:
        g.manual_seed(seed)
    return g


def _select(mask: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a`` where ``mask`` (one bool per batch row), else ``b`` (element batches of any shape)."""
    return torch.where(mask.reshape(-1, *[1] * (a.dim() - 1)), a, b)


def generator_steps(group, sign: torch.Tensor, generator: torch.Generator | None):
    """A generator of ``group`` (one at random when it has several) where ``sign > 0``, else its inverse."""
    gens = group.generators()
    m = group.batch_size(gens)
    pick = torch.zeros(len(sign), dtype=torch.long) if m == 1 else torch.randint(m, (len(sign),), generator=generator)
    step = group.take(gens, pick)
    return _select(sign > 0, step, group.inverse(step))


def draw_actions(world: World, b: int, factors: tuple[str, ...], mode: str,
                 generator: torch.Generator | None) -> dict:
    """``b`` elements of the subgroup on ``factors`` (identity elsewhere), drawn as ``mode`` says.

    ``"uniform"``: Haar on each chosen factor; ``"subgroup"``: one chosen factor at random, uniform in
    it; ``"generators"``: a generator or its inverse of one chosen factor (a ±1 step of a cyclic factor).
    """
    group = world.group
    g = group.identity(b)
    if mode == "uniform":
        for f in factors:
            g[f] = group.factor(f).sample(b, generator=generator)
        return g
    which = torch.randint(len(factors), (b,), generator=generator)
    if mode == "subgroup":
        draws = [group.factor(f).sample(b, generator=generator) for f in factors]
    elif mode == "generators":
        sign = torch.randint(2, (b,), generator=generator) * 2 - 1
        draws = [generator_steps(group.factor(f), sign, generator) for f in factors]
    else:
        raise ValueError(f"actions: expected one of {ACTIONS}, got {mode!r}")
    for i, f in enumerate(factors):
        g[f] = _select(which == i, draws[i].to(g[f].dtype), g[f])
    return g


def valid_actions(world: World, states: torch.Tensor, factors: tuple[str, ...] | None = None,
                  mode: str = "uniform", generator: torch.Generator | None = None
                  ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Actions drawn by :func:`draw_actions` and redrawn where invalid, with the moved states ``g·s``.

    Each ``g`` is uniform among the moves of its mode that keep ``states`` in range (a bounded factor
    has only a partial action); periodic worlds never redraw.
    """
    factors = world.factor_names if factors is None else factors
    b = len(states)
    g = draw_actions(world, b, factors, mode, generator)
    new, valid = world.act(g, states)
    for _ in range(_MAX_RESAMPLE):
        if bool(valid.all()):
            return g, new
        bad = (~valid).nonzero()[:, 0]
        g_bad = draw_actions(world, len(bad), factors, mode, generator)
        new_bad, valid_bad = world.act(g_bad, states[bad])
        for f in g:
            g[f][bad] = g_bad[f]
        new[bad] = new_bad
        valid[bad] = valid_bad
    raise RuntimeError(f"no valid action on the factors {list(factors)} found after {_MAX_RESAMPLE} draws "
                       "for some states")


class _WorldData(Dataset):
    """Shared parts: the world, a renderer with optional full-grid cache, the sampling generator."""

    def __init__(self, world: World, seed: int | None, cache: bool) -> None:
        if not isinstance(world, World):
            raise TypeError(f"world: expected a groupdrl World, got {type(world).__name__}")
        if not isinstance(cache, bool):
            raise TypeError(f"cache: expected a bool, got {type(cache).__name__}")
        if cache and not world.is_finite:
            raise ValueError(f"cache: world {world.name!r} has continuous factors; there is no grid to cache")
        self.world = world
        self.seed = seed
        self._items_generator = _generator(seed)
        self._batch_generator = _generator(None if seed is None else seed + 1)
        self._cache = render_grid(world) if cache else None

    def render(self, states: torch.Tensor) -> torch.Tensor:
        """Observations of ``states`` (any leading shape ``(..., k)``), from the cache if there is one."""
        flat = states.reshape(-1, states.shape[-1])
        if self._cache is None:
            x = self.world.render(flat)
        else:
            x = self._cache[self.world.state_index(flat)]
            x = x.float() / 255 if x.dtype == torch.uint8 else x
        return x.reshape(*states.shape[:-1], *x.shape[1:])

    def _batch_gen(self, generator: torch.Generator | None) -> torch.Generator:
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator: expected a torch.Generator or None, got {type(generator).__name__}")
        return self._batch_generator if generator is None else generator

    def __getitems__(self, indices: list[int]) -> list:
        """A list of items rendered as one batch (used by ``DataLoader``)."""
        return self._items(torch.as_tensor(indices, dtype=torch.long))

    def __getitem__(self, index: int):
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for a dataset of {len(self)} items")
        return self._items(torch.tensor([index % len(self)]))[0]


def _check_batch_size(batch_size: object) -> int:
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive int, got {batch_size!r}")
    return batch_size


class ObservationDataset(_WorldData):
    """Observations of a world with their factor labels: items ``(x, state)``.

    Parameters
    ----------
    world : World
    n : int, optional
        Number of states drawn uniformly (with replacement) from ``seed``; ``None`` (default)
        gives every state once, in full-grid order (``world.all_states()``).
    seed : int, optional
        Seeds the drawn states and the default generator of ``sample_batch``.
    cache : bool
        Render the full grid once and serve observations from memory.

    Examples
    --------
    >>> from groupdrl.worlds import flatland
    >>> data = ObservationDataset(flatland(4, 16), seed=0)
    >>> len(data), data.sample_batch(8)["x"].shape
    (16, torch.Size([8, 1, 16, 16]))
    """

    def __init__(self, world: World, n: int | None = None, seed: int | None = 0, cache: bool = False) -> None:
        super().__init__(world, seed, cache)
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
            raise ValueError(f"n: expected a positive int or None, got {n!r}")
        if n is None and not world.is_finite:
            raise ValueError(f"n: world {world.name!r} has continuous factors and no grid of states; pass the number "
                             "of states to draw")
        self.states = None if n is None else world.sample_states(n, generator=self._items_generator)
        if n is None and world.support is not None:
            self.states = world.all_states()

    def __len__(self) -> int:
        return self.world.num_states if self.states is None else len(self.states)

    def _states(self, idx: torch.Tensor) -> torch.Tensor:
        return self.world.states_at(idx) if self.states is None else self.states[idx]

    def _items(self, idx: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        states = self._states(idx)
        return list(zip(self.render(states), states))

    def sample_batch(self, batch_size: int, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """``{"x": (b, *obs), "state": (b, k)}`` drawn uniformly from the dataset's states."""
        idx = torch.randint(len(self), (_check_batch_size(batch_size),), generator=self._batch_gen(generator))
        states = self._states(idx)
        return {"x": self.render(states), "state": states}


class TransitionDataset(_WorldData):
    """Transitions ``(x, g, g·x)`` of a world under a subgroup, over valid actions only.

    A state ``s`` is drawn uniformly from the grid, then ``g`` from the chosen subgroup
    (identity in the other factors) and redrawn until ``g·s`` is valid (a bounded factor
    must stay in range), so ``g`` is uniform among the valid moves of ``s``. With
    ``steps = T > 1`` an item is a trajectory ``s_0, g_1, s_1 = g_1·s_0, …, g_T, s_T``.

    Parameters
    ----------
    world : World
    subgroup : None, str or list of str
        Factors the actions move; ``None`` means the whole group.
    steps : int
        Number of actions T per item.
    n : int
        Number of items (drawn once from ``seed``).
    seed : int, optional
        Seeds the items and the default generator of ``sample_batch``.
    cache : bool
        Render the full grid once and serve observations from memory.
    actions : {"uniform", "subgroup", "generators"}
        How ``g`` is drawn (see :func:`draw_actions`): uniform on the subgroup, uniform in one
        chosen factor, or a generator or its inverse (step ±1) of one chosen factor.

<<<<<<< HEAD
    Notes
    -----
    Items are ``(x, g, gx)`` for ``steps == 1`` with ``g`` a dict ``{factor: int64 scalar}``,
=======
    Items are ``(x, g, gx)`` for ``steps == 1`` with ``g`` a dict ``{factor: element}`` (an int64
    scalar for a cyclic factor, a ``(3, 3)`` matrix for SO(3), …),
>>>>>>> main
    and ``(xs, gs)`` with ``xs`` ``(T+1, *obs)`` and ``gs`` ``{factor: (T,)}`` for
    ``steps > 1``; the default ``DataLoader`` collate stacks them along a batch dimension.

    Examples
    --------
    >>> from groupdrl.worlds import vector_world
    >>> data = TransitionDataset(vector_world((8, 8), names=("x", "y")), subgroup="x", seed=0)
    >>> b = data.sample_batch(4)
    >>> sorted(b), b["g"]["y"].tolist()
    (['g', 'gstate', 'gx', 'state', 'x'], [0, 0, 0, 0])
    """

    def __init__(self, world: World, subgroup: str | list[str] | tuple[str, ...] | None = None, steps: int = 1,
                 n: int = 10_000, seed: int | None = 0, cache: bool = False, actions: str = "uniform") -> None:
        if not isinstance(world, World):
            raise TypeError(f"world: expected a groupdrl World, got {type(world).__name__}")
        self.subgroup = _subgroup(world, subgroup)
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
            raise ValueError(f"steps: expected a positive int, got {steps!r}")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n: expected a positive int, got {n!r}")
        if actions not in ACTIONS:
            raise ValueError(f"actions: expected one of {ACTIONS}, got {actions!r}")
        self.steps = steps
        self.actions = actions
        super().__init__(world, seed, cache)
        self.states, self.g = self.sample_trajectories(n, self._items_generator)

    def __len__(self) -> int:
        return len(self.states)

    def sample_actions(self, states: torch.Tensor, generator: torch.Generator | None = None
                       ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Valid actions ``g`` of the subgroup on ``states`` ``(b, k)`` and the states ``g·s``."""
        return valid_actions(self.world, states, self.subgroup, self.actions, generator)

    def sample_trajectories(self, b: int, generator: torch.Generator | None = None
                            ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """States ``(b, T+1, k)`` and actions ``{factor: (b, T)}`` with ``s_t = g_t · s_{t-1}``."""
        states = [self.world.sample_states(b, generator=generator)]
        gs = []
        for _ in range(self.steps):
            g, new = self.sample_actions(states[-1], generator)
            gs.append(g)
            states.append(new)
        return torch.stack(states, 1), {f: torch.stack([g[f] for g in gs], 1) for f in self.world.factor_names}

    def _pack(self, states: torch.Tensor, g: dict[str, torch.Tensor]) -> dict:
        x = self.render(states)
        if self.steps == 1:
            return {"x": x[:, 0], "g": {f: v[:, 0] for f, v in g.items()}, "gx": x[:, 1],
                    "state": states[:, 0], "gstate": states[:, 1]}
        return {"x": x, "g": g, "state": states}

    def _items(self, idx: torch.Tensor) -> list[tuple]:
        batch = self._pack(self.states[idx], {f: v[idx] for f, v in self.g.items()})
        g = [{f: v[i] for f, v in batch["g"].items()} for i in range(len(idx))]
        if self.steps == 1:
            return list(zip(batch["x"], g, batch["gx"]))
        return list(zip(batch["x"], g))

    def sample_batch(self, batch_size: int, generator: torch.Generator | None = None) -> dict:
        """A fresh batch of transitions as a dict of tensors.

        ``steps == 1``: ``{"x", "g", "gx", "state", "gstate"}`` with ``x``/``gx`` ``(b, *obs)``,
        ``g`` ``{factor: (b, *element_shape)}`` and states ``(b, D)``. ``steps = T > 1``: ``{"x": (b, T+1, *obs),
        "g": {factor: (b, T)}, "state": (b, T+1, k)}`` with ``x[:, t] = g[:, t-1] · x[:, t-1]``.
        """
        states, g = self.sample_trajectories(_check_batch_size(batch_size), self._batch_gen(generator))
        return self._pack(states, g)


def _subgroup(world: World, subgroup) -> tuple[str, ...]:
    names = world.factor_names
    if subgroup is None:
        return names
    chosen = (subgroup,) if isinstance(subgroup, str) else tuple(subgroup)
    unknown = [f for f in chosen if f not in names]
    if not chosen or unknown or len(set(chosen)) != len(chosen):
        raise ValueError(f"subgroup: expected None, a factor name or a list of distinct factor names of "
                         f"{list(names)}, got {subgroup!r}")
    return tuple(f for f in names if f in chosen)
