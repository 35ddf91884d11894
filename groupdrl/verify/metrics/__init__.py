"""Metrics of the intuitive (Bengio et al. 2013) definition of disentanglement.

Algorithms and defaults follow disentanglement_lib (Locatello et al. 2019); every metric is
deterministic for a given ``seed`` and uses only explicit generators.
"""
from __future__ import annotations

from ._common import discrete_entropy, histogram_discretize, mutual_info_matrix
from .beta_vae import beta_vae_score
from .dci import completeness, dci, disentanglement
from .factor_vae import factor_vae_score
from .matrices import factor_traversal, latent_factor_matrices
from .mig import mig
from .modularity import modularity_explicitness
from .sap import sap

__all__ = [
    "beta_vae_score",
    "completeness",
    "dci",
    "discrete_entropy",
    "disentanglement",
    "factor_traversal",
    "factor_vae_score",
    "histogram_discretize",
    "latent_factor_matrices",
    "mig",
    "modularity_explicitness",
    "mutual_info_matrix",
    "sap",
]
