"""Shared parts of every model: the :class:`Model` interface, encoder/decoder choice and VAE pieces.

Every model is an ``nn.Module`` built for a :class:`~groupdrl.worlds.World` with

- ``encode(x) -> (n, d)``: the representation that gets verified (the posterior mean for VAEs);
- ``loss(batch, generator=None, step=None) -> dict[str, Tensor]`` with ``"loss"`` the total to minimise;
  ``step`` is the training step (``fit`` passes it; schedules are pure functions of it, ``None`` = the end
  of the schedule). ``forward`` is ``loss``, so the model can be wrapped in ``DistributedDataParallel``;
- ``decode(z)`` / ``reconstruct(x)`` where it is generative;
- ``latent_rep``: the representation ρ of the world's group acting on the latent, or ``None``;
- ``data``: the batches it needs (``"observations"``, ``"transitions"``, ``"sequences"`` or
  ``"labelled+unlabelled"``) and ``data_kwargs`` for the sampler (see :mod:`groupdrl.train.data`);
- ``config``: a JSON dict ``{"name", "hparams"}`` that rebuilds it with ``models.get``.
"""
from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from groupdrl.groups import SO2, SO3, Cyclic, Dihedral, Group, Representation
from groupdrl.groups.so3 import so3_log
from groupdrl.groups.representation import rotation_2d
from groupdrl.models.hparams import COUNT, Range, WIDTHS, check_hparams
from groupdrl.nn import ConvDecoder, ConvEncoder, MLPDecoder, MLPEncoder
from groupdrl.nn.conv import MIN_IMAGE_SIZE

#: Kinds of batches a model may ask for (see :mod:`groupdrl.train.data`).
DATA_KINDS = ("observations", "transitions", "sequences", "labelled+unlabelled")


