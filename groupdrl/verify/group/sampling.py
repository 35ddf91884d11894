"""Sampling of states and subgroup elements, and encoding of the pairs ``(x, g·x)``.

Shared by every step of :func:`groupdrl.verify.group.verify_group`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import math

import numpy as np
import torch

from groupdrl.groups import SO2, Cyclic
from groupdrl.worlds import World


@dataclass
class Pairs:
    """Encoded pairs ``(h(x), h(g·x))`` for elements ``g`` of single factor subgroups ``G_i``.

    Each chosen element of factor ``i`` has an integer key: its index in ``G_i.elements()`` for a
    finite group (the element ``g ∈ C_N`` itself for a cyclic one), its position in the chosen list
    for a Lie group.

    Attributes
    ----------
    states : ``(n, D)`` array, the state sample ``x`` (int64 indices for finite worlds).
    latents : float64 ``(n, d)`` array, ``h(x)`` for the state sample.
    factor : int ``(m,)`` array, the factor ``i`` of each pair.
    element : int ``(m,)`` array, the key of the element ``g`` of each pair.
    source : int ``(m,)`` array, row of ``states`` that is ``x``.
    x, y : float64 ``(m, d)`` arrays, ``h(x)`` and ``h(g·x)``.
    target_states : ``(m, D)`` array, ``g·x``.
    elements : list of int arrays, the keys of the elements used for each factor (generators first).
    values : list of element batches of each factor's group, aligned with ``elements``.
    products : list of ``(a, b, ab)`` key triples per factor: sampled pairs of a Lie factor and their
        product (for the checks ρ(ab) = ρ(a)ρ(b)); empty for finite factors.
    state_keys : int ``(n,)`` array identifying equal states (grid index, or the row for continuous worlds).
    grid : float64 ``(N_1, …, N_k, d)`` latents of the D_LSBD grid, or ``None``.
    """

    states: np.ndarray
    latents: np.ndarray
    factor: np.ndarray
    element: np.ndarray
    source: np.ndarray
    x: np.ndarray
    y: np.ndarray
    target_states: np.ndarray
    elements: list[np.ndarray]
    values: list
    products: list[list[tuple[int, int, int]]]
    state_keys: np.ndarray
    grid: np.ndarray | None

    def element_value(self, world: World, i: int, key: int):
        """The element of factor ``i`` with ``key``, as a batch of one."""
        pos = int(np.nonzero(self.elements[i] == key)[0][0])
        return world.factors[i].group.take(self.values[i], torch.tensor([pos]))


def signed_shift(world: World, i: int, g: np.ndarray | int):
    """The shift ``g`` of factor ``i`` as an integer: ``g`` (periodic) or ``g`` / ``g − N`` (bounded)."""
    f = world.factors[i]
    if f.periodic:
        return g
    return np.where(np.asarray(g) > f.size // 2, np.asarray(g) - f.size, g)


def choose_elements(world: World, n_elements: int, rng: np.random.Generator, generator: torch.Generator
                    ) -> tuple[list[np.ndarray], list, list[list[tuple[int, int, int]]]]:
    """Per factor: keys, element batches and product triples of the elements to act with.

    A finite factor: its generators, then other non-identity elements drawn with ``rng`` up to
    ``n_elements`` in all (every element when the group is smaller). A Lie factor: its (topological)
    generators, ``n_elements`` Haar samples ``a_j`` drawn with ``generator``, and the products
    ``a_j a_{j+1}`` (indices mod ``n_elements``), whose fitted ρ is compared with ``ρ(a_j)ρ(a_{j+1})``.
    """
    keys, values, products = [], [], []
    for f in world.factors:
        group = f.group
        gens = group.generators()
        if f.is_finite:
            ident = int(group.index(group.identity(1))[0])
            gen_keys = [k for k in dict.fromkeys(group.index(gens).tolist()) if k != ident]
            if f.size < 2:
                gen_keys = []
            rest = np.array([g for g in range(f.size) if g != ident and g not in gen_keys], dtype=np.int64)
            size = max(0, min(len(rest), n_elements - len(gen_keys)))
            extra = rng.choice(rest, size=size, replace=False) if len(rest) else rest
            k = np.concatenate([gen_keys, np.sort(extra)]).astype(np.int64)
            keys.append(k)
            values.append(group.take(group.elements(), torch.from_numpy(k)))
            products.append([])
            continue
        m, n = group.batch_size(gens), n_elements
        a = group.sample(n, generator=generator)
        ab = group.compose(a, group.take(a, torch.remainder(torch.arange(n) + 1, n)))
        keys.append(np.arange(m + 2 * n, dtype=np.int64))
        values.append(group.cat([gens.to(a.dtype), a, ab]))
        products.append([(m + j, m + (j + 1) % n, m + n + j) for j in range(n)])
    return keys, values, products


def dlsbd_grid(world: World, max_states: int, so2_points: int) -> tuple[torch.Tensor, tuple[int, ...]] | None:
    """States of the regular grid D_LSBD is computed on, in full-grid order, and its shape; or ``None``.

    Defined (Tonnaer et al. 2022) for a product of circles: every factor a periodic cyclic group
    (its ``N`` states) or SO(2) (``so2_points`` equally spaced angles, a quadrature of its Haar
    measure), with at most ``max_states`` grid points, every one of them in the world (not on an incomplete grid).
    """
    if getattr(world, "support", None) is not None:
        return None
    axes = []
    for f in world.factors:
        if isinstance(f.group, Cyclic) and f.periodic:
            axes.append(torch.arange(f.size, dtype=world.state_dtype)[:, None])
        elif isinstance(f.group, SO2):
            theta = torch.arange(so2_points, dtype=torch.float64) * (2 * math.pi / so2_points)
            axes.append(f.act(theta, f.identity_state().expand(so2_points, -1))[0])
        else:
            return None
    shape = tuple(len(a) for a in axes)
    if math.prod(shape) > max_states:
        return None
    index = torch.cartesian_prod(*[torch.arange(n) for n in shape]).reshape(-1, len(axes))
    return torch.cat([a[index[:, i]] for i, a in enumerate(axes)], 1), shape


def encode(encoder: Callable, world: World, states: torch.Tensor, batch_size: int) -> np.ndarray:
    """``h(render(states))`` as a finite float64 ``(n, d)`` array (:func:`groupdrl.verify.encode.encode`) whose
    largest magnitude is 0 or within [1e-150, 1e150], where squared latents neither overflow nor underflow."""
    from groupdrl.verify.encode import encode as shared_encode

    z = shared_encode(encoder, world, states, batch_size)
    top = float(np.abs(z).max(initial=0.0))
    if top and not 1e-150 <= top <= 1e150:
        raise ValueError(f"encoder output: largest |latent| {top:.3g} is outside [1e-150, 1e150], where the "
                         "verifier's float64 variances are exact; rescale the code (the verdict does not depend "
                         "on its scale)")
    return z


def sample_pairs(encoder: Callable, world: World, n_states: int, n_elements: int, rng: np.random.Generator,
                 generator: torch.Generator, batch_size: int,
                 grid: tuple[torch.Tensor, tuple[int, ...]] | None) -> Pairs:
    """Sample states, act with each chosen element of each factor, and encode every distinct state once.

    Bounded factors keep only the valid moves (``world.act``'s mask). ``grid``: extra states (the
    D_LSBD grid, see :func:`dlsbd_grid`) encoded into ``Pairs.grid``.
    """
    states = world.sample_states(n_states, generator=generator)
    keys, values, products = choose_elements(world, n_elements, rng, generator)
    group = world.group
    factor, element, source, targets = [], [], [], []
    for i, (f, k, v) in enumerate(zip(world.factors, keys, values)):
        for j, g in enumerate(k.tolist()):
            one = f.group.take(v, torch.full((n_states,), j, dtype=torch.long))
            moved, valid = world.act(group.embed(f.name, one), states)
            idx = torch.nonzero(valid).flatten()
            factor.append(np.full(len(idx), i))
            element.append(np.full(len(idx), g))
            source.append(idx.numpy())
            targets.append(moved[idx])
    targets_t = torch.cat(targets, 0) if targets else states[:0]
    parts = [states, targets_t] + ([grid[0].to(states.dtype)] if grid is not None else [])
    everything = torch.cat(parts, 0)
    if world.is_finite:
        uniq, inverse = torch.unique(world.state_index(everything), return_inverse=True)
        first = torch.full((len(uniq),), len(everything), dtype=torch.long)
        first.scatter_reduce_(0, inverse, torch.arange(len(everything)), reduce="amin")
        z = encode(encoder, world, everything[first], batch_size)[inverse.numpy()]
        state_keys = inverse[:len(states)].numpy()
    else:  # continuous states are distinct with probability 1
        z = encode(encoder, world, everything, batch_size)
        state_keys = np.arange(len(states))
    n, m = len(states), len(targets_t)
    src = np.concatenate(source).astype(np.int64) if source else np.zeros(0, dtype=np.int64)
    latents = z[:n]
    return Pairs(
        states=states.numpy(), latents=latents,
        factor=np.concatenate(factor).astype(np.int64) if factor else src,
        element=np.concatenate(element).astype(np.int64) if element else src,
        source=src, x=latents[src], y=z[n:n + m], target_states=targets_t.numpy(), elements=keys,
        values=values, products=products, state_keys=state_keys,
        grid=z[n + m:].reshape(*grid[1], -1) if grid is not None else None,
    )
