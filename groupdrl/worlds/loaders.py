"""Loaders of the original dSprites (``.npz``) and Shapes3D (``.h5``) files, as worlds.

Both files hold the images in full-grid order (index ``Σ_i s_i Π_{j>i} size_j``); the
returned :class:`World` renders a state by looking its image up. Factor sizes are read
from the labels (so reduced grids in the same format load too) or given as ``sizes``.
"""
from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from groupdrl.worlds.world import Factor, World

DSPRITES_FACTORS = ("shape", "scale", "orientation", "posX", "posY")
SHAPES3D_FACTORS = ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
#: Which factors wrap around in the originals (positions, scale and the ±30° azimuth do not).
_PERIODIC = {"shape": True, "floor_hue": True, "wall_hue": True, "object_hue": True}


def load_dsprites(path: str | Path, sizes: Sequence[int] | None = None, name: str = "dsprites_file") -> World:
    """The dSprites world of the original ``dsprites_ndarray_*.npz`` (Matthey et al. 2017).

    Reads ``imgs`` (``(N, H, W)`` uint8, 0/1) and, when present, ``latents_classes``
    (``(N, 6)`` with the constant colour column, or ``(N, 5)``) and ``latents_values``;
    ``np.load(..., allow_pickle=False)``. Observations are ``(1, H, W)`` floats in {0, 1}.
    The original orientations are ``linspace(0, 2π, 40)``, whose first and last values
    coincide, so orientation is periodic (C_n) only when ``latents_values`` show the
    endpoint excluded (``2πk/n``); otherwise it is a bounded factor.

    Parameters
    ----------
    path : str or Path
    sizes : sequence of 5 ints, optional
        (shape, scale, orientation, posX, posY) sizes; required when the file has no
        ``latents_classes``, checked against them otherwise.
    name : str

    Raises
    ------
    ValueError
        Naming the file and what is wrong: unreadable or truncated file, a missing key, a
        wrong shape, an image count or label order not matching the factor grid.
    FileNotFoundError
        If there is no file at ``path``.
    """
    path = _existing(path)
    arrays = _read_npz(path, ("imgs", "latents_classes", "latents_values"))
    if "imgs" not in arrays:
        raise ValueError(f"{path}: no 'imgs' array (keys: {sorted(arrays['_keys'])}); not a dSprites npz file")
    imgs, classes, values = arrays["imgs"], arrays.get("latents_classes"), arrays.get("latents_values")
    if imgs.ndim != 3 or imgs.dtype not in (np.uint8, np.bool_):
        raise ValueError(f"{path}: 'imgs' should be a uint8 array of shape (N, H, W), got {imgs.dtype} {imgs.shape}")
    if classes is not None:
        classes, values = _drop_constant_colour(path, classes, values, len(imgs))
    grid = _grid(path, "latents_classes", classes, sizes, DSPRITES_FACTORS, len(imgs))
    vals = _factor_values(values, classes, grid)
    periodic = dict(_PERIODIC)
    orient = vals[2]
    if orient is not None and len(orient) > 1:
        n = len(orient)
        periodic["orientation"] = bool(np.isclose(orient[-1], 2 * np.pi * (n - 1) / n, atol=1e-4))
    images = torch.from_numpy(np.ascontiguousarray(imgs))

    def render(states: torch.Tensor) -> torch.Tensor:
        return images[world.state_index(states)].float()[:, None]

    world = World(_factors(DSPRITES_FACTORS, grid, vals, periodic), render, name)
    return world


def load_shapes3d(path: str | Path, sizes: Sequence[int] | None = None, name: str = "shapes3d_file") -> World:
    """The Shapes3D world of the original ``3dshapes.h5`` (Burgess & Kim 2018).

    Reads ``images`` (``(N, H, W, 3)`` uint8) into memory (the full file: 5.9 GB) and
    ``labels`` (``(N, 6)`` factor values: floor, wall, object hue, scale, shape,
    orientation); class indices are the ranks of each column's distinct values. Needs
    ``h5py``. Observations are ``(3, H, W)`` floats in [0, 1].

    Parameters
    ----------
    path : str or Path
    sizes : sequence of 6 ints, optional
        Factor sizes; required when the file has no ``labels``, checked against them otherwise.
    name : str

    Raises
    ------
    ValueError
        Naming the file and what is wrong (as :func:`load_dsprites`).
    FileNotFoundError
        If there is no file at ``path``.
    """
    import h5py

    path = _existing(path)
    try:
        with h5py.File(path, "r") as f:
            keys = sorted(f.keys())
            shape = f["images"].shape if "images" in f else None
            if shape is not None and len(shape) == 4 and shape[-1] == 3:
                images = np.asarray(f["images"])
                labels = np.asarray(f["labels"]) if "labels" in f else None
    except OSError as err:
        raise ValueError(f"{path}: cannot read the Shapes3D h5 file ({err})") from err
    if shape is None:
        raise ValueError(f"{path}: no 'images' dataset (keys: {keys}); not a Shapes3D h5 file")
    if len(shape) != 4 or shape[-1] != 3:
        raise ValueError(f"{path}: 'images' should have shape (N, H, W, 3), got {shape}")
    classes = None
    if labels is not None:
        if labels.ndim != 2 or labels.shape != (len(images), len(SHAPES3D_FACTORS)):
            raise ValueError(f"{path}: 'labels' should have shape ({len(images)}, {len(SHAPES3D_FACTORS)}), "
                             f"got {labels.shape}")
        classes = np.stack([np.unique(c, return_inverse=True)[1] for c in labels.T], 1)
    grid = _grid(path, "labels", classes, sizes, SHAPES3D_FACTORS, len(images))
    vals = _factor_values(labels, classes, grid)
    pixels = torch.from_numpy(np.ascontiguousarray(images))

    def render(states: torch.Tensor) -> torch.Tensor:
        return pixels[world.state_index(states)].permute(0, 3, 1, 2).float().div_(255)

    world = World(_factors(SHAPES3D_FACTORS, grid, vals, _PERIODIC), render, name)
    return world


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no such file {str(path)!r}")
    return path


