"""Decomposition Z = Z_1 ⊕ … ⊕ Z_k: subspaces, the leakage matrix and principal angles.

From the fitted action (Higgins et al. 2018, §6): for each factor ``G_i``

- ``Mov_i`` is the span of the images of ``ρ(g) − I`` over the sampled ``g ∈ G_i`` and ``Fix_i`` the
  directions the fitted ``ρ(g)`` leave (nearly) unchanged, of the complementary dimension; both are
  computed in coordinates whitened by the latent covariance (directions holding less than
  ``SUBSPACE_RTOL`` of the whitened change are dropped); ``P_i`` is the projection onto ``Fix_i`` along ``Mov_i``. For a
  representation of a finite group ``V = Fix_i ⊕ Mov_i`` exactly and ``P_i`` is the average of
  ``ρ(g)`` over ``G_i`` (``proofs/a_leakage_diagonal.md``).
- The commuting projections split Z into pieces ``V_A = Π_{i∈A}(I − P_i) Π_{i∉A} P_i Z``: the
  vectors moved by exactly the factors in ``A``. ``V_{i}`` is moved by ``G_i`` and fixed by every
  ``G_j, j ≠ i``; a piece with ``|A| ≥ 2`` is entangled.
- ``Z_i`` is ``V_{i}`` plus each entangled piece whose largest share of change comes from ``G_i``
  (the assignment that minimises the total off-diagonal leakage).

Latent changes are expressed in the basis the pieces define (oblique projections, not orthogonal
ones, so that a disentangled code in a non-orthogonal basis has no leakage). ``L[i, j]`` is the share
of the energy ``Σ‖P_b Δ‖²`` of the actual changes ``Δ = h(g·x) − h(x)``, ``g ∈ G_i``, that falls in
``Z_j``; what falls in the fixed part (or outside the latent support) is reported as unassigned.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from groupdrl.verify.group.equivariance import Action, Coordinates

SUBSPACE_RTOL = 1e-3
VARIANCE_FLOOR = 1e-4
PRUNE_ATOL = 1e-9


@dataclass
class Decomposition:
    """Subspaces ``(d, d_i)``, oblique projections ``(d, d)`` onto them and the leakage numbers."""

    subspaces: list[np.ndarray]
    projectors: list[np.ndarray]
    leakage: np.ndarray
    unassigned: np.ndarray
    min_angle: float | None
    min_angle_pair: tuple[int, int] | None
    entangled_pieces: list[dict]


def _orth(a: np.ndarray) -> np.ndarray:
    if a.shape[1] == 0:
        return a
    u, s, _ = np.linalg.svd(a, full_matrices=False)
    return u[:, s > 1e-10 * max(s[0], 1e-300)]


def moved_fixed_projector(maps: list[np.ndarray], weights: list[int], cov: np.ndarray) -> np.ndarray:
    """Projection onto ``Fix_i`` along ``Mov_i`` (principal coordinates) from the fitted ρ(g), g ∈ G_i.

    Ranks are decided in coordinates whitened by ``cov`` (floored at ``VARIANCE_FLOOR`` × the mean
    variance), so that a change of basis of the latent does not change them while directions of
    negligible variance are not blown up.
    """
    r = cov.shape[0]
    eye = np.eye(r)
    if not maps:
        return eye
    lam0, vec0 = np.linalg.eigh(cov)
    floor = VARIANCE_FLOOR * max(float(np.mean(lam0)), 0.0)
    white = vec0 @ np.diag(1 / np.sqrt(np.maximum(lam0, 0) + floor + 1e-300)) @ vec0.T
    unwhite = np.linalg.inv(white)
    wmaps = [white @ a @ unwhite for a in maps]
    spread = white @ cov @ white  # ≈ I, smaller on directions below the variance floor
    change = sum(w * (a - eye) @ spread @ (a - eye).T for a, w in zip(wmaps, weights))
    lam, vec = np.linalg.eigh(change)
    rank = int((lam > SUBSPACE_RTOL * lam.sum()).sum()) if lam.sum() > 1e-12 * sum(weights) else 0
    if rank == 0:
        return eye
    moved = vec[:, ::-1][:, :rank]
    stacked = np.concatenate([np.sqrt(w) * (a - eye) for a, w in zip(wmaps, weights)], 0)
    fixed = np.linalg.svd(stacked)[2][rank:].T
    basis = unwhite @ np.concatenate([fixed, moved], 1)
    return unwhite @ np.concatenate([fixed, np.zeros_like(moved)], 1) @ np.linalg.pinv(basis)


def pieces(projectors: list[np.ndarray]) -> list[tuple[frozenset, np.ndarray]]:
    """Non-zero ``(A, basis of V_A)`` for the product ``Π_i (I − P_i if i ∈ A else P_i)`` in factor order."""
    r = projectors[0].shape[0] if projectors else 0
    out = []

    def walk(i: int, q: np.ndarray, a: frozenset) -> None:
        if np.linalg.norm(q) < PRUNE_ATOL:
            return
        if i == len(projectors):
            rank = int(np.clip(round(float(np.trace(q))), 0, r))
            if rank:
                out.append((a, np.linalg.svd(q)[0][:, :rank]))
            return
        walk(i + 1, q @ projectors[i], a)
        walk(i + 1, q @ (np.eye(r) - projectors[i]), a | {i})

    walk(0, np.eye(r), frozenset())
    return out


def block_shares(maps: list[np.ndarray], deltas: np.ndarray, factor: np.ndarray, k: int) -> np.ndarray:
    """``(k, b)`` pooled shares ``Σ‖K_b Δ‖² / Σ_b' Σ‖K_b' Δ‖²`` over the changes of each factor.

    ``K_b`` (``m_b × d``) gives the energy of block ``b``: ``‖P_b Δ‖² = ‖K_b Δ‖²`` (``P_b = B_b K_b``
    with orthonormal ``B_b``).
    """
    energy = np.stack([((deltas @ m.T) ** 2).sum(1) for m in maps], 1)
    out = np.zeros((k, len(maps)))
    for i in range(k):
        e = energy[factor == i].sum(0)
        if e.sum() > 0:
            out[i] = e / e.sum()
    return out


def _orthonormal_factor(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``P = B K`` with ``B`` orthonormal columns spanning ``Im P``."""
    b = _orth(p)
    return b, b.T @ p


