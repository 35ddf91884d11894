"""Plain words for a :class:`~groupdrl.verify.group.GroupReport`: what failed, what it means, what to try.

Each failed condition of :func:`~groupdrl.verify.group.verify_group` (its ``failures``) becomes a short
title, what happened in terms of the factors, the consequence for the model and what to try; the pair
with the largest equivariance residual becomes a sentence with the states, the move, the latents and
the prediction. Used by ``GroupReport.to_markdown`` and the HTML report.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

#: Models of groupdrl whose latent carries a group action by construction (suggested when equivariance fails).
ACTION_MODELS = "lsbd_vae (circles per factor), hae or forward_vae (learned ρ from transitions), quessard"


def vector(v: Any, limit: int = 8) -> str:
    """``[0.707, -0.707, …]``: a latent vector, 3 significant digits, at most ``limit`` entries."""
    a = np.asarray(v, dtype=float).ravel()
    text = ", ".join(f"{x:.3g}" for x in a[:limit])
    return f"[{text}{', …' if len(a) > limit else ''}]"


def _rotation(m: np.ndarray) -> str:
    """``rotation by 63° about (0.1, 0.7, 0.7)`` of a 3×3 rotation matrix."""
    angle = math.acos(max(-1.0, min(1.0, (float(np.trace(m)) - 1) / 2)))
    axis = np.array([m[2, 1] - m[1, 2], m[0, 2] - m[2, 0], m[1, 0] - m[0, 1]])
    if np.linalg.norm(axis) < 1e-9:  # 0 or π: the axis is the eigenvector of eigenvalue 1
        w, v = np.linalg.eigh((m + m.T) / 2)
        axis = v[:, int(np.argmax(w))]
    axis = axis / max(np.linalg.norm(axis), 1e-300)
    return f"rotation by {math.degrees(angle):.0f}° about ({', '.join(f'{x:.2f}' for x in axis)})"


def describe_value(value: Any) -> str:
    """A factor's state in words: an index, an angle (rad), a rotation, a point."""
    a = np.asarray(value, dtype=float)
    if a.ndim == 0:
        x = float(a)
        return str(int(x)) if x == int(x) else f"{x:.3g} rad"
    if a.shape == (3, 3):
        return _rotation(a)
    return "(" + ", ".join(f"{x:.3g}" for x in a.ravel()) + ")"


def describe_state(state: dict) -> str:
    """``x = 0, y = 7``."""
    return ", ".join(f"{k} = {describe_value(v)}" for k, v in state.items())


def describe_move(factor: str, group: str, value: Any, shift: int | None) -> str:
    """The move ``g`` of one factor in words: ``shifting y by +2``, ``rotating angle by 0.52 rad (30°)``, …"""
    kind = group.split(" ")[0].rstrip("·p")
    if kind.startswith("C"):
        n = int(kind[1:])
        g = int(shift if shift is not None else np.asarray(value).ravel()[0])
        if "bounded" in group or g <= n // 2:
            return f"shifting {factor} by {g:+d}"
        return f"shifting {factor} by {g:+d} (the same as {g - n:+d}: {factor} wraps around)"
    if kind.startswith("D"):
        flip, rot = (int(v) for v in np.asarray(value).ravel()[:2])
        turn = f"rotating {factor} by {rot} step{'s' if rot != 1 else ''} of 360°/{kind[1:]}"
        return f"reflecting {factor}, then {turn}" if flip else turn
    a = np.asarray(value, dtype=float)
    if a.ndim == 0 or a.size == 1:
        t = float(a.ravel()[0])
        return f"rotating {factor} by {t:.3g} rad ({math.degrees(t):.0f}°)"
    if a.shape == (3, 3):
        return f"applying the {_rotation(a)} to {factor}"
    return f"shifting the angles of {factor} by ({', '.join(f'{x:.3g}' for x in a.ravel())}) rad"


def counterexample_sentence(report) -> str | None:
    """The pair with the largest equivariance residual as a sentence (``None`` without one)."""
    c = report.counterexample
    if c is None:
        return None
    move = describe_move(c["factor"], report.factor_groups.get(c["factor"], ""), c["element_value"], c["shift"])
    tol = report.tolerances.get("equivariance")
    within = "" if tol is None or c["error"] > tol else \
        " This is within the tolerance: the residuals are small everywhere and the failure is elsewhere."
    f = c["factor"]
    wrap = ""
    if isinstance(c["state"].get(f), int) and isinstance(c["moved_state"].get(f), int) and c["shift"] is not None \
            and c["shift"] > 0 and c["moved_state"][f] < c["state"][f]:
        wrap = f" ({f} wraps around from {c['state'][f]} to {c['moved_state'][f]})"
    return (f"From the state {describe_state(c['state'])}, {move} gives {describe_state(c['moved_state'])}{wrap}. "
            f"The code goes from h(x) = {vector(c['h(x)'])} to h(g·x) = {vector(c['h(g·x)'])}, but the best linear "
            f"action fitted to all pairs predicts ρ(g)·h(x) = {vector(c['predicted'])}: a squared error of "
            f"{c['error']:.3g} times the code's variance (tolerance {tol:g}).{within}")


