"""Batches drawn from a world for each kind of model, reproducible from a ``torch.Generator``.

Kinds (``Model.data``) and the dicts they produce (``n`` = batch size, ``T`` = ``length``):

- ``"observations"``: ``{"x": (n, *obs), "states": (n, k)}``;
- ``"transitions"``: ``{"x": (n, *obs), "g": {factor: (n,)}, "x_next": (n, *obs)}`` with
  ``x_next = render(g · state)``;
- ``"sequences"``: ``{"x": (n, T + 1, *obs), "g": {factor: (n, T)}}`` with
  ``x[:, t] = render(g[:, t-1] · state_{t-1})``;
- ``"labelled+unlabelled"`` (LSBD-VAE): ``{"x": (n, *obs), "x_sets": (b, M, *obs), "g_sets": {factor: (b, M)}}``,
  ``b = max(1, n // M)`` sets ``x_m = render(g_m · s_0)`` of ``M = set_size`` observations of one base state.

Group elements come from ``steps``: ``"uniform"`` (Haar on the whole product group), ``"subgroup"``
(uniform in one random factor, identity elsewhere) or ``"generators"`` (a generator or its inverse of one
random factor: the discrete actions of Caselles-Dupré et al. 2019 and Quessard et al. 2020), drawn by
:func:`groupdrl.worlds.data.valid_actions`: only valid moves, an invalid draw on a bounded factor is redrawn.
"""
from __future__ import annotations

import torch

from groupdrl.models.base import DATA_KINDS
from groupdrl.worlds.data import ACTIONS, render_grid, valid_actions



class WorldSampler:
    """Draws model batches from ``world``, rendering on the fly or from an in-memory cache of the grid.

    Parameters
    ----------
    world : World
    cache_bytes : int
        Render the whole state grid once (:func:`groupdrl.worlds.render_grid`) and index it when it takes
        at most this many bytes as float32; ``0`` disables the cache (so do continuous factors: no grid).
    """

    def __init__(self, world, cache_bytes: int = 512 * 2**20) -> None:
        self.world = world
        self.group = world.group
        self._cache: torch.Tensor | None = None
        numel = 1
        for s in world.observation_shape:
            numel *= int(s)
        if world.is_finite and world.num_states * numel * 4 <= cache_bytes:
            self._cache = render_grid(world)  # uint8 where lossless (binary / 8-bit worlds)

    def render(self, states: torch.Tensor) -> torch.Tensor:
        """Float observations of ``(n, D)`` states (from the cache when there is one)."""
        if self._cache is None:
            return self.world.render(states).float()
        x = self._cache[self.world.state_index(states)]
        return x.float().div_(255) if x.dtype == torch.uint8 else x

    def walk(self, n: int, length: int, steps: str, generator: torch.Generator) -> tuple[torch.Tensor, dict]:
        """``n`` walks of ``length`` steps: states ``(n, length + 1, k)`` and elements ``{factor: (n, length)}``."""
        s = self.world.sample_states(n, generator=generator)
        states, elems = [s], []
        for _ in range(length):
            g, s = valid_actions(self.world, s, None, steps, generator)
            states.append(s)
            elems.append(g)
        g = {k: torch.stack([e[k] for e in elems], 1) for k in self.group.factor_names}
        return torch.stack(states, 1), g

    def batch(self, kind: str, n: int, generator: torch.Generator, *, length: int = 1, steps: str = "uniform",
              set_size: int = 8) -> dict:
        """A batch of ``kind`` (see the module docstring) of size ``n`` drawn with ``generator``."""
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"batch_size: expected a positive int, got {n!r}")
        if steps not in ACTIONS:
            raise ValueError(f"steps: expected one of {list(ACTIONS)}, got {steps!r}")
        if kind == "observations":
            states = self.world.sample_states(n, generator=generator)
            return {"x": self.render(states), "states": states}
        if kind in ("transitions", "sequences"):
            length = 1 if kind == "transitions" else length
            if not isinstance(length, int) or length < 1:
                raise ValueError(f"length: expected a positive int, got {length!r}")
            states, g = self.walk(n, length, steps, generator)
            x = self.render(states.reshape(-1, states.shape[-1])).reshape(n, length + 1, *self.world.observation_shape)
            if kind == "transitions":
                return {"x": x[:, 0], "g": {k: v[:, 0] for k, v in g.items()}, "x_next": x[:, 1]}
            return {"x": x, "g": g}
        if kind == "labelled+unlabelled":
            if not isinstance(set_size, int) or set_size < 1:
                raise ValueError(f"set_size: expected a positive int, got {set_size!r}")
            b = max(1, n // set_size)
            x = self.render(self.world.sample_states(n, generator=generator))
            s0 = self.world.sample_states(b, generator=generator).repeat_interleave(set_size, 0)
            g, s = valid_actions(self.world, s0, None, steps, generator)
            x_sets = self.render(s).reshape(b, set_size, *self.world.observation_shape)
            return {"x": x, "x_sets": x_sets, "g_sets": {k: v.reshape(b, set_size, *v.shape[1:]) for k, v in g.items()}}
        raise ValueError(f"kind: expected one of {list(DATA_KINDS)}, got {kind!r}")


def to_device(batch: dict, device: torch.device,
              memory_format: torch.memory_format = torch.contiguous_format) -> dict:
    """Move every tensor of a (nested) batch dict to ``device``; 4-D tensors (image batches) in ``memory_format``."""
    return {k: (to_device(v, device, memory_format) if isinstance(v, dict) else
                v.to(device, non_blocking=True, memory_format=memory_format) if v.dim() == 4 else
                v.to(device, non_blocking=True))
            for k, v in batch.items()}
