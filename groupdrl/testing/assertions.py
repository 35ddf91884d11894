"""``assert_*`` helpers that search for counterexamples with hypothesis."""
from __future__ import annotations

from typing import Any, Callable

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from groupdrl.groups import Group, Representation
from groupdrl.testing.strategies import elements

Action = Callable[[Any, torch.Tensor], torch.Tensor]


def _fmt(x: Any) -> str:
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k!r}: {_fmt(v)}" for k, v in x.items()) + "}"
    if isinstance(x, torch.Tensor):
        return repr(x.detach().cpu().tolist())
    return repr(x)


def _run(test: Callable[[], None], max_examples: int | None) -> None:
    if max_examples is not None:
        test = settings(max_examples=max_examples)(test)
    test()


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
    ident = rep(group.identity(1), torch.float64)[0]
    err = float((ident - eye).abs().max())
    if err > atol:
        raise AssertionError(f"ρ(e) ≠ I for {rep!r}: max error {err:.3e} > atol {atol:g}")

    @given(elements(group), elements(group))
    def check(g: Any, h: Any) -> None:
        rg, rh = rep(g, torch.float64)[0], rep(h, torch.float64)[0]
        rgh = rep(group.compose(g, h), torch.float64)[0]
        e1 = float((rgh - rg @ rh).abs().max())
        if e1 > atol:
            raise AssertionError(f"ρ(gh) ≠ ρ(g)ρ(h) for {rep!r}: max error {e1:.3e} > atol {atol:g} "
                                 f"at g={_fmt(g)}, h={_fmt(h)}")
        e2 = float((rep(group.inverse(g), torch.float64)[0] @ rg - eye).abs().max())
        if e2 > atol:
            raise AssertionError(f"ρ(g⁻¹) ≠ ρ(g)⁻¹ for {rep!r}: max error {e2:.3e} > atol {atol:g} at g={_fmt(g)}")

    _run(check, max_examples)


def assert_equivariant(fn: Callable[[torch.Tensor], torch.Tensor], rho_in: Representation | Action,
                       rho_out: Representation | Action, *, group: Group | None = None,
                       inputs: st.SearchStrategy[torch.Tensor] | None = None, atol: float = 1e-5,
                       rtol: float = 0.0, max_examples: int | None = None) -> None:
    """Assert ``fn(g·x) ≈ g·fn(x)`` for hypothesis-drawn ``g`` and ``x``.

    ``rho_in``/``rho_out`` are a :class:`Representation` (acting on the last axis, ``x ↦ ρ(g)x``)
    or any action ``act(g, x) -> x'`` (e.g. rotating images). The tolerance is
    ``|lhs − rhs| ≤ atol + rtol·max|rhs|`` in float64. Raises ``AssertionError`` naming the
    (shrunk) counterexample.
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
            raise ValueError("inputs: a strategy for x is needed when rho_in is not a Representation")
        dim = rho_in.dim
        inputs = st.lists(st.floats(-3, 3, allow_nan=False, width=32), min_size=dim, max_size=dim).map(
            lambda v: torch.tensor([v], dtype=torch.get_default_dtype()))

    def apply(r: Representation | Action, g: Any, x: torch.Tensor) -> torch.Tensor:
        if isinstance(r, Representation):
            batch = group.take(g, torch.zeros(x.shape[0], dtype=torch.long))
            return torch.einsum("nij,n...j->n...i", r(batch, x.dtype), x)
        return r(g, x)

    @given(elements(group), inputs)
    def check(g: Any, x: torch.Tensor) -> None:
        with torch.no_grad():
            lhs = fn(apply(rho_in, g, x)).to(torch.float64)
            rhs = apply(rho_out, g, fn(x)).to(torch.float64)
        err = float((lhs - rhs).abs().max())
        tol = atol + rtol * float(rhs.abs().max())
        if err > tol:
            raise AssertionError(f"not equivariant: max |f(g·x) − g·f(x)| = {err:.3e} > {tol:.3e} at g={_fmt(g)}, "
                                 f"x={_fmt(x) if x.numel() <= 32 else f'tensor of shape {tuple(x.shape)}'}")

    _run(check, max_examples)