class Model(nn.Module):
    """Base class: stores the world layout and the JSON config; subclasses define the method."""

    name: str = ""
    data: str = "observations"
    #: Hyperparameters that are schedule lengths in training steps, with the fraction of a run each takes
    #: when a runner fits them to its run length (``groupdrl compare``), e.g. ``{"capacity_steps": 1 / 3}``.
    run_fractions: dict[str, float] = {}
    #: Factor groups a model that consumes group elements (``data`` other than ``"observations"``) handles.
    factor_groups: tuple[type[Group], ...] = (Cyclic,)
    #: Valid ranges of numeric hyperparameters (:mod:`groupdrl.models.hparams`), merged along the hierarchy.
    hparam_ranges: dict[str, Range] = {}

    def __init_subclass__(cls, **kwargs) -> None:
        """Check ``hparam_ranges`` on the arguments as given, before a subclass's ``__init__`` converts them."""
        super().__init_subclass__(**kwargs)
        if "__init__" in vars(cls):
            cls.__init__ = _checked_init(cls, cls.__init__)

    def __init__(self, world, **hparams) -> None:
        super().__init__()
        check_factors(world, type(self))
        self.observation_shape = tuple(int(s) for s in world.observation_shape)
        self.factor_names = tuple(world.factor_names)
        #: Sizes of the finite factors (``None`` for a world with continuous factors).
        self.factor_sizes = tuple(int(s) for s in world.sizes) if world.is_finite else None
        self.group = world.group
        self.hparams = dict(hparams)
        self.data_kwargs: dict = {}

    @property
    def config(self) -> dict:
        """JSON-serialisable ``{"name", "hparams"}``; ``models.get(c["name"], world, **c["hparams"])`` rebuilds it."""
        return {"name": self.name, "hparams": dict(self.hparams)}

    @property
    def latent_rep(self) -> Representation | None:
        """The representation of the world's group acting on the latent (``None`` if the model has none)."""
        return None

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def encode(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def loss(self, batch: dict, generator: torch.Generator | None = None,
             step: int | None = None) -> dict[str, torch.Tensor]:
        raise NotImplementedError  # pragma: no cover - abstract

    def forward(self, batch: dict, generator: torch.Generator | None = None,
                step: int | None = None) -> dict[str, torch.Tensor]:
        return self.loss(batch, generator, step)


def _checked_init(cls: type, init):
    """``init`` preceded by :func:`~groupdrl.models.hparams.check_hparams` on its bound keyword arguments."""
    signature = inspect.signature(init)

    @functools.wraps(init)
    def __init__(self, *args, **kwargs) -> None:
        try:
            bound = signature.bind(self, *args, **kwargs).arguments
        except TypeError:  # a wrong call: the constructor's own error says what is wrong
            return init(self, *args, **kwargs)
        given = {k: v for k, v in bound.items() if k not in ("self", "world")}
        for name, p in signature.parameters.items():
            if p.kind is inspect.Parameter.VAR_KEYWORD:
                given.update(given.pop(name, {}))
        check_hparams(cls, given)
        init(self, *args, **kwargs)

    return __init__


def check_factors(world, model: type[Model]) -> None:
    """Refuse, at build time, a world whose factors the model cannot handle.

    A model of still observations reads no group element, so it takes any world; a model that consumes
    group elements needs factors of the groups it reads (``model.factor_groups``).
    """
    if model.data == "observations":
        return
    kinds = model.factor_groups
    bad = [f"{f.name} ({f.group!r})" for f in world.factors if not isinstance(f.group, kinds)]
    if bad:
        raise ValueError(f"world: {model.__name__} handles factors of the groups "
                         f"{', '.join(k.__name__ for k in kinds)}; world {world.name!r} has {', '.join(bad)}")


# ---- observations: encoder / decoder / reconstruction ----------------------------------------------

def is_image(shape: Sequence[int]) -> bool:
    """``True`` for ``(C, H, W)`` observations, ``False`` for vectors ``(d,)``; anything else is an error."""
    shape = tuple(shape)
    if len(shape) == 1:
        return False
    if len(shape) == 3:
        if shape[1] != shape[2] or shape[1] < MIN_IMAGE_SIZE:
            raise ValueError(f"observation_shape: images must be square with a side of at least {MIN_IMAGE_SIZE} "
                             f"pixels (the shared conv nets halve it four times), got {shape}")
        return True
    raise ValueError(f"observation_shape: expected (d,) vectors or (C, H, W) images, got {shape}")


def make_encoder(shape: Sequence[int], out_dim: int, hidden: Sequence[int] = (256, 256)) -> nn.Module:
    """:class:`~groupdrl.nn.ConvEncoder` for images, :class:`~groupdrl.nn.MLPEncoder` for vectors."""
    if is_image(shape):
        return ConvEncoder(shape[0], shape[1], out_dim)
    return MLPEncoder(shape[0], tuple(hidden), out_dim)


def make_decoder(latent_dim: int, shape: Sequence[int], hidden: Sequence[int] = (256, 256), *,
                 batch_norm: bool = False) -> nn.Module:
    """The mirror of :func:`make_encoder`; outputs logits (images) or means (vectors); ``batch_norm`` before
    every ReLU (a DCGAN-style generator)."""
    if is_image(shape):
        return ConvDecoder(latent_dim, shape[0], shape[1], batch_norm=batch_norm)
    return MLPDecoder(latent_dim, tuple(reversed(tuple(hidden))), shape[0], batch_norm=batch_norm)


def default_likelihood(shape: Sequence[int]) -> str:
    """``"bernoulli"`` for images (pixels in [0, 1]), ``"gaussian"`` for vectors."""
    return "bernoulli" if is_image(shape) else "gaussian"


def reconstruction_loss(out: torch.Tensor, x: torch.Tensor, likelihood: str) -> torch.Tensor:
    """Negative log-likelihood summed over the observation, mean over the batch.

    ``"bernoulli"``: BCE with logits (disentanglement_lib); ``"gaussian"``: ½‖x − out‖² (unit variance,
    constants dropped).
    """
    if likelihood == "bernoulli":
        nll = F.binary_cross_entropy_with_logits(out, x, reduction="none")
    elif likelihood == "gaussian":
        nll = 0.5 * (out - x) ** 2
    else:
        raise ValueError(f"likelihood: expected 'bernoulli' or 'gaussian', got {likelihood!r}")
    return nll.reshape(len(x), -1).sum(1).mean()


def mean_observation(out: torch.Tensor, likelihood: str) -> torch.Tensor:
    """Decoder output → mean observation (sigmoid of the logits for Bernoulli)."""
    return torch.sigmoid(out) if likelihood == "bernoulli" else out


def check_likelihood(likelihood: str, shape: Sequence[int]) -> str:
    """Resolve ``"auto"`` and validate the likelihood name."""
    if likelihood == "auto":
        return default_likelihood(shape)
    if likelihood not in ("bernoulli", "gaussian"):
        raise ValueError(f"likelihood: expected 'auto', 'bernoulli' or 'gaussian', got {likelihood!r}")
    return likelihood


# ---- Gaussian VAE pieces ---------------------------------------------------------------------------

#: log σ² of every posterior dimension at initialisation (σ₀ = e⁻² ≈ 0.14; see :func:`init_posterior_`).
LOGVAR_INIT = -4.0
#: Observations of the world on which :func:`init_posterior_` standardises μ.
INIT_SAMPLE = 256


def world_sample(world, n: int = INIT_SAMPLE, seed: int = 0) -> torch.Tensor:
    """``n`` observations of ``world`` at states drawn with a generator seeded by ``seed`` (float)."""
    return world.render(world.sample_states(n, generator=torch.Generator().manual_seed(seed))).float()


@torch.no_grad()
def init_posterior_(encoder: nn.Module, x: torch.Tensor, latent_dim: int) -> nn.Module:
    """Data-dependent initialisation of a Gaussian posterior head ``encoder(x) = [μ, log σ², …]``.

    The μ rows of the encoder's last linear layer are rescaled and shifted so that μ has mean 0 and
    standard deviation 1 over ``x`` in every dimension (the prior's moments; Salimans & Kingma 2016,
    Mishkin & Matas 2016); the log σ² rows get zero weights and the bias :data:`LOGVAR_INIT`.

    Why: with σ ≈ 1 at initialisation (any input-independent init gives log σ² ≈ 0) and μ varying
    by ≈ 0.05 between images (16 px flatland, He init), the sampled z is ≈ 95 % noise; the decoder fits the
    mean image ignoring z while the KL term shrinks μ, and the VAE sits on the collapsed plateau
    (KL ≈ 0) for hundreds of steps — RF-VAE, whose KL weight grows as its relevances fall, never leaves it.
    Starting from an informative posterior (μ spread 1, σ₀ ≈ 0.14) removes that plateau; the objective is
    unchanged. Returns ``encoder``.
    """
    last = [m for m in encoder.modules() if isinstance(m, nn.Linear)][-1]
    mu = encoder(x)[:, :latent_dim]
    std = mu.std(0)
    scale = torch.where(std > 1e-8, 1 / std, torch.ones_like(std))  # a constant output stays as it is
    last.weight[:latent_dim] *= scale[:, None]
    last.bias[:latent_dim] = (last.bias[:latent_dim] - mu.mean(0)) * scale
    last.weight[latent_dim:2 * latent_dim] = 0.0
    last.bias[latent_dim:2 * latent_dim] = LOGVAR_INIT
    return encoder


def reparameterise(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """z = μ + σ ε, ε ~ N(0, I) drawn with ``generator`` (Kingma & Welling 2014)."""
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps


def kl_normal_dims(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ_j, σ_j²) ‖ N(0, 1)) = ½ (μ_j² + σ_j² − log σ_j² − 1) per dimension j, mean over the batch: ``(d,)``."""
    return 0.5 * (mu**2 + logvar.exp() - logvar - 1).mean(0)


def kl_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, σ²) ‖ N(0, I)) = ½ Σ_j (μ_j² + σ_j² − log σ_j² − 1), summed over dims, mean over the batch."""
    return kl_normal_dims(mu, logvar).sum()


class GaussianLatent:
    """``encode``/``decode``/``reconstruct`` of a model with ``posterior(x) -> (μ, log σ²)``, a ``decoder``
    giving likelihood parameters and a ``likelihood``."""

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Posterior mean μ(x), ``(n, latent_dim)``."""
        return self.posterior(x)[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Mean observation of p(x|z)."""
        return mean_observation(self.decoder(z), self.likelihood)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """decode(encode(x))."""
        return self.decode(self.encode(x))

    def kl_per_dim(self, x: torch.Tensor) -> torch.Tensor:
        """KL(q(z_j|x) ‖ N(0, 1)) of each latent dimension, mean over ``x``: ``(latent_dim,)`` (collapse check)."""
        return kl_normal_dims(*self.posterior(x))


class VAE(GaussianLatent, Model):
    """Gaussian-posterior VAE parts shared by the VAE-based methods.

    ``q(z|x) = N(μ(x), diag σ²(x))`` from :func:`make_encoder` (width ``2 · latent_dim``, initialised on
    the world by :func:`init_posterior_`), a decoder from :func:`make_decoder`, the standard normal prior.
    """

    hparam_ranges = {"latent_dim": COUNT, "hidden": WIDTHS}

    def __init__(self, world, latent_dim: int, hidden: Sequence[int], likelihood: str, **hparams) -> None:
        super().__init__(world, latent_dim=latent_dim, hidden=list(hidden), likelihood=likelihood, **hparams)
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"latent_dim: expected a positive int, got {latent_dim!r}")
        self.latent_dim = latent_dim
        self.likelihood = check_likelihood(likelihood, self.observation_shape)
        self.encoder = init_posterior_(make_encoder(self.observation_shape, 2 * latent_dim, hidden),
                                       world_sample(world), latent_dim)
        self.decoder = make_decoder(latent_dim, self.observation_shape, hidden)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(μ, log σ²)`` of q(z|x), each ``(n, latent_dim)``."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` observations decoded from the prior z ~ N(0, I) (drawn on the CPU with ``generator``)."""
        z = torch.randn(n, self.latent_dim, generator=generator)
        return self.decode(z.to(self.device))

    def elbo_terms(self, x: torch.Tensor, generator: torch.Generator | None) -> tuple[torch.Tensor, ...]:
        """``(recon, kl, μ, z)`` for a batch of observations."""
        mu, logvar = self.posterior(x)
        z = reparameterise(mu, logvar, generator)
        return reconstruction_loss(self.decoder(z), x, self.likelihood), kl_normal(mu, logvar), mu, z


