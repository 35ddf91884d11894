"""β-VAE (Higgins et al. 2017, "β-VAE: Learning basic visual concepts with a constrained variational framework")."""
from __future__ import annotations

from collections.abc import Sequence

import torch

from groupdrl.models.base import VAE
from groupdrl.models.hparams import NONNEGATIVE


class BetaVAE(VAE):
    """The statistical baseline: L = E_q[−log p(x|z)] + β KL(q(z|x) ‖ N(0, I)), β = 4.

    Parameters
    ----------
    world : World
        Fixes the observation shape (conv net for ``(C, H, W)`` images, MLP for vectors).
    latent_dim : int
        Width of z (10 in disentanglement_lib).
    beta : float
        Weight of the KL term.
    hidden : sequence of int
        Hidden widths of the MLP encoder/decoder (vector observations only).
    likelihood : {"auto", "bernoulli", "gaussian"}
        ``"auto"``: Bernoulli for images, Gaussian for vectors.
    """

    name = "beta_vae"
    hparam_ranges = {"beta": NONNEGATIVE}
    data = "observations"

    def __init__(self, world, latent_dim: int = 10, beta: float = 4.0, hidden: Sequence[int] = (256, 256),
                 likelihood: str = "auto") -> None:
        super().__init__(world, latent_dim, hidden, likelihood, beta=float(beta))
        self.beta = float(beta)

    def loss(self, batch: dict, generator: torch.Generator | None = None,
             step: int | None = None) -> dict[str, torch.Tensor]:
        recon, kl, _, _ = self.elbo_terms(batch["x"], generator)
        return {"loss": recon + self.beta * kl, "recon": recon, "kl": kl}
