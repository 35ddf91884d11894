"""The general (non-linear) definition: does an action of G on Z exist at all?

Higgins et al. 2018, §5: an action on Z making h equivariant exists iff ``h(x1) = h(x2)`` implies
``h(g·x1) = h(g·x2)`` for every g (then ``g·h(x) := h(g·x)`` is well defined on the image of h).
We test it per sampled element g on the distinct sampled states:

- ``defect``: over pairs of states whose latents coincide (distance ≤ ``COLLISION_RTOL`` × the latent
  spread), ``Σ‖h(g·x1) − h(g·x2)‖² / (n · E‖h(x) − h̄‖²)``: 0 iff no sampled collision breaks the
  condition (the verdict in ``linear=False`` mode);
- ``knn_error``: leave-one-out 1-nearest-neighbour regression of ``h(g·x)`` from ``h(x)`` over
  *other* states, normalised the same way: how predictable the action is from nearby latents
  (a continuity score, reported for information; on a finite world any injective code admits an
  action, so this is not part of the verdict).
"""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from groupdrl.verify.group.sampling import Pairs

COLLISION_RTOL = 1e-6
KDTREE_MAX_DIM = 16
CHUNK = 512


def nearest_other(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of and exact distance to the nearest *other* row of ``x`` (k-d tree in low dimension,
    chunked brute force otherwise)."""
    if x.shape[1] <= KDTREE_MAX_DIM:
        dist, nn = cKDTree(x).query(x, k=2)
        return nn[:, 1], dist[:, 1]
    sq = (x ** 2).sum(1)
    nn = np.empty(len(x), dtype=np.int64)
    for start in range(0, len(x), CHUNK):
        block = sq[start:start + CHUNK, None] + sq[None, :] - 2 * x[start:start + CHUNK] @ x.T
        block[np.arange(len(block)), np.arange(start, start + len(block))] = np.inf
        nn[start:start + CHUNK] = block.argmin(1)
    return nn, np.sqrt(((x - x[nn]) ** 2).sum(1))


def nonlinear_scores(pairs: Pairs, state_index: np.ndarray, total: float) -> dict:
    """``{"defect", "knn_error", "collisions"}`` pooled over all sampled elements."""
    defect = knn = 0.0
    n_total = collisions = 0
    eps = COLLISION_RTOL * np.sqrt(total)
    for key in sorted({(int(i), int(g)) for i, g in zip(pairs.factor, pairs.element)}):
        idx = np.nonzero((pairs.factor == key[0]) & (pairs.element == key[1]))[0]
        _, first = np.unique(state_index[pairs.source[idx]], return_index=True)
        idx = idx[first]
        if len(idx) < 2:
            continue
        x, y = pairs.x[idx], pairs.y[idx]
        other, dist = nearest_other(x)
        err = ((y - y[other]) ** 2).sum(1)
        hit = dist <= eps
        defect += float(err[hit].sum())
        collisions += int(hit.sum())
        knn += float(err.sum())
        n_total += len(idx)
    scale = max(n_total, 1) * total
    return {"defect": defect / scale, "knn_error": knn / scale, "collisions": collisions}
