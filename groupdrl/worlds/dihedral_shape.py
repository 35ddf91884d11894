"""A chiral letter "F" under the dihedral group D_N (rotations and reflections) × colour."""
from __future__ import annotations

import torch

from groupdrl.groups import Dihedral
from groupdrl.worlds._render import centred, check_size, downsample, hsv_to_rgb, snap
from groupdrl.worlds.world import Factor, World

#: The letter F as rectangles ``(u0, u1, v0, v1)`` in units of the image half-width (u right, v up).
#: It has no rotational and no mirror symmetry, so the 2N poses of D_N draw 2N different shapes.
RECTANGLES = ((-0.45, -0.15, -0.65, 0.65), (-0.45, 0.5, 0.35, 0.65), (-0.45, 0.25, -0.1, 0.18))


def dihedral_shape(n: int = 4, n_colours: int = 8, image_size: int = 32, supersample: int = 2,
                   name: str = "dihedral_shape") -> World:
    """The letter F in a pose of D_N and a hue: factors ``pose`` (``Dihedral(n)``) and ``colour`` (C_M).

    The pose state is the index of an element ``r^k s^f`` of ``Dihedral(n).elements()``; the letter is
    drawn transformed by ``M = ρ(r^k s^f) = R(2πk/N) diag(1, −1)^f`` (the standard 2-D irrep: reflect
    across the horizontal axis, then turn counter-clockwise by ``2πk/N``), so a pixel at ``p`` is lit
    where ``Mᵀ p`` lies in the letter (:data:`RECTANGLES`). Colour ``c`` is the hue ``c / M`` turns at full
    saturation; pixel values are coverage (``supersample²`` samples) times colour.

    D_N acts by left multiplication, ``g · r^k s^f = g r^k s^f``, which on images is the plane map
    ``ρ(g)``: ``render(g · s) = ρ(g) ⋅ render(s)``. For N = 4 (and for quarter turns of any N divisible
    by 4) it is exact on the pixel grid: ``r`` is a quarter turn of the image and ``s`` a vertical flip.

    Parameters
    ----------
    n : int
        N (the letter is turned by multiples of 2π/N); D_N has 2N elements.
    n_colours : int
        M.
    image_size : int
        Side of the ``(3, image_size, image_size)`` observations.
    supersample : int
        Samples per pixel side.
    name : str

    Examples
    --------
    >>> w = dihedral_shape()
    >>> w.sizes, w.observation_shape
    ((8, 8), (3, 32, 32))
    """
    group = Dihedral(check_size(n, "n"))
    m = check_size(n_colours, "n_colours")
    size = check_size(image_size, "image_size")
    ss = check_size(supersample, "supersample")
    coord = centred(size, ss).double()
    px, py = coord[None, None, :], -coord[None, :, None]  # y up
    mats = snap(group.representation("standard")(group.elements(), torch.float64))  # (2N, 2, 2)
    rects = torch.tensor(RECTANGLES, dtype=torch.float64)
    # u, v = Mᵀ p for every pose, then the coverage of each pose, computed once
    u = mats[:, 0, 0, None, None] * px + mats[:, 1, 0, None, None] * py
    v = mats[:, 0, 1, None, None] * px + mats[:, 1, 1, None, None] * py
    lit = torch.zeros(u.shape, dtype=torch.bool)
    for u0, u1, v0, v1 in rects.tolist():
        lit |= (u >= u0) & (u <= u1) & (v >= v0) & (v <= v1)
    table = downsample(lit.float(), ss)
    distinct = len(torch.unique(table.flatten(1), dim=0))
    if distinct < group.order:
        raise ValueError(f"image_size: at {size} px the {group.order} poses of {group!r} draw only {distinct} "
                         "distinct shapes; use a larger image_size or a smaller n")

    def render(states: torch.Tensor) -> torch.Tensor:
        rgb = hsv_to_rgb(states[:, 1].float() / m)
        return table[states[:, 0]][:, None] * rgb[:, :, None, None]

    return World([Factor("pose", group=group), Factor("colour", m)], render, name)
