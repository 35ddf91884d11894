"""Worlds kept out of every choice of a default: built here with the public ``World``/``Factor`` API only.

No model default was chosen by looking at a run on these worlds; ``train_quality.py`` marks their rows
as held out. Do not tune on them (a world used for tuning must move to the tuned list there).
"""
from __future__ import annotations

import math

import torch

from groupdrl.worlds import Factor, World


def _hue(h: torch.Tensor) -> torch.Tensor:
    """Fully saturated RGB ``(n, 3)`` of hues ``h`` in turns (HSV with s = v = 1)."""
    k = torch.remainder(torch.tensor([5.0, 3.0, 1.0]) + 6.0 * h[:, None], 6.0)
    return 1.0 - torch.clamp(torch.minimum(k, 4.0 - k), 0.0, 1.0)


def dial(n_orientations: int = 10, n_hands: int = 5, n_rims: int = 4, image_size: int = 16,
         supersample: int = 4) -> World:
    """A clock dial: a kite-shaped hand turning about the centre inside a coloured rim.

    Factors (all periodic): ``orientation`` (C_N, the hand turned counter-clockwise by 2πk/N: an image
    rotation about the centre, exact on the pixel grid only for quarter turns), ``hand`` (C_M, the hand's
    hue k/M) and ``rim`` (C_K, the rim's hue k/K + 1/(2K), so hand and rim never share a hue grid).
    Hand and rim are disjoint, and the rim is rotation invariant: rotating the image changes the
    orientation only. Pixel values are coverages (``supersample²`` samples a pixel) times the colour.

    Differs from every tuning world in its factor count (3), its orders (10, 5, 4) and its shapes.
    """
    size, ss = image_size, supersample
    coord = (torch.arange(size * ss, dtype=torch.float64) + 0.5) / ss - size / 2
    coord = coord / (size / 2)  # in [-1, 1]
    dx, dy = coord[None, None, :], -coord[None, :, None]
    radius = (dx**2 + dy**2).sqrt()[0]

    def coverage(mask: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.avg_pool2d(mask.float()[:, None], ss)[:, 0]

    angle = torch.arange(n_orientations, dtype=torch.float64) * (2 * math.pi / n_orientations)
    c, s = angle.cos()[:, None, None], angle.sin()[:, None, None]
    u, v = c * dx + s * dy, c * dy - s * dx  # pixel offsets in the hand's frame
    # kite: tip at u = 0.72, widest (half-width 0.32) at u = 0.05, tail at u = -0.3
    kite = torch.where(u >= 0.05, v.abs() <= 0.32 * (0.72 - u) / 0.67, v.abs() <= 0.32 * (u + 0.3) / 0.35)
    hands = coverage(kite & (u >= -0.3) & (u <= 0.72))                         # (N, H, W)
    rim = coverage(((radius >= 0.80) & (radius <= 0.97))[None])[0]             # (H, W)
    hand_rgb = _hue(torch.arange(n_hands, dtype=torch.float64) / n_hands).float()
    rim_rgb = _hue((torch.arange(n_rims, dtype=torch.float64) + 0.5) / n_rims).float()

    def render(states: torch.Tensor) -> torch.Tensor:
        hand = hands[states[:, 0]].float()[:, None] * hand_rgb[states[:, 1]][:, :, None, None]
        return hand + rim[None, None] * rim_rgb[states[:, 2]][:, :, None, None]

    factors = [Factor("orientation", n_orientations), Factor("hand", n_hands), Factor("rim", n_rims)]
    return World(factors, render, "dial")


#: name -> builder of the held-out worlds.
HELD_OUT = {"dial": dial}
