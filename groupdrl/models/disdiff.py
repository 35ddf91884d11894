"""DisDiff (Yang et al. 2023, "DisDiff: Unsupervised Disentanglement of Diffusion Probabilistic Models", NeurIPS),
a small faithful version: a small DDPM trained first, then frozen while the encoder and the gradient fields learn."""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from groupdrl.models._discriminator import frozen_call
from groupdrl.models._schedule import check_step
from groupdrl.models.base import Model, is_image, make_encoder
from groupdrl.models.hparams import COUNT, NONNEGATIVE, Range, WIDTHS
from groupdrl.nn import MLP


def linear_betas(timesteps: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    """The linear β schedule of Ho et al. 2020, ``(T,)`` float64."""
    return torch.linspace(beta_start, beta_end, timesteps, dtype=torch.float64)


def time_features(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding ``(n, dim)`` of integer timesteps (Vaswani et al. 2017; Ho et al. 2020)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, device=t.device) / half)
    args = t[:, None].to(freqs.dtype) * freqs
    return torch.cat([torch.sin(args), torch.cos(args)], 1).to(torch.get_default_dtype())


def predict_x0(x_t: torch.Tensor, eps: torch.Tensor, alpha_bar: torch.Tensor) -> torch.Tensor:
    """x̂₀ = (x_t − √(1 − ᾱ_t) ε) / √ᾱ_t, the inverse of x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε."""
    return (x_t - torch.sqrt(1 - alpha_bar) * eps) / torch.sqrt(alpha_bar)


