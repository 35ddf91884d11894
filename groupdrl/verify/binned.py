"""Discrete labels of continuous factors, for the intuitive metrics (which need factor classes).

The metrics of the intuitive definition (disentanglement_lib) take factors as classes: they bin codes
against factor *labels*, fix a factor's *value* and resample the others. A compact Lie factor has no
finite set of values, so :func:`binned` shows a world through labels that cut each Lie factor into cells
of equal Haar measure:

- SO(2) (an angle, or a point on a circle): ``bins`` equal arcs ``[2πb/K, 2π(b+1)/K)``;
- a torus T^k: ``bins`` arcs per angle (``bins^k`` labels);
- SO(3) rotations: axis-angle cells — the rotation angle θ ∈ [0, π] in ``SO3_ANGLE_BINS`` bins of equal
  Haar mass (its distribution function is (θ − sin θ)/π) times the axis in one of the 6 cones around
  ±x, ±y, ±z (the largest coordinate of the axis and its sign); points of an SO(3) orbit (a sphere): the
  same 6 cones, each split in 4 by the signs of the two other coordinates (24 cells of equal area).

Finite factors keep their indices. Uniform labels are then Haar-uniform states, and :meth:`BinnedWorld.render`
draws a state uniformly inside each label's cell (from a generator seeded once), so "fixing a factor"
fixes its cell, not its exact value: the BetaVAE and FactorVAE scores, which fix a factor, see that factor
vary inside a cell of width 2π/K (a documented relaxation; larger ``bins`` tighten it, at the price of more
classes for the classifiers).
"""
from __future__ import annotations

import math
from typing import Any

import torch

from groupdrl.groups import SO2, SO3, Torus

#: Arcs per SO(2) angle.
ANGLE_BINS = 16
#: Equal-mass bins of the SO(3) rotation angle (times 6 axis cones).
SO3_ANGLE_BINS = 4

__all__ = ["ANGLE_BINS", "BinnedWorld", "SO3_ANGLE_BINS", "binned"]


def binned(world: Any, bins: int = ANGLE_BINS, seed: int = 0) -> Any:
    """``world`` itself when every factor is finite, else a :class:`BinnedWorld` of it."""
    if getattr(world, "is_finite", True):
        return world
    return BinnedWorld(world, bins, seed)


