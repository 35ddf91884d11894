"""The group-theory definition of disentanglement (Higgins et al. 2018), checked on any encoder.

:func:`verify_group` judges an encoder ``h`` against ``G = G_1 × … × G_k`` acting on a
:class:`~groupdrl.worlds.World`: (1) an action of G on Z exists and (2) h is equivariant,
(3) Z = Z_1 ⊕ … ⊕ Z_k with Z_i moved by G_i only and fixed by every other G_j. The mathematics it
relies on is proved in ``proofs/`` and checked numerically in ``tests/proofs/``.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from groupdrl._checks import check_float, show
from groupdrl.groups import Cyclic, Product, Representation
from groupdrl.verify.group.decomposition import (Decomposition, decompose, factor_projectors, factor_variances,
                                                 given_decomposition)
from groupdrl.verify.group.dlsbd import dlsbd
from groupdrl.verify.group.equivariance import coordinates, fit_action, residuals
from groupdrl.verify.group.homomorphism import check_relations, faithfulness, generator_maps
from groupdrl.verify.group.nonlinear import nonlinear_scores
from groupdrl.verify.group.report import GroupReport
from groupdrl.verify.group.sampling import Pairs, dlsbd_grid, sample_pairs, signed_shift
from groupdrl.worlds import World, factor_label

DEFAULT_TOL = {"equivariance": 0.05, "homomorphism": 0.05, "leakage": 0.05, "angle": 0.01}
CONSTANT_RTOL = 1e-12
#: Equally spaced angles per SO(2) factor on the D_LSBD grid.
DLSBD_SO2_POINTS = 32
#: Time bound on the pairs (state, element): about 40 s on 2 busy cores (see ``_validate``).
MAX_PAIRS = 4_000_000
#: Sampled states a report may quote in its examples (plain-words leakage examples).
EXAMPLE_STATES = 64

__all__ = ["GroupReport", "verify_group", "DEFAULT_TOL"]


def _check_int(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name}: expected an int >= {low}, got {show(value)}")
    return int(value)


def _tolerances(tol) -> dict:
    out = dict(DEFAULT_TOL)
    if isinstance(tol, dict):
        unknown = set(tol) - set(out)
        if unknown:
            raise ValueError(f"tol: unknown keys {sorted(unknown)}; expected some of {sorted(out)}")
        out.update(tol)
    elif isinstance(tol, (int, float)) and not isinstance(tol, bool):
        out.update(equivariance=tol, homomorphism=tol, leakage=tol)
    else:
        raise TypeError(f"tol: expected a float or a dict {{name: float}}, got {type(tol).__name__}")
    return {k: check_float(v, f"tol[{k!r}]", 0.0) for k, v in out.items()}


def _subspaces(subspaces, world: World, d: int) -> list[np.ndarray]:
    names = world.factor_names
    if isinstance(subspaces, dict):
        unknown = [k for k in subspaces if k not in names]
        if unknown:
            raise ValueError(f"subspaces: unknown factor names {unknown}; factors are {list(names)}")
        subspaces = [subspaces.get(n, np.zeros((d, 0))) for n in names]
    if not isinstance(subspaces, (list, tuple)) or len(subspaces) != len(names):
        size = len(subspaces) if hasattr(subspaces, "__len__") else "?"
        raise ValueError(f"subspaces: expected {len(names)} bases (one per factor {list(names)}), "
                         f"got {type(subspaces).__name__} of length {size}")
    out = []
    for n, z in zip(names, subspaces):
        z = z.detach().cpu().numpy() if isinstance(z, torch.Tensor) else np.asarray(z)
        if z.ndim != 2 or z.shape[0] != d:
            raise ValueError(f"subspaces: basis of {n!r} must have shape ({d}, d_i) for latent dimension {d}, "
                             f"got {z.shape}")
        if not np.issubdtype(z.dtype, np.number) or not np.isfinite(z).all():
            raise ValueError(f"subspaces: basis of {n!r} must be finite numbers")
        out.append(z.astype(np.float64))
    stacked = np.concatenate(out, 1)
    if stacked.shape[1] > d or np.linalg.matrix_rank(stacked) < stacked.shape[1]:
        raise ValueError(f"subspaces: the bases are not linearly independent (total dimension {stacked.shape[1]}, "
                         f"rank {np.linalg.matrix_rank(stacked)}, latent dimension {d})")
    return out


def _given_maps(rho: Representation, world: World, pairs: Pairs) -> dict:
    maps = {}
    for i, g in sorted({(int(i), int(g)) for i, g in zip(pairs.factor, pairs.element)}):
        elem = world.group.embed(world.factor_names[i], pairs.element_value(world, i, g))
        maps[(i, g)] = rho(elem, torch.float64)[0].detach().cpu().numpy()
    return maps


def _state(world: World, row: np.ndarray) -> dict:
    """A state as ``{factor: value}`` (an index, or an angle / matrix / point as nested lists)."""
    parts = world.factor_states(torch.as_tensor(row)[None])
    return {k: v[0].tolist() for k, v in parts.items()}


def _element(world: World, pairs: Pairs, i: int, key: int):
    return pairs.element_value(world, i, key)[0].tolist()


def _validate(encoder, world, rho, n_states, n_elements, seed) -> None:
    if not callable(encoder):
        raise TypeError(f"encoder: expected a callable mapping observations to (n, d) latents, "
                        f"got {type(encoder).__name__}")
    if not isinstance(world, World) or not isinstance(getattr(world, "group", None), Product):
        raise TypeError(f"world: expected a groupdrl World with a group acting on it, got {type(world).__name__}")
    if rho is not None:
        if not isinstance(rho, Representation):
            raise TypeError(f"rho: expected a groupdrl Representation of world.group, got {type(rho).__name__}")
        if rho.group != world.group:
            raise ValueError(f"rho: representation of {rho.group!r}, expected one of {world.group!r}")
    _check_int(n_states, "n_states", 2)
    _check_int(n_elements, "n_elements", 1)
    _check_int(seed, "seed", 0)
    if seed >= 2**64:
        raise ValueError(f"seed: expected an int in [0, 2**64), got {seed}")
    # elements per factor: at most n_elements (finite), generators + 2 n_elements (Lie: samples and products)
    pairs = n_states * sum(min(n_elements, f.size - 1) if f.is_finite else 2 * n_elements + 3
                           for f in world.factors)
    if pairs > MAX_PAIRS:
        raise ValueError(f"n_states, n_elements: {n_states} states moved by up to {n_elements} elements per factor "
                         f"make {pairs:.3g} pairs, beyond the verifier's time bound of {MAX_PAIRS:.0e}; lower them")


def verify_group(encoder: Callable, world: World, *, n_states: int = 1000, n_elements: int = 4,
                 subspaces=None, rho: Representation | None = None, linear: bool = True, tol=0.05,
                 seed: int = 0, batch_size: int = 256, dlsbd_max_states: int = 10_000) -> GroupReport:
    """Judge ``encoder`` against the group-theory definition of disentanglement.

    Parameters
    ----------
    encoder : callable
        Maps a batch of observations (``world.render`` output) to ``(n, d)`` latents; called
        under ``torch.no_grad`` in batches of ``batch_size`` (put a torch module in eval mode).
    world : World
        The ground truth: factors, the group ``G = Π_i G_i`` acting on them (any finite or compact
        Lie factors), the renderer.
    n_states : int
        States sampled uniformly (Haar on continuous factors); every one is acted on by every
        chosen element. Time bound: at most ``MAX_PAIRS`` (4e6) pairs (state, element).
    n_elements : int
        Elements per finite factor: its generators plus others up to ``n_elements`` in all (every
        element when the factor is smaller); bounded factors keep only valid moves. Per Lie factor:
        its topological generators, ``n_elements`` Haar samples ``a_j`` and the products
        ``a_j a_{j+1}`` (for the homomorphism checks).
    subspaces : list or dict of (d, d_i) arrays, optional
        The subspaces ``Z_i`` (any linear, not only axis-aligned, bases); found from ρ if omitted
        (or taken from ``rho.blocks`` when ``rho`` has them).
    rho : Representation of ``world.group``, optional
        A known linear action on Z (about a fitted centre); fitted by least squares if omitted.
    linear : bool
        Judge the linear definition (§6, default) or the general one (§5: an action exists).
    tol : float or dict
        Tolerances on the normalised errors: ``equivariance``, ``homomorphism``, ``leakage``
        (a float sets these three) and ``angle`` (smallest principal angle, radians).
    seed : int
        Seeds every random choice (states, elements); the result is reproducible.
    dlsbd_max_states : int
        D_LSBD is computed on a regular grid when every factor is a periodic cyclic group or SO(2)
        (``DLSBD_SO2_POINTS`` angles each) and the grid has at most this many states (0: never).

    Returns
    -------
    GroupReport

    Notes
    -----
    The action is linear about a fitted centre ``c`` (see :mod:`.equivariance`); the errors are
    normalised by the total latent variance ``E‖h(x) − h̄‖²`` so that a collapsed code cannot
    pass, and per factor also by the variance ``V_i`` of the part of the latent that ``G_i``
    moves (``equivariance_relative``), so that a factor with a small latent scale is not let off.
    Subspaces and leakage: :mod:`.decomposition`; relations: :mod:`.homomorphism`.

    Examples
    --------
    >>> import math, torch
    >>> from groupdrl.worlds import Factor, World
    >>> world = World([Factor("a", 8), Factor("b", 6)], render=lambda s: s.float())
    >>> def code(obs):  # (cos, sin) of each factor's angle: linearly disentangled
    ...     t = 2 * math.pi * obs / torch.tensor([8.0, 6.0])
    ...     return torch.cat([t[:, :1].cos(), t[:, :1].sin(), t[:, 1:].cos(), t[:, 1:].sin()], 1)
    >>> verify_group(code, world, n_states=200).disentangled
    True
    """
    _validate(encoder, world, rho, n_states, n_elements, seed)
    tols = _tolerances(tol)
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    grid = dlsbd_grid(world, _check_int(dlsbd_max_states, "dlsbd_max_states", 0), DLSBD_SO2_POINTS)
    pairs = sample_pairs(encoder, world, n_states, n_elements, rng, gen, _check_int(batch_size, "batch_size", 1),
                         grid)
    d = pairs.latents.shape[1]
    if len(pairs.x) == 0:
        raise ValueError(f"n_states: the {n_states} sampled states admit no valid move; sample more states")
    if rho is not None and rho.dim != d:
        raise ValueError(f"rho: dimension {rho.dim} does not match the latent dimension {d}")
    if subspaces is not None:
        subspaces = _subspaces(subspaces, world, d)
    names = world.factor_names
    coords = coordinates(pairs.latents)
    base = dict(linear=linear, factor_names=names, latent_dim=d, total_variance=coords.total, tolerances=tols,
                factor_groups={f.name: factor_label(f) for f in world.factors},
                n_pairs=len(pairs.x), seed=int(seed))
    scale = float((pairs.latents ** 2).sum(1).mean())
    moved = pairs.y - coords.mean  # the moved states' latents must lie in the span the sample fits the action on
    if float(((moved - moved @ coords.U @ coords.U.T) ** 2).sum(1).max(initial=0.0)) > \
            1e-12 * max(coords.total, CONSTANT_RTOL * scale):
        raise ValueError(f"n_states: the latents of the {n_states} sampled states span {coords.U.shape[1]} of {d} "
                         "dimensions and the moved states leave that span, so the sample does not determine the "
                         f"action; sample more states (at least {d + 1})")
    if coords.total <= CONSTANT_RTOL * scale:
        reason = (f"the latent is constant over the {n_states} sampled states (total variance {coords.total:.3g}): "
                  "it carries no information about the factors, so no errors are computed")
        return GroupReport(disentangled=False, reasons=[reason], failures=[
            {"kind": "constant", "reason": reason, "total_variance": coords.total}], **base)
    given = _given_maps(rho, world, pairs) if rho is not None else None
    action = fit_action(pairs, coords, given)
    res = residuals(pairs, action) / coords.total
    counts = {key: int(((pairs.factor == key[0]) & (pairs.element == key[1])).sum()) for key in action.reduced}
    projs = factor_projectors(action, coords, counts, len(names))
    scales = [v if v > CONSTANT_RTOL ** 0.5 * coords.total else coords.total
              for v in factor_variances(projs, action, coords)]
    per_factor, relative, per_element = {}, {}, {}
    for i, n in enumerate(names):
        mask = pairs.factor == i
        if mask.any():
            per_factor[n] = float(res[mask].mean())
            relative[n] = per_factor[n] * coords.total / scales[i]
            per_element[n] = {int(g): float(res[mask & (pairs.element == g)].mean())
                              for g in np.unique(pairs.element[mask])}
    relations = check_relations(world, action, coords, pairs.elements, pairs.products, scales)
    hom = max((r["error"] for r in relations), default=0.0)
    deltas = pairs.y - pairs.x
    if subspaces is None and rho is not None and rho.blocks is not None:
        subspaces = _subspaces({k: v.numpy() for k, v in rho.subspaces().items()}, world, d)
    if subspaces is not None:
        dec = given_decomposition(subspaces, deltas, pairs.factor)
    else:
        dec = decompose(projs, coords, deltas, pairs.factor)
    nonlin = nonlinear_scores(pairs, pairs.state_keys, coords.total)
    worst = int(np.argmax(res))
    fi, g = int(pairs.factor[worst]), int(pairs.element[worst])
    cyclic = isinstance(world.factors[fi].group, Cyclic)
    counterexample = {
        "state": _state(world, pairs.states[pairs.source[worst]]), "factor": names[fi], "element": g,
        "element_value": _element(world, pairs, fi, g),
        "moved_state": _state(world, pairs.target_states[worst]),
        "shift": int(signed_shift(world, fi, g)) if cyclic else None, "error": float(res[worst]),
        "h(x)": pairs.x[worst], "h(g·x)": pairs.y[worst],
        "predicted": action.centre + action.maps[(fi, g)] @ (pairs.x[worst] - action.centre)}
    gen_maps = {names[i]: ms for i, ms in generator_maps(world, action.maps, pairs.elements).items()}
    gens = {k: v[0] for k, v in gen_maps.items()}
    acting = {i for i, n in enumerate(names) if n in per_factor and hom <= tols["homomorphism"]
              and max(per_factor[n], relative[n]) <= tols["equivariance"]}
    faithful = faithfulness(world, action, coords, pairs.elements, scales, tols["homomorphism"], acting)
    failures, notes = _judge(world, linear, tols, per_factor, relative, relations, hom, dec, nonlin, faithful)
    reasons = [f["reason"] for f in failures]
    if world.support is not None:
        notes.append(f"the world has {len(world.support)} of the {world.num_states} states of its grid: a move is "
                     "valid iff its target state exists, only valid moves are used, and D_LSBD (which needs the "
                     "whole grid) is not computed")
    elif pairs.grid is None:
        notes.append("D_LSBD not computed: it is defined for products of circles (Tonnaer et al. 2022), here "
                     "every factor a periodic cyclic group or SO(2), on a grid of at most "
                     f"dlsbd_max_states = {dlsbd_max_states} states")
    return GroupReport(
        disentangled=not reasons, reasons=reasons, failures=failures, **base, equivariance_error=float(res.mean()),
        equivariance_per_factor=per_factor, equivariance_relative=relative,
        equivariance_per_element=per_element, homomorphism_error=float(hom),
        relations=relations, leakage=dec.leakage, unassigned=dec.unassigned, subspaces=dec.subspaces,
        min_principal_angle=dec.min_angle, min_angle_pair=dec.min_angle_pair,
        entangled_pieces=dec.entangled_pieces,
        dlsbd=dlsbd(pairs.grid, names) if pairs.grid is not None else None, nonlinear=nonlin,
        counterexample=counterexample, centre=action.centre, generators=gens, generator_maps=gen_maps,
        faithful=faithful, notes=notes, projectors=dec.projectors,
        _plot_data={"latents": pairs.latents, "states": _colours(world, pairs.states),
                    "state_dicts": [_state(world, row) for row in pairs.states[:EXAMPLE_STATES]]})


def _colours(world: World, states: np.ndarray) -> np.ndarray:
    """One number per state and factor for the orbit plots: the index, the angle, or (SO(3), points)
    the rotation angle / first coordinate."""
    parts = world.factor_states(torch.as_tensor(states))
    cols = []
    for f in world.factors:
        v = parts[f.name].to(torch.float64)
        if v.dim() == 3:  # rotation matrices: angle of rotation
            v = torch.arccos(((v.diagonal(dim1=1, dim2=2).sum(1) - 1) / 2).clamp(-1, 1))
        cols.append(v.reshape(len(v), -1)[:, 0])
    return torch.stack(cols, 1).numpy()


def _active(f) -> bool:
    return not f.is_finite or f.size > 1


def _judge(world: World, linear: bool, tols: dict, per_factor: dict, relative: dict, relations: list, hom: float,
           dec: Decomposition, nonlin: dict, faithful: dict) -> tuple[list[str], list[str]]:
    """The failed conditions and notes: each failure a dict with its ``reason`` (one line), its ``kind``
    (``collision``, ``equivariance``, ``homomorphism``, ``no_subspace``, ``leakage``, ``angle``) and the
    numbers behind it, which :mod:`.report` turns into plain words."""
    names = world.factor_names
    failures, notes = [], []

    def fail(kind: str, reason: str, **data) -> None:
        failures.append({"kind": kind, "reason": reason, **data})

    active = [i for i, f in enumerate(world.factors) if _active(f)]
    notes.append("the action is linear about a fitted centre c (an affine action with a common fixed point); "
                 "translations have no fixed point and are not accepted (proofs/f_affine_centre.md)")
    bounded = [f.name for f in world.factors if not f.periodic]
    if bounded:
        notes.append(f"bounded factors {bounded} act only partially: only valid moves are used; their fitted "
                     "action must still satisfy the relations of C_N")
    if not linear:
        notes.append("general definition (§5): the verdict only asks that an action exist (collision defect); "
                     "the linear numbers are reported for information; on a finite world any injective code "
                     "admits an action")
        if nonlin["defect"] > tols["equivariance"]:
            fail("collision", f"no action of G on Z: states with equal latents are sent to different latents "
                              f"(collision defect {nonlin['defect']:.3g} > {tols['equivariance']:g}, "
                              f"{nonlin['collisions']} collisions)",
                 defect=nonlin["defect"], collisions=nonlin["collisions"], tol=tols["equivariance"])
        return failures, notes
    for i in active:
        e, rel = per_factor.get(names[i]), relative.get(names[i])
        if e is not None and max(e, rel) > tols["equivariance"]:
            fail("equivariance", f"not equivariant under {names[i]}: normalised residual {e:.3g} (relative to the "
                                 f"variance {names[i]} moves: {rel:.3g}) > {tols['equivariance']:g}",
                 factor=names[i], error=e, relative=rel, tol=tols["equivariance"], dim=dec.subspaces[i].shape[1])
    if hom > tols["homomorphism"]:
        worst = max(relations, key=lambda r: r["error"])
        fail("homomorphism", f"the fitted action is not a homomorphism: {worst['relation']} fails with error "
                             f"{worst['error']:.3g} > {tols['homomorphism']:g}",
             relation=worst, error=worst["error"], tol=tols["homomorphism"])
    for i in active:
        f = world.factors[i]
        dim = dec.subspaces[i].shape[1]
        if dim == 0:
            fail("no_subspace", f"no subspace Z_{names[i]} moved by {names[i]} alone (dimension 0)", factor=names[i])
        elif dim == 1 and f.periodic and (not f.is_finite or f.size > 2):
            notes.append(f"Z_{names[i]} is 1-D: {f.group!r} has no faithful 1-D real representation "
                         "(proofs/c_no_faithful_1d.md), so this code cannot tell all its values apart")
        elif faithful.get(names[i]) is False:
            notes.append(f"the fitted action of {names[i]} is not faithful: some g ≠ e acts as the identity, so "
                         f"the code cannot tell x from g·x (proofs/i_dihedral_irreps.md)")
        own = float(dec.leakage[i, i])
        if own < 1 - tols["leakage"]:
            row = dec.leakage[i].copy()
            row[i] = -1
            j = int(np.argmax(row))
            where = f"{dec.leakage[i, j]:.3g} in Z_{names[j]}" if len(names) > 1 else ""
            fail("leakage", f"the change under {names[i]} leaks out of Z_{names[i]}: share {own:.3g} < "
                            f"{1 - tols['leakage']:g} ({where}{', ' if where else ''}"
                            f"{float(dec.unassigned[i]):.3g} unassigned)",
                 factor=names[i], share=own, into=names[j] if len(names) > 1 else None,
                 into_share=float(dec.leakage[i, j]) if len(names) > 1 else 0.0,
                 unassigned=float(dec.unassigned[i]), tol=tols["leakage"])
    if dec.min_angle is not None and dec.min_angle < tols["angle"]:
        a, b = dec.min_angle_pair
        fail("angle", f"subspaces Z_{names[a]} and Z_{names[b]} are not independent: smallest principal angle "
                      f"{dec.min_angle:.3g} rad < {tols['angle']:g}",
             factors=[names[a], names[b]], angle=dec.min_angle, tol=tols["angle"])
    for piece in dec.entangled_pieces:
        notes.append(f"an entangled {piece['dim']}-D piece is moved by {[names[j] for j in piece['factors']]} "
                     f"(assigned to Z_{names[piece['assigned_to']]})")
    return failures, notes