def disentangling_loss(z: torch.Tensor, z_hat: torch.Tensor, z_hat_c: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """L_d = CE(d, c) + CE(e, c) over the N factor units (DisDiff §3.3), codes shaped ``(n, N, d)``.

    ``z`` = E(x₀), ``z_hat`` = E'(x̂₀) from the frozen DDPM alone, ``z_hat_c`` = E'(x̂₀^c) with factor c's
    gradient field added (E' a frozen copy of E). Invariant logits d_k = ‖ẑ^c_k − ẑ_k‖: adding field c moves
    unit c only. Variant logits e_k = ‖ẑ_k − z_k‖ − ‖ẑ^c_k − z_k‖: field c brings unit c towards z_c.
    """
    d = (z_hat_c - z_hat).norm(dim=2)
    e = (z_hat - z).norm(dim=2) - (z_hat_c - z).norm(dim=2)
    return F.cross_entropy(d, c) + F.cross_entropy(e, c)


class Trunk(nn.Module):
    """The DDPM's contracting half, x_t, t ↦ features; shared by ε_θ and the gradient field (PDAE's ShiftUNet).

    Images: a 3×3 convolution at full resolution, then two stride-2 ones (width, width, 2·width channels),
    emb(t) added as a per-channel bias after each, ReLU between. Vectors: [x_t, Linear([x_t, emb(t)]) + ReLU].
    """

    def __init__(self, shape: Sequence[int], hidden: Sequence[int], width: int, time_dim: int = 32) -> None:
        super().__init__()
        self.time_dim, self.image = time_dim, is_image(shape)
        if self.image:
            c = shape[0]
            self.convs = nn.ModuleList([nn.Conv2d(c, width, 3, padding=1), nn.Conv2d(width, width, 3, 2, 1),
                                        nn.Conv2d(width, 2 * width, 3, 2, 1)])
            self.biases = nn.ModuleList([nn.Linear(time_dim, w) for w in (width, width, 2 * width)])
        else:
            self.mlp = nn.Linear(shape[0] + time_dim, hidden[0])

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> list[torch.Tensor]:
        emb = time_features(t, self.time_dim)
        if not self.image:
            return [x, F.relu(self.mlp(torch.cat([x, emb], 1)))]
        feats, h = [], x
        for i, (conv, bias) in enumerate(zip(self.convs, self.biases)):
            h = conv(F.relu(h) if i else h) + bias(emb)[:, :, None, None]
            feats.append(h)
        return feats


class Head(nn.Module):
    """The expanding half, (features, t, condition) ↦ a tensor shaped like x_t: ε_θ, or the gradient field
    G_ψ reading the frozen DDPM's features (PDAE: a second decoder on the pretrained U-Net's encoder).

    Images: a 3×3 convolution at the coarsest level, then twice: nearest ×2 upsampling, concatenation with
    the trunk's feature of that size, a 3×3 convolution; then a 3×3 convolution to the channels of x_t. After
    each inner convolution, adaptive group normalisation (Dhariwal & Nichol 2021, as in PDAE and DisDiff):
    h ↦ (1 + s) GroupNorm(h) + b with (s, b) linear in [emb(t), condition]. Vectors: an MLP on
    [x_t, features, emb(t), condition]. The last layer starts at zero (PDAE's and DisDiff's ``zero_module``):
    the field starts as no correction, so stage 2 starts from the DDPM's own loss.
    """

    def __init__(self, shape: Sequence[int], cond_dim: int, hidden: Sequence[int], width: int,
                 time_dim: int = 32) -> None:
        super().__init__()
        self.time_dim, self.image = time_dim, is_image(shape)
        emb = time_dim + cond_dim
        if self.image:
            widths = (2 * width, width, width)
            self.convs = nn.ModuleList([nn.Conv2d(2 * width, 2 * width, 3, padding=1),
                                        nn.Conv2d(3 * width, width, 3, padding=1),
                                        nn.Conv2d(2 * width, width, 3, padding=1)])
            self.norms = nn.ModuleList([nn.GroupNorm(math.gcd(8, w), w) for w in widths])
            self.mods = nn.ModuleList([nn.Linear(emb, 2 * w) for w in widths])
            self.out = nn.Conv2d(width, shape[0], 3, padding=1)
        else:
            self.mlp = MLP(shape[0] + hidden[0] + emb, tuple(hidden[1:]), shape[0])
        nn.init.zeros_(self.last_layer.weight)
        nn.init.zeros_(self.last_layer.bias)

    @property
    def last_layer(self) -> nn.Module:
        """The output layer (the MLP's last linear map for vectors; not a second registration of it, which
        ``torch.func.functional_call`` would leave swapped for a detached copy)."""
        return self.out if self.image else self.mlp.net[-1]

    def forward(self, feats: Sequence[torch.Tensor], t: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        emb = time_features(t, self.time_dim)
        if cond is not None:
            emb = torch.cat([emb, cond], 1)
        if not self.image:
            return self.mlp(torch.cat([*feats, emb], 1))
        h = F.relu(feats[-1])
        for i, (conv, norm, mod) in enumerate(zip(self.convs, self.norms, self.mods)):
            if i:
                skip = feats[-1 - i]
                h = torch.cat([F.interpolate(h, size=skip.shape[-2:]), skip], 1)
            scale, shift = mod(emb)[:, :, None, None].chunk(2, 1)
            h = F.relu((1 + scale) * norm(conv(h)) + shift)
        return self.out(h)


class Denoiser(nn.Module):
    """ε_θ(x_t, t) = Head(Trunk(x_t, t), t): the DDPM, a small U-Net (images) or MLP (vectors)."""

    def __init__(self, shape: Sequence[int], hidden: Sequence[int], width: int) -> None:
        super().__init__()
        self.trunk = Trunk(shape, hidden, width)
        self.head = Head(shape, 0, hidden, width)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x, t), t)


