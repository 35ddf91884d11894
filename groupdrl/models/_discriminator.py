"""Density-ratio estimation of the total correlation, shared by FactorVAE and RF-VAE (Kim & Mnih 2018).

A discriminator D: z ↦ 2 logits learns to tell samples of q(z) (class 0) from samples of Π_j q(z_j)
(class 1, made by :func:`permute_dims`). Then TC(z) = KL(q(z) ‖ Π_j q(z_j)) ≈ E_q[logit₀(z) − logit₁(z)].

The two players share one Adam (``fit`` builds it from :meth:`DiscriminatorVAE.param_groups`), and each
player's loss reaches only its own parameters: the discriminator loss sees detached codes, and the VAE's TC
term calls the discriminator with detached parameters (:func:`frozen_call`, also used by InfoGAN and
DisDiff). So one Adam step is the simultaneous step of the two separate optimisers of the papers.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from groupdrl.models.base import VAE, reparameterise
from groupdrl.models.hparams import WIDTHS

#: Adam betas of the discriminator (Kim & Mnih 2018; disentanglement_lib).
DISCRIMINATOR_BETAS = (0.5, 0.9)


class Discriminator(nn.Module):
    """MLP ``(n, d) -> (n, 2)`` logits with LeakyReLU(0.2); the papers use 6 hidden layers of 1000 units."""

    def __init__(self, latent_dim: int, hidden: Sequence[int] = (1000,) * 6) -> None:
        super().__init__()
        hidden = tuple(hidden)
        if not hidden or any(isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in hidden):
            raise ValueError(f"disc_hidden: expected a non-empty sequence of positive ints, got {hidden!r}")
        widths = (latent_dim, *hidden)
        layers: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(a, b), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers, nn.Linear(widths[-1], 2))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


def permute_dims(z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Permute every column of ``z`` independently across the batch (Kim & Mnih 2018, Alg. 1).

    Each column keeps its values (the marginals q(z_j) of the batch are unchanged) while the dependence
    between columns is broken: the rows are samples of Π_j q(z_j).
    """
    n, d = z.shape
    order = torch.argsort(torch.rand(n, d, generator=generator, device=z.device), dim=0)
    return torch.gather(z, 0, order)


def frozen_call(module: nn.Module, *args):
    """``module(*args)`` with the module's parameters detached: gradients reach the inputs only.

    How one player's loss goes through another player's network without training it.
    """
    params = {k: v.detach() for k, v in module.named_parameters()}
    return torch.func.functional_call(module, params, args)


def split_halves(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The two batches the papers draw, taken as the halves of one batch of even size ≥ 4."""
    n = len(x)
    if n < 4 or n % 2:
        raise ValueError(f"batch_size: expected an even batch of at least 4 observations (two halves: one for the "
                         f"VAE, one for the discriminator), got {n}")
    return x[: n // 2], x[n // 2:]


class DiscriminatorVAE(VAE):
    """A Gaussian VAE with a TC discriminator: the shared part of :class:`FactorVAE` and :class:`RFVAE`.

    Parameters beyond :class:`~groupdrl.models.base.VAE`: ``disc_hidden`` (hidden widths of the
    :class:`Discriminator`).
    """

    hparam_ranges = {"disc_hidden": WIDTHS}

    def __init__(self, world, latent_dim: int, hidden: Sequence[int], likelihood: str, disc_hidden: Sequence[int],
                 **hparams) -> None:
        super().__init__(world, latent_dim, hidden, likelihood, disc_hidden=list(disc_hidden), **hparams)
        self.discriminator = Discriminator(latent_dim, disc_hidden)

    def param_groups(self, lr: float) -> list[dict]:
        """Two Adam groups: the VAE (``lr``, default betas) and the discriminator (``lr``, betas (0.5, 0.9))."""
        disc = {id(p) for p in self.discriminator.parameters()}
        return [{"params": [p for p in self.parameters() if id(p) not in disc], "lr": lr},
                {"params": list(self.discriminator.parameters()), "lr": lr, "betas": DISCRIMINATOR_BETAS}]

    def total_correlation(self, z: torch.Tensor) -> torch.Tensor:
        """TC ≈ mean(logit₀(z) − logit₁(z)), differentiable in ``z`` only (the discriminator is held fixed)."""
        logits = frozen_call(self.discriminator, z)
        return (logits[:, 0] - logits[:, 1]).mean()

    def discriminator_loss(self, z: torch.Tensor, z_other: torch.Tensor,
                           generator: torch.Generator | None) -> torch.Tensor:
        """½ CE(D(z), 0) + ½ CE(D(permute_dims(z')), 1) on detached codes: z from one batch, z' from another."""
        real = self.discriminator(z.detach())
        fake = self.discriminator(permute_dims(z_other.detach(), generator))
        zeros = torch.zeros(len(real), dtype=torch.long, device=real.device)
        return 0.5 * (F.cross_entropy(real, zeros) + F.cross_entropy(fake, torch.ones_like(zeros)))

    def sample_codes(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """z ~ q(z|x) without gradients (the discriminator's second batch)."""
        with torch.no_grad():
            return reparameterise(*self.posterior(x), generator)
