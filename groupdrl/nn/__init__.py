"""Neural-network building blocks: plain and equivariant encoders, decoders and layers.

See DESIGN.md ("groupdrl.nn"): plain encoders/decoders shared by every baseline,
escnn-backed equivariant image encoders whose latent carries a representation
of G, ``EquivariantLinear`` for any pair of groupdrl representations, and
``GroupAction`` / ``LearnedRepresentation`` acting on latents.
"""
from __future__ import annotations

from groupdrl.nn.conv import ConvDecoder, ConvEncoder
from groupdrl.nn.equivariant_linear import EquivariantLinear
from groupdrl.nn.equivariant_mlp import EquivariantMLP
from groupdrl.nn.escnn_encoder import EquivariantImageEncoder
from groupdrl.nn.export import export
from groupdrl.nn.group_action import GroupAction
from groupdrl.nn.image_action import act_on_images, rotate_images
from groupdrl.nn.learned_rep import LearnedRepresentation
from groupdrl.nn.mlp import MLP, MLPDecoder, MLPEncoder
from groupdrl.nn.norm_nonlinearity import NormNonlinearity

__all__ = [
    "ConvDecoder",
    "ConvEncoder",
    "EquivariantImageEncoder",
    "EquivariantLinear",
    "EquivariantMLP",
    "GroupAction",
    "LearnedRepresentation",
    "MLP",
    "MLPDecoder",
    "MLPEncoder",
    "NormNonlinearity",
    "act_on_images",
    "export",
    "rotate_images",
]