class DisDiff(Model):
    """Disentangles a frozen DDPM: an encoder E splits x₀ into N factor units z_c, each steering the DDPM
    through its own gradient field G_ψ(x_t, z_c, t).

    Stage 1 (the first ``pretrain_steps`` training steps): the DDPM ε_θ learns
    L_DDPM = ‖ε − ε_θ(x_t, t)‖² (Ho et al. 2020; T = 1000, linear β from 1e-4 to 0.02),
    x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε. Stage 2: ε_θ is frozen and E, G_ψ learn

        L = L_r + λ L_d,   L_r = ‖ε − (ε_θ(x_t, t) + k_t Σ_c G_ψ(x_t, z_c, t))‖₁,   λ = 0.05,

    with k_t = −√(α_t (1 − ᾱ_t)) (the mean shift of PDAE, Zhang et al. 2022, with Σ_θ = β_t I) and L_d
    from :func:`disentangling_loss` for one random factor c per sample. G_ψ(·, z_c, ·) is one network that
    reads z with every unit but c set to 0; as in PDAE's and DisDiff's code it is a second decoder
    (:class:`Head`) on the frozen DDPM's contracting half (:class:`Trunk`), conditioned by adaptive group
    normalisation and started at zero. The frozen copy E' is E with detached parameters. Each stage's
    loss reaches only its own parameters (the others get no gradient and Adam leaves them alone); the stage is
    a function of the training step passed to ``loss`` (``None``: stage 2). Under
    DistributedDataParallel this needs ``find_unused_parameters=True``.

    ``encode(x)`` = [z_1, …, z_N], ``(n, N · unit_dim)``; :meth:`pca_encoder` gives the paper's evaluation
    code, each unit reduced to its first principal component, ``(n, N)``.

    **At a CPU budget its code is not informative** (measured by ``benchmarks/disdiff_signal.py``, results
    in ``benchmarks/results/disdiff_signal.md``): E learns only through L_r, and a code can lower L_r only
    by the gap between the best unconditional ε estimate and the true ε. On 16 px flatland that gap is
    small and confined to t ≈ 200–600 (≤ 0.013 per pixel), while the DDPM's own error is larger; the field
    fits that error first. After 8000 steps (2000 DDPM, width 32, 17 min on one thread) the code is no
    more informative than the untrained encoder's (MIG 0.011 vs 0.012, DCI-D 0.23 vs 0.46).

    Parameters
    ----------
    world : World
    n_units : int
        N, the number of factor units.
    unit_dim : int
        Width of each unit.
    lambda_d : float
        Weight of the disentangling loss.
    pretrain_steps : int
        Steps of stage 1 (DDPM training); 0 when ``ddpm`` weights are loaded from elsewhere.
    timesteps : int
        T.
    beta_start, beta_end : float
        Ends of the linear β schedule.
    width : int
        Channels of the convolutional denoisers (image worlds).
    hidden : sequence of int
        Widths of the MLP encoder (vector worlds); the denoisers' trunk is one layer of ``hidden[0]``, their
        heads MLPs through ``hidden[1:]``.
    """

    name = "disdiff"
    hparam_ranges = {"n_units": COUNT, "unit_dim": COUNT, "lambda_d": NONNEGATIVE,
                     "pretrain_steps": Range(0, integer=True), "timesteps": COUNT, "width": COUNT, "hidden": WIDTHS,
                     "beta_start": Range(0.0, 1.0, open_low=True, open_high=True),
                     "beta_end": Range(0.0, 1.0, open_low=True, open_high=True)}
    data = "observations"
    #: ``groupdrl compare`` pretrains the DDPM for the first half of its run (the paper starts from a DDPM
    #: trained apart; 50,000 steps would leave the encoder untrained at any CPU budget).
    run_fractions = {"pretrain_steps": 1 / 2}

    def __init__(self, world, n_units: int = 6, unit_dim: int = 8, lambda_d: float = 0.05,
                 pretrain_steps: int = 50_000, timesteps: int = 1000, beta_start: float = 1e-4,
                 beta_end: float = 0.02, width: int = 64, hidden: Sequence[int] = (256, 256)) -> None:
        super().__init__(world, n_units=n_units, unit_dim=unit_dim, lambda_d=float(lambda_d),
                         pretrain_steps=pretrain_steps, timesteps=timesteps, beta_start=float(beta_start),
                         beta_end=float(beta_end), width=width, hidden=list(hidden))
        for name, value, low in (("n_units", n_units, 2), ("unit_dim", unit_dim, 1), ("timesteps", timesteps, 2),
                                 ("pretrain_steps", pretrain_steps, 0), ("width", width, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name}: expected an int >= {low}, got {value!r}")
        if not 0 < beta_start <= beta_end < 1:
            raise ValueError(f"beta_start, beta_end: expected 0 < beta_start <= beta_end < 1, got "
                             f"{beta_start!r}, {beta_end!r}")
        self.n_units, self.unit_dim, self.lambda_d = n_units, unit_dim, float(lambda_d)
        self.pretrain_steps, self.timesteps = pretrain_steps, timesteps
        betas = linear_betas(timesteps, beta_start, beta_end)
        dtype = torch.get_default_dtype()
        self.register_buffer("alphas", (1 - betas).to(dtype), persistent=False)
        self.register_buffer("alphas_bar", torch.cumprod(1 - betas, 0).to(dtype), persistent=False)
        self.ddpm = Denoiser(self.observation_shape, hidden, width)
        self.encoder = make_encoder(self.observation_shape, n_units * unit_dim, hidden)
        self.field = Head(self.observation_shape, n_units * unit_dim, hidden, width)

    def pretraining(self, step: int | None) -> bool:
        """Whether training step ``step`` is a stage-1 (DDPM) step (``None``: no)."""
        step = check_step(step)
        return step is not None and step < self.pretrain_steps

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """[z_1, …, z_N] = E(x), ``(n, n_units · unit_dim)``."""
        return self.encoder(x)

    def unit_fields(self, feats: Sequence[torch.Tensor], t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """G_ψ(x_t, z_c, t) for every unit c in one pass (z masked to unit c), ``(n_units, n, *x.shape[1:])``;
        ``feats`` = the DDPM trunk's features of x_t."""
        n = len(z)
        mask = torch.eye(self.n_units, device=z.device, dtype=z.dtype).repeat_interleave(self.unit_dim, 1)
        cond = (z[None] * mask[:, None]).reshape(self.n_units * n, -1)
        fields = self.field([f.repeat(self.n_units, *([1] * (f.dim() - 1))) for f in feats], t.repeat(self.n_units), cond)
        return fields.reshape(self.n_units, n, *fields.shape[1:])

    @torch.no_grad()
    def pca_encoder(self, x_reference: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        """An encoder ``x ↦ (n, n_units)``: each unit projected on its first principal component, the
        components (and centres) fitted once on ``E(x_reference)``."""
        z = self.encode(x_reference).reshape(len(x_reference), self.n_units, self.unit_dim)
        centre = z.mean(0)
        axes = torch.stack([torch.linalg.svd(z[:, k] - centre[k], full_matrices=False)[2][0]
                            for k in range(self.n_units)])

        def encoder(x: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                units = self.encode(x).reshape(len(x), self.n_units, self.unit_dim)
                return ((units - centre) * axes).sum(2)

        return encoder

    def loss(self, batch: dict, generator: torch.Generator | None = None,
             step: int | None = None) -> dict[str, torch.Tensor]:
        x0 = batch["x"]
        n, dev = len(x0), x0.device
        t = torch.randint(self.timesteps, (n,), generator=generator, device=dev)
        eps = torch.randn(x0.shape, generator=generator, device=dev, dtype=x0.dtype)
        view = (n,) + (1,) * (x0.dim() - 1)
        a_bar, alpha = self.alphas_bar[t].reshape(view), self.alphas[t].reshape(view)
        x_t = torch.sqrt(a_bar) * x0 + torch.sqrt(1 - a_bar) * eps
        if self.pretraining(step):
            ddpm = F.mse_loss(self.ddpm(x_t, t), eps)
            return {"loss": ddpm, "ddpm": ddpm}
        feats = frozen_call(self.ddpm.trunk, x_t, t)
        eps_theta = frozen_call(self.ddpm.head, feats, t)
        z = self.encoder(x0)
        fields = self.unit_fields(feats, t, z)
        k_t = -torch.sqrt(alpha * (1 - a_bar))
        recon = (eps - (eps_theta + k_t * fields.sum(0))).abs().mean()
        c = torch.randint(self.n_units, (n,), generator=generator, device=dev)
        x0_hat = predict_x0(x_t, eps_theta, a_bar)
        x0_hat_c = predict_x0(x_t, eps_theta + k_t * fields[c, torch.arange(n, device=dev)], a_bar)
        codes = [frozen_call(self.encoder, v).reshape(n, self.n_units, self.unit_dim) for v in (x0_hat, x0_hat_c)]
        dis = disentangling_loss(z.detach().reshape(n, self.n_units, self.unit_dim), *codes, c)
        return {"loss": recon + self.lambda_d * dis, "recon": recon, "disentangle": dis}
