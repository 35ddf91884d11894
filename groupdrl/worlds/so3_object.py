"""A rigid 3-D object of coloured spheres under SO(3) × colour (the setting of Quessard et al. 2020 and
the homomorphism autoencoder, Keurti et al. 2023), rendered by a small torch sphere rasteriser."""
from __future__ import annotations

import math

import torch

from groupdrl.groups import SO3
from groupdrl.worlds._render import centred, check_size, hsv_to_rgb
from groupdrl.worlds.world import Factor, World

#: The object, in units of the image half-width: a centre sphere and three arms of different lengths
#: along orthogonal axes. The four labelled centres span R³, so no rotation or reflection other than
#: the identity maps the object onto itself: it is asymmetric and chiral. Every sphere stays inside the
#: image (|p_k| + r_k ≤ 0.92).
CENTRES = ((0.0, 0.0, 0.0), (0.7, 0.0, 0.0), (0.0, 0.52, 0.0), (0.0, 0.0, 0.45))
RADII = (0.26, 0.22, 0.18, 0.16)
#: Hue of each sphere at colour 0 (turns), and its saturation (the centre sphere is pale).
HUES = (0.0, 0.13, 0.41, 0.72)
SATURATION = (0.35, 1.0, 1.0, 1.0)
#: Brightness ``AMBIENT + (1 − AMBIENT) n_z`` (light from the camera) times the depth cue
#: ``1 − DEPTH_CUE (1 − z / max|p_k|) / 2`` of the sphere's centre.
AMBIENT, DEPTH_CUE = 0.35, 0.3


def so3_object(n_colours: int = 8, image_size: int = 32, name: str = "so3_object") -> World:
    """Four coloured spheres in a rigid chiral arrangement: factors ``rotation`` (SO(3)) and ``colour`` (C_M).

    A state is a rotation ``R`` (its 9 entries, row by row; states are float64) and a colour index ``c``.
    Sphere ``k`` sits at ``R p_k`` (:data:`CENTRES`, radius :data:`RADII`), seen by an orthographic camera
    looking down the −z axis (x right, y up), drawn far to near (painter's algorithm: for disjoint
    spheres under an orthographic camera the order of the centres' depths is the visibility order along
    every ray, since the radical plane separates them), each sphere with hue ``HUES[k] + c / M`` (turns),
    a brightness from the surface normal's z component and the sphere's depth, and an anti-aliased edge
    (coverage ``clamp((r − d) / pixel + ½, 0, 1)`` at distance ``d`` from the centre). Black background.

    The group acts by ``(g, h) · (R, c) = (g R, c + h mod M)``: rotating the object in space and
    shifting every hue. Spheres look the same from every direction, so the image depends on ``R`` only
    through the centres ``R p_k``; the arrangement is asymmetric and chiral, so (with the labelled
    spheres told apart by size and hue) distinct rotations give distinct images: the action is faithful.
    On images, a rotation about the viewing axis by a quarter turn is exactly a quarter turn of the image.

    Parameters
    ----------
    n_colours : int
        M, the order of the colour factor.
    image_size : int
        Side of the ``(3, image_size, image_size)`` observations (at least 16).
    name : str

    Examples
    --------
    >>> w = so3_object()
    >>> w.state_dim, w.observation_shape
    (10, (3, 32, 32))
    """
    m = check_size(n_colours, "n_colours")
    size = check_size(image_size, "image_size", 16)
    coord = centred(size)
    centres = torch.tensor(CENTRES, dtype=torch.float64)
    radii = torch.tensor(RADII)
    hues = torch.tensor(HUES, dtype=torch.float64)
    zmax = float(centres.norm(dim=1).max())
    pixel = 2.0 / size
    half = math.ceil(max(RADII) / pixel) + 1  # every sphere lies in a (2·half + 1)² window around its centre
    offs = torch.arange(-half, half + 1)

    def window(c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pixel indices ``(n, K, w)`` around coordinates ``c`` (``size`` off the image) and their coordinates."""
        idx = torch.floor((c * size + size - 1) / 2).long()[..., None] + offs
        inside = (idx >= 0) & (idx < size)
        return torch.where(inside, idx, size), torch.where(inside, coord[idx.clamp(0, size - 1)], torch.inf)

    def render(states: torch.Tensor) -> torch.Tensor:
        n = len(states)
        p = (states[:, :9].reshape(n, 3, 3) @ centres.T).float()  # (n, 3, K) rotated centres
        order = torch.argsort(p[:, 2], dim=1)  # far to near: exact visibility for disjoint spheres
        p = p.gather(2, order[:, None].expand(-1, 3, -1))
        r = radii[order][:, :, None, None]
        hue = torch.remainder(hues[None, :] + states[:, 9:10] / m, 1.0)
        rgb = torch.stack([hsv_to_rgb(hue[:, j], s) for j, s in enumerate(SATURATION)], 1)  # (n, K, 3)
        rgb = rgb.gather(1, order[:, :, None].expand(-1, -1, 3))
        cols, xs = window(p[:, 0])
        rows, ys = window(-p[:, 1])  # y up: row 0 is the top
        d2 = (xs[:, :, None, :] - p[:, 0, :, None, None]) ** 2 + (ys[:, :, :, None] + p[:, 1, :, None, None]) ** 2
        alpha = torch.clamp((r - d2.sqrt()) / pixel + 0.5, 0.0, 1.0)  # coverage of the disc's edge
        cap = torch.sqrt(torch.clamp(1 - d2 / r ** 2, min=0.0))  # n_z of the surface normal
        shade = alpha * (AMBIENT + (1 - AMBIENT) * cap) * (1 - DEPTH_CUE * (1 - p[:, 2, :, None, None] / zmax) / 2)
        flat = (rows[:, :, :, None] * (size + 1) + cols[:, :, None, :]).flatten(2)  # (n, K, w²)
        img = torch.zeros(n, 3, (size + 1) ** 2)  # a spare row and column catch the off-image pixels
        for j in range(len(CENTRES)):
            idx = flat[:, j, None].expand(-1, 3, -1)
            a = alpha[:, j].reshape(n, 1, -1)
            over = img.gather(2, idx) * (1 - a) + shade[:, j].reshape(n, 1, -1) * rgb[:, j, :, None]
            img.scatter_(2, idx, over)
        return img.reshape(n, 3, size + 1, size + 1)[:, :, :size, :size].contiguous()

    return World([Factor("rotation", group=SO3()), Factor("colour", m)], render, name)
