"""Shapes3D (Burgess & Kim 2018), rendered procedurally: an object in a room, six factors."""
from __future__ import annotations

import math

import torch

from groupdrl.worlds._render import check_size, hsv_to_rgb
from groupdrl.worlds.world import Factor, World

SHAPES = ("cube", "cylinder", "sphere", "capsule")
N_HUE, N_SCALE, N_ORIENTATION = 10, 8, 15
#: Camera elevation, object base row, horizon row (image coordinates in [-1, 1], y down).
ELEVATION, BASE, HORIZON = math.radians(25.0), 0.6, -0.1
#: Unit light direction in world coordinates (x right, d away from the camera, h up).
LIGHT = torch.tensor([-0.45, -0.6, 0.66]) / torch.tensor([-0.45, -0.6, 0.66]).norm()


def _linspace(a: float, b: float, n: int) -> tuple[float, ...]:
    return tuple(torch.linspace(a, b, n, dtype=torch.float64).tolist())


def shapes3d(image_size: int = 64, name: str = "shapes3d") -> World:
    """The Shapes3D grid (480,000 states): ``(3, S, S)`` RGB images of an object in a room.

    Factors (values as in the original ``labels``):

    - ``floor_hue``, ``wall_hue``, ``object_hue`` 10 — hue ``k/10`` turns, periodic: C10
      acts exactly (hue 10/10 is hue 0).
    - ``scale`` 8 — ``linspace(0.75, 1.25, 8)``, bounded.
    - ``shape`` 4 — cube, cylinder, sphere, capsule; categorical, its C4 cycles the labels.
    - ``orientation`` 15 — camera azimuth ``linspace(-30°, 30°, 15)`` around the object,
      bounded. It moves the room's corner (so every shape's 15 views differ) and turns the
      cube and the lying capsule; the upright cylinder and the sphere look the same from
      every azimuth apart from the room.

    The render is a simple orthographic "2.5-D" scene (camera elevation 25°): wall above
    the horizon with a corner, floor shaded by depth, and the object drawn analytically
    (cube faces, cylinder side and top, sphere, capsule as a swept sphere) with Lambert
    shading ``0.35 + 0.65 max(0, n·l)``. Colours are fully saturated hues; images are
    quantised to 8 bits like the original uint8 file. A look-alike, not a pixel copy
    (:func:`groupdrl.worlds.load_shapes3d` reads the original).

    Parameters
    ----------
    image_size : int
        Side ``S`` (64 in the original).
    name : str

    Examples
    --------
    >>> w = shapes3d()
    >>> w.sizes, w.observation_shape
    ((10, 10, 10, 8, 4, 15), (3, 64, 64))
    """
    size = check_size(image_size, "image_size", 8)
    tables: list[torch.Tensor] = []  # the geometry, rendered once on first use

    def render(states: torch.Tensor) -> torch.Tensor:
        if not tables:
            tables.append(_geometry(size))
        combo = (states[:, 4] * N_SCALE + states[:, 3]) * N_ORIENTATION + states[:, 5]
        maps = tables[0][combo]  # (n, 3, S·S): object shade, visible wall, visible floor
        colours = torch.stack([_colour(states[:, 2]), _colour(states[:, 1]), _colour(states[:, 0])], 2)
        image = torch.bmm(colours, maps).view(len(states), 3, size, size)
        return image.mul_(255).round_().div_(255)

    factors = [Factor(f, N_HUE, values=_linspace(0.0, 0.9, N_HUE)) for f in ("floor_hue", "wall_hue", "object_hue")]
    factors += [
        Factor("scale", N_SCALE, periodic=False, values=_linspace(0.75, 1.25, N_SCALE)),
        Factor("shape", len(SHAPES), values=(0.0, 1.0, 2.0, 3.0)),
        Factor("orientation", N_ORIENTATION, periodic=False, values=_linspace(-30.0, 30.0, N_ORIENTATION)),
    ]
    return World(factors, render, name)


def _colour(hue_index: torch.Tensor) -> torch.Tensor:
    """Fully saturated RGB ``(n, 3)`` of hue ``k / 10`` turns."""
    return hsv_to_rgb(hue_index.float() / N_HUE)


