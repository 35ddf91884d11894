"""Homomorphism of the fitted action: the relations of ``G = G_1 × … × G_k`` on the generators.

For finite ``G_i`` given by its Cayley graph (any number of generators: one for C_N, a rotation and a
reflection for D_N), ρ is built along a breadth-first spanning tree from the identity (ρ(e) = I,
ρ(u·s) = ρ(u) ρ(s) on tree edges) and every other edge ``u → u·s`` is a relation ``ρ(u)ρ(s) = ρ(u·s)``
to check; for C_N this is ``ρ(s)^N = I``. A compact Lie group has no finite presentation: for it the
homomorphism property ``ρ(ab) = ρ(a)ρ(b)`` is checked on sampled Haar pairs ``(a, b)``, each of ρ(a),
ρ(b), ρ(ab) fitted separately (``proofs/h_lie_homomorphism.md``). The factors must commute,
``ρ(s_i)ρ(s_j) = ρ(s_j)ρ(s_i)`` for every pair of generators (topological generators of a Lie factor:
commuting with them commutes with their closure, the whole factor). For finite factors these
relations hold iff the generator matrices extend to a homomorphism of G
(``proofs/d_cayley_relations.md``); each separately fitted ρ(g) is then compared with that extension. A bounded factor acts only partially (valid moves), but its group is still
``C_N``: its ρ must satisfy the same relations, so a code that represents the moves by a
representation of Z but not of C_N (a translation, a scaling, an arc) fails here.

Each error is weighted by the latent distribution, ``E‖(A − B)(h(x) − c)‖² / V_i``, relative to the
variance ``V_i`` of the part of the latent that ``G_i`` moves (``min(V_i, V_j)`` for a commutator),
so a factor with a small latent scale is judged as strictly as a large one.
"""
from __future__ import annotations

import networkx as nx
import numpy as np

from groupdrl.groups import Cyclic, Group
from groupdrl.verify.group.equivariance import Action, Coordinates
from groupdrl.worlds import World


def relation_error(a: np.ndarray, b: np.ndarray, cov: np.ndarray, total: float) -> float:
    """``tr((A − B) C (A − B)ᵀ) / total``, ``C`` the second moment of ``h(x) − c`` (principal coordinates)."""
    diff = a - b
    return float(np.einsum("ij,jk,ik->", diff, cov, diff) / total)


def cayley_extension(group: Group,
                     gens: list[np.ndarray]) -> tuple[dict[int, np.ndarray], list[tuple[int, int, int]]]:
    """Extend matrices ``gens[j]`` for ``group.generators()[j]`` along a BFS spanning tree of the Cayley graph.

    Returns ``rho`` (element index → matrix, ``rho[e] = I``, ``rho[u·s_j] = rho[u] gens[j]`` on tree edges)
    and the non-tree edges ``(u, v, j)``: the relations ``rho[u] gens[j] = rho[v]`` that must hold for
    ``rho`` to be a homomorphism (``proofs/d_cayley_relations.md``).
    """
    graph = group.cayley_graph()
    root = int(group.index(group.identity(1))[0])
    rho = {root: np.eye(gens[0].shape[0])}
    tree = set()
    for u, v in nx.bfs_edges(graph, root):
        rho[v] = rho[u] @ gens[graph.edges[u, v]["generator"]]
        tree.add((u, v))
    relators = [(u, v, data["generator"]) for u, v, data in graph.edges(data=True) if (u, v) not in tree]
    return rho, relators


def generator_maps(world: World, maps: dict[tuple[int, int], np.ndarray],
                   elements: list[np.ndarray]) -> dict[int, list[np.ndarray]]:
    """Per factor, the fitted ρ of each of its generators (from ``maps``), in ``generators()`` order.

    The identity (a generator of a trivial group) maps to ``I``; a factor whose generators were not all
    fitted (no valid move) is left out.
    """
    out = {}
    dim = next(iter(maps.values())).shape[0] if maps else 0
    for i, f in enumerate(world.factors):
        group = f.group
        gens = group.generators()
        if f.is_finite:
            ident = int(group.index(group.identity(1))[0])
            keys = group.index(gens).tolist()
        else:
            ident, keys = None, list(range(group.batch_size(gens)))
        mats = [np.eye(dim) if k == ident else maps.get((i, k)) for k in keys]
        if len(elements[i]) and all(m is not None for m in mats):
            out[i] = mats
    return out


