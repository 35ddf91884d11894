"""D_LSBD upper bound (Tonnaer et al. 2022, "Quantifying and Learning Linear Symmetry-Based
Disentanglement", ICML) for a world of circles: periodic cyclic factors on their full grid and SO(2)
factors on ``N`` equally spaced angles (``verify_group``'s ``DLSBD_SO2_POINTS``). For SO(2) the grid
average is the equal-weight quadrature of the Haar integral, exact when the integrand is a
trigonometric polynomial of degree < N in the angle (the integral over the subgroup C_N ⊂ SO(2)
otherwise). D_LSBD is defined on products of SO(2); for dihedral or SO(3) factors it is not computed.

D_LSBD = inf_{ρ ∈ P(G,Z)} ∫_G ‖ρ(g)⁻¹ h(g·x0) − M_ρ‖² dν(g). The practical bound for SO(2)^K sampled
on a regular grid (angles θ_k = 2π s_k / N_k): for each subgroup k, subtract the mean over grid
axis k, project on the top-2 principal components, divide by ``std·√2`` (so ``E‖p‖² = 1``), rotate by
``R(−ω θ_k)`` and take the mean squared distance to the centroid; minimise over integer
``ω ∈ [−10, 10]`` per subgroup; ``D_LSBD ≤ (1/K) Σ_k D^(k)`` (``proofs/g_dlsbd_bound.md``).
Scale ≈ [0, 1]: an exact torus code or any orthogonal mixing of it gives 0, pure noise ≈ 1.
"""
from __future__ import annotations

import numpy as np

FREQUENCIES = np.arange(-10, 11)
NOTE = ("upper bound on D_LSBD (Tonnaer et al. 2022): per factor, top-2 principal components of the "
        "latent centred over that factor's grid axis, best integer frequency in [-10, 10]; 0 is optimal; "
        "when the top-2 principal plane is not unique the value depends on the SVD's choice "
        "(proofs/g_dlsbd_bound.md)")


def subgroup_bound(grid: np.ndarray, axis: int) -> tuple[float, int]:
    """``(D^(k), ω)`` for grid axis ``axis`` of latents ``grid`` with shape ``(N_1, …, N_K, d)``."""
    n = grid.shape[axis]
    centred = grid - grid.mean(axis=axis, keepdims=True)
    flat = centred.reshape(-1, grid.shape[-1])
    _, s, vt = np.linalg.svd(flat, full_matrices=False)
    p = flat @ vt[:2].T
    if p.shape[1] < 2:
        p = np.concatenate([p, np.zeros((len(p), 2 - p.shape[1]))], 1)
    std = float(p.std())
    if std <= 1e-12 * max(1.0, float(np.abs(grid).max())):
        return 1.0, 0
    p = p / (std * np.sqrt(2.0))
    shape = [1] * (grid.ndim - 1)
    shape[axis] = n
    theta = np.broadcast_to((2 * np.pi * np.arange(n) / n).reshape(shape), grid.shape[:-1]).reshape(-1)
    ang = -FREQUENCIES[:, None] * theta[None, :]
    c, s_ = np.cos(ang), np.sin(ang)
    q = np.stack([c * p[:, 0] - s_ * p[:, 1], s_ * p[:, 0] + c * p[:, 1]], -1)
    dist = ((q - q.mean(1, keepdims=True)) ** 2).sum(-1).mean(1)
    best = int(np.argmin(dist))
    return float(dist[best]), int(FREQUENCIES[best])


def dlsbd(grid: np.ndarray, names: tuple[str, ...]) -> dict:
    """The bound, its per-factor terms and the fitted frequencies for latents on the full grid."""
    terms = [subgroup_bound(grid, k) for k in range(len(names))]
    return {"value": float(np.mean([t for t, _ in terms])),
            "per_factor": {n: t for n, (t, _) in zip(names, terms)},
            "frequencies": {n: w for n, (_, w) in zip(names, terms)},
            "note": NOTE}
