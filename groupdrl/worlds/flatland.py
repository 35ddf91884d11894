"""Flatland (Caselles-Dupré et al. 2019): a ball on a periodic N×N grid, G = C_N × C_N."""
from __future__ import annotations

import math

import torch

from groupdrl.worlds._render import check_size, offsets
from groupdrl.worlds.world import Factor, World


def flatland(n: int = 8, image_size: int = 32, radius: float | None = None, name: str = "flatland") -> World:
    """A white ball on a black torus: factors ``x`` (column) and ``y`` (row), each C_n.

    The ball's centre for state ``(x, y)`` sits at pixel ``(c x + c/2, c y + c/2)`` with
    ``c = image_size / n`` pixels per cell, and a pixel is lit iff its wrap-around distance
    to the centre is at most ``radius``. Hence the action is exact on images:
    ``render((x + g, y)) = roll(render((x, y)), c·g, columns)`` (same for ``y`` and rows),
    i.e. G = C_n × C_n acts by pixel translations of the torus.

    Parameters
    ----------
    n : int
        Grid positions per axis (the order of each cyclic factor).
    image_size : int
        Side of the ``(1, image_size, image_size)`` observations; a multiple of ``n``.
    radius : float, optional
        Ball radius in pixels; default ``max(c, 1.5)`` (a ball spanning about two cells). It must light
        some pixel and leave some dark (else every state renders alike).
    name : str

    Examples
    --------
    >>> w = flatland(8, 32)
    >>> w.sizes, w.observation_shape
    ((8, 8), (1, 32, 32))
    """
    n = check_size(n, "n")
    image_size = check_size(image_size, "image_size")
    if image_size % n:
        raise ValueError(f"image_size: expected a multiple of n={n} (so C_n moves the ball by whole pixels), "
                         f"got {image_size}")
    cell = image_size // n
    r = float(max(cell, 1.5) if radius is None else radius)
    # per-axis offsets of the pixel centres from a ball centre (the same for every state): the nearest
    # and the farthest pixel (on the torus) are at √2 × the smallest / largest offset
    d = offsets(image_size, torch.tensor([cell / 2]), image_size).abs()
    nearest, farthest = math.sqrt(2) * float(d.min()), math.sqrt(2) * float(d.max())
    if not nearest <= r < farthest:
        raise ValueError(f"radius: expected a number of pixels in [{nearest:.3g}, {farthest:.3g}) so that the ball "
                         f"lights some but not all of the {image_size}×{image_size} pixels, got {radius!r}")

    def render(states: torch.Tensor) -> torch.Tensor:
        centre = cell * states.float() + cell / 2
        dx = offsets(image_size, centre[:, 0], image_size)[:, None, :]
        dy = offsets(image_size, centre[:, 1], image_size)[:, :, None]
        return (dx * dx + dy * dy <= r * r).float()[:, None]

    return World([Factor("x", n), Factor("y", n)], render, name)