def check_relations(world: World, action: Action, coords: Coordinates, elements: list[np.ndarray],
                    products: list[list[tuple[int, int, int]]], scales: list[float]) -> list[dict]:
    """Every checked relation as ``{"relation": str, "error": float, "kind": str, "factors": [names]}``, the
    error normalised by ``scales[i] = V_i``; ``kind`` is ``cayley`` (with ``edge`` ``[u, v, j]``: ρ(u)ρ(s_j) =
    ρ(u·s_j) = ρ(v)), ``word`` (with ``element``), ``product`` (Lie factors) or ``commute``.

    Finite factors: the non-tree Cayley edges and each fitted ρ(g) against the extension of the
    generators; Lie factors: ρ(ab) = ρ(a)ρ(b) on the sampled pairs ``products``; every pair of
    factors: their generators commute.
    """
    cov = np.diag(coords.var) + np.outer(action.delta, action.delta)
    out: list[dict] = []
    gens = generator_maps(world, action.reduced, elements)
    for i, f in enumerate(world.factors):
        group = f.group
        if f.is_finite and i in gens:
            s = gens[i]
            label = (lambda j: "s") if len(s) == 1 else (lambda j: f"s{j}")
            rho, relators = cayley_extension(group, s)
            for u, v, j in relators:
                text = f"Cayley edge {u}→{v} of {group!r} ({f.name}): ρ({u})ρ({label(j)}) = ρ({v})"
                out.append({"relation": text, "kind": "cayley", "factors": [f.name], "edge": [u, v, j],
                            "error": relation_error(rho[u] @ s[j], rho[v], cov, scales[i])})
            gen_keys = set(group.index(group.generators()).tolist())
            for g in elements[i].tolist():
                if g not in gen_keys and (i, g) in action.reduced:
                    word = f"ρ(s)^{g}" if isinstance(group, Cyclic) else f"ρ(word of element {g} in the generators)"
                    out.append({"relation": f"fitted ρ({f.name}={g}) = {word}", "kind": "word", "factors": [f.name],
                                "element": g,
                                "error": relation_error(action.reduced[(i, g)], rho[g], cov, scales[i])})
        for a, b, ab in products[i]:
            if all((i, k) in action.reduced for k in (a, b, ab)):
                out.append({"relation": f"ρ(g{a}·g{b}) = ρ(g{a})ρ(g{b}) (sampled pair of {f.name})",
                            "kind": "product", "factors": [f.name],
                            "error": relation_error(action.reduced[(i, a)] @ action.reduced[(i, b)],
                                                    action.reduced[(i, ab)], cov, scales[i])})
    names = world.factor_names
    keys = sorted(gens)
    for a in range(len(keys)):
        for b in range(a + 1, len(keys)):
            i, j = keys[a], keys[b]
            for p, si in enumerate(gens[i]):
                for q, sj in enumerate(gens[j]):
                    ti = f"s_{names[i]}" + (str(p) if len(gens[i]) > 1 else "")
                    tj = f"s_{names[j]}" + (str(q) if len(gens[j]) > 1 else "")
                    out.append({"relation": f"ρ({ti})ρ({tj}) = ρ({tj})ρ({ti})", "kind": "commute",
                                "factors": [names[i], names[j]],
                                "error": relation_error(si @ sj, sj @ si, cov, min(scales[i], scales[j]))})
    return out


def faithfulness(world: World, action: Action, coords: Coordinates, elements: list[np.ndarray],
                 scales: list[float], tol: float, acting: set[int]) -> dict[str, bool | None]:
    """Whether the fitted action of each finite factor is faithful: ``ρ(g) ≠ I`` for every ``g ≠ e``.

    ρ(g) is the extension of the fitted generators along the Cayley graph (a homomorphism when the
    relations hold); ``ρ(g) = I`` means ``E‖(ρ(g) − I)(h(x) − c)‖² / V_i ≤ tol``. A code that is not
    faithful cannot tell the states ``x`` and ``g·x`` apart (Higgins et al.'s definition does not ask for
    it, so this is reported, not judged). ``None`` for Lie factors (samples cannot decide it), factors
    without fitted generators and factors not in ``acting`` (whose fitted maps are not an action).
    """
    cov = np.diag(coords.var) + np.outer(action.delta, action.delta)
    gens = generator_maps(world, action.reduced, elements)
    out: dict[str, bool | None] = {}
    for i, f in enumerate(world.factors):
        if not f.is_finite or i not in gens or f.size < 2 or i not in acting:
            out[f.name] = None
            continue
        rho, _ = cayley_extension(f.group, gens[i])
        ident = int(f.group.index(f.group.identity(1))[0])
        eye = np.eye(len(action.delta))
        out[f.name] = all(relation_error(m, eye, cov, scales[i]) > tol for k, m in rho.items() if k != ident)
    return out
