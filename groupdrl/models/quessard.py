"""Quessard et al. 2020, "Learning Disentangled Representations and Group Structure of Dynamical
Environments", NeurIPS."""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from groupdrl.groups import SO2, SO3, Cyclic, Dihedral, Representation
from groupdrl.models.base import (Model, apply, check_likelihood, faithful_dim, make_decoder, make_encoder,
                                  mean_observation, power_table, reconstruction_loss)
from groupdrl.models.hparams import COUNT, NONNEGATIVE, Range, WIDTHS


def plane_rotations(theta: torch.Tensor, dim: int) -> torch.Tensor:
    """ρ = Π_{i<j} R_ij(θ_ij) ∈ SO(dim) for a batch of angles ``(a, dim(dim−1)/2)`` → ``(a, dim, dim)``.

    R_ij(θ) rotates the (e_i, e_j) plane by θ; the product runs over the pairs in lexicographic order.
    """
    out = torch.eye(dim, dtype=theta.dtype, device=theta.device).expand(len(theta), dim, dim)
    pairs = torch.triu_indices(dim, dim, 1).T.tolist()
    for p, (i, j) in enumerate(pairs):
        c, s = torch.cos(theta[:, p]), torch.sin(theta[:, p])
        r = torch.eye(dim, dtype=theta.dtype, device=theta.device).repeat(len(theta), 1, 1)
        r[:, i, i], r[:, j, j], r[:, i, j], r[:, j, i] = c, c, -s, s
        out = out @ r
    return out