def smallest_angle(u: np.ndarray, w: np.ndarray) -> float:
    """Smallest principal angle between ``span u`` and ``span w`` (radians), accurate for small angles."""
    qu, qw = np.linalg.qr(u)[0], np.linalg.qr(w)[0]
    if qu.shape[1] > qw.shape[1]:
        qu, qw = qw, qu
    sines = np.linalg.svd(qu - qw @ (qw.T @ qu), compute_uv=False)
    return float(np.arcsin(np.clip(sines.min(), 0.0, 1.0)))


def _angles(subspaces: list[np.ndarray]) -> tuple[float | None, tuple[int, int] | None]:
    best, pair = None, None
    for i, j in combinations(range(len(subspaces)), 2):
        if subspaces[i].shape[1] and subspaces[j].shape[1]:
            a = smallest_angle(subspaces[i], subspaces[j])
            if best is None or a < best:
                best, pair = a, (i, j)
    return best, pair


def _finish(subspaces, projectors, deltas, factor, k, entangled) -> Decomposition:
    d = deltas.shape[1]
    rest = np.eye(d) - sum(projectors, np.zeros((d, d)))
    maps = [_orthonormal_factor(p)[1] for p in list(projectors) + [rest]]
    shares = block_shares(maps, deltas, factor, k)
    angle, pair = _angles(subspaces)
    return Decomposition(list(subspaces), list(projectors), shares[:, :k], shares[:, k], angle, pair, entangled)


def factor_projectors(action: Action, coords: Coordinates, counts: dict[tuple[int, int], int],
                      k: int) -> list[np.ndarray]:
    """``P_i`` (projection onto ``Fix_i`` along ``Mov_i``, principal coordinates) for every factor."""
    cov = np.diag(coords.var) + np.outer(action.delta, action.delta)
    projs = []
    for i in range(k):
        keys = [key for key in action.reduced if key[0] == i]
        projs.append(moved_fixed_projector([action.reduced[key] for key in keys], [counts[key] for key in keys], cov))
    return projs


def factor_variances(projs: list[np.ndarray], action: Action, coords: Coordinates) -> list[float]:
    """``V_i = E‖(I − P_i)(h(x) − c)‖²``: the variance of the part of the latent that ``G_i`` moves."""
    cov = np.diag(coords.var) + np.outer(action.delta, action.delta)
    eye = np.eye(len(coords.var))
    return [float(np.trace((eye - p) @ cov @ (eye - p).T)) for p in projs]


def decompose(projs: list[np.ndarray], coords: Coordinates, deltas: np.ndarray, factor: np.ndarray) -> Decomposition:
    """Find ``Z_1 … Z_k`` from the factor projections and measure the leakage of the changes ``deltas`` (d-space)."""
    k = len(projs)
    r = len(coords.var)
    found = pieces(projs) if r else []
    basis = np.concatenate([b for _, b in found], 1) if found else np.zeros((r, 0))
    coef = np.linalg.pinv(basis)
    lifted, energies, start = [], [], 0
    for _, b in found:
        n = b.shape[1]
        energies.append(coef[start:start + n] @ coords.U.T)  # ‖U b a‖ = ‖a‖: b, U orthonormal
        lifted.append(coords.U @ b @ energies[-1])
        start += n
    piece_shares = block_shares(energies, deltas, factor, k) if found else np.zeros((k, 0))
    owner = []
    for col, (a, _) in enumerate(found):
        owner.append(None if not a else max(sorted(a), key=lambda j: piece_shares[j, col]))
    d = coords.U.shape[0]
    subspaces, projectors = [], []
    for j in range(k):
        cols = [c for c, o in enumerate(owner) if o == j]
        subspaces.append(_orth(coords.U @ np.concatenate([found[c][1] for c in cols], 1)) if cols
                         else np.zeros((d, 0)))
        projectors.append(sum((lifted[c] for c in cols), np.zeros((d, d))))
    entangled = [{"factors": sorted(a), "dim": int(found[c][1].shape[1]), "assigned_to": owner[c]}
                 for c, (a, _) in enumerate(found) if len(a) >= 2]
    return _finish(subspaces, projectors, deltas, factor, k, entangled)


def given_decomposition(subspaces: list[np.ndarray], deltas: np.ndarray, factor: np.ndarray) -> Decomposition:
    """Leakage for user-given subspaces, in the basis ``[Z_1 … Z_k | orthogonal complement]``."""
    d = deltas.shape[1]
    k = len(subspaces)
    stacked = np.concatenate(subspaces, 1)
    complement = np.linalg.svd(stacked.T)[2][stacked.shape[1]:].T if stacked.shape[1] < d else np.zeros((d, 0))
    inv = np.linalg.inv(np.concatenate([stacked, complement], 1))
    projectors, start = [], 0
    for z in subspaces:
        n = z.shape[1]
        projectors.append(z @ inv[start:start + n])
        start += n
    return _finish(subspaces, projectors, deltas, factor, k, [])