class BinnedWorld:
    """A world with compact Lie factors seen through discrete labels (see the module docstring).

    Has what the metrics use: ``factor_names``, ``sizes``, ``sample_states(n, generator)`` (int64 labels
    ``(n, k)``), ``render(labels)`` (a state drawn in each cell, rendered), ``label(states)`` (labels of the
    world's states) and ``describe()`` (the binning in words).
    """

    def __init__(self, world: Any, bins: int = ANGLE_BINS, seed: int = 0) -> None:
        if isinstance(bins, bool) or not isinstance(bins, int) or bins < 2:
            raise ValueError(f"bins: expected an int >= 2 (arcs per angle), got {bins!r}")
        self.world = world
        self.name = f"{world.name} (binned)"
        self.factor_names = world.factor_names
        self.bins = bins
        self._generator = torch.Generator().manual_seed(int(seed))
        self.sizes = tuple(self._size(f) for f in world.factors)

    def _size(self, f) -> int:
        if f.is_finite:
            return f.size
        if isinstance(f.group, SO3):
            return 24 if f.base_point is not None else 6 * SO3_ANGLE_BINS
        if isinstance(f.group, Torus):
            return self.bins ** f.group.k
        raise ValueError(f"world: factor {f.name!r} has {f.group!r}, which the intuitive metrics cannot bin")

    def describe(self) -> dict[str, str]:
        """How each continuous factor is binned, in words."""
        out = {}
        for f in self.world.factors:
            if f.is_finite:
                continue
            if isinstance(f.group, SO3):
                out[f.name] = ("24 cells of equal area on the sphere (6 cones around ±x, ±y, ±z, each split by the "
                               "signs of the other two coordinates)" if f.base_point is not None else
                               f"6 axis cones × {SO3_ANGLE_BINS} rotation-angle bins of equal Haar mass")
            else:
                arcs = f"{self.bins} arcs of {360 / self.bins:g}°"
                out[f.name] = arcs if f.group.k == 1 else f"{arcs} per angle ({self.bins ** f.group.k} cells)"
        return out

    # ---- labels of states ------------------------------------------------------------------------
    def label(self, states: torch.Tensor) -> torch.Tensor:
        """Labels ``(n, k)`` of the world's states ``(n, D)``."""
        states = self.world.validate_states(states)
        cols = []
        for f in self.world.factors:
            part = states[:, self.world.state_columns[f.name]]
            cols.append(part[:, 0].long() if f.is_finite else self._cell(f, part))
        return torch.stack(cols, 1)

    def _cell(self, f, part: torch.Tensor) -> torch.Tensor:
        if isinstance(f.group, SO3):
            if f.base_point is not None:
                return _sphere_cell(part)
            m = part.reshape(-1, 3, 3)
            theta = torch.arccos(((m.diagonal(dim1=1, dim2=2).sum(1) - 1) / 2).clamp(-1, 1))
            angle_bin = (_so3_angle_cdf(theta) * SO3_ANGLE_BINS).long().clamp(max=SO3_ANGLE_BINS - 1)
            return angle_bin * 6 + _cone(_axis(m))
        angles = _angles(f, part)
        arcs = (torch.remainder(angles, 2 * math.pi) / (2 * math.pi) * self.bins).long().clamp(max=self.bins - 1)
        label = torch.zeros(len(part), dtype=torch.long)
        for j in range(arcs.shape[1]):
            label = label * self.bins + arcs[:, j]
        return label

    # ---- what the metrics use --------------------------------------------------------------------
    def sample_states(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` labels ``(n, k)``, uniform (cells have equal Haar measure, so these are Haar-uniform states)."""
        return torch.stack([torch.randint(s, (n,), generator=generator) for s in self.sizes], 1)

    def render(self, labels: torch.Tensor) -> torch.Tensor:
        """Observations of a state drawn uniformly inside each label's cells."""
        labels = torch.as_tensor(labels).long()
        if labels.dim() != 2 or labels.shape[1] != len(self.sizes):
            raise ValueError(f"states: expected labels (n, {len(self.sizes)}), got shape {tuple(labels.shape)}")
        parts = []
        for j, f in enumerate(self.world.factors):
            lab = labels[:, j]
            if f.is_finite:
                parts.append(lab[:, None].to(torch.float64))
            else:
                parts.append(self._draw(f, lab))
        states = torch.cat(parts, 1).to(self.world.state_dtype)
        return self.world.render(states)

    def _draw(self, f, lab: torch.Tensor) -> torch.Tensor:
        g, n = self._generator, len(lab)
        if isinstance(f.group, SO3):
            if f.base_point is not None:
                point = _into_sphere_cell(_unit(torch.randn(n, 3, generator=g, dtype=torch.float64)), lab)
                return point * torch.tensor(f.base_point, dtype=torch.float64).norm()
            axis = _into_cone(_unit(torch.randn(n, 3, generator=g, dtype=torch.float64)), lab % 6)
            u = (lab // 6 + torch.rand(n, generator=g, dtype=torch.float64)) / SO3_ANGLE_BINS
            return f.state_of(_rodrigues(axis, _so3_angle_quantile(u)))
        k = f.group.k
        arcs = torch.stack([(lab // self.bins ** (k - 1 - j)) % self.bins for j in range(k)], 1)
        theta = (arcs + torch.rand(n, k, generator=g, dtype=torch.float64)) * (2 * math.pi / self.bins)
        return f.state_of(theta[:, 0] if isinstance(f.group, SO2) else theta)


def _angles(f, part: torch.Tensor) -> torch.Tensor:
    """Angles ``(n, k)`` of torus / SO(2) states: the elements, or the orbit point's angle per 2-D block."""
    if f.base_point is None:
        return part.reshape(len(part), -1)
    p = torch.tensor(f.base_point, dtype=torch.float64).reshape(-1, 2)
    q = part.reshape(len(part), -1, 2)
    return torch.atan2(q[..., 1], q[..., 0]) - torch.atan2(p[:, 1], p[:, 0])


def _unit(v: torch.Tensor) -> torch.Tensor:
    return v / v.norm(dim=1, keepdim=True).clamp_min(1e-300)


def _cone(v: torch.Tensor) -> torch.Tensor:
    """Cone 0…5 of unit vectors: ``2 · argmax|v_i| + (v_i < 0)``."""
    i = v.abs().argmax(1)
    return 2 * i + (v.gather(1, i[:, None])[:, 0] < 0).long()


def _sphere_cell(v: torch.Tensor) -> torch.Tensor:
    """Cell 0…23 of points on a sphere: the cone times the signs of the two other coordinates."""
    v = _unit(v)
    i = v.abs().argmax(1)
    rest = torch.stack([v.gather(1, ((i + 1) % 3)[:, None])[:, 0], v.gather(1, ((i + 2) % 3)[:, None])[:, 0]], 1)
    return _cone(v) * 4 + (rest[:, 0] < 0).long() * 2 + (rest[:, 1] < 0).long()


def _into_cone(v: torch.Tensor, cone: torch.Tensor) -> torch.Tensor:
    """Uniform unit vectors moved into cone ``cone`` by a coordinate swap and a sign flip (maps that keep the
    uniform measure on the sphere and send cones to cones)."""
    i = v.abs().argmax(1)
    t = cone // 2
    out = v.clone()
    rows = torch.arange(len(v))
    out[rows, t], out[rows, i] = v[rows, i], v[rows, t]
    sign = 1 - 2 * (cone % 2).to(v.dtype)
    out[rows, t] = out[rows, t].abs() * sign
    return out


def _into_sphere_cell(v: torch.Tensor, cell: torch.Tensor) -> torch.Tensor:
    out = _into_cone(v, cell // 4)
    t = cell // 4 // 2
    rows = torch.arange(len(v))
    for k, bit in ((1, 2), (2, 1)):
        col = (t + k) % 3
        sign = 1 - 2 * ((cell % 4) // bit % 2).to(v.dtype)
        out[rows, col] = out[rows, col].abs() * sign
    return out


def _axis(m: torch.Tensor) -> torch.Tensor:
    """Rotation axes of matrices ``(n, 3, 3)`` (from the skew part; the eigenvector of eigenvalue 1 near θ = π)."""
    axis = torch.stack([m[:, 2, 1] - m[:, 1, 2], m[:, 0, 2] - m[:, 2, 0], m[:, 1, 0] - m[:, 0, 1]], 1)
    small = axis.norm(dim=1) < 1e-6
    if bool(small.any()):
        w, vec = torch.linalg.eigh((m[small] + m[small].transpose(1, 2)) / 2)
        axis[small] = vec[:, :, -1]
    return _unit(axis)


def _rodrigues(axis: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Rotation matrices about unit ``axis`` by ``theta``: ``I + sin θ K + (1 − cos θ) K²``."""
    x, y, z = axis.unbind(1)
    zero = torch.zeros_like(x)
    k = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], 1).reshape(-1, 3, 3)
    s, c = theta.sin()[:, None, None], theta.cos()[:, None, None]
    return torch.eye(3, dtype=axis.dtype) + s * k + (1 - c) * (k @ k)


def _so3_angle_cdf(theta: torch.Tensor) -> torch.Tensor:
    """Haar distribution function of the rotation angle on SO(3): ``(θ − sin θ) / π``."""
    return (theta - theta.sin()) / math.pi


def _so3_angle_quantile(u: torch.Tensor) -> torch.Tensor:
    """The angle θ ∈ [0, π] with ``(θ − sin θ)/π = u`` (bisection, 60 steps: float64 exact)."""
    lo, hi = torch.zeros_like(u), torch.full_like(u, math.pi)
    for _ in range(60):
        mid = (lo + hi) / 2
        below = _so3_angle_cdf(mid) < u
        lo, hi = torch.where(below, mid, lo), torch.where(below, hi, mid)
    return (lo + hi) / 2