class Quessard(Model):
    """Unit-norm latent z = enc(x)/‖enc(x)‖ and one learned ρ(a) = Π_{i<j} R_ij(θ^a_ij) ∈ SO(d) per action.

    Actions are each generator of each factor and its inverse (for a cyclic factor ±1: 2K actions on C_N^K;
    for SO(3) its two topological generators, rotations by 1 rad about x and y, and their inverses), the
    default latent ⊕ of :func:`~groupdrl.models.base.faithful_dim` per factor. On a trajectory x_0, a_1, …, a_T, with
    the normalisation of the authors' code (``F.binary_cross_entropy``: a mean over the pixels; the entanglement
    penalty averaged over the actions):

        L = mean_{t=0..T} mean_p BCE(dec(ρ(a_t)…ρ(a_1) z_0)_p, x_{t,p}) + λ mean_a (Σ_ij (θ^a_ij)² − max_ij (θ^a_ij)²),

    λ = 1e-2, a mean over the batch; the penalty drives each action to rotate a single plane. The angles start
    uniform in (−π/d, π/d), as in the authors' code (at θ = 0 every action is the identity and the penalty has
    no gradient). ``latent_rep``: ρ(g) = Π_i ρ(a_i^±)^{|k_i|} (signed shift k_i), not block-diagonal by
    construction.

    An earlier version summed the BCE over the pixels and the time steps and the penalty over the actions:
    against the reconstruction the penalty was then ~800× weaker than the authors' on 16 px RGB images
    (768 pixels × 4 observations / 4 actions), and the learned actions stayed entangled (flatland 8×8:
    homomorphism error 0.71, D_LSBD 0.29).

    Where it fails (``benchmarks/results/train_quality.md``: arrow 8×8 in tuning, the held-out ``dial`` on every
    seed) the failed conditions are equivariance, the Cayley relation ρ(N−1)ρ(s) = ρ(0) and leakage. The objective
    cannot prevent it (``proofs/k_quessard_not_identified.md``): it reads the code only as dec(ρ(a_t)…ρ(a_1) z_0),
    never comparing enc(x_t) with ρ(a_t)…ρ(a_1) z_0, so on a finite world every code whose propagated points keep
    different observations apart is a global minimiser, with each ρ(a) one plane's rotation by a generic angle
    (ρ(a)^N ≠ I, whatever T); almost every such code has no affine action (equivariance fails, and the fitted
    relations and leakage are unconstrained). Equivariant codes with a faithful ρ are minimisers too: which one
    training reaches is the networks' inductive bias (flatland 8×8 passed in tuning).

    Parameters
    ----------
    world : World
    latent_dim : int
        d (default 2K).
    lam : float
        Weight of the entanglement penalty.
    length : int
        Trajectory length T.
    hidden : sequence of int
        MLP widths (vector observations only).
    likelihood : {"auto", "bernoulli", "gaussian"}
    """

    name = "quessard"
    factor_groups = (Cyclic, Dihedral, SO2, SO3)
    hparam_ranges = {"latent_dim": Range(2, integer=True, optional=True), "lam": NONNEGATIVE, "length": COUNT,
                     "hidden": WIDTHS}
    data = "sequences"

    def __init__(self, world, latent_dim: int | None = None, lam: float = 1e-2, length: int = 3,
                 hidden: Sequence[int] = (256, 256), likelihood: str = "auto") -> None:
        groups = [world.group.factors[k] for k in world.factor_names]
        latent_dim = sum(faithful_dim(g) for g in groups) if latent_dim is None else latent_dim
        super().__init__(world, latent_dim=latent_dim, lam=float(lam), length=length, hidden=list(hidden),
                         likelihood=likelihood)
        if not isinstance(latent_dim, int) or latent_dim < 2:
            raise ValueError(f"latent_dim: expected an int >= 2, got {latent_dim!r}")
        self.latent_dim, self.lam = latent_dim, float(lam)
        self.likelihood = check_likelihood(likelihood, self.observation_shape)
        self.encoder = make_encoder(self.observation_shape, latent_dim, hidden)
        self.decoder = make_decoder(latent_dim, self.observation_shape, hidden)
        # the actions: each generator of each factor, then its inverse
        self.actions = [(name, step) for name, g in zip(self.factor_names, groups)
                        for j in range(g.batch_size(g.generators()))
                        for step in (g.take(g.generators(), [j]), g.inverse(g.take(g.generators(), [j])))]
        bound = math.pi / latent_dim
        self.theta = nn.Parameter((2 * torch.rand(len(self.actions), latent_dim * (latent_dim - 1) // 2) - 1) * bound)
        self.data_kwargs = {"length": length, "steps": "generators"}

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.encoder(x), dim=1, eps=1e-6)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return mean_observation(self.decoder(z), self.likelihood)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def action_index(self, g: dict) -> torch.Tensor:
        """Action id per element (the index in ``self.actions``; for cyclic factors 2i is +1 of factor i and
        2i + 1 its −1), ``len(self.actions)`` for the identity; the first matching action wins."""
        first = g[self.factor_names[0]]
        idx = torch.full((len(first),), len(self.actions), dtype=torch.long, device=first.device)
        for a in reversed(range(len(self.actions))):
            name, step = self.actions[a]
            group = self.group.factors[name]
            hit = group.equal(g[name], group.take(step.to(g[name].device), torch.zeros(len(first), dtype=torch.long)))
            idx = torch.where(hit & ~group.equal(g[name], group.identity(len(first)).to(g[name])), a, idx)
        return idx

    def matrices(self) -> torch.Tensor:
        """ρ(a) for every action plus the identity last, ``(len(actions) + 1, d, d)``."""
        rho = plane_rotations(self.theta, self.latent_dim)
        return torch.cat([rho, torch.eye(self.latent_dim, dtype=rho.dtype, device=rho.device)[None]])

    def loss(self, batch: dict, generator: torch.Generator | None = None,
             step: int | None = None) -> dict[str, torch.Tensor]:
        x, g = batch["x"], batch["g"]
        n, t1 = x.shape[:2]
        mats = self.matrices()
        z = [self.encode(x[:, 0])]
        for t in range(1, t1):
            z.append(apply(mats[self.action_index({k: v[:, t - 1] for k, v in g.items()})], z[-1]))
        z = torch.stack(z, 1).reshape(n * t1, -1)
        recon = reconstruction_loss(self.decoder(z), x.reshape(n * t1, *x.shape[2:]), self.likelihood)
        recon = recon / x[0, 0].numel()
        sq = self.theta**2
        penalty = (sq.sum(1) - sq.max(1).values).mean()
        return {"loss": recon + self.lam * penalty, "recon": recon, "entanglement": penalty}

    @property
    def latent_rep(self) -> Representation | None:
        """ρ(g) = Π_i ρ(a_i^±)^{|k_i|} (signed shift k_i) on cyclic factors; ``None`` where a factor is not cyclic
        (an element of SO(2) or SO(3) is not a finite word in the learned actions)."""
        names, sizes = self.factor_names, self.factor_sizes
        if not all(isinstance(self.group.factors[k], Cyclic) for k in names):
            return None
        mats = self.matrices().detach().cpu()

        def fn(g: dict, dtype: torch.dtype) -> torch.Tensor:
            n = len(g[names[0]])
            out = torch.eye(self.latent_dim, dtype=dtype).repeat(n, 1, 1)
            for i, (name, size) in enumerate(zip(names, sizes)):
                table = power_table(mats[2 * i].to(dtype), mats[2 * i + 1].to(dtype), size)
                out = out @ table[g[name].long()]
            return out

        return Representation(self.group, fn, self.latent_dim, "quessard:learned")
