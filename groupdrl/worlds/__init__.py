"""Ground-truth worlds (``groupdrl.worlds``): factors, the group acting on them, renderers, data.

Built-ins are procedural (no download): :func:`dsprites`, :func:`shapes3d`, :func:`flatland`,
:func:`arrow` and :func:`vector_world` (cyclic factors), :func:`dihedral_shape` (D_N × C_M),
:func:`arrow_continuous` (SO(2) × SO(2)) and :func:`so3_object` (SO(3) × C_M); :func:`get` builds
one by name. Loaders read the
original dSprites / Shapes3D files when a user has them; :func:`from_arrays` (and :func:`load_arrays`, an
``.npz`` file) makes a world of your own labelled observations.
"""
from __future__ import annotations

from typing import Callable

from groupdrl.worlds.arrays import from_arrays, load_arrays
from groupdrl.worlds.arrow import arrow, arrow_continuous
from groupdrl.worlds.data import ObservationDataset, TransitionDataset, render_grid
from groupdrl.worlds.dihedral_shape import dihedral_shape
from groupdrl.worlds.dsprites import dsprites
from groupdrl.worlds.flatland import flatland
from groupdrl.worlds.loaders import load_dsprites, load_shapes3d
from groupdrl.worlds.shapes3d import shapes3d
from groupdrl.worlds.so3_object import so3_object
from groupdrl.worlds.vector import vector_world
from groupdrl.worlds.world import Factor, World, factor_label

_REGISTRY: dict[str, Callable[..., World]] = {
    "arrow": arrow,
    "arrow_continuous": arrow_continuous,
    "dihedral_shape": dihedral_shape,
    "dsprites": dsprites,
    "flatland": flatland,
    "shapes3d": shapes3d,
    "so3_object": so3_object,
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


__all__ = ["Factor", "ObservationDataset", "TransitionDataset", "World", "arrow", "arrow_continuous", "dihedral_shape",
           "dsprites", "factor_label", "flatland", "from_arrays", "get", "load_arrays", "load_dsprites", "load_shapes3d", "names", "render_grid",
           "shapes3d", "so3_object", "vector_world"]
