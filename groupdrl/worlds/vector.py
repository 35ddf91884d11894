"""Vector worlds: observations are a known function of the factor values (no images).

Fast worlds for verification and training tests whose right answers are known from the
mathematics (Higgins et al. 2018, §6, worked example G_x × G_y × G_c, each C_N).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

from groupdrl.worlds._render import check_size, turns
from groupdrl.worlds.world import Factor, World

EMBEDDINGS = ("circle", "onehot", "index")


def vector_world(sizes: Sequence[int] = (8, 8), names: Sequence[str] | None = None, embedding: str = "circle",
                 periodic: bool | Sequence[bool] = True, name: str = "vector") -> World:
    """A world of ``len(sizes)`` cyclic factors whose observation is a vector of the factor values.

    Embeddings of a state ``s`` (factor sizes ``N_i``), concatenated over the factors:

    - ``"circle"``: ``(cos, sin)(2π s_i / N_i)``, dimension ``2k``. Acting by ``g`` rotates
      block ``i`` by ``R(2π g_i / N_i)``, so the identity encoder is linearly disentangled
      with ``ρ = ⊕_i ρ_i^standard`` (``world.group.representation({f: "standard" ...})``)
      on every periodic factor.
    - ``"onehot"``: one-hot of ``s_i``, dimension ``Σ N_i``; ``g`` permutes block ``i`` by
      the regular representation of C_{N_i} (again linearly disentangled).
    - ``"index"``: the raw values ``s_i`` as floats, dimension ``k``: a "line" code, which
      no linear action of C_N makes equivariant (the wrap from N−1 to 0 is a defect).

    Parameters
    ----------
    sizes : sequence of int
        The factor sizes N_i.
    names : sequence of str, optional
        Factor names; default ``f0, f1, ...``.
    embedding : {"circle", "onehot", "index"}
    periodic : bool or sequence of bool
        Whether each factor wraps around (a bounded factor only has a partial action).
    name : str

    Examples
    --------
    >>> w = vector_world((4, 6))
    >>> w.render(torch.tensor([[1, 3]])).shape  # (cos, sin)(π/2), (cos, sin)(π)
    torch.Size([1, 4])
    """
    if isinstance(sizes, int) or not isinstance(sizes, Sequence) or not sizes:
        raise ValueError(f"sizes: expected a non-empty sequence of factor sizes, got {sizes!r}")
    sizes = tuple(check_size(s, "sizes") for s in sizes)
    names = tuple(f"f{i}" for i in range(len(sizes))) if names is None else tuple(names)
    if len(names) != len(sizes):
        raise ValueError(f"names: expected {len(sizes)} names for sizes {sizes}, got {names}")
    periodic = (periodic,) * len(sizes) if isinstance(periodic, bool) else tuple(periodic)
    if len(periodic) != len(sizes) or not all(isinstance(p, bool) for p in periodic):
        raise ValueError(f"periodic: expected a bool or {len(sizes)} bools, got {periodic!r}")
    if embedding not in EMBEDDINGS:
        raise ValueError(f"embedding: expected one of {EMBEDDINGS}, got {embedding!r}")
    factors = [Factor(nm, n, periodic=p) for nm, n, p in zip(names, sizes, periodic)]

    def render(states: torch.Tensor) -> torch.Tensor:
        if embedding == "index":
            return states.to(torch.get_default_dtype())
        parts = []
        for i, n in enumerate(sizes):
            if embedding == "circle":
                a = turns(states[:, i], n)
                parts.append(torch.stack([torch.cos(a), torch.sin(a)], 1).to(torch.get_default_dtype()))
            else:
                parts.append(torch.nn.functional.one_hot(states[:, i], n).to(torch.get_default_dtype()))
        return torch.cat(parts, 1)

    return World(factors, render, name)
