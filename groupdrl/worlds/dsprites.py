"""dSprites (Matthey et al. 2017), rendered procedurally: shape × scale × orientation × posX × posY."""
from __future__ import annotations

import math

import torch

from groupdrl.worlds._render import check_size, rotate, turns
from groupdrl.worlds.world import Factor, World

SHAPES = ("square", "ellipse", "heart")
#: Rotational symmetry order of each shape: orientation k renders as k mod 40/order.
SYMMETRY = {"square": 4, "ellipse": 2, "heart": 1}
N_SCALE, N_ORIENTATION, N_POS = 6, 40, 32
#: Shape "radius" at scale 1 as a fraction of the side, and the largest distance of a shape's point
#: from its centre in radius units (the square's corner 0.8·√2 ≈ 1.131; the heart reaches 1.095).
RADIUS, EXTENT = 0.15, 1.14


def _linspace(a: float, b: float, n: int) -> tuple[float, ...]:
    return tuple(torch.linspace(a, b, n, dtype=torch.float64).tolist())


def dsprites(periodic: bool = False, image_size: int = 64, name: str | None = None) -> World:
    """The dSprites grid (737,280 states): binary ``(1, S, S)`` images of one white sprite.

    Factors and their values (``Factor.values``, as in the original ``latents_values``):

    - ``shape`` 3 — square, ellipse, heart. Categorical: its C3 acts by cycling the
      labels (a permutation of the states, with no geometric meaning).
    - ``scale`` 6 — ``linspace(0.5, 1, 6)``; bounded (partial action).
    - ``orientation`` 40 — angle ``2πk/40``, periodic: exactly C40. The square is invariant
      under quarter turns and the ellipse under half turns, so their images repeat with
      period 10 and 20 in k (rendered from ``k mod 10`` / ``k mod 20``, hence bit-identical);
      only the heart has 40 distinct orientations. The group still acts; it is just not
      faithful on those images.
    - ``posX``, ``posY`` 32 — ``linspace(0, 1, 32)``. Bounded by default (a translation is a
      partial action and the sprite stays inside the image: its centre spans the image minus
      a margin of ``1.14 · 0.15 S`` plus half a pixel, the largest sprite's reach). With
      ``periodic=True`` they are C32 translations of the torus: the centre moves ``S/32``
      pixels per step and pixels are lit by their wrap-around offset, so
      ``render(act(g, s))`` is ``render(s)`` rolled by whole pixels.

    A pixel is lit iff its centre, in the sprite's frame (rotated by the orientation,
    divided by ``0.15 S · scale``), lies in the unit shape: square ``max(|u|, |v|) ≤ 0.8``,
    ellipse ``u² + 4v² ≤ 1``, heart ``(x² + y² − 1)³ ≤ x² y³`` with ``(x, y) = 1.2 (u, v) +
    (0, 0.15)``. Images are procedural look-alikes, not pixel copies of the original file
    (:func:`groupdrl.worlds.load_dsprites` reads that). At 64×64 every scale shows the
    10 / 20 / 40 distinct orientations above; smaller images lose some for small sprites
    (at 32×32 the heart at scale 0.5 shows 30 of its 40).

    Parameters
    ----------
    periodic : bool
        Wrap-around positions (C32 × C32) instead of bounded ones.
    image_size : int
        Side ``S`` (64 in the original); a multiple of 32 when ``periodic``.
    name : str, optional
        Default ``"dsprites"`` or ``"dsprites_periodic"``.

    Examples
    --------
    >>> w = dsprites()
    >>> w.sizes, w.observation_shape
    ((3, 6, 40, 32, 32), (1, 64, 64))
    """
    size = check_size(image_size, "image_size", 8)
    if not isinstance(periodic, bool):
        raise TypeError(f"periodic: expected a bool, got {type(periodic).__name__}")
    if periodic and size % N_POS:
        raise ValueError(f"image_size: expected a multiple of {N_POS} when periodic (whole-pixel C32 steps), "
                         f"got {size}")
    scales = torch.tensor(_linspace(0.5, 1.0, N_SCALE), dtype=torch.float32)
    period = torch.tensor([N_ORIENTATION // SYMMETRY[s] for s in SHAPES])
    if periodic:
        step = size // N_POS
        centre_of = lambda i: step * i.float() + step / 2  # noqa: E731 (multiples of 1/2: exact offsets)
    else:
        margin = EXTENT * RADIUS * size + 0.5
        centre_of = lambda i: margin + (size - 2 * margin) * i.float() / (N_POS - 1)  # noqa: E731
    # the sprite is drawn in a window of (2h+1)² pixels around its centre pixel, h > the largest reach
    h = math.ceil(EXTENT * RADIUS * size) + 1
    window = torch.arange(-h, h + 1)

    def render(states: torch.Tensor) -> torch.Tensor:
        n, shape = len(states), states[:, 0]
        radius = (RADIUS * size * scales[states[:, 1]])[:, None]
        angle = turns(torch.remainder(states[:, 2], period[shape]), N_ORIENTATION)
        cx, cy = centre_of(states[:, 3]), centre_of(states[:, 4])
        cols = torch.floor(cx).long()[:, None] + window  # (n, K) pixel columns, possibly off the image
        rows = torch.floor(cy).long()[:, None] + window
        dx = (cols + 0.5 - cx[:, None]) / radius  # exact offsets when the centre is a multiple of 1/2
        dy = (cy[:, None] - rows - 0.5) / radius  # y up
        u, v = rotate(dx[:, None, :], dy[:, :, None], angle)
        lit = torch.empty_like(u)
        for k, fn in enumerate((_square, _ellipse, _heart)):
            idx = (shape == k).nonzero()[:, 0]
            if len(idx):
                lit[idx] = fn(u[idx], v[idx]).float()
        if not periodic:  # the margin keeps sprites inside; drop off-image window pixels all the same
            lit *= ((rows >= 0) & (rows < size))[:, :, None] & ((cols >= 0) & (cols < size))[:, None, :]
        # periodic: window pixels wrap around the torus (the window is narrower than the image)
        index = torch.remainder(rows, size)[:, :, None] * size + torch.remainder(cols, size)[:, None, :]
        return torch.zeros(n, size * size).scatter_(1, index.view(n, -1), lit.view(n, -1)).view(n, 1, size, size)

    factors = [
        Factor("shape", len(SHAPES), values=(0.0, 1.0, 2.0)),
        Factor("scale", N_SCALE, periodic=False, values=_linspace(0.5, 1.0, N_SCALE)),
        Factor("orientation", N_ORIENTATION, values=tuple(float(a) for a in turns(torch.arange(40), 40))),
        Factor("posX", N_POS, periodic=periodic, values=_linspace(0.0, 1.0, N_POS)),
        Factor("posY", N_POS, periodic=periodic, values=_linspace(0.0, 1.0, N_POS)),
    ]
    return World(factors, render, name or ("dsprites_periodic" if periodic else "dsprites"))


def _square(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return torch.maximum(u.abs(), v.abs()) <= 0.8


def _ellipse(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return u * u + 4 * v * v <= 1


def _heart(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    x, y = 1.2 * u, 1.2 * v + 0.15
    r = x * x + y * y - 1
    return r * r * r <= x * x * y * y * y
