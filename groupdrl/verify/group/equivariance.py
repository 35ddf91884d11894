"""Equivariance: fit (or take) the linear action ρ(g) and measure how well ``h(g·x) ≈ c + ρ(g)(h(x) − c)``.

Higgins et al. 2018 (§6) ask for a *linear* action ρ on Z with ``h(g·x) = ρ(g) h(x)``. We allow the
origin of Z to be any point ``c`` (an affine action with a common fixed point, which is a linear
action about ``c``; see ``proofs/f_affine_centre.md``). The affine part is handled explicitly:

1. per element ``g`` an affine map ``y ≈ A_g x + t_g`` is fitted by least squares;
2. the centre ``c`` is the least-squares common fixed point, ``(I − A_g) c ≈ t_g`` for all ``g``
   (the minimum-norm solution), kept within ``CENTRE_RADIUS`` standard deviations of the sample
   mean ``h̄`` (Mahalanobis distance in the principal coordinates);
3. ρ(g) is refitted as a *linear* map about ``c``.

For a finite group acting on a G-invariant state distribution (periodic factors, uniform states)
the exact fixed point *is* the mean, so step 2 only absorbs the sampling error of ``h̄``. A
translation (``h(g·x) = h(x) + t``, e.g. a β-VAE "line" code of a bounded position) has no fixed
point; it is the limit of scalings about a centre moving off to infinity, which the radius
excludes. Within the radius it is a scaling ``λ ≠ ±1``, no representation of ``C_N``, and the
relation checks reject it (``proofs/f_affine_centre.md``, part 3); on a periodic factor its
wrap-around already breaks equivariance.

The normalised error is ``E‖h(g·x) − c − ρ(g)(h(x) − c)‖² / E‖h(x) − h̄‖²``; the denominator is
the total latent variance (independent of ``c``), so a far-away centre cannot shrink it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from groupdrl.verify.group.sampling import Pairs

RANK_RTOL = 1e-7
CENTRE_RADIUS = 3.0


@dataclass
class Coordinates:
    """Principal coordinates ``u = Uᵀ(z − h̄)`` of the latents of the state sample.

    ``U`` is ``(d, r)`` orthonormal (directions with singular value > ``RANK_RTOL`` × the largest),
    ``var`` the variances along them and ``total`` the total variance ``E‖h(x) − h̄‖²``.
    """

    mean: np.ndarray
    U: np.ndarray
    var: np.ndarray
    total: float

    def reduce(self, z: np.ndarray) -> np.ndarray:
        return (z - self.mean) @ self.U

    def lift(self, m: np.ndarray) -> np.ndarray:
        """``(r, r)`` map on principal coordinates → ``(d, d)`` map, identity off the latent support."""
        d = self.U.shape[0]
        return self.U @ m @ self.U.T + (np.eye(d) - self.U @ self.U.T)


def coordinates(latents: np.ndarray) -> Coordinates:
    """Principal coordinates of ``latents`` (float64 ``(n, d)``)."""
    mean = latents.mean(0)
    centred = latents - mean
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    keep = s > RANK_RTOL * (s[0] if len(s) else 0.0)
    var = s[keep] ** 2 / len(latents)
    return Coordinates(mean, vt[keep].T, var, float((centred ** 2).sum() / len(latents)))


def _lstsq(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.lstsq(a, b, rcond=None)[0]


def fixed_point(maps: list[np.ndarray], shifts: list[np.ndarray], weights: list[int], var: np.ndarray) -> np.ndarray:
    """Least-squares common fixed point δ of the affine maps ``u ↦ A_g u + t_g``.

    Minimises ``Σ_g w_g ‖(I − A_g)δ − t_g‖²`` and takes the minimum-norm minimiser (δ = 0 is the
    sample mean), shrunk towards 0 so that ``‖δ / √var‖ ≤ CENTRE_RADIUS``. For an exact affine
    action of a finite group the minimum is 0 (``proofs/f_affine_centre.md``).
    """
    r = len(var)
    if not maps or r == 0:
        return np.zeros(r)
    rows = [np.sqrt(w) * (np.eye(r) - a) for a, w in zip(maps, weights)]
    rhs = [np.sqrt(w) * t for t, w in zip(shifts, weights)]
    delta = _lstsq(np.concatenate(rows, 0), np.concatenate(rhs, 0))
    dist = float(np.sqrt((delta ** 2 / var).sum()))
    return delta * (CENTRE_RADIUS / dist) if dist > CENTRE_RADIUS else delta


@dataclass
class Action:
    """The linear action about ``centre`` on the sampled elements: ``maps[(i, g)]`` is ρ(g) (d × d)."""

    centre: np.ndarray
    maps: dict[tuple[int, int], np.ndarray]
    reduced: dict[tuple[int, int], np.ndarray]
    delta: np.ndarray


def fit_action(pairs: Pairs, coords: Coordinates, given: dict[tuple[int, int], np.ndarray] | None = None) -> Action:
    """Fit ρ(g) per sampled element (or take ``given`` (d × d) matrices) and the centre ``c``."""
    keys = sorted({(int(i), int(g)) for i, g in zip(pairs.factor, pairs.element)})
    ux, uy = coords.reduce(pairs.x), coords.reduce(pairs.y)
    groups = {k: np.nonzero((pairs.factor == k[0]) & (pairs.element == k[1]))[0] for k in keys}
    r = coords.U.shape[1]
    s = np.sqrt(coords.total) or 1.0  # latents in units of their spread next to the ones column: a fit that
    amaps, shifts, weights = [], [], []  # does not depend on the code's scale (lstsq's cutoff is relative)
    for k in keys:
        idx = groups[k]
        x, y = ux[idx], uy[idx]
        if given is None:
            coef = _lstsq(np.concatenate([x / s, np.ones((len(x), 1))], 1), y / s)
            a, t = coef[:r].T, coef[r] * s
        else:
            a = coords.U.T @ given[k] @ coords.U
            t = y.mean(0) - a @ x.mean(0)
        amaps.append(a)
        shifts.append(t)
        weights.append(len(idx))
    delta = fixed_point(amaps, shifts, weights, coords.var)
    reduced, maps = {}, {}
    for k, a in zip(keys, amaps):
        if given is None:
            idx = groups[k]
            a = _lstsq(ux[idx] - delta, uy[idx] - delta).T
            maps[k] = coords.lift(a)
        else:
            maps[k] = given[k]
        reduced[k] = a
    return Action(coords.mean + coords.U @ delta, maps, reduced, delta)


def residuals(pairs: Pairs, action: Action) -> np.ndarray:
    """Squared residual ``‖h(g·x) − c − ρ(g)(h(x) − c)‖²`` of every pair (float64 ``(m,)``)."""
    out = np.empty(len(pairs.x))
    for (i, g), m in action.maps.items():
        idx = np.nonzero((pairs.factor == i) & (pairs.element == g))[0]
        r = (pairs.y[idx] - action.centre) - (pairs.x[idx] - action.centre) @ m.T
        out[idx] = (r ** 2).sum(1)
    return out
