"""Mutual Information Gap (Chen et al. 2018, "Isolating Sources of Disentanglement in VAEs")."""
from __future__ import annotations

from typing import Any

import numpy as np

from ._common import Encoder, codes_factors, discrete_entropy, histogram_discretize, mutual_info_matrix, \
    top_two_gap, varying


def mig(encoder: Encoder | None = None, world: Any = None, *, codes: Any = None, factors: Any = None,
        n_train: int = 10000, num_bins: int = 20, seed: int = 0, batch_size: int = 256) -> dict[str, Any]:
    r"""Mutual information gap, as computed by disentanglement_lib.

    .. math:: \mathrm{MIG} = \frac{1}{K}\sum_k \frac{I(z_{j^{(1)}}; v_k) - I(z_{j^{(2)}}; v_k)}{H(v_k)}

    with :math:`j^{(1)}, j^{(2)}` the codes of largest and second-largest mutual information
    with factor :math:`v_k`; each code is binned into ``num_bins`` equal-width bins and MI is
    the plug-in estimate in nats. Constant factors (:math:`H = 0`) are left out of the mean.

    Parameters
    ----------
    encoder, world
        A callable ``obs -> (n, d)`` and a World; ``n_train`` states are sampled with
        ``torch.Generator().manual_seed(seed)``.
    codes, factors
        Or precomputed (n, d) codes and (n, k) integer factor indices.
    n_train : int
        Number of points (disentanglement_lib: 10000).
    num_bins : int
        Equal-width histogram bins per code (20).

    Returns
    -------
    dict
        ``mig`` (float), ``mi_matrix`` ((d, k) MI in nats), ``entropy`` ((k,) H(v_k) in nats).
    """
    c, f = codes_factors(encoder, world, codes, factors, n_train, seed, batch_size)
    keep = varying(f)
    m = mutual_info_matrix(histogram_discretize(c, num_bins), f)
    h = discrete_entropy(f)
    gap = top_two_gap(m[:, keep]) / h[keep]
    return {"mig": float(gap.mean()), "mi_matrix": m, "entropy": h}