def _geometry(size: int) -> torch.Tensor:
    """Brightness maps ``(4·8·15, 3, S·S)`` of every (shape, scale, orientation).

    Rows: the shaded object, the visible wall, the visible floor (each 0 elsewhere), so an
    image is ``Σ_m map_m ⊗ colour_m`` with the object, wall and floor colours: the hues enter
    linearly and the geometry is computed once.
    """
    shape, scale, orient = torch.cartesian_prod(
        torch.arange(len(SHAPES)), torch.arange(N_SCALE), torch.arange(N_ORIENTATION)).unbind(1)
    s = torch.tensor(_linspace(0.75, 1.25, N_SCALE), dtype=torch.float32)[scale][:, None, None]
    theta = torch.tensor(_linspace(-math.pi / 6, math.pi / 6, N_ORIENTATION), dtype=torch.float32)[orient]
    coord = (torch.arange(size, dtype=torch.float32) + 0.5) * (2.0 / size) - 1.0
    x, y = coord[None, None, :], coord[None, :, None]
    n = len(shape)
    mask = torch.zeros(n, size, size, dtype=torch.bool)
    shade = torch.zeros(n, size, size)
    for k, fn in enumerate((_cube, _cylinder, _sphere, _capsule)):
        rows = (shape == k).nonzero()[:, 0]
        mask[rows], shade[rows] = fn(x, y, s[rows], theta[rows][:, None, None])
    # room: a wall with a corner that moves with the azimuth, above a floor shaded by depth
    corner = 1.6 * torch.tan(theta)[:, None, None]
    wall = torch.where(x < corner, 0.85, 0.65).expand(n, size, size)
    floor = (0.55 + 0.45 * (y - HORIZON) / (1 - HORIZON)).expand(n, size, size)
    is_wall = (y < HORIZON).expand(n, size, size)
    maps = torch.stack([torch.where(mask, shade, 0.0), torch.where(~mask & is_wall, wall, 0.0),
                        torch.where(~mask & ~is_wall, floor, 0.0)], 1)
    return maps.reshape(n, 3, size * size)


def _lambert(nx, nd, nh) -> torch.Tensor:
    """Brightness ``0.35 + 0.65 max(0, n·l)`` of a world normal ``(x, d, h)``."""
    return 0.35 + 0.65 * torch.clamp(nx * LIGHT[0] + nd * LIGHT[1] + nh * LIGHT[2], min=0.0)


def _project(d, h):
    """Image row of a world point at depth ``d`` (away from the camera) and height ``h``."""
    return BASE - h * math.cos(ELEVATION) - d * math.sin(ELEVATION)


def _cube(x, y, s, theta):
    """Cube of half-size ``a = 0.2 s`` turned by ``-θ`` (camera azimuth θ): top and the front-facing sides."""
    a = 0.2 * s
    c, sn = torch.cos(theta), torch.sin(theta)
    sin_e, cos_e = math.sin(ELEVATION), math.cos(ELEVATION)
    # top face at height 2a: invert the projection to (x, d), then rotate into the cube frame
    d = (BASE - 2 * a * cos_e - y) / sin_e
    top = (torch.maximum((c * x + sn * d).abs(), (-sn * x + c * d).abs()) <= a)
    mask, shade = top, torch.where(top, _lambert(0.0, 0.0, 1.0), 0.0)
    # vertical faces with outward normal (nx, nd) = R(θ)(dir); front-facing iff nd < 0
    for ux, ud in ((0.0, -1.0), (1.0, 0.0), (-1.0, 0.0)):
        nx, nd = c * ux - sn * ud, sn * ux + c * ud
        tx, td = -nd, nx  # the face's horizontal tangent
        px, pd = a * nx, a * nd  # face centre on the floor
        safe_tx = torch.where(tx.abs() > 1e-6, tx, 1e-6)
        t = (x - px) / safe_tx
        h = (_project(pd + t * td, 0.0) - y) / cos_e
        face = (nd < -1e-6) & (t.abs() <= a) & (h >= 0) & (h <= 2 * a) & ~mask
        shade = torch.where(face, _lambert(nx, nd, torch.zeros_like(nx)), shade)
        mask = mask | face
    return mask, shade


def _cylinder(x, y, s, theta):
    """Upright cylinder of radius ``0.2 s`` and height ``0.4 s`` (azimuth-invariant)."""
    r, height = 0.2 * s, 0.4 * s
    sin_e = math.sin(ELEVATION)
    half = r * sin_e * torch.sqrt(torch.clamp(1 - (x / r) ** 2, min=0.0))
    inside = x.abs() <= r
    y_top = _project(0.0, height)
    top = inside & ((y - y_top).abs() <= half)
    side = inside & ~top & (y > y_top) & (y <= BASE + half)
    nx = torch.clamp(x / r, -1.0, 1.0)
    shade = torch.where(top, _lambert(0.0, 0.0, 1.0), _lambert(nx, -torch.sqrt(1 - nx * nx), 0.0))
    return top | side, shade.expand(top.shape)


def _sphere(x, y, s, theta):
    """Sphere of radius ``0.25 s`` resting on the floor (azimuth-invariant)."""
    r = 0.25 * s
    yc = _project(0.0, r)
    u, v = x / r, (y - yc) / r
    w2 = 1 - u * u - v * v
    return w2 >= 0, _lambert(u, -torch.sqrt(torch.clamp(w2, min=0.0)), -v)


def _capsule(x, y, s, theta):
    """Capsule (radius ``0.14 s``, half-length ``0.22 s``) lying along the world x axis."""
    r, half = 0.14 * s, 0.22 * s
    yc = _project(0.0, r)
    # the axis projects to the segment from -e to +e around (0, yc)
    ex, ey = half * torch.cos(theta), -half * torch.sin(theta) * math.sin(ELEVATION)
    px, py = x, y - yc
    t = torch.clamp((px * ex + py * ey) / (ex * ex + ey * ey), -1.0, 1.0)
    qx, qy = (px - t * ex) / r, (py - t * ey) / r
    w2 = 1 - qx * qx - qy * qy
    return w2 >= 0, _lambert(qx, -torch.sqrt(torch.clamp(w2, min=0.0)), -qy)
