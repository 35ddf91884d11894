"""BetaVAE disentanglement score (Higgins et al. 2017, "beta-VAE: Learning Basic Visual Concepts with a
Constrained Variational Framework")."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from ._common import (Encoder, check_count, check_encoded, constant_columns, encode_states, fit_quietly,
                      grouped_states, sample_states, seeded, share_factor, standardise)


def beta_vae_score(encoder: Encoder, world: Any, *, group_size: int = 64, n_train: int = 10000,
                   n_eval: int = 5000, seed: int = 0, batch_size: int = 256) -> dict[str, float]:
    r"""BetaVAE score, as computed by disentanglement_lib (``beta_vae_sklearn``), on standardised features.

    Per point: draw a factor :math:`k`, two batches of ``group_size`` states that agree on
    factor :math:`k` only by construction (all other factors resampled independently; on an
    incomplete grid, from the existing states with that value of :math:`k`),
    feature :math:`\frac{1}{B}\sum_b |z(x_b^{(1)}) - z(x_b^{(2)})|`, label :math:`k`. A
    ``LogisticRegression`` is trained on ``n_train`` points; the score is its accuracy on
    ``n_eval`` new points. Only factors of size > 1 are drawn. Needs the world (it fixes a
    factor and resamples the others); all randomness comes from
    ``torch.Generator().manual_seed(seed)``.

    Departures from the reference, so that the score does not depend on the code's units: the
    features are standardised with the training statistics before the (L2-regularised) logistic
    regression, whose fit otherwise changes with a rescaling of the code (at scale 1e-30 every
    weight is regularised to zero); and a code whose features never vary (a constant encoder)
    scores 0, as every disentanglement score does for a code without information, instead of the
    majority-class rate its classifier would reach.

    Returns
    -------
    dict
        ``train_accuracy``, ``eval_accuracy``.
    """
    group_size = check_count(group_size, "group_size", 1, 100_000)
    n_train, n_eval = check_count(n_train, "n_train"), check_count(n_eval, "n_eval", 1)
    check_encoded(2 * group_size * (n_train + n_eval), "n_train, n_eval, group_size")
    gen = seeded(seed)
    x, y = _points(encoder, world, n_train, group_size, gen, batch_size)
    xe, ye = _points(encoder, world, n_eval, group_size, gen, batch_size)
    if np.unique(y).size < 2:
        return {"train_accuracy": 1.0, "eval_accuracy": 1.0}
    if constant_columns(x).all():
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0}
    x, xe = standardise(x, xe)
    model = fit_quietly(LogisticRegression(random_state=int(seed)), x, y)
    return {"train_accuracy": float(model.score(x, y)), "eval_accuracy": float(model.score(xe, ye))}


def _points(encoder: Encoder, world: Any, n: int, group_size: int, gen: torch.Generator,
            batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of ``n`` points; each chunk's codes are scaled by a power of two (exact) so that
    no difference overflows, then every chunk is brought to the largest chunk's scale."""
    features, exponents, labels = [], [], []
    for lab, first in grouped_states(world, n, group_size, gen):
        m, k = lab.numel(), first.shape[-1]
        first = first.reshape(-1, k)
        second = share_factor(world, sample_states(world, m * group_size, gen), first,
                              lab.repeat_interleave(group_size), gen)
        z = encode_states(encoder, world, torch.cat([first, second]), batch_size)
        e = int(np.frexp(np.abs(z).max())[1])
        z = np.ldexp(z, -e).reshape(2, m, group_size, -1)
        features.append(np.abs(z[0] - z[1]).mean(axis=1))
        exponents.append(e)
        labels.append(lab.numpy())
    top = max(exponents)
    return np.concatenate([np.ldexp(f, e - top) for f, e in zip(features, exponents)]), np.concatenate(labels)