def _group_words(group: str) -> str:
    kind = group.split(" ")[0].rstrip("·p")
    if kind.startswith("C"):
        n = kind[1:]
        return (f"a bounded position with {n} values (C{n} acting partially)" if "bounded" in group else
                f"cyclic (C{n}: shifting past the last of its {n} values wraps to the first)")
    if kind.startswith("D"):
        return f"dihedral ({kind}: rotations and reflections)"
    return {"SO(2)": "an angle (SO(2))", "SO(3)": "a 3-D rotation (SO(3))"}.get(kind, kind)


def _line_code(report, factor: str, group: str) -> bool:
    """Whether ``factor`` is a periodic cyclic / SO(2) factor held by a 1-D subspace (a line code)."""
    kind = group.split(" ")[0].rstrip("·p")
    periodic = (kind.startswith("C") and "bounded" not in group and int(kind[1:]) > 2) or kind == "SO(2)"
    i = list(report.factor_names).index(factor)
    return periodic and bool(report.subspaces) and report.subspace_dims[i] == 1


def _wrap_edge(report, factor: str, group: str) -> str:
    kind = group.split(" ")[0]
    if kind.startswith("C"):
        n = int(kind[1:])
        return f"the step {n - 1}→0"
    return "a full turn"


def explain_failure(failure: dict, report) -> dict[str, str]:
    """``{"title", "what", "consequence", "try"}`` in plain words for one entry of ``report.failures``."""
    kind = failure["kind"]
    groups = report.factor_groups
    if kind == "constant":
        return {"title": "The code is constant.",
                "what": "Every sampled state gets the same latent vector, so the code says nothing about the factors.",
                "consequence": "The model has collapsed (for a VAE: KL ≈ 0, the decoder ignores z); no verdict "
                               "about disentanglement can be drawn from it.",
                "try": "Check training (a lower β or KL weight, more steps, a capacity schedule such as "
                       "annealed_vae) before judging disentanglement."}
    if kind == "collision":
        return {"title": "No action exists on this code.",
                "what": f"{failure['collisions']} pairs of states share a latent vector but are sent to different "
                        f"latents by the same move (collision defect {failure['defect']:.3g}, tolerance "
                        f"{failure['tol']:g}).",
                "consequence": "The code merges states that the group tells apart, so no map on the latent space "
                               "can act as the group does.",
                "try": "Increase the latent capacity, or train with transitions so that distinct states get "
                       "distinct codes."}
    if kind == "equivariance":
        f = failure["factor"]
        g = groups.get(f, "")
        numbers = (f"residual {failure['error']:.3g} of the code's variance, {failure['relative']:.3g} of the "
                   f"variance {f} moves; tolerance {failure['tol']:g}")
        if _line_code(report, f, g):
            label = g.split(" ")[0]
            return {"title": f"{f} is encoded on a line, not a circle.",
                    "what": f"{f} is {_group_words(g)}; such a factor needs a 2-D rotation block in the code, "
                            f"but the part of the code moved by {f} is 1-D. Walking {f} around its cycle goes "
                            f"back along the line, so {_wrap_edge(report, f, g)} cannot be represented by a linear "
                            f"map ({numbers}).",
                    "consequence": f"No linear map of the latent space follows the moves of {f}: the model has "
                                   f"not captured that {f} is periodic, and codes of {f}'s first and last values "
                                   "lie far apart although the states are neighbours.",
                    "try": f"Give {f} a 2-D latent block (e.g. (cos, sin) of 2π·{f}/{label[1:] or 'N'}) — models with "
                           f"such a latent: {ACTION_MODELS}. If {f} does not wrap around in your data, declare it "
                           "bounded (Factor(..., periodic=False), or from_arrays(periodic=...))."}
        return {"title": f"The code does not follow the moves of {f} linearly.",
                "what": f"{f} is {_group_words(g)}. The same move of {f} changes the code differently from one "
                        f"state to another: no fixed linear map ρ(g) (about a common centre) sends h(x) to h(g·x) "
                        f"({numbers}).",
                "consequence": f"How the code changes when {f} changes cannot be predicted from the code alone: "
                               "there is no linear group action on the latent space, which the linear definition "
                               "requires.",
                "try": f"Train with transitions and an equivariance term ({ACTION_MODELS}); or judge the general "
                       "definition (verify_group(..., linear=False)) to see whether a non-linear action exists."}
    if kind == "homomorphism":
        return _explain_relation(failure, report)
    if kind == "no_subspace":
        f = failure["factor"]
        return {"title": f"No part of the code belongs to {f}.",
                "what": f"No subspace of the latent space is moved by {f} alone (Z_{f} has dimension 0).",
                "consequence": f"Either {f} is not encoded at all (moving it leaves the code unchanged), or it is "
                               "only encoded together with other factors.",
                "try": f"Check the decoded traversals: if no latent changes with {f}, the model ignores it (more "
                       "capacity, a lower β); if latents change with several factors, see the leakage matrix."}
    if kind == "leakage":
        f, into = failure["factor"], failure["into"]
        where = (f"{failure['into_share']:.0%} of it lands in Z_{into}, the part of the code that {into} moves "
                 f"({failure['unassigned']:.0%} in no subspace)") if into else \
            "the rest lands outside every factor's subspace"
        return {"title": f"Moving {f} also moves the code of {into or 'no single factor'}.",
                "what": f"Only {failure['share']:.0%} of the change of the code under {f} stays in Z_{f} "
                        f"(tolerance: at least {1 - failure['tol']:.0%}); {where}.",
                "consequence": f"{f} and {into or 'the rest of the code'} are entangled: reading "
                               f"{into or 'another factor'} off its part of the code would report a change when "
                               f"only {f} changed.",
                "try": "More weight on the terms that separate factors (an equivariance loss per factor with a "
                       "block-diagonal ρ, as in hae or lsbd_vae; a total-correlation penalty for the statistical "
                       "baselines), or more training steps."}
    if kind == "angle":
        a, b = failure["factors"]
        return {"title": f"Z_{a} and Z_{b} overlap.",
                "what": f"The parts of the code moved by {a} and by {b} share a direction (smallest principal angle "
                        f"{failure['angle']:.3g} rad, tolerance {failure['tol']:g}).",
                "consequence": f"The same latent direction changes with both {a} and {b}: the code cannot be split "
                               "into one subspace per factor.",
                "try": "Give the latent space at least the dimension the factors need (2 per cyclic factor) and "
                       "separate them during training (see the leakage advice)."}
    return {"title": failure.get("reason", kind), "what": failure.get("reason", ""), "consequence": "", "try": ""}


