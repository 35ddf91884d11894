"""FactorVAE disentanglement score (Kim & Mnih 2018, "Disentangling by Factorising")."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from groupdrl._checks import check_float

from ._common import (Encoder, check_count, check_encoded, constant_columns, encode_states, grouped_states,
                      sample_codes, seeded, share_factor, unit_scale)


def factor_vae_score(encoder: Encoder, world: Any, *, group_size: int = 64, n_train: int = 10000,
                     n_eval: int = 5000, n_variance: int = 10000, prune_threshold: float = 0.05,
                     seed: int = 0, batch_size: int = 256) -> dict[str, Any]:
    r"""FactorVAE score, as computed by disentanglement_lib.

    Global variances :math:`s_j^2` of each code (``n_variance`` points, ddof 1); dims with
    :math:`s_j <` ``prune_threshold`` :math:`\cdot \max_j s_j` are pruned (collapsed). Per point: draw a factor
    :math:`k`, ``group_size`` states sharing factor :math:`k`, and vote for
    :math:`(k, \arg\min_j \mathrm{Var}_{\mathrm{local}}(z_j)/s_j^2)` over the kept dims. The
    majority-vote classifier maps each dim to the factor with most training votes; the
    score is the share of ``n_eval`` new votes it gets right. Only factors of size > 1 are
    drawn; all randomness comes from ``torch.Generator().manual_seed(seed)``.

    Departure from the reference, so that the score does not depend on the code's units: a dim is
    pruned when its std is below ``prune_threshold`` times the largest std of the code (the
    reference: below ``prune_threshold`` in absolute terms, so rescaling a code by 1e-30 pruned every
    dim); the two agree when the most active dim has unit std, the scale of a VAE's N(0, 1) prior.
    A code with no varying dim scores 0 with ``num_active_dims`` 0.

    Fixes two defects of the reference code: its argmin is taken over the kept dims but
    used as an index into all dims (wrong votes once a dim is pruned), and its
    ``num_active_dims`` reports the number of all dims; here the argmin is mapped back to
    the kept dim it denotes and ``num_active_dims`` counts kept dims.

    Returns
    -------
    dict
        ``train_accuracy``, ``eval_accuracy`` (floats), ``num_active_dims`` (int) and
        ``votes`` ((k, d) training votes: factor × latent dim).
    """
    group_size = check_count(group_size, "group_size", 2, 100_000)
    n_variance, n_train, n_eval = (check_count(n_variance, "n_variance"), check_count(n_train, "n_train", 1),
                                   check_count(n_eval, "n_eval", 1))
    prune_threshold = check_float(prune_threshold, "prune_threshold", 0.0, 1.0)
    check_encoded(n_variance + group_size * (n_train + n_eval), "n_variance, n_train, n_eval, group_size")
    gen = seeded(seed)
    codes, _ = sample_codes(encoder, world, n_variance, gen, batch_size)
    (scaled,) = unit_scale(codes)
    variances = scaled.var(axis=0, ddof=1)
    std = np.sqrt(variances)
    active = np.flatnonzero(~constant_columns(codes) & (std >= prune_threshold * std.max()))
    k, d = len(world.sizes), codes.shape[1]
    if active.size == 0:
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0,
                "votes": np.zeros((k, d), dtype=np.int64)}
    train = _votes(encoder, world, n_train, group_size, gen, batch_size, variances, active, (k, d))
    evals = _votes(encoder, world, n_eval, group_size, gen, batch_size, variances, active, (k, d))
    classifier = train.argmax(axis=0)
    dims = np.arange(d)
    return {"train_accuracy": float(train[classifier, dims].sum() / train.sum()),
            "eval_accuracy": float(evals[classifier, dims].sum() / evals.sum()),
            "num_active_dims": int(active.size), "votes": train}


def _votes(encoder: Encoder, world: Any, n: int, group_size: int, gen: torch.Generator, batch_size: int,
           variances: np.ndarray, active: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Training or evaluation votes; each chunk's codes are scaled by a power of two (a common factor of
    every ratio, so the argmin is unchanged) to keep the variances finite."""
    votes = np.zeros(shape, dtype=np.int64)
    for lab, states in grouped_states(world, n, group_size, gen):
        m, k = lab.numel(), states.shape[-1]
        like = states[:, :1].expand(-1, group_size, -1).reshape(-1, k)
        states = share_factor(world, states.reshape(-1, k), like, lab.repeat_interleave(group_size), gen)
        (z,) = unit_scale(encode_states(encoder, world, states.reshape(-1, k), batch_size))
        local = z.reshape(m, group_size, -1)[:, :, active].var(axis=1, ddof=1)
        np.add.at(votes, (lab.numpy(), active[(local / variances[active]).argmin(axis=1)]), 1)
    return votes
