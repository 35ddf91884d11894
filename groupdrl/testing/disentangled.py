"""``assert_disentangled``: search for a counterexample to the group-theory definition with hypothesis."""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from groupdrl.groups import Cyclic, Representation
from groupdrl.testing.strategies import elements, states
from groupdrl.verify.group import GroupReport, verify_group
from groupdrl.verify.group.explain import describe_move, describe_state
from groupdrl.verify.group.homomorphism import cayley_extension
from groupdrl.verify.group.sampling import encode
from groupdrl.worlds import World, factor_label

#: States on which ρ(g) of a Lie factor is fitted for a drawn element g (at least 2d + 8).
PROBE_STATES = 64


def _moves(world: World, i: int) -> st.SearchStrategy:
    """``(i, element)``: a non-identity element of a finite factor (by index) or any element of a Lie factor."""
    f = world.factors[i]
    if f.is_finite:
        ident = int(f.group.index(f.group.identity(1))[0])
        keys = st.integers(0, f.size - 2).map(lambda k: k + (k >= ident))
        return st.tuples(st.just(i), keys.map(lambda k: f.group.take(f.group.elements(), torch.tensor([k]))))
    return st.tuples(st.just(i), elements(f.group, 1))


def assert_disentangled(encoder: Callable, world: World, *, rho: Representation | None = None, subspaces=None,
                        tol=0.05, atol: float | None = None, max_examples: int | None = None, seed: int = 0,
                        **verify_kwargs) -> GroupReport:
    """Assert that ``encoder`` is a linearly disentangled representation of ``world`` (Higgins et al. 2018).

    First :func:`~groupdrl.verify.group.verify_group` fits (or takes) ρ, its centre ``c`` and the
    subspaces ``Z_i``; then hypothesis searches states ``x`` and single-factor elements ``g ∈ G_i``
    (valid moves only; any element of a Lie factor) for a pair where

    - ``‖h(g·x) − c − ρ(g)(h(x) − c)‖² / E‖h(x) − h̄‖² > atol`` (equivariance), or
    - more than ``atol`` of the change ``h(g·x) − h(x)`` falls outside ``Z_i`` (decomposition),

    with ρ(g) given by ``rho``, or else the fitted generators extended along the Cayley graph (finite
    factors: ``ρ(s)^g`` for C_N), or fitted by least squares on ``PROBE_STATES`` seeded states for the
    drawn g (Lie factors: the search then tests whether that map also moves the drawn ``x`` right).
    ``atol`` defaults to five times the report's equivariance tolerance (a per-pair bound, looser
    than the averaged one).

    Returns the report when no counterexample is found and the report says disentangled; otherwise
    raises ``AssertionError`` with the shrunk counterexample and the report summary.
    """
    report = verify_group(encoder, world, rho=rho, subspaces=subspaces, tol=tol, seed=seed, **verify_kwargs)
    if report.centre is None:
        raise AssertionError(report.summary())
    atol = 5 * report.tolerances["equivariance"] if atol is None else float(atol)
    names = world.factor_names
    active = [i for i, f in enumerate(world.factors) if not f.is_finite or f.size > 1]
    if not active:
        raise AssertionError("world: every factor has a single value; there is nothing to check")
    d, c = report.latent_dim, report.centre
    rest = np.eye(d) - sum(report.projectors, np.zeros((d, d)))
    blocks = list(report.projectors) + [rest]
    tables = {i: cayley_extension(world.factors[i].group, report.generator_maps[names[i]])[0]
              for i in active if world.factors[i].is_finite and names[i] in report.generator_maps}
    n_probe = max(PROBE_STATES, 2 * d + 8)
    probe = world.sample_states(n_probe, generator=torch.Generator().manual_seed(seed + 1))
    h_probe = encode(encoder, world, probe, n_probe) - c

    def rho_of(i: int, g) -> np.ndarray:
        f = world.factors[i]
        if rho is not None:
            return rho(world.group.embed(names[i], g), torch.float64)[0].numpy()
        if f.is_finite:
            return tables[i][int(f.group.index(g)[0])]
        moved, _ = world.act(world.group.embed(names[i], f.group.take(g, torch.zeros(n_probe, dtype=torch.long))),
                             probe)
        return np.linalg.lstsq(h_probe, encode(encoder, world, moved, n_probe) - c, rcond=None)[0].T

    @settings(deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
              **({} if max_examples is None else {"max_examples": max_examples}))
    @given(states(world), st.sampled_from(active).flatmap(lambda i: _moves(world, i)))
    def check(x: torch.Tensor, move) -> None:
        i, g = move
        moved, valid = world.act(world.group.embed(names[i], g), x)
        assume(bool(valid[0]))
        hx, hgx = encode(encoder, world, torch.cat([x, moved]), 2)
        err = float(((hgx - c - rho_of(i, g) @ (hx - c)) ** 2).sum() / report.total_variance)
        f = world.factors[i]
        state = {k: v[0].tolist() for k, v in world.factor_states(x).items()}
        shift = int(f.group.index(g)[0]) if isinstance(f.group, Cyclic) else None
        where = f"from the state {describe_state(state)}, " + \
            describe_move(names[i], factor_label(f), g[0].double().numpy() if shift is None else shift, shift)
        if err > atol:
            raise AssertionError(f"not equivariant: {where}, the code misses the fitted action by a squared error {err:.3g} times the code's variance "
                                 f"> {atol:g}")
        energy = np.array([float(((p @ (hgx - hx)) ** 2).sum()) for p in blocks])
        if energy.sum() > 0:
            out = 1 - energy[i] / energy.sum()
            if out > atol:
                raise AssertionError(f"the change of the code {where} leaves Z_{names[i]}: "
                                     f"share {out:.3g} > {atol:g}")

    try:
        check()
    except AssertionError as err:
        raise AssertionError(f"{err}\n\n{_explained(report)}") from None
    if not report.disentangled:
        raise AssertionError("\n\n".join([_explained(report), *report.counterexamples()]))
    return report


def _explained(report: GroupReport) -> str:
    """The report's verdict line and each failed condition in plain words with what to try."""
    head = report.summary().split(":\n")[0]
    return "\n".join([head + ("" if report.disentangled else ":")] +
                     [f"- {e['title']} {e['what']} Try: {e['try']}" for e in report.explanations()])
