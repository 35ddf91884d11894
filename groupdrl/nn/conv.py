"""The plain convolutional encoder and decoder shared by every baseline.

The architecture is the one of disentanglement_lib (Locatello et al. 2019), used
by the beta-VAE, FactorVAE, beta-TCVAE, DIP-VAE ... papers on dSprites / Shapes3D:
conv 32-32-64-64 (4x4, stride 2, ReLU) -> FC256 (ReLU) -> ``out_dim``, and the
mirrored decoder FC256 -> FC(64 * s * s) -> transposed convs 64-32-32-C producing
logits.

Any side of at least 16 pixels works: each convolution maps a side ``s`` to ``⌊s/2⌋``
and the matching transposed convolution maps it back with ``output_padding = s mod 2``,
so a world's image size (flatland n=10 at 20 px, say) never has to be a multiple of 16.
"""
from __future__ import annotations

import torch
from torch import nn

from groupdrl.nn._checks import check_batch, positive_int
from groupdrl.nn.init import relu_init_

#: Output channels of the four stride-2 convolutions of the encoder.
CONV_CHANNELS = (32, 32, 64, 64)
#: Width of the fully connected hidden layer.
HIDDEN = 256


#: Smallest image side: four halvings leave a 1 x 1 map.
MIN_IMAGE_SIZE = 16


def conv_sides(image_size: object) -> tuple[int, ...]:
    """Spatial sides before and after each stride-2 convolution: ``(s, ⌊s/2⌋, …)``, five values.

    >>> conv_sides(20)
    (20, 10, 5, 2, 1)
    """
    size = positive_int(image_size, "image_size")
    if size < MIN_IMAGE_SIZE:
        raise ValueError(f"image_size: expected an int >= {MIN_IMAGE_SIZE} (four stride-2 convolutions), "
                         f"got {image_size!r}")
    sides = [size]
    for _ in CONV_CHANNELS:
        sides.append(sides[-1] // 2)
    return tuple(sides)


class ConvEncoder(nn.Module):
    """Plain CNN encoder ``(n, C, H, H) -> (n, out_dim)``.

    Four convolutions (4x4 kernel, stride 2, padding 1, ReLU) with 32, 32, 64, 64
    channels halve the side each time (rounding down), so a ``H x H`` image becomes a
    ``64 x ⌊H/16⌋ x ⌊H/16⌋`` map; then FC256 + ReLU and a linear layer to ``out_dim``.
    For 64x64 inputs the map is 4x4 (the disentanglement_lib network), for 32x32
    it is 2x2 and for 16x16 (or 20x20) it is 1x1, so every supported size keeps all
    four layers.

    Parameters
    ----------
    in_channels : int
        Channels ``C`` of the input images.
    image_size : int
        Side ``H`` of the square input images, at least 16 (16, 32, 64 are the
        usual sizes of the built-in worlds).
    out_dim : int
        Output width (e.g. ``2 * z`` for a Gaussian VAE encoder).

    Examples
    --------
    >>> enc = ConvEncoder(1, 64, 20)
    >>> enc(torch.zeros(8, 1, 64, 64)).shape
    torch.Size([8, 20])
    """

    def __init__(self, in_channels: int, image_size: int, out_dim: int) -> None:
        super().__init__()
        self.in_channels = positive_int(in_channels, "in_channels")
        self.out_dim = positive_int(out_dim, "out_dim")
        side = conv_sides(image_size)[-1]
        self.image_size = image_size
        layers: list[nn.Module] = []
        prev = self.in_channels
        for ch in CONV_CHANNELS:
            layers += [nn.Conv2d(prev, ch, 4, stride=2, padding=1), nn.ReLU()]
            prev = ch
        self.conv = nn.Sequential(*layers)
        self.fc = nn.Sequential(
            nn.Flatten(),
            nn.Linear(prev * side * side, HIDDEN),
            nn.ReLU(),
            nn.Linear(HIDDEN, self.out_dim),
        )
        relu_init_(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode images ``x`` of shape ``(n, C, H, H)`` to ``(n, out_dim)``."""
        shape = (self.in_channels, self.image_size, self.image_size)
        check_batch(x, "x", shape, "(n, in_channels, image_size, image_size)")
        return self.fc(self.conv(x))


class ConvDecoder(nn.Module):
    """Plain CNN decoder ``(n, latent_dim) -> (n, C, H, H)`` logits, the mirror of :class:`ConvEncoder`.

    FC256 + ReLU, FC to a ``64 x H/16 x H/16`` map + ReLU, then four transposed
    convolutions (4x4, stride 2, padding 1, ``output_padding`` 1 where the encoder
    rounded an odd side down) with 64, 32, 32, ``out_channels`` channels, ReLU between
    them and none after the last: the output is logits (use ``torch.sigmoid`` for
    Bernoulli means, or BCE-with-logits as the loss).

    Parameters
    ----------
    latent_dim : int
        Width of the latent code.
    out_channels : int
        Channels ``C`` of the decoded images.
    image_size : int
        Side ``H`` of the decoded images, at least 16.
    batch_norm : bool
        Batch normalisation before every ReLU (the DCGAN generator of Radford et al. 2016, used by
        InfoGAN); off for the VAE decoders of disentanglement_lib.
    """

    def __init__(self, latent_dim: int, out_channels: int, image_size: int, *, batch_norm: bool = False) -> None:
        super().__init__()
        self.latent_dim = positive_int(latent_dim, "latent_dim")
        self.out_channels = positive_int(out_channels, "out_channels")
        sides = conv_sides(image_size)
        self.side = sides[-1]
        self.image_size = image_size
        top = CONV_CHANNELS[-1]
        def norm(kind, width):
            return [kind(width)] if batch_norm else []

        self.fc = nn.Sequential(
            nn.Linear(self.latent_dim, HIDDEN),
            *norm(nn.BatchNorm1d, HIDDEN),
            nn.ReLU(),
            nn.Linear(HIDDEN, top * self.side * self.side),
            *norm(nn.BatchNorm1d, top * self.side * self.side),
            nn.ReLU(),
            nn.Unflatten(1, (top, self.side, self.side)),
        )
        channels = (*CONV_CHANNELS[::-1][1:], self.out_channels)  # 64, 32, 32, C
        layers: list[nn.Module] = []
        prev = top
        for i, ch in enumerate(channels):
            big, small = sides[-2 - i], sides[-1 - i]  # this layer maps side `small` back to `big`
            layers.append(nn.ConvTranspose2d(prev, ch, 4, stride=2, padding=1, output_padding=big - 2 * small))
            if i < len(channels) - 1:
                layers += [*norm(nn.BatchNorm2d, ch), nn.ReLU()]
            prev = ch
        self.deconv = nn.Sequential(*layers)
        relu_init_(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Decode latents ``z`` of shape ``(n, latent_dim)`` to logits ``(n, C, H, H)``."""
        check_batch(z, "z", (self.latent_dim,), "(n, latent_dim)")
        return self.deconv(self.fc(z))
