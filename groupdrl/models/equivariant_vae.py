"""Equivariant VAE: LSBD-VAE's latent and objective with an escnn steerable encoder, so the block of the factor
that rotates the image is rotation-equivariant by construction (Weiler & Cesa 2019 layers from
:class:`groupdrl.nn.EquivariantImageEncoder`)."""
from __future__ import annotations

import torch
from torch import nn

from groupdrl.groups import SO2, Cyclic, Dihedral
from groupdrl.models.lsbd_vae import LSBDVAE
from groupdrl.nn import EquivariantImageEncoder

#: The escnn gspaces each kind of rotation factor allows (the first is the default).
GSPACES = {Cyclic: ("rot2d", "so2"), Dihedral: ("fliprot2d",), SO2: ("so2",)}


class EquivariantVAE(LSBDVAE):
    """A product-of-circles VAE (S¹)^K whose encoder is a steerable CNN equivariant to image rotations.

    The latent has one circle per factor with the known action ρ(g) = ⊕_k R(2π g_k / N_k), as in
    :class:`~groupdrl.models.LSBDVAE`, whose posterior and loss it uses. The encoder is an
    :class:`~groupdrl.nn.EquivariantImageEncoder` for C_N (``gspace="rot2d"``, N the rotation factor's size) or
    SO(2) (``"so2"``): the location of the rotation factor's circle is its ``irrep:1`` output, normalised, so
    rotating the image by 2πk/N rotates that location by R(2πk/N) — exactly for the rotations that are exact
    on the pixel grid (quarter turns), approximately (interpolated filters, aliasing) for the others; every
    other output (the other circles' locations, every log-scale) is a rotation-invariant field, so the
    posterior rotates with the image.

    What construction does not give is learnt from the labelled sets of LSBD-VAE's objective: equivariance
    for the rotations that are not exact on the grid, the invariance of the rotation block under the other
    factors (ρ acts on it trivially), and the circles of the other factors, whose action still observations
    cannot identify (Caselles-Dupré et al. 2019, Thm 1). Measured on arrow 8×8 (16 px): untrained, the
    orientation block's relative squared error for the 45° rotations is 0.89 (C_8 filters), 0.59 (C_8,
    anti-aliased) or 0.46 (SO(2), anti-aliased), the quarter turns ≤ 1e-10; after 3000 steps (seed 0) it
    is 3e-4, 1e-4 and < 5e-5, and one step of the colour moves the block by ≤ 4e-4, all three passing the
    verifier. The default is the anti-aliased C_N encoder (SO(2) took 1.8× its training time). These figures
    predate the encoder's lower-resolution anti-aliasing (blur-pool, then convolve); with it the quarter
    turns are exact to the float32 rounding of the filters, and ``benchmarks/results/train_quality.md``
    has the trained results. Exactly
    equivariant for every element would need a world whose rotations permute the pixels: on a square grid
    only C_4 (or C_2). An earlier version of this class was a β-VAE with
    z = (z_rot, z_inv) trained on still observations: on arrow 8×8 (16 px) its z_rot stayed unused (spread
    0.015 against the unit prior), colour leaked (0.28) even with 4 exact orientations and the verifier found
    no homomorphism (error 41).

    Parameters
    ----------
    world : World
        Square images; ``rotation_factor`` must be one of its factors, its index ``k`` meaning a
        counter-clockwise rotation of the image by 2πk/N (as :func:`~groupdrl.worlds.arrow`'s orientation).
    rotation_factor : str
        The factor acting by image rotations.
    gamma, beta, set_size, steps, likelihood
        As for :class:`~groupdrl.models.LSBDVAE`.
    gspace : {None, "rot2d", "fliprot2d", "so2"}
        The encoder's group: ``None`` is the rotation factor's own (C_N: ``"rot2d"``, D_N: ``"fliprot2d"``,
        SO(2): ``"so2"``); a cyclic factor may also take ``"so2"`` (equivariance to all of SO(2)).
    antialias : bool
        Anti-aliased downsampling in the encoder (blur before each 2× subsampling).
    """

    name = "equivariant_vae"

    def __init__(self, world, rotation_factor: str = "orientation", gamma: float = 1.0, beta: float = 1.0,
                 set_size: int = 32, steps: str = "uniform", gspace: str | None = None, antialias: bool = True,
                 likelihood: str = "auto") -> None:
        names = tuple(world.factor_names)
        if rotation_factor not in names:
            raise ValueError(f"rotation_factor: {rotation_factor!r} is not a factor of the world; factors are "
                             f"{list(names)}")
        if len(world.observation_shape) != 3:
            raise ValueError(f"world: equivariant_vae needs (C, H, W) images, got {tuple(world.observation_shape)}")
        group = world.group.factors[rotation_factor]
        allowed = next((v for k, v in GSPACES.items() if isinstance(group, k)), None)
        if allowed is None:
            raise ValueError(f"rotation_factor: {rotation_factor!r} is {group!r}; expected a cyclic, dihedral or SO(2) "
                             "factor acting on the image plane")
        gspace = allowed[0] if gspace is None else gspace
        if gspace not in allowed:
            raise ValueError(f"gspace: a {type(group).__name__} rotation factor needs one of {allowed}, got {gspace!r}")
        if not isinstance(antialias, bool):
            raise TypeError(f"antialias: expected a bool, got {type(antialias).__name__}")
        # read by make_encoder, which LSBDVAE.__init__ calls
        self.rotation_index, self.gspace, self.antialias = names.index(rotation_factor), gspace, antialias
        super().__init__(world, gamma=gamma, beta=beta, set_size=set_size, steps=steps, likelihood=likelihood)
        del self.hparams["hidden"]
        self.hparams.update(rotation_factor=rotation_factor, gspace=gspace, antialias=antialias)

    def make_encoder(self, hidden) -> nn.Module:
        """The steerable encoder, its outputs reordered to LSBD-VAE's layout (locations by factor, then scales).

        The rotation factor's location is the encoder's ``irrep:1`` field. For a dihedral factor escnn's
        reflection is the horizontal flip, the worlds' (``diag(1, −1)`` of the standard irrep) the vertical
        one: the field then transforms by (−1)^f ρ(g), which the quarter turn (z₁, z₂) ↦ (−z₂, z₁) takes to
        ρ(g) (it commutes with the rotations and conjugates diag(−1, 1) to diag(1, −1)).
        """
        k, r = self.k, self.rotation_index
        c, h = self.observation_shape[0], self.observation_shape[1]
        latent = ("irrep:1",) + ("trivial",) * (3 * k - 2)
        invariant = iter(range(2, 3 * k))
        flip = self.gspace == "fliprot2d"
        locations = [((1, 0) if flip else (0, 1)) if i == r else (next(invariant), next(invariant)) for i in range(k)]
        columns = [col for pair in locations for col in pair] + list(invariant)
        signs = [-1.0 if flip and i == 2 * r else 1.0 for i in range(len(columns))]
        group = self.group.factors[self.factor_names[r]]
        encoder = EquivariantImageEncoder(c, h, gspace=self.gspace, N=getattr(group, "n", 4), latent=latent,
                                          antialias=self.antialias)
        return _Reordered(encoder, columns, signs)


class _Reordered(nn.Module):
    """``net(x)[:, columns] * signs``."""

    def __init__(self, net: nn.Module, columns: list[int], signs: list[float]) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("columns", torch.tensor(columns), persistent=False)
        self.register_buffer("signs", torch.tensor(signs), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)[:, self.columns] * self.signs
