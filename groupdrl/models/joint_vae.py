"""JointVAE (Dupont 2018, "Learning Disentangled Joint Continuous and Discrete Representations", NeurIPS)."""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from groupdrl.models._schedule import capacity, check_steps
from groupdrl.models.base import (Model, check_likelihood, init_posterior_, kl_normal, kl_normal_dims, make_decoder,
                                  make_encoder, mean_observation, reconstruction_loss, reparameterise, world_sample)
from groupdrl.models.hparams import COUNT, NONNEGATIVE, POSITIVE, Range, WIDTHS


def gumbel_softmax(logits: torch.Tensor, temperature: float, generator: torch.Generator | None) -> torch.Tensor:
    """Relaxed one-hot sample softmax((log α + g) / τ), g = −log(−log u), u ~ U(0, 1) (Jang et al. 2017)."""
    u = torch.rand(logits.shape, generator=generator, device=logits.device, dtype=logits.dtype)
    eps = torch.finfo(logits.dtype).tiny
    g = -torch.log(-torch.log(u + eps) + eps)
    return torch.softmax((torch.log_softmax(logits, -1) + g) / temperature, -1)


def kl_uniform(logits: torch.Tensor) -> torch.Tensor:
    """KL(q(c|x) ‖ Uniform(K)) = log K + Σ_k α_k log α_k, α = softmax(logits); mean over the batch."""
    log_alpha = torch.log_softmax(logits, -1)
    return math.log(logits.shape[-1]) + (log_alpha.exp() * log_alpha).sum(-1).mean()


