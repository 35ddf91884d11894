"""DIP-VAE-I and DIP-VAE-II (Kumar et al. 2018, "Variational Inference of Disentangled Latent Concepts from
Unlabeled Observations", ICLR)."""
from __future__ import annotations

from collections.abc import Sequence

import torch

from groupdrl.models.base import VAE, kl_normal, reconstruction_loss, reparameterise
from groupdrl.models.hparams import NONNEGATIVE, Range


def batch_covariance(mu: torch.Tensor) -> torch.Tensor:
    """Cov_batch[μ] = E[μ μᵀ] − E[μ] E[μ]ᵀ over the batch (divisor n, as disentanglement_lib)."""
    centred = mu - mu.mean(0, keepdim=True)
    return centred.T @ centred / len(mu)


def dip_penalty(cov: torch.Tensor, lambda_od: float, lambda_d: float) -> torch.Tensor:
    """λ_od Σ_{i≠j} C_ij² + λ_d Σ_i (C_ii − 1)²: pushes the covariance C towards the identity."""
    diag = torch.diagonal(cov)
    off = cov - torch.diag(diag)
    return lambda_od * (off**2).sum() + lambda_d * ((diag - 1) ** 2).sum()


class DIPVAE(VAE):
    """Shared part of DIP-VAE-I/II: L = E_q[−log p(x|z)] + KL(q(z|x) ‖ N(0, I)) + dip_penalty(C).

    Subclasses fix ``variant`` ("i" or "ii"), which chooses the matched covariance C and the default λ_d.
    """

    variant = ""
    hparam_ranges = {"lambda_od": NONNEGATIVE, "lambda_d": Range(0.0, optional=True)}
    #: λ_d = lambda_d_factor · λ_od when ``lambda_d`` is not given.
    lambda_d_factor = 1.0

    def __init__(self, world, latent_dim: int = 10, lambda_od: float = 10.0, lambda_d: float | None = None,
                 hidden: Sequence[int] = (256, 256), likelihood: str = "auto") -> None:
        super().__init__(world, latent_dim, hidden, likelihood, lambda_od=float(lambda_od),
                         lambda_d=None if lambda_d is None else float(lambda_d))
        self.lambda_od = float(lambda_od)
        self.lambda_d = self.lambda_d_factor * self.lambda_od if lambda_d is None else float(lambda_d)

    def covariance(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """The covariance pushed towards I: Cov_batch[μ] (I), plus E_batch[diag σ²] (II)."""
        cov = batch_covariance(mu)
        if self.variant == "ii":
            cov = cov + torch.diag(logvar.exp().mean(0))
        return cov

    def loss(self, batch: dict, generator: torch.Generator | None = None,
             step: int | None = None) -> dict[str, torch.Tensor]:
        x = batch["x"]
        mu, logvar = self.posterior(x)
        recon = reconstruction_loss(self.decoder(reparameterise(mu, logvar, generator)), x, self.likelihood)
        kl = kl_normal(mu, logvar)
        dip = dip_penalty(self.covariance(mu, logvar), self.lambda_od, self.lambda_d)
        return {"loss": recon + kl + dip, "recon": recon, "kl": kl, "dip": dip}


class DIPVAEI(DIPVAE):
    """DIP-VAE-I: C = Cov_batch[μ(x)], λ_d = 10 λ_od by default (Kumar et al. 2018, eq. 6).

    L = E_q[−log p(x|z)] + KL(q(z|x) ‖ N(0, I)) + λ_od Σ_{i≠j} C_ij² + λ_d Σ_i (C_ii − 1)².

    Parameters
    ----------
    world : World
    latent_dim : int
    lambda_od : float
        Off-diagonal weight (disentanglement_lib sweeps {1, 2, 5, 10, 20, 50}).
    lambda_d : float, optional
        Diagonal weight; default 10 λ_od.
    hidden : sequence of int
        MLP widths (vector worlds only).
    likelihood : {"auto", "bernoulli", "gaussian"}
    """

    name = "dip_vae_i"
    variant = "i"
    lambda_d_factor = 10.0


class DIPVAEII(DIPVAE):
    """DIP-VAE-II: C = Cov_batch[μ(x)] + E_batch[diag σ²(x)] (the covariance of q(z)), λ_d = λ_od by default.

    L = E_q[−log p(x|z)] + KL(q(z|x) ‖ N(0, I)) + λ_od Σ_{i≠j} C_ij² + λ_d Σ_i (C_ii − 1)²
    (Kumar et al. 2018, eq. 7). Parameters as :class:`DIPVAEI`.
    """

    name = "dip_vae_ii"
    variant = "ii"
    lambda_d_factor = 1.0
