"""Latent × factor matrices for reports: binned mutual information and a factor-traversal analysis."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ._common import (Encoder, check_count, check_encoded, check_world, codes_factors, constant_columns,
                      discrete_entropy, encode_states, histogram_discretize, mutual_info_matrix, sample_states,
                      seeded, unit_scale)


def latent_factor_matrices(encoder: Encoder | None = None, world: Any = None, *, codes: Any = None,
                           factors: Any = None, n_train: int = 10000, num_bins: int = 20, seed: int = 0,
                           batch_size: int = 256) -> dict[str, np.ndarray]:
    r"""MI between every latent and every factor (the matrix behind MIG and modularity).

    Returns
    -------
    dict
        ``mi_matrix`` ((d, k) :math:`I(z_j; v_k)` in nats, codes binned as in :func:`mig`),
        ``normalized_mi`` (:math:`I(z_j; v_k)/H(v_k)` in [0, 1]; 0 for a constant factor).
    """
    c, f = codes_factors(encoder, world, codes, factors, n_train, seed, batch_size)
    m = mutual_info_matrix(histogram_discretize(c, num_bins), f)
    h = discrete_entropy(f)
    return {"mi_matrix": m, "normalized_mi": np.divide(m, h, out=np.zeros_like(m), where=h > 0)}


def factor_traversal(encoder: Encoder, world: Any, *, n_bases: int = 64, seed: int = 0,
                     batch_size: int = 256) -> dict[str, np.ndarray]:
    r"""Which factor moves each latent: traverse every factor through all its values from random states.

    For each of ``n_bases`` base states and each factor :math:`k`, factor :math:`k` runs
    through all its values with the others fixed (on an incomplete grid: through the values whose
    state exists); latent :math:`j`'s variance along that traversal, averaged over bases and divided by its variance over all traversed codes,
    gives ``variance_ratio[j, k]`` (near 1 for the factor a disentangled latent encodes,
    near 0 for the others; 0 for a constant latent, see
    :func:`~groupdrl.verify.metrics._common.constant_columns`).

    Returns
    -------
    dict
        ``variance_ratio`` ((d, k)) and ``moved_by`` ((d,) int: the factor with the largest
        ratio, -1 for a latent that never moves).
    """
    sizes = check_world(world)
    n_bases = check_count(n_bases, "n_bases", 1)
    check_encoded(n_bases * sum(sizes), "n_bases")
    bases = sample_states(world, n_bases, seeded(seed))
    present = getattr(world, "_present", None)
    codes, kept = [], []
    for k, size in enumerate(sizes):
        states = bases[:, None, :].repeat(1, size, 1).reshape(-1, len(sizes))
        states[:, k] = torch.arange(size).repeat(n_bases)
        keep = np.ones(len(states), dtype=bool) if present is None else present[world._grid_index(states)].numpy()
        codes.append(encode_states(encoder, world, states[torch.from_numpy(keep)], batch_size))
        kept.append(keep.reshape(n_bases, size))
    codes = unit_scale(*codes)  # one exact power-of-two scale: the ratios are unchanged, nothing overflows
    along = np.stack([_traversal_variance(z, keep) for z, keep in zip(codes, kept)], 1)
    everything = np.concatenate(codes)
    moving = ~constant_columns(everything)
    ratio = np.zeros(along.shape)
    ratio[moving] = along[moving] / everything.var(axis=0)[moving, None]
    return {"variance_ratio": ratio, "moved_by": np.where(moving, ratio.argmax(axis=1), -1)}


def _traversal_variance(z: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Per latent: variance along each traversal (rows of ``keep``, the states that exist), averaged over the
    traversals with at least two states; 0 when none has."""
    if keep.all():
        return z.reshape(*keep.shape, -1).var(axis=1).mean(axis=0)
    full = np.full((*keep.shape, z.shape[1]), np.nan)
    full[keep] = z
    usable = keep.sum(axis=1) >= 2
    if not usable.any():
        return np.zeros(z.shape[1])
    return np.nanvar(full[usable], axis=1).mean(axis=0)
