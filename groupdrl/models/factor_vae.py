"""FactorVAE (Kim & Mnih 2018, "Disentangling by Factorising", ICML)."""
from __future__ import annotations

from collections.abc import Sequence

import torch

from groupdrl.models._discriminator import DiscriminatorVAE, split_halves
from groupdrl.models.hparams import NONNEGATIVE


class FactorVAE(DiscriminatorVAE):
    """VAE with a total-correlation penalty estimated by a discriminator (density-ratio trick).

    L_VAE = E_q[−log p(x|z)] + KL(q(z|x) ‖ N(0, I)) + γ · mean_i(D(z_i)₀ − D(z_i)₁),
    L_D = −½ E[log D(z)₀] − ½ E[log D(permute_dims(z'))₁].

    The papers draw two batches per step: x for the VAE (its codes z are also D's real samples) and x' whose
    codes z' are permuted into D's fake samples. Here both are the halves of the one training batch, so the
    VAE trains on ``batch_size / 2`` observations (use ``batch_size=128`` for the papers' 64). D is the
    :class:`~groupdrl.models._discriminator.Discriminator` (6 × 1000, LeakyReLU 0.2), trained with
    Adam(β = (0.5, 0.9)) in its own parameter group; ``"loss"`` = L_VAE + L_D, each reaching only its own
    player's parameters.

    Parameters
    ----------
    world : World
    latent_dim : int
    gamma : float
        Weight of the TC term (disentanglement_lib sweeps {10, 20, 30, 40, 50, 100}; PyTorch ports use 6.4).
    hidden : sequence of int
        MLP widths (vector worlds only).
    disc_hidden : sequence of int
        Hidden widths of the discriminator.
    likelihood : {"auto", "bernoulli", "gaussian"}
    """

    name = "factor_vae"
    hparam_ranges = {"gamma": NONNEGATIVE}
    data = "observations"

    def __init__(self, world, latent_dim: int = 10, gamma: float = 40.0, hidden: Sequence[int] = (256, 256),
                 disc_hidden: Sequence[int] = (1000,) * 6, likelihood: str = "auto") -> None:
        super().__init__(world, latent_dim, hidden, likelihood, disc_hidden, gamma=float(gamma))
        self.gamma = float(gamma)

    def loss(self, batch: dict, generator: torch.Generator | None = None,
             step: int | None = None) -> dict[str, torch.Tensor]:
        x, x_other = split_halves(batch["x"])
        recon, kl, _, z = self.elbo_terms(x, generator)
        tc = self.total_correlation(z)
        vae = recon + kl + self.gamma * tc
        disc = self.discriminator_loss(z, self.sample_codes(x_other, generator), generator)
        return {"loss": vae + disc, "vae": vae, "disc": disc, "recon": recon, "kl": kl, "tc": tc}
