"""A world from your own labelled data: observations and the factor values behind each one.

:func:`from_arrays` turns ``N`` observations (images) and their ``k`` factor values into a
:class:`~groupdrl.worlds.World`: each factor's distinct values, sorted, are its states ``0 … n_i − 1``
(a cyclic group ``C_{n_i}``, periodic or bounded), and rendering a state returns its observation. A
complete grid (every combination of values present once) is an ordinary world; an incomplete one has a
``support`` (the combinations present), so its action is partial: a move is valid iff the target state
is in the data. :func:`load_arrays` reads the same from an ``.npz`` file (``groupdrl verify --data``).
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from groupdrl.worlds.world import Factor, World

__all__ = ["from_arrays", "load_arrays", "MAX_GRID"]

#: Largest grid (product of the numbers of distinct values) a world from arrays may have.
MAX_GRID = 100_000_000


def _observations(images: Any) -> torch.Tensor:
    x = torch.from_numpy(np.asarray(images)) if not isinstance(images, torch.Tensor) else images.detach().cpu()
    if x.dim() < 2 or len(x) < 1:
        raise ValueError(f"images: expected an (N, *observation_shape) array, got shape {tuple(x.shape)}")
    if x.dtype == torch.uint8:
        return x
    if x.dtype == torch.bool:
        return x.to(torch.uint8) * 255
    if not x.dtype.is_floating_point:
        raise TypeError(f"images: expected uint8 (0-255), bool or floating values, got dtype {x.dtype}")
    x = x.to(torch.float32)
    if not bool(torch.isfinite(x).all()):
        raise ValueError("images: contains NaN or inf")
    return x


def _columns(factors: Any, names: Sequence[str] | None, n: int) -> tuple[list[str], list[np.ndarray]]:
    if isinstance(factors, Mapping):
        if names is not None:
            raise ValueError("names: give factor names as the keys of factors or as names=, not both")
        names, cols = list(factors), [np.asarray(v) for v in factors.values()]
        bad = {k: c.shape for k, c in zip(names, cols) if c.shape != (n,)}
        if bad:
            raise ValueError(f"factors: expected one value per image, arrays of shape ({n},), got {bad}")
    else:
        arr = np.asarray(factors.detach().cpu() if isinstance(factors, torch.Tensor) else factors)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[0] != n or arr.shape[1] < 1:
            raise ValueError(f"factors: expected an ({n}, k) array (one row of factor values per image), "
                             f"got shape {arr.shape}")
        cols = list(arr.T)
        names = [f"v{i}" for i in range(len(cols))] if names is None else list(names)
        if len(names) != len(cols):
            raise ValueError(f"names: expected {len(cols)} names (one per factor column), got {len(names)}")
    for name, c in zip(names, cols):
        if c.dtype.kind not in "biuf":
            raise TypeError(f"factors: values of {name!r} must be numbers, got dtype {c.dtype}")
        if c.dtype.kind == "f" and not np.isfinite(c).all():
            raise ValueError(f"factors: values of {name!r} contain NaN or inf")
    return [str(v) for v in names], cols


def _periodic(periodic: bool | Sequence[bool] | Mapping[str, bool], names: list[str]) -> list[bool]:
    if isinstance(periodic, bool):
        return [periodic] * len(names)
    if isinstance(periodic, Mapping):
        unknown = [k for k in periodic if k not in names]
        if unknown:
            raise ValueError(f"periodic: unknown factor names {unknown}; factors are {names}")
        out = [periodic.get(n, False) for n in names]
    else:
        out = list(periodic)
        if len(out) != len(names):
            raise ValueError(f"periodic: expected {len(names)} bools (one per factor), got {len(out)}")
    if not all(isinstance(p, (bool, np.bool_)) for p in out):
        raise TypeError(f"periodic: expected bools, got {out}")
    return [bool(p) for p in out]


def from_arrays(images: Any, factors: Any, *, names: Sequence[str] | None = None,
                periodic: bool | Sequence[bool] | Mapping[str, bool] = False, name: str = "data") -> World:
    """A :class:`~groupdrl.worlds.World` of ``N`` labelled observations.

    Parameters
    ----------
    images : array or tensor ``(N, *observation_shape)``
        One observation per row, e.g. ``(N, C, H, W)`` images (the built-in models read channels first;
        give grey images as ``(N, 1, H, W)``). uint8 is read as 0–255 and rendered in [0, 1]; floats are
        rendered as float32, unchanged.
    factors : ``(N, k)`` array, or dict ``{name: (N,) array}``
        The factor values behind each observation (any numbers: indices, positions, angles, scales).
        Factor ``i``'s distinct values, sorted, become its states ``0 … n_i − 1``; ``Factor.values``
        keeps them.
    names : sequence of str, optional
        Factor names for an array ``factors`` (default ``v0, v1, …``); identifiers.
    periodic : bool, sequence of bool or dict ``{name: bool}``
        Which factors wrap around (``C_{n_i}`` acts by cyclic shifts: an angle, a position on a torus).
        The others (default: all) are bounded: shifting past the first or last value is not a valid move.
    name : str
        The world's name in reports.

    Returns
    -------
    World
        Factors ``Factor(name, n_i, periodic=…, values=…)``; a complete grid (each combination of values
        exactly once) is an ordinary world, an incomplete one has a ``support`` (its action is partial:
        ``act`` marks a move invalid when the target state is not in the data).

    Raises
    ------
    ValueError
        Rows that disagree in number, two observations of the same factor values (keep one per state,
        e.g. with ``np.unique(factors, axis=0, return_index=True)``), NaN values, or a grid of more than
        ``MAX_GRID`` combinations (a factor with many distinct values is continuous: bin it first).

    Examples
    --------
    >>> import numpy as np
    >>> xs, ys = np.meshgrid(np.arange(4), np.arange(3), indexing="ij")
    >>> images = np.random.default_rng(0).random((12, 1, 8, 8))
    >>> w = from_arrays(images, {"x": xs.ravel(), "y": ys.ravel()}, periodic={"x": True})
    >>> w.sizes, w.support is None
    ((4, 3), True)
    >>> partial = from_arrays(images[:10], {"x": xs.ravel()[:10], "y": ys.ravel()[:10]})
    >>> len(partial.support), partial.num_states
    (10, 12)
    """
    x = _observations(images)
    n = len(x)
    factor_names, cols = _columns(factors, names, n)
    flags = _periodic(periodic, factor_names)
    values, codes = zip(*(np.unique(c, return_inverse=True) for c in cols))
    sizes = [len(v) for v in values]
    grid = math.prod(sizes)
    if grid > MAX_GRID:
        many = {k: s for k, s in zip(factor_names, sizes)}
        raise ValueError(f"factors: {grid:.3g} combinations of distinct values {many}, above {MAX_GRID:.0e}; a "
                         "factor with many distinct values is continuous: bin it into a few levels first")
    world_factors = [Factor(k, s, periodic=p, values=tuple(float(v) for v in vals))
                     for k, s, p, vals in zip(factor_names, sizes, flags, values)]
    index = np.zeros(n, dtype=np.int64)
    for c, s in zip(codes, sizes):
        index = index * s + c.reshape(-1)
    row = np.full(grid, -1, dtype=np.int64)
    row[index] = np.arange(n)
    if np.count_nonzero(row >= 0) != n:
        uniq, counts = np.unique(index, return_counts=True)
        dup = uniq[counts > 1][0]
        first = np.flatnonzero(index == dup)[:2].tolist()
        raise ValueError(f"factors: rows {first} have the same factor values "
                         f"{ {k: vals[c[first[0]]].item() for k, vals, c in zip(factor_names, values, codes)} }; "
                         "a world has one observation per state: keep one row per combination (e.g. "
                         "np.unique(factors, axis=0, return_index=True)) or add the factor that tells them apart")
    lookup = torch.from_numpy(row)

    def render(states: torch.Tensor) -> torch.Tensor:  # states are validated (in the support) by World.render
        obs = x[lookup[world._grid_index(states)]]
        return obs.float().div_(255) if obs.dtype == torch.uint8 else obs

    world = World(world_factors, render, name, support=None if n == grid else torch.from_numpy(row >= 0))
    return world


def load_arrays(path: str | os.PathLike, *, name: str | None = None) -> World:
    """:func:`from_arrays` on an ``.npz`` file: ``images`` ``(N, …)`` and ``factors`` ``(N, k)``, optionally
    ``names`` (k strings) and ``periodic`` (k bools). Read with ``allow_pickle=False`` (no code runs).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "data.npz")
    >>> np.savez(path, images=np.zeros((4, 1, 2, 2)) + np.arange(4)[:, None, None, None] / 4,
    ...          factors=np.arange(4)[:, None], names=np.array(["x"]), periodic=np.array([True]))
    >>> load_arrays(path)
    World('data', x=4)
    """
    path = os.fspath(path)
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise ValueError(f"path: cannot read {path!r} as an .npz file of arrays ({err})") from None
    with data:
        missing = [k for k in ("images", "factors") if k not in data.files]
        if missing:
            raise ValueError(f"path: {path!r} has arrays {data.files}; expected 'images' and 'factors' "
                             "(and optionally 'names', 'periodic')")
        names = [str(v) for v in data["names"].tolist()] if "names" in data.files else None
        periodic = [bool(v) for v in data["periodic"].tolist()] if "periodic" in data.files else False
        return from_arrays(data["images"], data["factors"], names=names, periodic=periodic,
                           name=name or os.path.splitext(os.path.basename(path))[0])
