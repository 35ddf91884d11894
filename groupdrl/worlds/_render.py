"""Vectorised rendering helpers shared by the built-in worlds (coordinate grids, masks, colour)."""
from __future__ import annotations

import math

import torch


def check_size(value: object, name: str, minimum: int = 1) -> int:
    """``value`` as an int ``>= minimum``; ``ValueError`` naming ``name`` otherwise."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {value!r}")
    return value


def offsets(size: int, centre: torch.Tensor, period: int | None = None) -> torch.Tensor:
    """Signed offsets ``(n, size)`` of the pixel centres ``p + 1/2`` from ``centre`` ``(n,)``.

    With ``period`` the offsets are taken on the circle of that length (wrap-around) and
    lie in ``[-period/2, period/2)``. When ``centre`` holds multiples of 1/2 the offsets are
    exact in floating point, so shifting the centre by an integer number of pixels rolls
    the image exactly.
    """
    d = torch.arange(size, dtype=torch.float32) + 0.5 - centre[:, None].float()
    if period is not None:
        d = torch.remainder(d + period / 2, period) - period / 2
    return d


def hsv_to_rgb(hue: torch.Tensor, saturation: float = 1.0, value: float = 1.0) -> torch.Tensor:
    """RGB ``(n, 3)`` of hues in turns (``hue`` in ``[0, 1)``, cyclic), by the standard HSV formula.

    ``c_j = v − v s max(0, min(k_j, 4 − k_j, 1))`` with ``k_j = (m_j + 6 h) mod 6`` and
    ``m = (5, 3, 1)`` for (R, G, B).
    """
    m = torch.tensor([5.0, 3.0, 1.0])
    k = torch.remainder(m + 6.0 * hue.float()[:, None], 6.0)
    return value - value * saturation * torch.clamp(torch.minimum(k, 4.0 - k), 0.0, 1.0)


def rotate(dx: torch.Tensor, dy: torch.Tensor, angle: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Coordinates of the offsets ``(dx, dy)`` in a frame rotated counter-clockwise by ``angle``.

    ``dx`` is ``(n, 1, W)`` (columns), ``dy`` is ``(n, H, 1)`` with the y axis pointing up,
    ``angle`` is ``(n,)``; returns ``(u, v)`` of shape ``(n, H, W)``:
    ``u = cos θ dx + sin θ dy``, ``v = −sin θ dx + cos θ dy`` (the inverse rotation R(−θ)
    applied to the pixel, so the drawn shape turns by +θ).
    """
    c = torch.cos(angle).float()[:, None, None]
    s = torch.sin(angle).float()[:, None, None]
    return c * dx + s * dy, c * dy - s * dx


def turns(index: torch.Tensor, n: int) -> torch.Tensor:
    """The angle ``2π index / n`` (float64, exact C_n orientation)."""
    return index.to(torch.float64) * (2 * math.pi / n)


def supersampled(size: int, factor: int) -> torch.Tensor:
    """Sub-pixel sample coordinates ``(size·factor,)`` in pixel units, for anti-aliasing."""
    return (torch.arange(size * factor, dtype=torch.float32) + 0.5) / factor


def downsample(mask: torch.Tensor, factor: int) -> torch.Tensor:
    """Average ``factor × factor`` sub-pixel samples: ``(n, H·f, W·f) -> (n, H, W)`` coverage."""
    if factor == 1:
        return mask
    return torch.nn.functional.avg_pool2d(mask[:, None], factor)[:, 0]


def centred(size: int, factor: int = 1) -> torch.Tensor:
    """Sample coordinates ``(size·factor,)`` in ``(−1, 1)``: ``(2i + 1 − m) / m`` with ``m = size·factor``.

    The numerators are exact odd integers, so the grid is exactly symmetric (``c[m−1−i] = −c[i]``):
    a quarter turn or a reflection of a shape drawn on it is exactly a rotation or flip of the image.
    """
    m = size * factor
    return (2 * torch.arange(m, dtype=torch.float32) + 1 - m) / m


def snap(m: torch.Tensor, atol: float = 1e-12) -> torch.Tensor:
    """Round entries within ``atol`` of an integer (so ``cos(π/2)`` is exactly 0 and quarter turns are exact)."""
    r = torch.round(m)
    return torch.where((m - r).abs() <= atol, r, m)
