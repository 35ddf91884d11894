"""LSBD-VAE (Tonnaer et al. 2022, "Quantifying and Learning Linear Symmetry-Based Disentanglement", ICML)."""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from groupdrl.groups import Representation
from groupdrl.models.base import (Model, apply, check_likelihood, make_decoder, make_encoder, mean_observation,
                                  reconstruction_loss, rotation_representation)
from groupdrl.models.hparams import COUNT, NONNEGATIVE, WIDTHS

#: Smallest and largest posterior scale t on each circle; at t = 2π/e the approximate KL is 0.
_T_RANGE = (1e-4, 2 * math.pi / math.e)
#: Logit offset of t: an encoder output of 0 gives t ≈ 0.016 (a spread of ~0.13 rad). Starting from the
#: middle of the range (t ≈ 1.2, nearly uniform on the circle) the decoder learns to ignore z and training
#: can stay collapsed (seen on arrow).
_T_OFFSET = -5.0


class LSBDVAE(Model):
    """A VAE whose latent is a product of circles (S¹)^K with the known action ρ(g) = ⊕_k R(2π g_k / N_k).

    One circle per cyclic factor.

    Posterior on each circle: a location μ_k ∈ S¹ and a scale t_k. μ_k is the encoder's 2-D output,
    standardised over the batch (``BatchNorm1d(affine=False)``; running statistics in eval), then
    normalised: at initialisation the shared conv encoder's outputs differ between images by ~1e-3 of
    their common offset, so without centring every image starts at the same point of the circle and
    training can stay collapsed (seen on arrow). Tonnaer
    et al. use the ΔVAE posterior (a Brownian motion on the manifold, Pérez Rey et al. 2019); we approximate
    it by a projected Gaussian, z_k = normalise(μ_k + √t_k ε), ε ~ N(0, I₂), and take the ΔVAE KL to the
    uniform prior on S¹ with the small-t (Euclidean heat kernel) entropy:
    KL_k ≈ log 2π − ½ log(2πe t_k).

    Loss = unlabelled ELBO + labelled ELBO + γ L_LSBD. For a labelled set x_m = g_m · x_0 (m = 1..M):
    ẑ_0 = normalise(mean_m ρ(g_m)⁻¹ μ_m) per circle, z_0 ~ q(· | ẑ_0, mean_m t_m), z̃_m = ρ(g_m) z_0;
    the labelled ELBO reconstructs x_m from z̃_m, and L_LSBD = Σ_m Σ_k 2(1 − cos∠(μ_{m,k}, ρ_k(g_m) ẑ_{0,k}))
    pulls each encoding onto the orbit. ``encode`` returns the locations μ (a point of (S¹)^K in R^{2K}).

    Parameters
    ----------
    world : World
        Every factor must be cyclic (a periodic factor, or a bounded one moved within its range).
    gamma : float
        Weight of L_LSBD.
    beta : float
        Weight of the KL terms.
    set_size : int
        M, observations per labelled set.
    steps : {"uniform", "subgroup", "generators"}
        How the g_m are drawn.
    hidden : sequence of int
        MLP widths (vector observations only).
    likelihood : {"auto", "bernoulli", "gaussian"}
    """

    name = "lsbd_vae"
    hparam_ranges = {"gamma": NONNEGATIVE, "beta": NONNEGATIVE, "set_size": COUNT, "hidden": WIDTHS}
    data = "labelled+unlabelled"

    def __init__(self, world, gamma: float = 1.0, beta: float = 1.0, set_size: int = 8, steps: str = "uniform",
                 hidden: Sequence[int] = (256, 256), likelihood: str = "auto") -> None:
        super().__init__(world, gamma=float(gamma), beta=float(beta), set_size=set_size, steps=steps,
                         hidden=list(hidden), likelihood=likelihood)
        self.gamma, self.beta = float(gamma), float(beta)
        self.k = len(self.factor_names)
        self.latent_dim = 2 * self.k
        self.likelihood = check_likelihood(likelihood, self.observation_shape)
        self._rep = rotation_representation(self.group)
        self.encoder = make_encoder(self.observation_shape, 3 * self.k, hidden)
        self.norm = nn.BatchNorm1d(2 * self.k, affine=False)
        self.decoder = make_decoder(self.latent_dim, self.observation_shape, hidden)
        self.data_kwargs = {"set_size": set_size, "steps": steps}

    @property
    def latent_rep(self) -> Representation:
        return self._rep

    # ---- posterior on (S¹)^K ---------------------------------------------------------------------
    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Locations μ ``(n, K, 2)`` (unit vectors) and scales t ``(n, K)``."""
        out = self.encoder(x)
        loc = self.norm(out[:, : 2 * self.k]).reshape(len(x), self.k, 2)
        mu = F.normalize(loc, dim=-1, eps=1e-6)
        t = _T_RANGE[0] + (_T_RANGE[1] - _T_RANGE[0]) * torch.sigmoid(out[:, 2 * self.k :] + _T_OFFSET)
        return mu, t

    def sample_posterior(self, mu: torch.Tensor, t: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """z = normalise(μ + √t ε) on each circle (the projected-Gaussian approximation)."""
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return F.normalize(mu + t.sqrt()[..., None] * eps, dim=-1, eps=1e-6)

    @staticmethod
    def kl(t: torch.Tensor) -> torch.Tensor:
        """Σ_k [log 2π − ½ log(2πe t_k)], mean over the batch (ΔVAE small-t approximation)."""
        return (math.log(2 * math.pi) - 0.5 * torch.log(2 * math.pi * math.e * t)).sum(-1).mean()

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.posterior(x)[0].reshape(len(x), -1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return mean_observation(self.decoder(z), self.likelihood)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` observations decoded from the uniform prior on (S¹)^K (angles drawn on the CPU)."""
        angle = 2 * math.pi * torch.rand(n, self.k, generator=generator)
        z = torch.stack([angle.cos(), angle.sin()], -1).reshape(n, -1)
        return self.decode(z.to(self.device))

    # ---- loss ------------------------------------------------------------------------------------
    def loss(self, batch: dict, generator: torch.Generator | None = None,
             step: int | None = None) -> dict[str, torch.Tensor]:
        x = batch["x"]
        mu, t = self.posterior(x)
        z = self.sample_posterior(mu, t, generator)
        recon_u = reconstruction_loss(self.decoder(z.reshape(len(x), -1)), x, self.likelihood)
        kl_u = self.kl(t)

        xs, gs = batch["x_sets"], batch["g_sets"]
        b, m = xs.shape[:2]
        flat = xs.reshape(b * m, *xs.shape[2:])
        mu_m, t_m = self.posterior(flat)
        g = {k: v.reshape(-1).cpu() for k, v in gs.items()}
        rho = self._rep(g, mu_m.dtype).to(mu_m.device)                       # (b m, 2K, 2K)
        back = apply(rho.transpose(1, 2), mu_m.reshape(b * m, -1))           # ρ(g_m)⁻¹ μ_m (ρ orthogonal)
        z0_hat = F.normalize(back.reshape(b, m, self.k, 2).mean(1), dim=-1, eps=1e-6)  # (b, K, 2)
        t0 = t_m.reshape(b, m, self.k).mean(1)
        z0 = self.sample_posterior(z0_hat, t0, generator)
        z_tilde = apply(rho, z0.repeat_interleave(m, 0).reshape(b * m, -1))
        recon_l = reconstruction_loss(self.decoder(z_tilde), flat, self.likelihood) * m
        kl_l = self.kl(t0)
        mu_tilde = apply(rho, z0_hat.repeat_interleave(m, 0).reshape(b * m, -1)).reshape(b * m, self.k, 2)
        lsbd = (2 * (1 - (mu_m * mu_tilde).sum(-1))).sum(-1).reshape(b, m).sum(1).mean()

        loss = recon_u + self.beta * kl_u + recon_l + self.beta * kl_l + self.gamma * lsbd
        return {"loss": loss, "recon": recon_u, "kl": kl_u, "recon_labelled": recon_l, "kl_labelled": kl_l,
                "lsbd": lsbd}