def _read_npz(path: Path, keys: tuple[str, ...]) -> dict:
    """The arrays ``keys`` present in the npz file (plus ``"_keys"``: every key), without pickle."""
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError(f"{path}: expected an npz archive of arrays, got a single array")
        with data:
            out = {k: data[k] for k in keys if k in data.files}
            out["_keys"] = list(data.files)
    except (OSError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{path}: cannot read the npz file ({type(err).__name__}: {err})") from err
    except ValueError as err:  # numpy's own: truncated array data, pickled contents
        if str(err).startswith(str(path)):
            raise
        raise ValueError(f"{path}: cannot read the npz file ({err})") from err
    return out


def _drop_constant_colour(path: Path, classes: np.ndarray, values: np.ndarray | None, n: int):
    """Remove the original's constant ``color`` column (size 1) from the labels."""
    if classes.ndim != 2 or len(classes) != n or classes.shape[1] not in (5, 6):
        raise ValueError(f"{path}: 'latents_classes' should have shape ({n}, 6) or ({n}, 5), got {classes.shape}")
    if values is not None and values.shape != classes.shape:
        raise ValueError(f"{path}: 'latents_values' should have shape {classes.shape}, got {values.shape}")
    if classes.shape[1] == 6:
        if classes[:, 0].any():
            raise ValueError(f"{path}: the first latent (color) should be constant 0 in 'latents_classes'")
        classes, values = classes[:, 1:], None if values is None else values[:, 1:]
    return classes, values


def _grid(path: Path, key: str, classes: np.ndarray | None, sizes, names: tuple[str, ...], n: int) -> tuple[int, ...]:
    """Factor sizes from the labels (or ``sizes``), checked against the image count and order."""
    k = len(names)
    if sizes is not None:
        sizes = tuple(sizes)
        if len(sizes) != k or not all(isinstance(s, int) and s >= 1 for s in sizes):
            raise ValueError(f"sizes: expected {k} positive ints for {list(names)}, got {sizes!r}")
    if classes is None:
        if sizes is None:
            raise ValueError(f"{path}: no '{key}' to read the factor sizes from; pass sizes=")
        grid = sizes
    else:
        grid = tuple(int(c) + 1 for c in classes.max(0)) if len(classes) else (0,) * k
        if sizes is not None and sizes != grid:
            raise ValueError(f"{path}: sizes={sizes} do not match the sizes {grid} read from '{key}'")
    total = int(np.prod(grid, dtype=np.int64))
    if total != n:
        raise ValueError(f"{path}: {n} images, but the factor grid {dict(zip(names, grid))} has {total} states "
                         "(truncated or wrong file?)")
    if classes is not None:
        index = np.zeros(n, dtype=np.int64)
        for c, s in zip(classes.T, grid):
            index = index * s + c.astype(np.int64)
        if not np.array_equal(index, np.arange(n)):
            raise ValueError(f"{path}: '{key}' are not in full-grid order (index = Σ_i s_i Π_{{j>i}} size_j)")
    return grid


def _factor_values(values: np.ndarray | None, classes: np.ndarray | None, grid: tuple[int, ...]) -> list:
    """Each factor's physical values (by class index), when the file has them."""
    if values is None or classes is None:
        return [None] * len(grid)
    out = []
    for i, s in enumerate(grid):
        v = np.zeros(s)
        v[classes[:, i]] = values[:, i]
        out.append(tuple(float(a) for a in v))
    return out


def _factors(names: tuple[str, ...], grid: tuple[int, ...], values: list, periodic: dict[str, bool]) -> list[Factor]:
    return [Factor(nm, s, periodic=periodic.get(nm, False), values=v) for nm, s, v in zip(names, grid, values)]
