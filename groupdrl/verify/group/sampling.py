"""Sampling of states and subgroup elements, and encoding of the pairs ``(x, g·x)``.

Shared by every step of :func:`groupdrl.verify.group.verify_group`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from groupdrl.worlds import World


@dataclass
class Pairs:
    """Encoded pairs ``(h(x), h(g·x))`` for elements ``g`` of single factor subgroups ``G_i``.

    Attributes
    ----------
    states : int64 ``(n, k)`` array, the state sample ``x``.
    latents : float64 ``(n, d)`` array, ``h(x)`` for the state sample.
    factor : int ``(m,)`` array, the factor ``i`` of each pair.
    element : int ``(m,)`` array, the element ``g ∈ C_{N_i}`` of each pair (index in ``[0, N_i)``).
    source : int ``(m,)`` array, row of ``states`` that is ``x``.
    x, y : float64 ``(m, d)`` arrays, ``h(x)`` and ``h(g·x)``.
    target_states : int64 ``(m, k)`` array, ``g·x``.
    elements : list of int arrays, the elements used for each factor (the generator first).
    grid : float64 ``(N_1, …, N_k, d)`` latents of the full grid, or ``None``.
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
    grid: np.ndarray | None


def signed_shift(world: World, i: int, g: np.ndarray | int):
    """The shift ``g`` of factor ``i`` as an integer: ``g`` (periodic) or ``g`` / ``g − N`` (bounded)."""
    f = world.factors[i]
    if f.periodic:
        return g
    return np.where(np.asarray(g) > f.size // 2, np.asarray(g) - f.size, g)


def choose_elements(world: World, n_elements: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Per factor: its generator (1) then up to ``n_elements − 1`` other non-identity elements."""
    out = []
    for f in world.factors:
        if f.size < 2:
            out.append(np.zeros(0, dtype=np.int64))
            continue
        gen = int(world.group.factor(f.name).generators()[0])
        rest = np.array([g for g in range(1, f.size) if g != gen], dtype=np.int64)
        extra = rng.choice(rest, size=min(len(rest), n_elements - 1), replace=False) if len(rest) else rest
        out.append(np.concatenate([[gen], np.sort(extra)]).astype(np.int64))
    return out


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
                 generator: torch.Generator, batch_size: int, grid: bool) -> Pairs:
    """Sample states, act with each chosen element of each factor, and encode every distinct state once.

    Bounded factors keep only the valid moves (``world.act``'s mask).
    """
    states = world.sample_states(n_states, generator=generator)
    elements = choose_elements(world, n_elements, rng)
    group = world.group
    factor, element, source, targets = [], [], [], []
    for i, (f, elems) in enumerate(zip(world.factors, elements)):
        for g in elems.tolist():
            gb = group.embed(f.name, torch.full((n_states,), g, dtype=torch.long))
            moved, valid = world.act(gb, states)
            idx = torch.nonzero(valid).flatten()
            factor.append(np.full(len(idx), i))
            element.append(np.full(len(idx), g))
            source.append(idx.numpy())
            targets.append(moved[idx])
    targets_t = torch.cat(targets, 0) if targets else states[:0]
    parts = [states, targets_t] + ([world.all_states()] if grid else [])
    everything = torch.cat(parts, 0)
    uniq, inverse = torch.unique(world.state_index(everything), return_inverse=True)
    first = torch.full((len(uniq),), len(everything), dtype=torch.long)
    first.scatter_reduce_(0, inverse, torch.arange(len(everything)), reduce="amin")
    z = encode(encoder, world, everything[first], batch_size)[inverse.numpy()]
    n, m = len(states), len(targets_t)
    src = np.concatenate(source).astype(np.int64) if source else np.zeros(0, dtype=np.int64)
    latents = z[:n]
    return Pairs(
        states=states.numpy(), latents=latents,
        factor=np.concatenate(factor).astype(np.int64) if factor else src,
        element=np.concatenate(element).astype(np.int64) if element else src,
        source=src, x=latents[src], y=z[n:n + m], target_states=targets_t.numpy(), elements=elements,
        grid=z[n + m:].reshape(*world.sizes, -1) if grid else None,
    )
