"""AnnealedVAE (Burgess et al. 2018, "Understanding disentangling in β-VAE")."""
from __future__ import annotations

from collections.abc import Sequence

import torch

from groupdrl.models._schedule import capacity, check_steps
from groupdrl.models.base import VAE
from groupdrl.models.hparams import COUNT, NONNEGATIVE


class AnnealedVAE(VAE):
    """β-VAE with a controlled capacity: L = E_q[−log p(x|z)] + γ |KL(q(z|x) ‖ N(0, I)) − C(t)|.

    C(t) = min(C_max, C_max · t / T) grows linearly from 0 nats (:func:`~groupdrl.models._schedule.capacity`;
    t is the training step passed to ``loss``).
    disentanglement_lib defaults: γ = 1000, C_max = 25 nats (Burgess: 0 → 25), T = 100 000.

    Parameters
    ----------
    world : World
    latent_dim : int
    gamma : float
        Weight of the capacity term.
    c_max : float
        Final capacity C_max in nats.
    capacity_steps : int
        T, steps until C reaches C_max.
    hidden : sequence of int
        MLP widths (vector worlds only).
    likelihood : {"auto", "bernoulli", "gaussian"}
    """

    name = "annealed_vae"
    hparam_ranges = {"gamma": NONNEGATIVE, "c_max": NONNEGATIVE, "capacity_steps": COUNT}
    data = "observations"
    #: ``groupdrl compare`` ramps C over the first third of its run (disentanglement_lib: 100k of 300k steps).
    run_fractions = {"capacity_steps": 1 / 3}

    def __init__(self, world, latent_dim: int = 10, gamma: float = 1000.0, c_max: float = 25.0,
                 capacity_steps: int = 100_000, hidden: Sequence[int] = (256, 256), likelihood: str = "auto") -> None:
        super().__init__(world, latent_dim, hidden, likelihood, gamma=float(gamma), c_max=float(c_max),
                         capacity_steps=capacity_steps)
        self.gamma, self.c_max = float(gamma), float(c_max)
        self.capacity_steps = check_steps(capacity_steps, "capacity_steps")

    def loss(self, batch: dict, generator: torch.Generator | None = None,
             step: int | None = None) -> dict[str, torch.Tensor]:
        recon, kl, _, _ = self.elbo_terms(batch["x"], generator)
        c = torch.tensor(capacity(step, self.capacity_steps, self.c_max), dtype=kl.dtype, device=kl.device)
        return {"loss": recon + self.gamma * (kl - c).abs(), "recon": recon, "kl": kl, "capacity": c}