def _explain_relation(failure: dict, report) -> dict[str, str]:
    rel = failure["relation"]
    names = rel.get("factors") or []
    f = names[0] if names else "a factor"
    g = report.factor_groups.get(f, "")
    numbers = f"error {failure['error']:.3g}, tolerance {failure['tol']:g}; checked relation {rel['relation']}"
    kind = rel.get("kind")
    if kind == "commute" and len(names) == 2:
        what = (f"Moving {names[0]} and then {names[1]} does not change the code as moving {names[1]} and then "
                f"{names[0]} does ({numbers}), though in the world the two moves commute.")
    elif kind == "cayley" and g.startswith("C"):
        u, v = rel["edge"][:2]
        what = (f"In the code, the map fitted for shifting {f} by +1, applied to the code of {f} = {u}, does not give "
                f"the code of {f} = {v} ({numbers}).")
    elif kind == "product":
        what = (f"The map fitted for the move a·b of {f} is not the map of a followed by the map of b ({numbers}).")
    else:
        what = f"The maps fitted for single moves of {f} do not compose as the moves do ({numbers})."
    line = _line_code(report, f, g) if f in report.factor_names else False
    return {"title": f"The fitted maps of {f} do not compose like the group." if names else
            "The fitted maps do not compose like the group.",
            "what": what + (f" {f} is held by a 1-D part of the code: a line cannot wrap around, so "
                            f"{_wrap_edge(report, f, g)} breaks the cycle." if line else ""),
            "consequence": "The per-move maps are not one group action: chaining moves in the code drifts away "
                           "from the code of the chained move.",
            "try": (f"Give {f} a 2-D latent block ({ACTION_MODELS})." if line else
                    f"Train with transitions and an equivariance term ({ACTION_MODELS}), or more steps.")}


def leakage_example(report, factor: str) -> str | None:
    """A sentence: moving ``factor`` from a sampled state changes another factor's part of the code."""
    i = list(report.factor_names).index(factor)
    states = report._plot_data.get("state_dicts")
    latents = report._plot_data.get("latents")
    maps = report.generator_maps.get(factor)
    if not states or latents is None or not maps or report.centre is None or len(report.projectors) <= i:
        return None
    latents = latents[:len(states)]
    rho = np.asarray(maps[0])
    delta = (rho - np.eye(len(rho))) @ (latents - report.centre).T  # (d, n): change under the first generator
    parts = np.stack([np.linalg.norm(p @ delta, axis=0) for p in report.projectors])  # (k, n)
    others = parts.copy()
    others[i] = -1
    r = int(np.argmax(others.max(axis=0)))
    j = int(np.argmax(others[:, r]))
    if j == i or parts[j, r] <= 0:
        return None
    name = report.factor_names[j]
    move = f"shifting {factor} by +1" if report.factor_groups.get(factor, "").startswith("C") else \
        f"the first generator move of {factor}"
    return (f"From the state {describe_state(states[r])}, {move} changes the code by {vector(delta[:, r])}; the "
            f"part of that change in Z_{name} has length {parts[j, r]:.3g} (in Z_{factor}: {parts[i, r]:.3g}), so "
            f"the code of {name} changes although {name} did not.")


def summary_line(report) -> str:
    """One short sentence per failed condition (the titles)."""
    return " ".join(explain_failure(f, report)["title"] for f in report.failures)

