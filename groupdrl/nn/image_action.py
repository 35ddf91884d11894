"""How the image-plane groups act on images (the convention of escnn's ``rot2dOnR2`` / ``flipRot2dOnR2``)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from groupdrl.groups import SO2, Cyclic, Dihedral, Group


def rotate_images(x: torch.Tensor, angle: float, flip: bool = False) -> torch.Tensor:
    """Rotate images ``x`` of shape ``(n, C, H, W)`` by ``angle`` radians, after a horizontal flip if ``flip``.

    The rotation by ``π/2`` is ``torch.rot90(x, 1, dims=(-2, -1))`` and the flip
    ``torch.flip(x, dims=(-1,))``, which is how escnn's gspaces act on the pixel
    grid. Multiples of ``π/2`` are exact permutations of the pixels; other angles
    resample bilinearly about the image centre (``grid_sample``, zeros outside,
    differentiable), which is only approximately a group action on a pixel grid.
    """
    if flip:
        x = torch.flip(x, dims=(-1,))
    quarters = angle / (math.pi / 2)
    if abs(quarters - round(quarters)) < 1e-9:
        return torch.rot90(x, round(quarters) % 4, dims=(-2, -1))
    c, s = math.cos(angle), math.sin(angle)
    theta = torch.tensor([[c, -s, 0.0], [s, c, 0.0]], dtype=x.dtype, device=x.device)
    grid = F.affine_grid(theta.expand(x.shape[0], 2, 3), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def act_on_images(group: Group, g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Apply the elements ``g`` of ``Cyclic(N)``, ``Dihedral(N)`` or ``SO2()`` to images ``x`` ``(n, C, H, W)``.

    ``Cyclic(N)``: ``k`` rotates by ``2πk/N``; ``Dihedral(N)``: ``(flip, rot) = r^rot s^flip``
    flips first, then rotates by ``2π rot/N``; ``SO2``: rotates by the angle. ``g`` holds
    one element (applied to every image) or one per image.
    """
    group.validate(g, "g")
    n = group.batch_size(g)
    if n not in (1, x.shape[0]):
        raise ValueError(f"g: expected 1 or {x.shape[0]} elements (one per image), got {n}")
    if isinstance(group, Cyclic):
        params = [(2 * math.pi * int(k) / group.n, False) for k in g]
    elif isinstance(group, Dihedral):
        params = [(2 * math.pi * int(r) / group.n, bool(f)) for f, r in g.tolist()]
    elif isinstance(group, SO2):
        params = [(float(a), False) for a in g]
    else:
        raise TypeError(f"group: expected Cyclic, Dihedral or SO2 acting on the image plane, got {group!r}")
    if n == 1:
        return rotate_images(x, *params[0])
    return torch.cat([rotate_images(x[i : i + 1], a, f) for i, (a, f) in enumerate(params)], 0)
