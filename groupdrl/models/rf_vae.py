"""RF-VAE (Kim, Wang, Sahu & Pavlovic 2019, "Relevance Factor VAE: Learning and Identifying Disentangled
Factors")."""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from groupdrl.models._discriminator import DiscriminatorVAE, split_halves
from groupdrl.models.base import kl_normal_dims, reconstruction_loss, reparameterise
from groupdrl.models.hparams import NONNEGATIVE


class RFVAE(DiscriminatorVAE):
    """FactorVAE with a learned relevance r ∈ (0, 1)^d per latent dimension.

    L_VAE = E_q[−log p(x|z)] + Σ_j λ(r_j) KL_j + γ TC(r ⊙ z) + η_S ‖r‖₁ + η_H H(r),

    λ(r) = λ_max − (λ_max − λ_min) r (relevant dimensions pay a small KL weight), r = sigmoid(ρ) with ρ
    learned (initialised at 0), KL_j = KL(q(z_j|x) ‖ N(0, 1)),
    H(r) = Σ_j −r_j log r_j − (1 − r_j) log(1 − r_j) pushes each r_j to 0 or 1, ‖r‖₁ makes r sparse.
    TC(r ⊙ z) is estimated by one FactorVAE discriminator trained on r ⊙ z against permute_dims(r ⊙ z'), z'
    from the second half of the batch as in :class:`~groupdrl.models.factor_vae.FactorVAE`;
    ``"loss"`` = L_VAE + L_D. Defaults: λ_min 0.1, λ_max 10, γ 6.4, η_S 1, η_H 100.

    ``encode(x)`` is μ(x); with ``encode_masked=True`` it is r ⊙ μ(x), which removes the dimensions the
    model judged irrelevant.

    Parameters
    ----------
    world : World
    latent_dim : int
    lambda_min, lambda_max : float
    gamma : float
        Weight of the TC term.
    eta_s, eta_h : float
        Weights of the L1 and entropy penalties on r.
    encode_masked : bool
    hidden : sequence of int
        MLP widths (vector worlds only).
    disc_hidden : sequence of int
        Hidden widths of the discriminator.
    likelihood : {"auto", "bernoulli", "gaussian"}
    """

    name = "rf_vae"
    hparam_ranges = {"lambda_min": NONNEGATIVE, "lambda_max": NONNEGATIVE, "gamma": NONNEGATIVE,
                     "eta_s": NONNEGATIVE, "eta_h": NONNEGATIVE}
    data = "observations"

    def __init__(self, world, latent_dim: int = 10, lambda_min: float = 0.1, lambda_max: float = 10.0,
                 gamma: float = 6.4, eta_s: float = 1.0, eta_h: float = 100.0, encode_masked: bool = False,
                 hidden: Sequence[int] = (256, 256), disc_hidden: Sequence[int] = (1000,) * 6,
                 likelihood: str = "auto") -> None:
        super().__init__(world, latent_dim, hidden, likelihood, disc_hidden, lambda_min=float(lambda_min),
                         lambda_max=float(lambda_max), gamma=float(gamma), eta_s=float(eta_s), eta_h=float(eta_h),
                         encode_masked=bool(encode_masked))
        self.lambda_min, self.lambda_max = float(lambda_min), float(lambda_max)
        self.gamma, self.eta_s, self.eta_h = float(gamma), float(eta_s), float(eta_h)
        self.encode_masked = bool(encode_masked)
        self.relevance_logit = nn.Parameter(torch.zeros(latent_dim))

    def relevance(self) -> torch.Tensor:
        """r = sigmoid(ρ), ``(latent_dim,)``."""
        return torch.sigmoid(self.relevance_logit)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """μ(x), or r ⊙ μ(x) when ``encode_masked``."""
        mu = self.posterior(x)[0]
        return mu * self.relevance() if self.encode_masked else mu

    def loss(self, batch: dict, generator: torch.Generator | None = None,
             step: int | None = None) -> dict[str, torch.Tensor]:
        x, x_other = split_halves(batch["x"])
        mu, logvar = self.posterior(x)
        z = reparameterise(mu, logvar, generator)
        recon = reconstruction_loss(self.decoder(z), x, self.likelihood)
        kl_dims = kl_normal_dims(mu, logvar)  # KL_j, mean over the batch
        r = self.relevance()
        kl = ((self.lambda_max - (self.lambda_max - self.lambda_min) * r) * kl_dims).sum()
        tc = self.total_correlation(r * z)
        l1 = r.sum()
        entropy = -(r * F.logsigmoid(self.relevance_logit) + (1 - r) * F.logsigmoid(-self.relevance_logit)).sum()
        vae = recon + kl + self.gamma * tc + self.eta_s * l1 + self.eta_h * entropy
        disc = self.discriminator_loss(r * z, r * self.sample_codes(x_other, generator), generator)
        return {"loss": vae + disc, "vae": vae, "disc": disc, "recon": recon, "kl": kl, "tc": tc, "l1": l1,
                "entropy": entropy}
