"""Export groupdrl's equivariant modules to plain torch modules for fast inference."""
from __future__ import annotations

import copy

import torch
from torch import nn

from groupdrl.nn.equivariant_linear import EquivariantLinear
from groupdrl.nn.equivariant_mlp import EquivariantMLP
from groupdrl.nn.escnn_encoder import EquivariantImageEncoder


def _export_layer(module: nn.Module) -> nn.Module:
    """A plain-torch copy of one layer of an :class:`EquivariantImageEncoder`."""
    if type(module).__name__ == "R2Conv":
        return module.export()  # Conv2d with the expanded filter (puts the module in eval mode)
    if type(module).__module__.startswith("escnn"):
        raise TypeError(f"module: no plain-torch export for escnn's {type(module).__name__}")
    return copy.deepcopy(module)  # already plain torch: ReLU, FourierReLU, BlurPool


def _full_map_linear(conv: nn.Module) -> nn.Linear:
    """An escnn ``R2Conv`` whose kernel covers its whole input as the ``nn.Linear`` of the flattened input."""
    weight = conv.export().weight.detach()
    out = nn.Linear(weight[0].numel(), weight.shape[0], bias=conv.bias is not None).to(weight.dtype)
    with torch.no_grad():
        out.weight.copy_(weight.flatten(1))
        if conv.bias is not None:
            out.bias.copy_(conv.expanded_bias)
    return out


def export(module: nn.Module) -> nn.Module:
    """A plain torch copy of ``module`` (no escnn, no basis expansion) computing the same function.

    - :class:`EquivariantImageEncoder` -> ``nn.Sequential`` of ``Conv2d`` (escnn's
      ``R2Conv.export()``: the expanded filters), copies of its plain-torch layers (``ReLU``,
      :class:`~groupdrl.nn.escnn_encoder.FourierReLU`, :class:`~groupdrl.nn.escnn_encoder.BlurPool`),
      then ``Flatten`` and the two convolutions over the whole final map as ``Linear`` layers;
    - :class:`EquivariantLinear` -> ``nn.Linear`` holding ``W`` and ``b``;
    - :class:`EquivariantMLP` -> ``nn.Sequential`` of exported linears and copies of its
      non-linearities.

    The result is in eval mode and shares no parameters with ``module``, whose own
    train/eval mode is left as it was. Its outputs equal ``module``'s in eval mode
    (up to float rounding).
    """
    if isinstance(module, EquivariantImageEncoder):
        was_training = module.training
        *body, hidden, nonlin, last = module.net
        try:
            layers = [_export_layer(m) for m in body]
            # the convolutions over the whole final map and the 1x1 one: linear layers on the flattened map
            layers += [nn.Flatten(1), _full_map_linear(hidden), _export_layer(nonlin), _full_map_linear(last)]
        finally:
            module.train(was_training)
        out: nn.Module = nn.Sequential(*layers)
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
