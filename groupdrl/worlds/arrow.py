"""Arrow (Tonnaer et al. 2022): an arrow with orientation × colour hue, G = SO(2)², sampled as C_N × C_M
(:func:`arrow`) or continuous (:func:`arrow_continuous`)."""
from __future__ import annotations

import math

import torch

from groupdrl.groups import SO2
from groupdrl.worlds._render import check_size, downsample, hsv_to_rgb, rotate, supersampled, turns
from groupdrl.worlds.world import Factor, World

#: Arrow outline in units of the image half-width, along the arrow (u) and across it (v).
SHAFT = (-0.7, 0.15, 0.12)  # u from, u to, half-width
HEAD = (0.15, 0.75, 0.36)  # u from (base), u to (tip), half-width at the base


def arrow(n_orientations: int = 32, n_colours: int = 32, image_size: int = 32, supersample: int = 4,
          name: str = "arrow") -> World:
    """A centred arrow on black, factors ``orientation`` (C_N) and ``colour`` (hue, C_M), both periodic.

    State ``(o, c)`` draws the arrow turned counter-clockwise by ``2π o / N`` from the +x
    axis (y up) in the fully saturated colour of hue ``c / M`` turns (HSV, value 1); pixel
    values are the arrow's coverage (``supersample²`` samples per pixel, computed once per
    orientation) times that colour.
    The hue wraps exactly (hue ``M/M`` is hue 0); the arrow has no rotational symmetry, so
    the N orientations must give distinct images (checked: an ``image_size`` too small to tell
    them apart is refused); pixel rotations are only approximate, except quarter turns.

    Parameters
    ----------
    n_orientations, n_colours : int
        N and M.
    image_size : int
        Side of the ``(3, image_size, image_size)`` observations.
    supersample : int
        Anti-aliasing samples per pixel side (1 = binary coverage).
    name : str

    Examples
    --------
    >>> arrow(16, 8, 32).observation_shape
    (3, 32, 32)
    """
    n_o = check_size(n_orientations, "n_orientations")
    n_c = check_size(n_colours, "n_colours")
    coverage = _coverage(check_size(image_size, "image_size"), check_size(supersample, "supersample"))
    table = coverage(turns(torch.arange(n_o), n_o))  # the arrow's coverage for each of the N orientations
    distinct = len(torch.unique(table.flatten(1), dim=0))
    if distinct < n_o:
        raise ValueError(f"image_size: at {image_size} px the {n_o} orientations draw only {distinct} distinct "
                         f"arrows; use a larger image_size or fewer n_orientations")

    def render(states: torch.Tensor) -> torch.Tensor:
        rgb = hsv_to_rgb(states[:, 1].float() / n_c)
        return table[states[:, 0]][:, None] * rgb[:, :, None, None]

    return World([Factor("orientation", n_o), Factor("colour", n_c)], render, name)


def arrow_continuous(image_size: int = 32, supersample: int = 2, name: str = "arrow_continuous") -> World:
    """The arrow of :func:`arrow` with continuous factors ``orientation`` and ``colour``, G = SO(2) × SO(2).

    State ``(θ, φ)`` (angles in ``[0, 2π)``) draws the arrow turned counter-clockwise by ``θ`` in the
    hue ``φ / 2π`` turns: Tonnaer et al.'s SO(2)² exactly, not sampled on a grid. Each factor acts by
    adding its angle; on images, the colour acts by a hue rotation of every pixel and the orientation
    by a rotation of the image (exact on the pixel grid for quarter turns). The coverage is computed
    per image (``supersample²`` samples per pixel; 2 by default, 4× cheaper than :func:`arrow`'s table).

    Examples
    --------
    >>> w = arrow_continuous(16)
    >>> w.state_dim, w.observation_shape
    (2, (3, 16, 16))
    """
    coverage = _coverage(check_size(image_size, "image_size", 8), check_size(supersample, "supersample"))

    def render(states: torch.Tensor) -> torch.Tensor:
        rgb = hsv_to_rgb(states[:, 1] / (2 * math.pi))
        return coverage(states[:, 0])[:, None] * rgb[:, :, None, None]

    return World([Factor("orientation", group=SO2()), Factor("colour", group=SO2())], render, name)


def _coverage(size: int, ss: int):
    """``coverage(angles) -> (n, size, size)``: the fraction of each pixel's samples inside the turned arrow."""
    half = size / 2
    coord = (supersampled(size, ss) - half) / half  # in [-1, 1]
    dx = coord[None, None, :]
    dy = -coord[None, :, None]  # y up

    def coverage(angle: torch.Tensor) -> torch.Tensor:
        u, v = rotate(dx, dy, angle)
        av = v.abs()
        shaft = (u >= SHAFT[0]) & (u <= SHAFT[1]) & (av <= SHAFT[2])
        head = (u >= HEAD[0]) & (av <= HEAD[2] * (HEAD[1] - u) / (HEAD[1] - HEAD[0]))
        return downsample((shaft | head).float(), ss)

    return coverage
