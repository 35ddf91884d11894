"""escnn-backed image encoder whose latent carries a chosen representation of the image-plane group."""
from __future__ import annotations

import contextlib
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from groupdrl.groups import SO2, Cyclic, Dihedral, Group, Representation
from groupdrl.groups._escnn import import_escnn
from groupdrl.nn._checks import check_batch, positive_int, positive_ints
from groupdrl.nn.image_action import act_on_images

GSPACES = ("rot2d", "fliprot2d", "so2")
#: Default standard deviation (pixels) of the Gaussian blur before the 2x2 average of antialiased downsampling.
BLUR_SIGMA = 0.66


@contextlib.contextmanager
def numpy_rng_isolated(seed: int = 0):
    """Run a block with numpy's global RNG seeded by ``seed``, then restore the caller's state.

    escnn computes some bases the first time they are needed (then caches them on
    disk) with numpy's global RNG; this makes those draws deterministic and leaves
    the user's global RNG as it was.
    """
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def escnn_modules():
    """Import escnn's ``gspaces`` and ``nn``, making its numerical intertwiner solver deterministic.

    escnn 1.0.11 solves some kernel constraints (e.g. for ``flipRot2dOnR2``) with
    sklearn's ``randomized_svd(..., random_state=None)``, which draws from numpy's
    global RNG and, with scikit-learn >= 1.6, rejects the ``np.matrix`` escnn passes.
    Clearing that optional hook makes escnn use its exact ``scipy.linalg.svd`` branch.
    Raises ``ImportError`` naming the ``escnn`` extra where escnn is not installed.
    """
    import_escnn("EquivariantImageEncoder")
    from escnn import gspaces
    from escnn import nn as enn
    from escnn.group import _numerical

    _numerical.randomized_svd = None
    return gspaces, enn


def _escnn_irrep_id(group: Group, spec: str) -> tuple:
    """escnn's id of the irrep named ``spec`` in groupdrl (matrices agree on every element)."""
    rep = group.representation(spec)
    name = rep.name
    if isinstance(group, Dihedral):
        half = group.n // 2
        ids = {"trivial": (0, 0), "flip": (1, 0), "rot": (0, half), "rotflip": (1, half)}
        return ids[name] if name in ids else (1, int(name.split(":")[1]))
    k = int(name.split(":")[1]) % group.n if isinstance(group, Cyclic) else int(name.split(":")[1])
    top = group.n // 2 if isinstance(group, Cyclic) else float("inf")
    if not 0 <= k <= top:  # escnn has R(kθ) for 0 <= k (<= N/2) only; R(-kθ) is the same up to a reflection
        raise ValueError(f"latent: {spec!r} of {group!r} has no escnn counterpart; use frequencies 0..{top} "
                         f"(irrep:-k is irrep:k in a reflected basis)")
    return (k,)


_CACHED = ("filter", "expanded_bias")


def _drop_cached_filters(module: EquivariantImageEncoder, state: dict, prefix: str, metadata: object) -> None:
    """State-dict hook: leave out the filters escnn caches in eval mode (derived from the weights),
    so that a state dict is the same in train and eval mode."""
    for conv in module._convs:
        for buf in _CACHED:
            state.pop(f"{prefix}{conv}.{buf}", None)


def _refresh_cached_filters(module: EquivariantImageEncoder, incompatible: object) -> None:
    """Load hook: do not require the cached filters, and rebuild them from the loaded weights in eval mode."""
    cached = tuple(f"{conv}.{buf}" for conv in module._convs for buf in _CACHED)
    missing = [k for k in incompatible.missing_keys if k.endswith(cached)]
    for k in missing:
        incompatible.missing_keys.remove(k)
    with torch.no_grad():
        for conv in module._convs:
            m = module.get_submodule(conv)
            if not m.training:
                weight, bias = m.expand_parameters()
                m.filter.copy_(weight)
                if bias is not None:
                    m.expanded_bias.copy_(bias)


