"""Export groupdrl's equivariant modules to plain torch modules for fast inference."""
from __future__ import annotations

import copy

import torch
from torch import nn

from groupdrl.nn.equivariant_linear import EquivariantLinear
from groupdrl.nn.equivariant_mlp import EquivariantMLP
from groupdrl.nn.escnn_encoder import EquivariantImageEncoder


class FourierReLU(nn.Module):
    """Plain-torch copy of escnn's ``FourierPointwise`` with ReLU.

    Each field's Fourier coefficients ``x_f`` are sampled on a grid of group
    elements, ``y_g = relu(Σ_f A_gf x_f)``, and projected back, ``x'_f = Σ_g Ainv_fg y_g``.
    """

    def __init__(self, A: torch.Tensor, Ainv: torch.Tensor, fields: int) -> None:
        super().__init__()
        self.register_buffer("A", A.detach().clone())
        self.register_buffer("Ainv", Ainv.detach().clone())
        self.fields = fields

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, *spatial = x.shape
        coeffs = x.reshape(n, self.fields, self.A.shape[1], *spatial)
        samples = torch.relu(torch.einsum("bcf...,gf->bcg...", coeffs, self.A))
        return torch.einsum("bcg...,fg->bcf...", samples, self.Ainv).reshape(x.shape)


def _export_escnn(module: nn.Module) -> nn.Module:
    from escnn import nn as enn

    if isinstance(module, enn.FourierPointwise):
        return FourierReLU(module.A, module.Ainv, len(module.in_type))
    if isinstance(module, enn.PointwiseAvgPoolAntialiased2D):
        channels, _, k, _ = module.filter.shape
        blur = nn.Conv2d(channels, channels, k, stride=module.stride, padding=module.padding, groups=channels,
                         bias=False).to(module.filter.dtype)
        blur.weight.data = module.filter.detach().clone()
        return blur
    if isinstance(module, enn.PointwiseAvgPool2D):
        return nn.AvgPool2d(module.kernel_size, module.stride, module.padding, module.ceil_mode)
    if not hasattr(module, "export"):
        raise TypeError(f"module: no plain-torch export for escnn's {type(module).__name__}")
    return module.export()


def export(module: nn.Module) -> nn.Module:
    """A plain torch copy of ``module`` (no escnn, no basis expansion) computing the same function.

    - :class:`EquivariantImageEncoder` -> ``nn.Sequential`` of ``Conv2d`` (escnn's
      ``R2Conv.export()``: the expanded filters; depthwise for the blur), ``ReLU`` /
      :class:`FourierReLU`, ``AvgPool2d`` and a final ``Flatten``;
    - :class:`EquivariantLinear` -> ``nn.Linear`` holding ``W`` and ``b``;
    - :class:`EquivariantMLP` -> ``nn.Sequential`` of exported linears and copies of its
      non-linearities.

    The result is in eval mode and shares no parameters with ``module``, whose own
    train/eval mode is left as it was. Its outputs equal ``module``'s in eval mode
    (up to float rounding).
    """
    if isinstance(module, EquivariantImageEncoder):
        was_training = module.training
        try:
            layers = [_export_escnn(m) for m in module.net._modules.values()]
        finally:
            module.train(was_training)
        out: nn.Module = nn.Sequential(*layers, nn.Flatten(1))
    elif isinstance(module, EquivariantLinear):
        w = module.matrix().detach()
        out = nn.Linear(w.shape[1], w.shape[0], bias=module.bias is not None).to(w.dtype)
        with torch.no_grad():
            out.weight.copy_(w)
            if module.bias is not None:
                out.bias.copy_(module.bias @ module._basis("bias", module.bias))
    elif isinstance(module, EquivariantMLP):
        out = nn.Sequential(*[export(m) if isinstance(m, EquivariantLinear) else copy.deepcopy(m)
                              for m in module.net])
    else:
        raise TypeError(f"module: expected an EquivariantImageEncoder, EquivariantLinear or EquivariantMLP, "
                        f"got {type(module).__name__}")
    return out.eval()
