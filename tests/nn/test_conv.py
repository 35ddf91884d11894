"""Tests for the plain shared encoder/decoder (groupdrl.nn.conv, groupdrl.nn.mlp)."""
from __future__ import annotations

import pytest
import torch

from groupdrl.nn import ConvDecoder, ConvEncoder, MLPDecoder, MLPEncoder
from groupdrl.nn.conv import conv_sides


@pytest.mark.parametrize("size", [16, 20, 23, 32, 49, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_conv_shapes_and_roundtrip(size, channels):
    enc = ConvEncoder(channels, size, 20)
    dec = ConvDecoder(10, channels, size)
    x = torch.rand(5, channels, size, size)
    h = enc(x)
    assert h.shape == (5, 20)
    assert dec(h[:, :10]).shape == (5, channels, size, size)


def test_conv_sides_round_down_and_the_decoder_mirrors_them():
    assert conv_sides(20) == (20, 10, 5, 2, 1)  # flatland n=10 at 20 px
    assert conv_sides(64) == (64, 32, 16, 8, 4)
    dec = ConvDecoder(2, 1, 20)
    h = dec.fc(torch.zeros(1, 2))
    sides = [h.shape[-1]]
    for layer in dec.deconv:
        h = layer(h)
        if isinstance(layer, torch.nn.ConvTranspose2d):
            sides.append(h.shape[-1])
    assert sides == [1, 2, 5, 10, 20]
    # multiples of 16 keep the disentanglement_lib layers exactly (no output padding)
    assert all(m.output_padding == (0, 0) for m in ConvDecoder(2, 1, 64).modules()
               if isinstance(m, torch.nn.ConvTranspose2d))


def test_conv_encoder_is_the_disentanglement_lib_net():
    enc = ConvEncoder(1, 64, 20)
    convs = [m for m in enc.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32, 32, 64, 64]
    assert all(c.kernel_size == (4, 4) and c.stride == (2, 2) for c in convs)
    linears = [m for m in enc.modules() if isinstance(m, torch.nn.Linear)]
    assert [(l.in_features, l.out_features) for l in linears] == [(1024, 256), (256, 20)]


def test_gradients_reach_every_parameter():
    enc, dec = ConvEncoder(3, 32, 8), ConvDecoder(8, 3, 32)
    x = torch.rand(4, 3, 32, 32)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(dec(enc(x)), x)
    loss.backward()
    for p in [*enc.parameters(), *dec.parameters()]:
        assert p.grad is not None and p.grad.abs().sum() > 0


def test_float64():
    enc = ConvEncoder(1, 16, 4).double()
    assert enc(torch.rand(2, 1, 16, 16, dtype=torch.float64)).dtype == torch.float64


def test_mlp_shapes_and_gradients():
    enc, dec = MLPEncoder(6, (32, 16), 4), MLPDecoder(4, 32, 6)
    x = torch.randn(7, 6)
    out = dec(enc(x))
    assert out.shape == (7, 6)
    out.square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in enc.parameters())
    linears = [m for m in enc.modules() if isinstance(m, torch.nn.Linear)]
    assert [(l.in_features, l.out_features) for l in linears] == [(6, 32), (32, 16), (16, 4)]


@pytest.mark.parametrize(
    ("module", "x", "match"),
    [
        (ConvEncoder(1, 64, 4), torch.zeros(2, 1, 32, 32), r"x must have shape .*\(n, 1, 64, 64\).*\(2, 1, 32, 32\)"),
        (ConvEncoder(3, 32, 4), torch.zeros(2, 1, 32, 32), r"x must have shape"),
        (ConvEncoder(1, 16, 4), torch.zeros(1, 16, 16), r"x must have shape"),
        (ConvDecoder(4, 1, 16), torch.zeros(2, 5), r"z must have shape .*\(n, 4\)"),
        (MLPEncoder(3, 8, 2), torch.zeros(2, 4), r"x must have shape .*\(n, 3\)"),
    ],
)
def test_bad_input_shape_names_the_argument(module, x, match):
    with pytest.raises(ValueError, match=match):
        module(x)


def test_integer_input_is_a_type_error():
    with pytest.raises(TypeError, match="x must be a floating tensor"):
        ConvEncoder(1, 16, 4)(torch.zeros(1, 1, 16, 16, dtype=torch.int64))


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: ConvEncoder(1, 15, 4), "image_size: expected an int >= 16"),
        (lambda: ConvEncoder(1, 8, 4), "image_size"),
        (lambda: ConvEncoder(0, 64, 4), "in_channels"),
        (lambda: ConvEncoder(1, 64, 2.5), "out_dim"),
        (lambda: ConvDecoder(4, 1, 12), "image_size"),
        (lambda: ConvDecoder(-1, 1, 64), "latent_dim"),
        (lambda: MLPEncoder(3, (8, 0), 2), r"hidden\[1\]"),
        (lambda: MLPDecoder(3, "8", 2), "hidden"),
    ],
)
def test_bad_constructor_arguments(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()


def test_batch_norm_option_normalises_before_every_relu():
    """DCGAN-style generators: a BatchNorm before each ReLU of the decoder (conv and MLP), none by default."""
    for net, kinds in ((ConvDecoder(4, 1, 20, batch_norm=True), (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)),
                       (MLPDecoder(4, (8, 8), 3, batch_norm=True), (torch.nn.BatchNorm1d,))):
        layers = list(net.modules())
        relus = [i for i, m in enumerate(layers) if isinstance(m, torch.nn.ReLU)]
        assert relus and all(isinstance(layers[i - 1], kinds) for i in relus)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in ConvDecoder(4, 1, 20).modules())
    out = ConvDecoder(4, 1, 20, batch_norm=True)(torch.randn(6, 4))
    assert out.shape == (6, 1, 20, 20)