def _filters(conv: nn.Module) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Expanded filter and bias of an escnn ``R2Conv`` (escnn's cached ones in eval mode)."""
    return (conv.filter, conv.expanded_bias) if not conv.training else conv.expand_parameters()


def _conv(conv: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """An escnn ``R2Conv`` (zero padding) applied to a plain tensor: its ``forward`` without the field-type wrapper.

    The filter is made contiguous: a channels-last filter (``Module.to(memory_format=...)`` on the eval-mode
    cache) would make the output channels-last, which the field-wise :class:`FourierReLU` would copy back."""
    weight, bias = _filters(conv)
    return F.conv2d(x, weight.contiguous(), bias, conv.stride, conv.padding, conv.dilation, conv.groups)


def _full_map(conv: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """An escnn ``R2Conv`` whose kernel covers its whole (unpadded) input, applied to the flattened input.

    Same result as the convolution, as one ``linear`` (cheaper than a convolution
    call producing a 1x1 map).
    """
    weight, bias = _filters(conv)
    return F.linear(x, weight.flatten(1), bias)


class FourierReLU(nn.Module):
    """ReLU of band-limited SO(2) fields through samples of their Fourier series.

    (Cesa, Lang & Weiler 2022, "A Program to Build E(N)-Equivariant Steerable CNNs", ICLR.)

    Each field's coefficients ``x_f`` (a band-limited regular field of escnn's
    ``FourierPointwise``) are sampled on ``N`` equally spaced angles, ``y_g = relu(Σ_f A_gf x_f)``,
    and projected back, ``x'_f = Σ_g Ainv_fg y_g``: escnn's ``FourierPointwise`` computed as two
    matrix products over contiguous field blocks (no transposes). Equivariant to the sampled
    rotations; for other angles up to the aliasing of the ReLU's harmonics.

    Parameters
    ----------
    A, Ainv : Tensor
        ``(N, F)`` sampling and ``(F, N)`` projection matrices of escnn's ``FourierPointwise``.
    """

    def __init__(self, A: torch.Tensor, Ainv: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("A", A.detach().clone())
        self.register_buffer("Ainv", Ainv.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c = x.shape[:2]
        coeffs = x.reshape(n, c // self.A.shape[1], self.A.shape[1], -1)  # a view of an NCHW (or (n, c)) tensor
        return (self.Ainv @ torch.relu_(self.A @ coeffs)).reshape(x.shape)  # in place: the samples are fresh


class BlurPool(nn.Module):
    """Antialiased 2x downsampling (Zhang 2019, "Making Convolutional Networks Shift-Invariant Again").

    A Gaussian blur of standard deviation ``sigma`` (``2 round(3σ) + 1`` taps, as escnn's
    ``PointwiseAvgPoolAntialiased2D``, zero padding) followed by a 2x2 average, computed as one
    depthwise stride-2 convolution with their ``(2 round(3σ) + 2)``-tap product kernel. Output
    pixel ``i`` is centred at input ``2i + 1/2``, so the grid stays symmetric about the image
    centre: quarter turns and flips commute with it exactly.
    """

    def __init__(self, channels: int, sigma: float) -> None:
        super().__init__()
        taps = 2 * round(3 * sigma) + 1
        t = torch.arange(taps, dtype=torch.float64) - (taps - 1) / 2
        gauss = torch.exp(-t**2 / (2 * sigma**2))
        g = torch.cat([gauss, gauss.new_zeros(1)]) + torch.cat([gauss.new_zeros(1), gauss])  # blur * 2-tap box
        g = g / g.sum()
        kernel = (g[:, None] * g[None, :]).to(torch.get_default_dtype())
        self.register_buffer("weight", kernel.expand(channels, 1, taps + 1, taps + 1).contiguous(), persistent=False)
        self.padding = (taps - 1) // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight.contiguous(), stride=2, padding=self.padding, groups=x.shape[1])


class EquivariantImageEncoder(nn.Module):
    """Steerable CNN encoder ``(n, C, H, H) -> (n, d)``, equivariant to rotations (and flips) of the image.

    ``f(g·x) = rho_out(g) f(x)`` with ``g·x`` as in :func:`~groupdrl.nn.image_action.act_on_images`
    and ``rho_out = self.out_rep`` (a groupdrl representation of ``Cyclic(N)``,
    ``Dihedral(N)`` or ``SO2()``). Built from escnn's ``R2Conv`` (Weiler & Cesa 2019,
    "General E(2)-Equivariant Steerable CNNs", NeurIPS) in the shape of
    :class:`~groupdrl.nn.ConvEncoder`: one equivariant convolution per entry of
    ``widths`` / ``strides`` (4x4 kernels with padding 1 for stride 2, ``kernel_size`` for
    stride 1: both keep the pixel grid symmetric about the image centre, so rotations by
    multiples of 90° and flips are exact symmetries), a convolution over the whole
    remaining map to ``hidden`` channels (the FC256 of the plain encoder) and a 1x1
    convolution to the latent field type (these two are evaluated as matrix products).
    Hidden fields are regular representations with ReLU for ``C_N`` / ``D_N``
    (``width // |G|`` fields, so the channel counts and FLOPs match the plain CNN) and,
    for ``SO(2)``, band-limited regular fields (frequencies ``0..maximum_frequency``,
    ``width // (2 maximum_frequency + 1)`` fields: about the same channel counts) with a
    :class:`FourierReLU` on ``fourier_samples`` angles. The forward pass runs escnn's
    convolutions on plain tensors (escnn expands the filters from the weights; in eval mode it
    caches them) and its non-linearities and pooling as plain torch.

    On a pixel grid only rotations by multiples of 90° are exact; for ``SO(2)`` or
    ``C_8`` other angles are approximate (interpolation and sampled filters), and
    stride-2 convolutions alias: see ``antialias``.
    ``.double()`` works, but escnn samples its filter bases in float32, so the
    equivariance error in float64 stays at the float32 rounding (~1e-7 relative).

    Parameters
    ----------
    in_channels : int
        Channels of the input images (each a rotation-invariant scalar field).
    image_size : int
        Side of the square input images; divisible by ``2 ** (number of stride-2 layers)``.
    gspace : {"rot2d", "fliprot2d", "so2"}
        ``C_N`` rotations, ``D_N`` rotations and flips, or all rotations ``SO(2)``.
    N : int
        Order of the rotation subgroup for ``rot2d`` / ``fliprot2d`` (ignored for ``so2``).
    widths : sequence of int
        Channels of each convolution (default ``(32, 32, 64, 64)`` as the plain CNN).
    strides : sequence of int in {1, 2}, optional
        Stride of each convolution (default all 2).
    hidden : int
        Channels of the last hidden layer (default 256).
    latent : sequence of str
        groupdrl irreps of the latent, e.g. ``("irrep:1", "irrep:2", "trivial")`` for a
        2-D rotation block per frequency plus an invariant; for ``Dihedral`` also
        ``"flip"``, ``"rot"``, ``"rotflip"``.
    maximum_frequency : int
        Band limit ``L`` of the hidden ``SO(2)`` fields.
    fourier_samples : int
        Angles sampled by the ``SO(2)`` non-linearity (at least ``2 L + 1``).
    antialias : bool, optional
        Replace each stride-2 convolution on a feature map (every one but a first layer, which
        reads the image itself) by a blur-pool (:class:`BlurPool`: Gaussian blur of
        ``blur_sigma`` px, then a 2x2 average; Zhang 2019, "Making Convolutional Networks
        Shift-Invariant Again") followed by a stride-1 ``kernel_size`` convolution at the lower
        resolution and its non-linearity: rectified feature maps are low-passed before they are
        subsampled. A first layer keeps the 4x4 stride-2 convolution: it subsamples a linear
        filtering of the input, and blurring the input instead loses the detail that thin
        shapes need. Several times smaller equivariance errors for rotations off the pixel grid
        (``benchmarks/results/nn_encoder.md``); quarter turns stay exact either way. Default: on
        for ``so2``, off for ``rot2d`` / ``fliprot2d``.
    blur_sigma : float
        Standard deviation (pixels) of the antialiasing blur (default 0.66).
    kernel_size : int, optional
        Side of the stride-1 convolutions (odd, zero padding ``kernel_size // 2``, so the
        pixel grid stays centred); default 5 for ``so2`` (steerable filters sampled on more
        pixels: smaller errors off the grid), 3 otherwise.

    Attributes
    ----------
    group : Group
        ``Cyclic(N)``, ``Dihedral(N)`` or ``SO2()``.
    out_rep : Representation
        The representation acting on the output, ``⊕`` of ``latent`` in that order.

    Examples
    --------
    >>> enc = EquivariantImageEncoder(1, 32, gspace="rot2d", N=4, latent=("irrep:1", "trivial"))
    >>> enc(torch.rand(2, 1, 32, 32)).shape, enc.out_rep.dim
    (torch.Size([2, 3]), 3)
    """

    def __init__(
        self,
        in_channels: int,
        image_size: int,
        *,
        gspace: str = "rot2d",
        N: int = 4,
        widths: Sequence[int] = (32, 32, 64, 64),
        strides: Sequence[int] | None = None,
        hidden: int = 256,
        latent: Sequence[str] = ("irrep:1", "trivial"),
        maximum_frequency: int = 3,
        fourier_samples: int = 16,
        antialias: bool | None = None,
        blur_sigma: float = BLUR_SIGMA,
        kernel_size: int | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = positive_int(in_channels, "in_channels")
        self.image_size = positive_int(image_size, "image_size")
        widths = positive_ints(widths, "widths")
        strides = (2,) * len(widths) if strides is None else positive_ints(strides, "strides")
        if len(strides) != len(widths) or any(s not in (1, 2) for s in strides):
            raise ValueError(f"strides: expected {len(widths)} strides (one per width), each 1 or 2, got {strides}")
        down = 2 ** sum(s == 2 for s in strides)
        if image_size % down:
            raise ValueError(f"image_size: must be divisible by {down} (2 ** number of stride-2 layers), "
                             f"got {image_size}")
        if gspace not in GSPACES:
            raise ValueError(f"gspace: expected one of {GSPACES}, got {gspace!r}")
        self.gspace = gspace
        if gspace == "so2":
            self.group: Group = SO2()
        else:
            self.group = (Cyclic if gspace == "rot2d" else Dihedral)(positive_int(N, "N"))
        if isinstance(latent, str) or not isinstance(latent, Sequence) or not latent:
            raise ValueError(f"latent: expected a non-empty sequence of irrep names such as ('irrep:1', 'trivial'), "
                             f"got {latent!r}")
        reps = [self.group.representation(spec) for spec in latent]  # raises on unknown names
        freq = positive_int(maximum_frequency, "maximum_frequency")
        if gspace == "so2" and any(abs(_escnn_irrep_id(self.group, s)[0]) > freq for s in latent):
            raise ValueError(f"latent: SO(2) frequencies above maximum_frequency={freq} cannot be reached, got {latent}")
        samples = positive_int(fourier_samples, "fourier_samples")
        if samples < 2 * freq + 1:
            raise ValueError(f"fourier_samples: expected at least 2 * maximum_frequency + 1 = {2 * freq + 1} angles "
                             f"(fewer cannot represent the band-limited fields), got {samples}")
        if isinstance(blur_sigma, bool) or not isinstance(blur_sigma, (int, float)) or not 0 < blur_sigma < 8:
            raise ValueError(f"blur_sigma: expected a number of pixels in (0, 8), got {blur_sigma!r}")
        kernel = (5 if gspace == "so2" else 3) if kernel_size is None else positive_int(kernel_size, "kernel_size")
        if kernel % 2 == 0:
            raise ValueError(f"kernel_size: expected an odd size (the pixel grid stays centred), got {kernel_size}")
        self.maximum_frequency, self.fourier_samples = freq, samples
        self.blur_sigma, self.kernel_size = float(blur_sigma), kernel
        self.out_rep: Representation = sum(reps[1:], reps[0])
        self.antialias = gspace == "so2" if antialias is None else bool(antialias)
        with numpy_rng_isolated():  # escnn's first-time basis computations draw from numpy's global RNG
            self.in_type, self.net = self._build(widths, strides, hidden, latent, down)
        self.out_dim = self.out_rep.dim
        self._convs = [name for name, m in self.named_modules() if type(m).__name__ == "R2Conv"]
        self.register_state_dict_post_hook(_drop_cached_filters)
        self.register_load_state_dict_post_hook(_refresh_cached_filters)

    def _build(self, widths, strides, hidden, latent, down):
        """escnn input field type and the ``nn.Sequential`` of escnn convolutions and plain-torch layers."""
        gspaces, enn = escnn_modules()
        freq = self.maximum_frequency
        space = {"rot2d": lambda: gspaces.rot2dOnR2(self.group.n),
                 "fliprot2d": lambda: gspaces.flipRot2dOnR2(self.group.n),
                 "so2": lambda: gspaces.rot2dOnR2(-1, maximum_frequency=freq)}[self.gspace]()
        fg = space.fibergroup

        def block(channels: int):
            """Hidden field type of about ``channels`` channels and its non-linearity."""
            if self.gspace == "so2":
                fourier = enn.FourierPointwise(space, max(1, channels // (2 * freq + 1)), fg.bl_irreps(freq),
                                               function="p_relu", N=self.fourier_samples)
                return fourier.in_type, FourierReLU(fourier.A, fourier.Ainv)
            return enn.FieldType(space, [space.regular_repr] * max(1, channels // fg.order())), nn.ReLU(inplace=True)

        in_type = enn.FieldType(space, [space.trivial_repr] * self.in_channels)
        layers, prev = [], in_type
        k = self.kernel_size
        for w, s in zip(widths, strides):
            ftype, nonlin = block(w)
            if s == 2 and self.antialias and layers:  # a feature map: blur-pool, then convolve at the lower resolution
                layers += [BlurPool(prev.size, self.blur_sigma), enn.R2Conv(prev, ftype, k, padding=k // 2), nonlin]
            elif s == 2:  # (or the input image itself: its fine detail is kept, see `antialias`)
                layers += [enn.R2Conv(prev, ftype, 4, stride=2, padding=1), nonlin]
            else:
                layers += [enn.R2Conv(prev, ftype, k, padding=k // 2), nonlin]
            prev = ftype
        ftype, nonlin = block(positive_int(hidden, "hidden"))
        side = self.image_size // down
        # escnn's default basis for a 2x2 kernel (one ring at radius 0) misses its four pixels at radius
        # 1/sqrt(2): sample there, with frequencies up to 2 (what four points on a circle resolve)
        extra = {"rings": [0.0, 0.5**0.5], "frequencies_cutoff": lambda r: 3.0 * r} if side == 2 else {}
        out_type = enn.FieldType(space, [fg.irrep(*_escnn_irrep_id(self.group, s)) for s in latent])
        layers += [enn.R2Conv(prev, ftype, side, **extra), nonlin, enn.R2Conv(ftype, out_type, 1)]
        return in_type, nn.Sequential(*layers)

    def export(self) -> nn.Module:
        """A plain torch ``nn.Sequential`` computing this encoder in eval mode (see :func:`groupdrl.nn.export`)."""
        from groupdrl.nn.export import export

        return export(self)

    def act_on_images(self, g: object, x: torch.Tensor) -> torch.Tensor:
        """The action of ``self.group`` on input images under which the encoder is equivariant."""
        return act_on_images(self.group, g, x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode images ``x`` ``(n, in_channels, image_size, image_size)`` to ``(n, out_rep.dim)``."""
        check_batch(x, "x", (self.in_channels, self.image_size, self.image_size),
                    "(n, in_channels, image_size, image_size)")
        *body, hidden, nonlin, last = self.net
        h = x.contiguous()  # NCHW throughout (a channels-last batch would make every field-wise step copy)
        for layer in body:
            h = _conv(layer, h) if type(layer).__name__ == "R2Conv" else layer(h)
        # the last two convolutions cover their whole input map: evaluate them as matrix products
        h = nonlin(_full_map(hidden, h.flatten(1))[..., None, None])
        return _full_map(last, h.flatten(1))