# ---- group elements and latent actions --------------------------------------------------------------

def signed_shift(g: torch.Tensor, n: int) -> torch.Tensor:
    """The element ``k`` of C_n as the integer shift in ``(−n/2, n/2]`` (float)."""
    k = g.long()
    return torch.where(2 * k > n, k - n, k).to(torch.get_default_dtype())


def element_features(group: Group, g: torch.Tensor) -> torch.Tensor:
    """Coordinates ``(n, p)`` of elements of one factor, for a learned map g ↦ ρ(g), 0 at the identity.

    ``Cyclic(N)``: the signed shift s/N ∈ (−½, ½] (p = 1); ``SO2``: the angle wrapped to (−π, π], over 2π
    (p = 1); ``SO3``: the axis-angle vector log g (angle ≤ π), over 2π (p = 3). A Lie-algebra-valued map
    that is linear in these coordinates, exponentiated, is a homomorphism of SO(2) or SO(3).
    """
    if isinstance(group, Cyclic):
        return (signed_shift(g, group.n) / group.n)[:, None]
    if isinstance(group, SO2):
        return (torch.remainder(g.double() + math.pi, 2 * math.pi) - math.pi).to(torch.get_default_dtype())[:, None] / (2 * math.pi)
    if isinstance(group, SO3):
        return so3_log(g.to(torch.get_default_dtype())) / (2 * math.pi)
    raise ValueError(f"group: expected Cyclic, SO2 or SO3 elements, got {group!r}")


