"""Equivariant VAE: an escnn steerable encoder whose latent carries a known representation of the image
rotations (Weiler & Cesa 2019 layers from :class:`groupdrl.nn.EquivariantImageEncoder`)."""
from __future__ import annotations

import torch

from groupdrl.models.base import (GaussianLatent, Model, check_likelihood, kl_normal, make_decoder,
                                  reconstruction_loss, reparameterise)
from groupdrl.models.hparams import NONNEGATIVE, Range
from groupdrl.nn import EquivariantImageEncoder


class EquivariantVAE(GaussianLatent, Model):
    """A β-VAE whose encoder is C_N-equivariant by construction for the factor that rotates the image.

    Latent z = (z_rot, z_inv): z_rot ∈ R² carries irrep 1 of C_N (rotating the image by 2π/N rotates
    z_rot by 2π/N, up to the pixel grid: exact for quarter turns), z_inv (``invariant_dim`` dims) is
    rotation invariant and left to encode the other factors. The posterior N(μ, diag σ²) keeps that
    structure: σ² is shared by both coordinates of z_rot (isotropic, so the posterior itself rotates) and
    every log-variance is an invariant output. Loss: recon + β KL(q(z|x) ‖ N(0, I)) (the prior is
    rotation invariant). The decoder is the plain mirror conv net.

    ``latent_rep`` is ``None``: only the rotation factor's action is known — it is
    ``self.encoder.out_rep`` restricted to the first two coordinates.

    Parameters
    ----------
    world : World
        Square images; ``rotation_factor`` must be one of its factors, its index ``k`` meaning a
        rotation of the image by 2πk/N.
    rotation_factor : str
        The factor acting by image rotations.
    invariant_dim : int
        Width of z_inv.
    beta : float
        Weight of the KL term.
    gspace : {"rot2d", "so2"}
        C_N rotations (N = the factor's size) or all of SO(2) (approximate on the grid).
    likelihood : {"auto", "bernoulli", "gaussian"}
    """

    name = "equivariant_vae"
    hparam_ranges = {"invariant_dim": Range(0, integer=True), "beta": NONNEGATIVE}
    data = "observations"

    def __init__(self, world, rotation_factor: str = "orientation", invariant_dim: int = 4, beta: float = 1.0,
                 gspace: str = "rot2d", likelihood: str = "auto") -> None:
        super().__init__(world, rotation_factor=rotation_factor, invariant_dim=invariant_dim, beta=float(beta),
                         gspace=gspace, likelihood=likelihood)
        if rotation_factor not in self.factor_names:
            raise ValueError(f"rotation_factor: {rotation_factor!r} is not a factor of the world; factors are "
                             f"{list(self.factor_names)}")
        if len(self.observation_shape) != 3:
            raise ValueError(f"world: equivariant_vae needs (C, H, W) images, got {self.observation_shape}")
        if not isinstance(invariant_dim, int) or invariant_dim < 0:
            raise ValueError(f"invariant_dim: expected a non-negative int, got {invariant_dim!r}")
        if gspace not in ("rot2d", "so2"):
            raise ValueError(f"gspace: expected 'rot2d' or 'so2', got {gspace!r}")
        self.beta, self.m = float(beta), invariant_dim
        self.latent_dim = 2 + invariant_dim
        self.likelihood = check_likelihood(likelihood, self.observation_shape)
        c, h = self.observation_shape[0], self.observation_shape[1]
        n = self.factor_sizes[self.factor_names.index(rotation_factor)]
        latent = ("irrep:1",) + ("trivial",) * (invariant_dim + 1 + invariant_dim)
        self.encoder = EquivariantImageEncoder(c, h, gspace=gspace, N=n, latent=latent)
        self.decoder = make_decoder(self.latent_dim, self.observation_shape)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(μ, log σ²)``, each ``(n, 2 + invariant_dim)``; the two log σ² of z_rot are equal."""
        out = self.encoder(x)
        m = self.m
        mu = out[:, : 2 + m]
        logvar = torch.cat([out[:, 2 + m : 3 + m].expand(-1, 2), out[:, 3 + m :]], 1)
        return mu, logvar

    def loss(self, batch: dict, generator: torch.Generator | None = None,
             step: int | None = None) -> dict[str, torch.Tensor]:
        x = batch["x"]
        mu, logvar = self.posterior(x)
        z = reparameterise(mu, logvar, generator)
        recon = reconstruction_loss(self.decoder(z), x, self.likelihood)
        kl = kl_normal(mu, logvar)
        return {"loss": recon + self.beta * kl, "recon": recon, "kl": kl}
