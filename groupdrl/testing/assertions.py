"""``assert_*`` helpers that search for counterexamples with hypothesis.

Called from plain code they run their own hypothesis search and report the shrunk
counterexample. Called inside a user's ``@given`` test (hypothesis forbids nesting) they
check a seeded batch of Haar samples plus the generators instead, and the user's outer test
does the searching and shrinking.
"""
from __future__ import annotations

from typing import Any, Callable

import hypothesis
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from groupdrl.groups import Group, Representation
from groupdrl.testing.strategies import elements

Action = Callable[[Any, torch.Tensor], torch.Tensor]
NESTED_BATCH = 32


def _fmt(x: Any) -> str:
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k!r}: {_fmt(v)}" for k, v in x.items()) + "}"
    if isinstance(x, torch.Tensor):
        return repr(x.detach().cpu().tolist()) if x.numel() <= 32 else f"tensor of shape {tuple(x.shape)}"
    return repr(x)


def _search(check: Callable[..., None], strategies: list[st.SearchStrategy], fixed: Callable[[], tuple],
            max_examples: int | None) -> None:
    """Run ``check`` under hypothesis, or on ``fixed()`` when already inside a hypothesis test."""
    if hypothesis.currently_in_test_context():
        check(*fixed())
        return
    extra = {} if max_examples is None else {"max_examples": max_examples}
    settings(report_multiple_bugs=False, **extra)(given(*strategies)(check))()


def _probe(group: Group, n: int = NESTED_BATCH) -> Any:
    """Seeded Haar samples followed by the generators (for nested use)."""
    return group.cat([group.sample(n, generator=torch.Generator().manual_seed(0)), group.generators()])


def assert_homomorphism(rep: Representation, group: Group | None = None, *, atol: float = 1e-6,
                        max_examples: int | None = None) -> None:
    """Assert ρ(gh) = ρ(g)ρ(h), ρ(e) = I and ρ(g⁻¹) = ρ(g)⁻¹ (float64, max-abs error ≤ ``atol``).

    Raises ``AssertionError`` naming the (shrunk) counterexample ``g, h``.
    """
    if not isinstance(rep, Representation):
        raise TypeError(f"rep: expected a Representation, got {type(rep).__name__}")
    group = group or rep.group
    if group != rep.group:
        raise ValueError(f"group: {group!r} is not the group of rep ({rep.group!r})")
    eye = torch.eye(rep.dim, dtype=torch.float64)
    err = float((rep(group.identity(1), torch.float64)[0] - eye).abs().max())
    if err > atol:
        raise AssertionError(f"ρ(e) ≠ I for {rep!r}: max error {err:.3e} > atol {atol:g}")

    def check(g: Any, h: Any) -> None:
        rg, rh = rep(g, torch.float64), rep(h, torch.float64)
        e1 = (rep(group.compose(g, h), torch.float64) - rg @ rh).abs().flatten(1).amax(1)
        e2 = (rep(group.inverse(g), torch.float64) @ rg - eye).abs().flatten(1).amax(1)
        for name, e in (("ρ(gh) ≠ ρ(g)ρ(h)", e1), ("ρ(g⁻¹) ≠ ρ(g)⁻¹", e2)):
            i = int(e.argmax())
            if float(e[i]) > atol:
                idx = torch.tensor([i])
                raise AssertionError(f"{name} for {rep!r}: max error {float(e[i]):.3e} > atol {atol:g} at "
                                     f"g={_fmt(group.take(g, idx))}, h={_fmt(group.take(h, idx))}")

    def fixed() -> tuple:
        g = _probe(group)
        perm = torch.randperm(group.batch_size(g), generator=torch.Generator().manual_seed(1))
        return g, group.take(g, perm)

    _search(check, [elements(group), elements(group)], fixed, max_examples)


def assert_equivariant(fn: Callable[[torch.Tensor], torch.Tensor], rho_in: Representation | Action,
                       rho_out: Representation | Action, *, group: Group | None = None,
                       inputs: st.SearchStrategy[torch.Tensor] | torch.Tensor | None = None, atol: float = 1e-5,
                       rtol: float = 0.0, max_examples: int | None = None) -> None:
    """Assert ``fn(g·x) ≈ g·fn(x)`` for hypothesis-drawn ``g`` and ``x``.

    ``rho_in``/``rho_out`` are a :class:`Representation` (acting on the last axis, ``x ↦ ρ(g)x``)
    or any action ``act(g, x) -> x'`` for one element ``g`` (e.g. rotating images). ``inputs``
    is a strategy for batches ``x`` (or a fixed tensor); by default Gaussian vectors of
    ``rho_in.dim``. Tolerance: ``max|lhs − rhs| ≤ atol + rtol·max|rhs|`` in float64.
    Raises ``AssertionError`` naming the (shrunk) counterexample.
    """
    reps = [r for r in (rho_in, rho_out) if isinstance(r, Representation)]
    group = group or (reps[0].group if reps else None)
    if group is None:
        raise ValueError("group: needed when neither rho_in nor rho_out is a Representation")
    for name, r in (("rho_in", rho_in), ("rho_out", rho_out)):
        if isinstance(r, Representation) and r.group != group:
            raise ValueError(f"{name}: representation of {r.group!r}, expected {group!r}")
        if not callable(r):
            raise TypeError(f"{name}: expected a Representation or a callable act(g, x)")
    if inputs is None:
        if not isinstance(rho_in, Representation):
            raise ValueError("inputs: a strategy or tensor for x is needed when rho_in is not a Representation")
        inputs = st.integers(0, 2**31 - 1).map(
            lambda s: torch.randn(4, rho_in.dim, generator=torch.Generator().manual_seed(s)))
    fixed_x = inputs if isinstance(inputs, torch.Tensor) else None
    x_strategy = st.just(inputs) if fixed_x is not None else inputs

    def apply(r: Representation | Action, g: Any, x: torch.Tensor) -> torch.Tensor:
        if isinstance(r, Representation):
            batch = group.take(g, torch.zeros(x.shape[0], dtype=torch.long))
            return torch.einsum("nij,n...j->n...i", r(batch, x.dtype), x)
        return r(g, x)

    def check_one(g: Any, x: torch.Tensor) -> None:
        with torch.no_grad():
            lhs = fn(apply(rho_in, g, x)).to(torch.float64)
            rhs = apply(rho_out, g, fn(x)).to(torch.float64)
        err = float((lhs - rhs).abs().max())
        tol = atol + rtol * float(rhs.abs().max())
        if err > tol:
            raise AssertionError(f"not equivariant: max |f(g·x) − g·f(x)| = {err:.3e} > {tol:.3e} at g={_fmt(g)}, "
                                 f"x={_fmt(x)}")

    def check(g: Any, x: torch.Tensor) -> None:
        for i in range(group.batch_size(g)):
            check_one(group.take(g, torch.tensor([i])), x)

    def fixed() -> tuple:
        if fixed_x is None and not isinstance(rho_in, Representation):
            raise ValueError("inputs: inside a @given test pass a fixed tensor (hypothesis cannot nest strategies)")
        x = fixed_x if fixed_x is not None else torch.randn(4, rho_in.dim, generator=torch.Generator().manual_seed(0))
        return _probe(group, 8), x

    _search(check, [elements(group), x_strategy], fixed, max_examples)