class JointVAE(Model):
    """Continuous Gaussian latents plus discrete (categorical) latents, each with a controlled capacity.

    L = E_q[−log p(x|z, c)] + γ |KL(q(z|x) ‖ N(0, I)) − C_z(t)| + γ |Σ_k KL(q(c_k|x) ‖ Unif) − C_c(t)|,

    C(t) linear from 0 (:func:`~groupdrl.models._schedule.capacity`, t the training step); C_c is clipped at the largest
    possible discrete KL Σ_k log K_k, as in the author's code. Discrete codes are sampled with the
    Gumbel-softmax relaxation (τ = 0.67) in the loss. dSprites setup: 6 continuous + one 3-way discrete latent,
    C_z 0 → 40, C_c 0 → 1.1 nats over 300k steps, γ = 150.

    ``encode(x)`` = [μ(x), softmax(logits_1(x)), …]: the posterior means of both parts (the softmax is the mean
    of the one-hot code). ``reconstruct(x)`` decodes [μ, one-hot(argmax)] as the author does at evaluation.

    Parameters
    ----------
    world : World
    cont_dim : int
        Number of continuous latents.
    disc_dims : sequence of int
        Number of categories of each discrete latent (each ≥ 2).
    gamma : float
    cont_capacity, disc_capacity : float
        Final capacities C_z, C_c in nats.
    capacity_steps : int
        Steps until both capacities reach their final values.
    temperature : float
        Gumbel-softmax temperature τ.
    hidden : sequence of int
        MLP widths (vector worlds only).
    likelihood : {"auto", "bernoulli", "gaussian"}
    """

    name = "joint_vae"
    hparam_ranges = {"cont_dim": COUNT, "disc_dims": Range(2, integer=True, sequence=True), "gamma": NONNEGATIVE,
                     "cont_capacity": NONNEGATIVE, "disc_capacity": NONNEGATIVE, "capacity_steps": COUNT,
                     "temperature": POSITIVE, "hidden": WIDTHS}
    data = "observations"
    #: ``groupdrl compare`` ramps both capacities over the first third of its run (as AnnealedVAE).
    run_fractions = {"capacity_steps": 1 / 3}

    def __init__(self, world, cont_dim: int = 6, disc_dims: Sequence[int] = (3,), gamma: float = 150.0,
                 cont_capacity: float = 40.0, disc_capacity: float = 1.1, capacity_steps: int = 300_000,
                 temperature: float = 0.67, hidden: Sequence[int] = (256, 256), likelihood: str = "auto") -> None:
        disc_dims = list(disc_dims)
        super().__init__(world, cont_dim=cont_dim, disc_dims=disc_dims, gamma=float(gamma),
                         cont_capacity=float(cont_capacity), disc_capacity=float(disc_capacity),
                         capacity_steps=capacity_steps, temperature=float(temperature), hidden=list(hidden),
                         likelihood=likelihood)
        if isinstance(cont_dim, bool) or not isinstance(cont_dim, int) or cont_dim < 1:
            raise ValueError(f"cont_dim: expected a positive int, got {cont_dim!r}")
        if any(isinstance(k, bool) or not isinstance(k, int) or k < 2 for k in disc_dims):
            raise ValueError(f"disc_dims: expected category counts >= 2, got {disc_dims!r}")
        if not temperature > 0:
            raise ValueError(f"temperature: expected a positive number, got {temperature!r}")
        self.cont_dim, self.disc_dims = cont_dim, tuple(disc_dims)
        self.gamma, self.temperature = float(gamma), float(temperature)
        self.cont_capacity = float(cont_capacity)
        # the discrete KL cannot exceed Σ_k log K_k
        self.disc_capacity = min(float(disc_capacity), sum(math.log(k) for k in self.disc_dims))
        self.likelihood = check_likelihood(likelihood, self.observation_shape)
        self.latent_dim = cont_dim + sum(self.disc_dims)
        encoder = make_encoder(self.observation_shape, 2 * cont_dim + sum(self.disc_dims), hidden)
        self.encoder = init_posterior_(encoder, world_sample(world), cont_dim)
        self.decoder = make_decoder(self.latent_dim, self.observation_shape, hidden)
        self.capacity_steps = check_steps(capacity_steps, "capacity_steps")

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """``(μ, log σ², [logits_k])`` of q(z|x) and of each q(c_k|x)."""
        h = self.encoder(x)
        mu, logvar = h[:, : 2 * self.cont_dim].chunk(2, dim=1)
        return mu, logvar, list(h[:, 2 * self.cont_dim:].split(self.disc_dims, dim=1))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """[μ(x), softmax(logits_k(x)) for each k]: ``(n, cont_dim + Σ disc_dims)``."""
        mu, _, logits = self.posterior(x)
        return torch.cat([mu, *(torch.softmax(lg, -1) for lg in logits)], 1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Mean observation of p(x | z, c) for ``z`` = [continuous, one-hot (or probabilities) per code]."""
        return mean_observation(self.decoder(z), self.likelihood)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Decode [μ, one-hot(argmax logits_k)] (the author's evaluation mode)."""
        mu, _, logits = self.posterior(x)
        onehots = [F.one_hot(lg.argmax(-1), lg.shape[-1]).to(mu.dtype) for lg in logits]
        return self.decode(torch.cat([mu, *onehots], 1))

    def kl_per_dim(self, x: torch.Tensor) -> torch.Tensor:
        """[KL of each continuous dimension, KL(q(c_k|x) ‖ Unif) of each discrete code], mean over ``x``."""
        mu, logvar, logits = self.posterior(x)
        return torch.cat([kl_normal_dims(mu, logvar), torch.stack([kl_uniform(lg) for lg in logits])])

    def loss(self, batch: dict, generator: torch.Generator | None = None,
             step: int | None = None) -> dict[str, torch.Tensor]:
        x = batch["x"]
        mu, logvar, logits = self.posterior(x)
        c = [gumbel_softmax(lg, self.temperature, generator) for lg in logits]
        recon = reconstruction_loss(self.decoder(torch.cat([reparameterise(mu, logvar, generator), *c], 1)), x,
                                    self.likelihood)
        kl_cont = kl_normal(mu, logvar)
        kl_disc = sum((kl_uniform(lg) for lg in logits), torch.zeros((), device=x.device, dtype=mu.dtype))
        c_z, c_c = (torch.tensor(capacity(step, self.capacity_steps, c), dtype=mu.dtype, device=x.device)
                    for c in (self.cont_capacity, self.disc_capacity))
        total = recon + self.gamma * ((kl_cont - c_z).abs() + (kl_disc - c_c).abs())
        return {"loss": total, "recon": recon, "kl_cont": kl_cont, "kl_disc": kl_disc, "capacity_cont": c_z,
                "capacity_disc": c_c}
