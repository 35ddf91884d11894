"""Forward-VAE (Caselles-Dupré et al. 2019, "Symmetry-Based Disentangled Representation Learning requires
Interaction with Environments", NeurIPS)."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from groupdrl.groups import Representation
from groupdrl.models.base import VAE, apply, block_diag, power_table
from groupdrl.models.hparams import NONNEGATIVE


class ForwardVAE(VAE):
    """A VAE with a linear forward model: one learned 2×2 block per cyclic factor (latent R^{2K}).

    Each discrete action a (a generator ±1 of factor i, the transitions (x_t, a, x_{t+1}) of Flatland)
    acts by A_a = I except the learned 2×2 block i (B_i⁺ or B_i⁻): the masked linear forward model of
    the paper. Loss on a transition:

        L = ‖x_t − dec(z_t)‖² / 2 + β KL(q(z|x_t) ‖ N(0, I)) + λ ‖A_a z_t − μ(x_{t+1})‖²,

    z_t ~ q(z|x_t) (the paper's MSE reconstruction: ``likelihood="gaussian"`` by default).
    ``latent_rep``: ρ(g) = ⊕_i (B_i⁺)^k (k ≤ N_i/2) or (B_i⁻)^{N_i−k}, from the learned blocks.

    Parameters
    ----------
    world : World
    beta, lam : float
        Weights of the KL and forward terms.
    hidden : sequence of int
        MLP widths (vector observations only).
    likelihood : {"gaussian", "bernoulli", "auto"}
    """

    name = "forward_vae"
    hparam_ranges = {"beta": NONNEGATIVE, "lam": NONNEGATIVE}
    data = "transitions"

    def __init__(self, world, beta: float = 1.0, lam: float = 1.0, hidden: Sequence[int] = (256, 256),
                 likelihood: str = "gaussian") -> None:
        k = len(world.factor_names)
        super().__init__(world, 2 * k, hidden, likelihood, beta=float(beta), lam=float(lam))
        del self.hparams["latent_dim"]
        self.beta, self.lam = float(beta), float(lam)
        eye = torch.eye(2).expand(k, 2, 2)
        self.plus = nn.Parameter(eye.clone())
        self.minus = nn.Parameter(eye.clone())
        self.data_kwargs = {"steps": "generators"}

    def actions(self, g: dict) -> torch.Tensor:
        """A_a for a batch of generator elements (identity blocks for factors that do not move)."""
        eye = torch.eye(2, device=self.plus.device, dtype=self.plus.dtype)
        blocks = []
        for i, (name, n) in enumerate(zip(self.factor_names, self.factor_sizes)):
            gi = g[name]
            up = (gi == 1).to(eye.dtype)[:, None, None]
            down = ((gi == n - 1) & (gi != 1)).to(eye.dtype)[:, None, None]
            blocks.append(eye + up * (self.plus[i] - eye) + down * (self.minus[i] - eye))
        return block_diag(blocks)

    def loss(self, batch: dict, generator: torch.Generator | None = None,
             step: int | None = None) -> dict[str, torch.Tensor]:
        recon, kl, _, z = self.elbo_terms(batch["x"], generator)
        mu_next = self.encode(batch["x_next"])
        forward = ((apply(self.actions(batch["g"]), z) - mu_next) ** 2).sum(1).mean()
        return {"loss": recon + self.beta * kl + self.lam * forward, "recon": recon, "kl": kl, "forward": forward}

    @property
    def latent_rep(self) -> Representation:
        names, sizes = self.factor_names, self.factor_sizes
        plus, minus = self.plus.detach().cpu(), self.minus.detach().cpu()

        def fn(g: dict, dtype: torch.dtype) -> torch.Tensor:
            blocks = []
            for i, (name, n) in enumerate(zip(names, sizes)):
                blocks.append(power_table(plus[i].to(dtype), minus[i].to(dtype), n)[g[name].long()])
            return block_diag(blocks)

        blocks = {k: slice(2 * i, 2 * i + 2) for i, k in enumerate(names)}
        return Representation(self.group, fn, 2 * len(names), "forward_vae:learned", blocks=blocks)
