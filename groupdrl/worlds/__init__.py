"""Ground-truth worlds (``groupdrl.worlds``): factors, the group acting on them, renderers, data.

Built-ins are procedural (no download): :func:`dsprites`, :func:`shapes3d`, :func:`flatland`,
:func:`arrow` and :func:`vector_world`; :func:`get` builds one by name. Loaders read the
original dSprites / Shapes3D files when a user has them.
"""
from __future__ import annotations

from typing import Callable

from groupdrl.worlds.arrow import arrow
from groupdrl.worlds.data import ObservationDataset, TransitionDataset, render_grid
from groupdrl.worlds.dsprites import dsprites
from groupdrl.worlds.flatland import flatland
from groupdrl.worlds.loaders import load_dsprites, load_shapes3d
from groupdrl.worlds.shapes3d import shapes3d
from groupdrl.worlds.vector import vector_world
from groupdrl.worlds.world import Factor, World

_REGISTRY: dict[str, Callable[..., World]] = {
    "arrow": arrow,
    "dsprites": dsprites,
    "flatland": flatland,
    "shapes3d": shapes3d,
    "vector": vector_world,
}


def names() -> list[str]:
    """Names of the built-in worlds accepted by :func:`get`."""
    return sorted(_REGISTRY)


def get(name: str, **kwargs) -> World:
    """Build the built-in world ``name`` with keyword arguments ``kwargs`` (e.g. ``image_size=32``)."""
    if name not in _REGISTRY:
        raise ValueError(f"name: unknown world {name!r}; expected one of {names()}")
    return _REGISTRY[name](**kwargs)


__all__ = ["Factor", "ObservationDataset", "TransitionDataset", "World", "arrow", "dsprites", "flatland", "get",
           "load_dsprites", "load_shapes3d", "names", "render_grid", "shapes3d", "vector_world"]
