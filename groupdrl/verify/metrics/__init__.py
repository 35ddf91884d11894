"""Metrics of the intuitive (Bengio et al. 2013) definition of disentanglement.

Algorithms and defaults follow disentanglement_lib (Locatello et al. 2019); every metric is
deterministic for a given ``seed`` and uses only explicit generators.

Every metric gives a finite answer on any finite code (constant, duplicated, rescaled by any factor up
to float64's range) or a ``ValueError``/``TypeError`` naming the argument:

- a code without information (every column constant, see ``_common.constant_columns``) scores 0 on
  every disentanglement score (BetaVAE, FactorVAE, MIG, SAP, DCI D and C, modularity); the
  prediction scores report what a classifier without input reaches (DCI informativeness: the
  majority-class rate; explicitness: ROC-AUC 0.5);
- the scores do not change under a uniform rescaling of the code. Where disentanglement_lib's
  classifiers depend on the code's units, the codes are standardised first (BetaVAE, SAP; FactorVAE
  prunes relative to the largest std) — documented departures in each function;
- every count of points is at most ``MAX_POINTS`` (1e6) and one call encodes at most ``MAX_ENCODED``
  (2e7) observations (time bounds).
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
