"""Arrow (Tonnaer et al. 2022): an arrow with orientation × colour hue, G = SO(2)² sampled as C_N × C_M."""
from __future__ import annotations

import torch

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
    the N orientations give distinct images (pixel rotations are only approximate, except
    quarter turns).

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
    size = check_size(image_size, "image_size")
    ss = check_size(supersample, "supersample")
    half = size / 2
    coord = (supersampled(size, ss) - half) / half  # in [-1, 1]
    dx = coord[None, None, :]
    dy = -coord[None, :, None]  # y up

    def coverage(orientation: torch.Tensor) -> torch.Tensor:
        u, v = rotate(dx, dy, turns(orientation, n_o))
        av = v.abs()
        shaft = (u >= SHAFT[0]) & (u <= SHAFT[1]) & (av <= SHAFT[2])
        head = (u >= HEAD[0]) & (av <= HEAD[2] * (HEAD[1] - u) / (HEAD[1] - HEAD[0]))
        return downsample((shaft | head).float(), ss)

    tables: list[torch.Tensor] = []  # the arrow's coverage for each of the N orientations, built on first use

    def render(states: torch.Tensor) -> torch.Tensor:
        if not tables:
            tables.append(coverage(torch.arange(n_o)))
        rgb = hsv_to_rgb(states[:, 1].float() / n_c)
        return tables[0][states[:, 0]][:, None] * rgb[:, :, None, None]

    return World([Factor("orientation", n_o), Factor("colour", n_c)], render, name)
