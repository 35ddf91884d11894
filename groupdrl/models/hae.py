"""Homomorphism autoencoder (Keurti et al. 2023, "Homomorphism Autoencoder — Learning Group Structured
Representations from Observed Transitions", ICML)."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from groupdrl.groups import Representation
from groupdrl.groups.representation import rotation_2d
from groupdrl.models._schedule import check_steps, ramp
from groupdrl.models.base import (Model, apply, block_diag, check_likelihood, make_decoder, make_encoder,
                                  mean_observation, reconstruction_loss, signed_shift)
from groupdrl.models.hparams import COUNT, NONNEGATIVE, Range, WIDTHS
from groupdrl.nn import MLP



class LieBlocks(nn.Module):
    """Learned block-diagonal ρ(g) = ⊕_i matrix_exp(MLP_i(g_i)), one block per factor (subgroup).

    Each MLP_i reads the element g_i of the cyclic factor C_{N_i} as its signed shift s/N_i ∈ (−½, ½]
    (a rotation by a learned angle θ(s) is then a nearly linear function to fit) and gives the Lie-algebra
    element A_i(g_i) = MLP_i(s) − MLP_i(0), so ρ(e) = I exactly: skew-symmetric (so(d_i), ρ orthogonal)
    when ``orthogonal`` else a general matrix (gl(d_i)). ρ is block-diagonal by construction, so subgroup
    i moves only its own block; that it is a homomorphism is learned. (:class:`groupdrl.nn.LearnedRepresentation`
    is the same construction on (cos, sin) element features.)
    """

    def __init__(self, sizes: Sequence[int], dims: Sequence[int], hidden: int = 64, orthogonal: bool = True) -> None:
        super().__init__()
        self.sizes = tuple(sizes)
        self.dims = tuple(dims)
        self.orthogonal = orthogonal
        self.mlps = nn.ModuleList(MLP(1, (hidden,), d * d) for d in self.dims)

    def forward(self, g: Sequence[torch.Tensor]) -> torch.Tensor:
        """``g``: one ``(n,)`` element batch per factor → ρ(g) of shape ``(n, Σd_i, Σd_i)``."""
        blocks = []
        for gi, size, d, mlp in zip(g, self.sizes, self.dims, self.mlps):
            s = (signed_shift(gi, size) / size).to(next(mlp.parameters()).dtype)
            out = mlp(torch.cat([s, s.new_zeros(1)])[:, None])
            a = (out[:-1] - out[-1:]).reshape(-1, d, d)
            if self.orthogonal:
                a = a - a.transpose(1, 2)
                if d == 2:  # exp([[0, −θ], [θ, 0]]) = R(θ), in closed form
                    blocks.append(rotation_2d(a[:, 1, 0]))
                    continue
            blocks.append(torch.linalg.matrix_exp(a))
        return block_diag(blocks)


class HAE(Model):
    """Homomorphism autoencoder: an encoder h, a decoder and a learned representation ρ.

    For a sequence o_0, …, o_T with o_t = g_t · o_{t−1} (Keurti et al. 2023, eq. 5):

        L = Σ_{t=0}^{T} BCE(dec(ρ(g_t)…ρ(g_1) h(o_0)), o_t) + γ Σ_{t=1}^{T} ‖h(o_t) − ρ(g_t)…ρ(g_1) h(o_0)‖²,

    γ = 400, ρ(g) = matrix_exp(MLP(g)) block-diagonal per subgroup (:class:`LieBlocks`). The encoder is
    deterministic; ``encode`` is h.

    Training schedule (ours): the weight of the latent term ramps linearly from 0 to γ over the first
    ``gamma_warmup`` steps. With the full γ from step 0 the latent term, which any h → 0 satisfies,
    wins before the reconstruction has made h informative and the encoder collapses to a constant
    (seen on flatland, arrow and vector worlds); the official code avoids the same trap by alternating
    the training of the autoencoder and of ρ (``--toggle_training_every``). The ramp is a function of the
    training step passed to ``loss`` (``None``: full γ), so resumed runs follow the same schedule. With ``normalise`` (ours, default) h is standardised per
    dimension over the batch: at initialisation the shared conv encoder's outputs differ between images by
    ~1e-3 of their common offset, and without it even the plain autoencoder (γ = 0) stayed at the blank
    image for 400+ steps on 16×16 flatland; the standardised code also cannot shrink to a point.

    Parameters
    ----------
    world : World
    block_dim : int
        Dimension of each factor's block (2: a rotation plane per cyclic factor).
    gamma : float
        Weight of the latent prediction term.
    length : int
        Number of transitions T per training sequence.
    steps : {"uniform", "subgroup", "generators"}
        How each g_t is drawn (see :mod:`groupdrl.train.data`).
    orthogonal : bool
        Skew-symmetric Lie-algebra blocks (ρ orthogonal) or general ones.
    gamma_warmup : int
        Steps of the linear ramp of the latent weight (0: full γ from the start).
    normalise : bool
        Standardise h with a ``BatchNorm1d(affine=False, eps=1e-10)`` (batch statistics in training, running
        ones in eval: an invertible affine map of the code, so linear disentanglement is unaffected).
    hidden, rep_hidden : widths of the MLP encoder/decoder (vectors only) and of each MLP_i.
    likelihood : {"auto", "bernoulli", "gaussian"}
    """

    name = "hae"
    hparam_ranges = {"block_dim": COUNT, "gamma": NONNEGATIVE, "length": COUNT, "gamma_warmup": Range(0, integer=True),
                     "hidden": WIDTHS, "rep_hidden": COUNT}
    data = "sequences"

    def __init__(self, world, block_dim: int = 2, gamma: float = 400.0, length: int = 3, steps: str = "uniform",
                 orthogonal: bool = True, gamma_warmup: int = 2500, normalise: bool = True, hidden: Sequence[int] = (256, 256),
                 rep_hidden: int = 64, likelihood: str = "auto") -> None:
        super().__init__(world, block_dim=block_dim, gamma=float(gamma), length=length, steps=steps,
                         orthogonal=orthogonal, gamma_warmup=gamma_warmup, normalise=normalise, hidden=list(hidden),
                         rep_hidden=rep_hidden, likelihood=likelihood)
        self.gamma_warmup = check_steps(gamma_warmup, "gamma_warmup", 0)
        if not isinstance(block_dim, int) or block_dim < 1:
            raise ValueError(f"block_dim: expected a positive int, got {block_dim!r}")
        self.gamma = float(gamma)
        self.latent_dim = block_dim * len(self.factor_names)
        self.likelihood = check_likelihood(likelihood, self.observation_shape)
        self.encoder = make_encoder(self.observation_shape, self.latent_dim, hidden)
        # eps far below the raw output variance at initialisation (~1e-7), which the default 1e-5 would swamp
        self.norm = nn.BatchNorm1d(self.latent_dim, affine=False, eps=1e-10) if normalise else nn.Identity()
        self.decoder = make_decoder(self.latent_dim, self.observation_shape, hidden)
        self.rho = LieBlocks(self.factor_sizes, [block_dim] * len(self.factor_names), rep_hidden, orthogonal)
        self.data_kwargs = {"length": length, "steps": steps}

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.encoder(x))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return mean_observation(self.decoder(z), self.likelihood)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def loss(self, batch: dict, generator: torch.Generator | None = None,
             step: int | None = None) -> dict[str, torch.Tensor]:
        x, g = batch["x"], batch["g"]
        n, t1 = x.shape[:2]
        z = self.encode(x.reshape(n * t1, *x.shape[2:])).reshape(n, t1, -1)
        preds = [z[:, 0]]
        for t in range(1, t1):
            preds.append(apply(self.rho([g[k][:, t - 1] for k in self.factor_names]), preds[-1]))
        pred = torch.stack(preds, 1)
        recon = reconstruction_loss(self.decoder(pred.reshape(n * t1, -1)), x.reshape(n * t1, *x.shape[2:]),
                                    self.likelihood) * t1
        latent = ((z[:, 1:] - pred[:, 1:]) ** 2).sum((1, 2)).mean()
        weight = ramp(step, self.gamma_warmup) * self.gamma
        return {"loss": recon + weight * latent, "recon": recon, "latent": latent}

    @property
    def latent_rep(self) -> Representation:
        """The learned ρ (evaluated without gradients), with ``blocks`` naming each factor's coordinates."""
        names = self.factor_names
        rho = self.rho

        def fn(g: dict, dtype: torch.dtype) -> torch.Tensor:
            with torch.no_grad():
                dev = next(rho.parameters()).device
                return rho([g[k].to(dev) for k in names]).to(device="cpu", dtype=dtype)

        d = self.rho.dims[0]
        blocks = {k: slice(i * d, (i + 1) * d) for i, k in enumerate(names)}
        return Representation(self.group, fn, self.latent_dim, "hae:learned", blocks=blocks)
