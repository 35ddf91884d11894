"""Neural-network building blocks: plain and equivariant encoders, decoders and layers.

- Plain, shared by every baseline: :class:`ConvEncoder` / :class:`ConvDecoder`
  (disentanglement_lib's conv 32-32-64-64 -> FC256 net), :class:`MLPEncoder` /
  :class:`MLPDecoder` for vector worlds.
- Acting on latents: :class:`GroupAction` (``z -> rho(g) z``) and
  :class:`LearnedRepresentation` (trainable block-diagonal ``matrix_exp(MLP(g))``).
- Equivariant layers for any groupdrl representations: :class:`EquivariantLinear`,
  :class:`NormNonlinearity`, :class:`EquivariantMLP`.
- escnn image encoders: :class:`EquivariantImageEncoder` (``C_N``, ``D_N``, ``SO(2)``) with
  ``out_rep``; :func:`act_on_images` / :func:`rotate_images` (the matching image action);
  :func:`export` to plain torch. escnn is imported only when an image encoder is built.
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
