"""``assert_disentangled``: search for a counterexample to the group-theory definition with hypothesis."""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from groupdrl.groups import Representation
from groupdrl.testing.strategies import states
from groupdrl.verify.group import GroupReport, verify_group
from groupdrl.worlds import World


def _one(encoder: Callable, world: World, s: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        z = encoder(world.render(s))
    return torch.as_tensor(z).detach().to("cpu", torch.float64).numpy()[0]


def assert_disentangled(encoder: Callable, world: World, *, rho: Representation | None = None, subspaces=None,
                        tol=0.05, atol: float | None = None, max_examples: int | None = None, seed: int = 0,
                        **verify_kwargs) -> GroupReport:
    """Assert that ``encoder`` is a linearly disentangled representation of ``world`` (Higgins et al. 2018).

    First :func:`~groupdrl.verify.group.verify_group` fits (or takes) ρ, its centre ``c`` and the
    subspaces ``Z_i``; then hypothesis searches states ``x`` and single-factor elements ``g ∈ G_i``
    (valid moves only) for a pair where

    - ``‖h(g·x) − c − ρ(g)(h(x) − c)‖² / E‖h(x) − h̄‖² > atol`` (equivariance), or
    - more than ``atol`` of the change ``h(g·x) − h(x)`` falls outside ``Z_i`` (decomposition),

    with ρ(g) = ρ(s_i)^g from the fitted generator (or ``rho(g)``). ``atol`` defaults to five times
    the report's equivariance tolerance (a per-pair bound, looser than the averaged one).

    Returns the report when no counterexample is found and the report says disentangled; otherwise
    raises ``AssertionError`` with the shrunk counterexample and the report summary.
    """
    report = verify_group(encoder, world, rho=rho, subspaces=subspaces, tol=tol, seed=seed, **verify_kwargs)
    if report.centre is None:
        raise AssertionError(report.summary())
    atol = 5 * report.tolerances["equivariance"] if atol is None else float(atol)
    names = world.factor_names
    active = [i for i, f in enumerate(world.factors) if f.size > 1]
    if not active:
        raise AssertionError("world: every factor has a single value; there is nothing to check")
    d = report.latent_dim
    rest = np.eye(d) - sum(report.projectors, np.zeros((d, d)))
    blocks = list(report.projectors) + [rest]
    moves = st.sampled_from(active).flatmap(lambda i: st.tuples(st.just(i), st.integers(1, world.factors[i].size - 1)))

    def rho_of(i: int, g: int) -> np.ndarray:
        if rho is not None:
            elem = world.group.embed(names[i], torch.tensor([g], dtype=torch.long))
            return rho(elem, torch.float64)[0].numpy()
        return np.linalg.matrix_power(report.generators[names[i]], g)

    @settings(deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
              **({} if max_examples is None else {"max_examples": max_examples}))
    @given(states(world), moves)
    def check(x: torch.Tensor, move: tuple[int, int]) -> None:
        i, g = move
        moved, valid = world.act(world.group.embed(names[i], torch.tensor([g], dtype=torch.long)), x)
        assume(bool(valid[0]))
        hx, hgx = _one(encoder, world, x), _one(encoder, world, moved)
        c = report.centre
        err = float(((hgx - c - rho_of(i, g) @ (hx - c)) ** 2).sum() / report.total_variance)
        where = f"state {dict(zip(names, x[0].tolist()))}, {names[i]} = {g}"
        if err > atol:
            raise AssertionError(f"not equivariant at {where}: normalised error {err:.3g} > {atol:g}")
        energy = np.array([float(((p @ (hgx - hx)) ** 2).sum()) for p in blocks])
        if energy.sum() > 0:
            out = 1 - energy[i] / energy.sum()
            if out > atol:
                raise AssertionError(f"the change under {names[i]} leaves Z_{names[i]} at {where}: "
                                     f"share {out:.3g} > {atol:g}")

    try:
        check()
    except AssertionError as err:
        raise AssertionError(f"{err}\n\n{report.summary()}") from None
    if not report.disentangled:
        c = report.counterexample
        raise AssertionError(f"{report.summary()}\n\nworst sampled pair: state {c['state']}, {c['factor']} = "
                             f"{c['element']}, error {c['error']:.3g}")
    return report
