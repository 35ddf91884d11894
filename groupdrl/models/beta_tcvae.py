"""β-TCVAE (Chen et al. 2018, "Isolating Sources of Disentanglement in Variational Autoencoders", NeurIPS)."""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from groupdrl.models.base import VAE, reconstruction_loss, reparameterise
from groupdrl.models.hparams import NONNEGATIVE, Range

ESTIMATORS = ("mws", "mss")


def log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Elementwise log N(z; μ, σ²) = −½ (log 2π + log σ² + (z − μ)² / σ²)."""
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu) ** 2 * torch.exp(-logvar))


def log_importance_weights(batch: int, dataset_size: int, device=None, dtype=None) -> torch.Tensor:
    """Minibatch stratified sampling log-weights ``(B, B)`` (Chen et al. 2018, App. C.2), M = B − 1.

    Row i weights the posteriors q(z_i | x_j): 1/N for its own sample j = i, (N − M)/(N M) for one other
    sample (j = i + 1 mod B), 1/M for the remaining M − 1; every row sums to 1. (The authors' code gives
    row M − 1 the (N − M)/(N M) weight twice; here each row gets it once.)
    """
    m = batch - 1
    if m < 1 or dataset_size <= m:
        raise ValueError(f"batch_size: the stratified estimator needs 2 <= batch_size <= dataset_size "
                         f"({dataset_size}), got {batch}")
    w = torch.full((batch, batch), 1.0 / m, device=device, dtype=dtype)
    idx = torch.arange(batch, device=device)
    w[idx, idx] = 1.0 / dataset_size
    w[idx, (idx + 1) % batch] = (dataset_size - m) / (dataset_size * m)
    return w.log()


def kl_decomposition(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, dataset_size: int,
                     estimator: str = "mws") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(MI, TC, dim-wise KL)`` estimated on a batch, each a mean over the batch (Chen et al. 2018, eq. 2).

    With z_i ~ q(z|x_i) and log q(z_i) estimated from the whole batch,

        MI = E[log q(z|x) − log q(z)],  TC = E[log q(z) − Σ_d log q(z_d)],
        KL_dim = E[Σ_d log q(z_d) − log p(z)],

    so MI + TC + KL_dim = E[log q(z|x) − log p(z)], the Monte-Carlo estimate of KL(q(z|x) ‖ p(z)), for either
    estimator. ``"mws"``: log q(z_i) ≈ log Σ_j q(z_i|x_j) − log(B N) (minibatch weighted sampling); ``"mss"``:
    the weights of :func:`log_importance_weights` (minibatch stratified sampling). N = ``dataset_size``.
    """
    b = len(z)
    log_qz_x = log_normal(z, mu, logvar).sum(1)
    log_pz = log_normal(z, torch.zeros_like(z), torch.zeros_like(z)).sum(1)
    mat = log_normal(z[:, None, :], mu[None], logvar[None])  # (B, B, D): log q(z_i,d | x_j)
    if estimator == "mws":
        log_qz = torch.logsumexp(mat.sum(2), 1) - math.log(b * dataset_size)
        log_qz_prod = (torch.logsumexp(mat, 1) - math.log(b * dataset_size)).sum(1)
    elif estimator == "mss":
        w = log_importance_weights(b, dataset_size, z.device, z.dtype)
        log_qz = torch.logsumexp(w + mat.sum(2), 1)
        log_qz_prod = torch.logsumexp(w[:, :, None] + mat, 1).sum(1)
    else:
        raise ValueError(f"estimator: expected one of {ESTIMATORS}, got {estimator!r}")
    return (log_qz_x - log_qz).mean(), (log_qz - log_qz_prod).mean(), (log_qz_prod - log_pz).mean()


class BetaTCVAE(VAE):
    """L = E_q[−log p(x|z)] + α MI + β TC + γ KL_dim, α = γ = 1, β = 6 (:func:`kl_decomposition`).

    The three terms are the batch estimates of Chen et al.'s decomposition of the KL (as in the authors'
    code); with α = β = γ = 1 the objective is the ELBO with a Monte-Carlo KL.

    Parameters
    ----------
    world : World
    latent_dim : int
    beta : float
        Weight of the total correlation.
    alpha, gamma : float
        Weights of the index-code mutual information and the dimension-wise KL.
    estimator : {"mws", "mss"}
        Minibatch weighted or stratified sampling estimate of log q(z).
    dataset_size : int, optional
        N in the estimators; default the number of states of the world (its data are drawn uniformly from
        the state grid); required for a world with continuous factors.
    hidden : sequence of int
        MLP widths (vector worlds only).
    likelihood : {"auto", "bernoulli", "gaussian"}
    """

    name = "beta_tcvae"
    hparam_ranges = {"beta": NONNEGATIVE, "alpha": NONNEGATIVE, "gamma": NONNEGATIVE,
                     "dataset_size": Range(1, integer=True, optional=True)}
    data = "observations"

    def __init__(self, world, latent_dim: int = 10, beta: float = 6.0, alpha: float = 1.0, gamma: float = 1.0,
                 estimator: str = "mws", dataset_size: int | None = None, hidden: Sequence[int] = (256, 256),
                 likelihood: str = "auto") -> None:
        super().__init__(world, latent_dim, hidden, likelihood, beta=float(beta), alpha=float(alpha),
                         gamma=float(gamma), estimator=estimator, dataset_size=dataset_size)
        if estimator not in ESTIMATORS:
            raise ValueError(f"estimator: expected one of {ESTIMATORS}, got {estimator!r}")
        if dataset_size is not None and (isinstance(dataset_size, bool) or not isinstance(dataset_size, int)
                                         or dataset_size < 1):
            raise ValueError(f"dataset_size: expected a positive int or None, got {dataset_size!r}")
        self.alpha, self.beta, self.gamma = float(alpha), float(beta), float(gamma)
        self.estimator = estimator
        if dataset_size is None and self.factor_sizes is None:
            raise ValueError(f"dataset_size: world {world.name!r} has continuous factors, so it has no number of "
                             "states; give the size of the data the minibatch estimators should assume")
        self.dataset_size = dataset_size or math.prod(self.factor_sizes)

    def loss(self, batch: dict, generator: torch.Generator | None = None,
             step: int | None = None) -> dict[str, torch.Tensor]:
        x = batch["x"]
        mu, logvar = self.posterior(x)
        z = reparameterise(mu, logvar, generator)
        recon = reconstruction_loss(self.decoder(z), x, self.likelihood)
        mi, tc, dim_kl = kl_decomposition(z, mu, logvar, self.dataset_size, self.estimator)
        total = recon + self.alpha * mi + self.beta * tc + self.gamma * dim_kl
        return {"loss": total, "recon": recon, "mi": mi, "tc": tc, "dim_kl": dim_kl}
