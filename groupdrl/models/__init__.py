"""Symmetry-based models and statistical baselines, one file per method; a registry by name.

>>> from groupdrl import models
>>> "hae" in models.names()
True
>>> model = models.get("hae", world, gamma=400)  # doctest: +SKIP
>>> c = model.config                                # JSON: {"name": "hae", "hparams": {...}}
>>> models.get(c["name"], world, **c["hparams"])   # rebuilt  # doctest: +SKIP
"""
from __future__ import annotations

import torch

from groupdrl._checks import check_int
from groupdrl.models.base import DATA_KINDS, VAE, Model
from groupdrl.models.hparams import Range, check_hparams
from groupdrl.models.beta_vae import BetaVAE
from groupdrl.models.equivariant_vae import EquivariantVAE
from groupdrl.models.forward_vae import ForwardVAE
from groupdrl.models.hae import HAE
from groupdrl.models.lsbd_vae import LSBDVAE
from groupdrl.models.quessard import Quessard
from groupdrl.models.annealed_vae import AnnealedVAE
from groupdrl.models.beta_tcvae import BetaTCVAE
from groupdrl.models.dip_vae import DIPVAEI, DIPVAEII
from groupdrl.models.disdiff import DisDiff
from groupdrl.models.factor_vae import FactorVAE
from groupdrl.models.infogan import InfoGAN
from groupdrl.models.joint_vae import JointVAE
from groupdrl.models.rf_vae import RFVAE

_REGISTRY: dict[str, type[Model]] = {cls.name: cls for cls in (
    BetaVAE, EquivariantVAE, ForwardVAE, HAE, LSBDVAE, Quessard,
    AnnealedVAE, BetaTCVAE, DIPVAEI, DIPVAEII, DisDiff, FactorVAE, InfoGAN, JointVAE, RFVAE)}


def names() -> list[str]:
    """Names of the registered models, sorted."""
    return sorted(_REGISTRY)


def model_class(name: str) -> type[Model]:
    """The class registered under ``name``; unknown names raise ``ValueError`` listing the valid ones."""
    if name not in _REGISTRY:
        raise ValueError(f"name: unknown model {name!r}; valid names are {names()}")
    return _REGISTRY[name]


def get(name: str, world, *, seed: int = 0, **hparams) -> Model:
    """Build model ``name`` for ``world`` with ``hparams``; parameters are initialised from ``seed``.

    The initialisation runs under ``torch.random.fork_rng`` so torch's global RNG is left as it was.
    ``get(config["name"], world, **config["hparams"])`` rebuilds a model from its JSON ``config``.
    """
    cls = model_class(name)
    seed = check_int(seed, "seed", -(2**63), 2**64 - 1)
    check_hparams(cls, hparams)  # before anything is built: --set beta=nan is refused naming beta
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        try:
            return cls(world, **hparams)
        except TypeError as err:
            raise TypeError(f"hparams: {err} (model {name!r})") from None


__all__ = ["DATA_KINDS", "VAE", "Model", "BetaVAE", "EquivariantVAE", "ForwardVAE", "HAE", "LSBDVAE", "Quessard",
           "AnnealedVAE", "BetaTCVAE", "DIPVAEI", "DIPVAEII", "DisDiff", "FactorVAE", "InfoGAN", "JointVAE",
           "RFVAE", "Range", "get", "model_class", "names"]