def feature_dim(group: Group) -> int:
    """p, the number of :func:`element_features` coordinates of ``group``."""
    return 3 if isinstance(group, SO3) else 1


def faithful_dim(group: Group) -> int:
    """Dimension of the latent block a model gives one factor by default.

    The smallest real orthogonal representation with an orbit on which the group acts freely, so that the
    code of one state and the block's action tell every state of the factor apart: 2 for cyclic factors
    (a rotation of the plane; for C_2 by π), SO(2) and dihedral factors (the standard irrep); 6 for SO(3):
    the orbit of one vector of R³ under the rotation matrices is a sphere (a rotation about that vector
    fixes it), while two independent vectors — l = 1 ⊕ l = 1 — are fixed by the identity alone.
    """
    return 6 if isinstance(group, SO3) else 2


def circle_representation(group, frequencies: dict[str, int] | None = None) -> Representation:
    """ρ = ⊕_i ρ_i, a 2×2 orthogonal block per factor of a world's product group (a circle S¹ in the latent).

    ``Cyclic(N)``: ρ_i(k) = R(ω_i 2πk/N) (2-D for every N, unlike ``Cyclic(n).representation("irrep:1")``:
    for C_2 the rotation by π); ``SO2``: ρ_i(θ) = R(ω_i θ); ``Dihedral(N)``: its standard irrep
    R(2πk/N) diag(1, −1)^f (the rotations and reflections of the regular N-gon; ``frequencies`` do not apply).
    """
    frequencies = frequencies or {}
    reps = {}
    for name, g in group.factors.items():
        omega = int(frequencies.get(name, 1))
        if isinstance(g, Cyclic):
            reps[name] = Representation(
                g, lambda e, dtype, g=g, w=omega: rotation_2d(g.angle(e) * w).to(dtype), 2, f"rot:{omega}")
        elif isinstance(g, SO2):
            reps[name] = Representation(g, lambda e, dtype, w=omega: rotation_2d(e.double() * w).to(dtype), 2,
                                        f"rot:{omega}")
        elif isinstance(g, Dihedral):
            reps[name] = g.representation("standard")
        else:
            raise ValueError(f"group: factor {name!r} is {g!r}; expected cyclic, SO(2) or dihedral factors")
    return group.representation(reps)


def block_diag(blocks: Sequence[torch.Tensor]) -> torch.Tensor:
    """Batched block-diagonal matrix from ``(n, d_i, d_i)`` blocks (differentiable)."""
    return torch.func.vmap(torch.block_diag)(*blocks) if len(blocks) > 1 else blocks[0]


def apply(mats: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Batched matrix–vector product ``mats @ z``: ``(n, d, d), (n, d) -> (n, d)``."""
    return torch.einsum("nij,nj->ni", mats, z)


def power_table(plus: torch.Tensor, minus: torch.Tensor, n: int) -> torch.Tensor:
    """ρ(k) for every k ∈ C_n from learned matrices of the generator and its inverse: ``(n, d, d)``.

    ρ(k) = plus^k for k ≤ n/2, minus^(n − k) otherwise (the shortest word in the generators).
    """
    return torch.stack([torch.linalg.matrix_power(plus, k) if 2 * k <= n else torch.linalg.matrix_power(minus, n - k)
                        for k in range(n)])
