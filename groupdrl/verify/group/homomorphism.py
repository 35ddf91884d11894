"""Homomorphism of the fitted action: the relations of ``G = G_1 × … × G_k`` on the generators.

For finite ``G_i`` given by its Cayley graph, ρ is built along a breadth-first spanning tree from
the identity (ρ(e) = I, ρ(u·s) = ρ(u) ρ(s) on tree edges) and every other edge ``u → u·s`` is a
relation ``ρ(u)ρ(s) = ρ(u·s)`` to check; for C_N this is ``ρ(s)^N = I``. The factors must commute,
``ρ(s_i)ρ(s_j) = ρ(s_j)ρ(s_i)``. These relations hold iff the generator matrices extend to a
homomorphism of G (``proofs/d_cayley_relations.md``); each separately fitted ρ(g) is then compared
with that extension. A bounded factor acts only partially (valid moves), but its group is still
``C_N``: its ρ must satisfy the same relations, so a code that represents the moves by a
representation of Z but not of C_N (a translation, a scaling, an arc) fails here.

Each error is weighted by the latent distribution, ``E‖(A − B)(h(x) − c)‖² / V_i``, relative to the
variance ``V_i`` of the part of the latent that ``G_i`` moves (``min(V_i, V_j)`` for a commutator),
so a factor with a small latent scale is judged as strictly as a large one.
"""
from __future__ import annotations

import networkx as nx
import numpy as np

from groupdrl.groups import Group
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


def check_relations(world: World, action: Action, coords: Coordinates, elements: list[np.ndarray],
                    scales: list[float]) -> list[dict]:
    """Every checked relation as ``{"relation": str, "error": float}``, normalised by ``scales[i] = V_i``."""
    cov = np.diag(coords.var) + np.outer(action.delta, action.delta)
    out: list[dict] = []
    gens = {}
    for i, (f, elems) in enumerate(zip(world.factors, elements)):
        if len(elems) == 0 or (i, int(elems[0])) not in action.reduced:
            continue
        s = action.reduced[(i, int(elems[0]))]
        gens[i] = s
        group = world.group.factor(f.name)
        rho, relators = cayley_extension(group, [s])
        for u, v, j in relators:
            out.append({"relation": f"Cayley edge {u}→{v} of {group!r} ({f.name}): ρ({u})ρ(s) = ρ({v})",
                        "error": relation_error(rho[u] @ s, rho[v], cov, scales[i])})
        for g in elems[1:].tolist():
            if (i, g) in action.reduced:
                out.append({"relation": f"fitted ρ({f.name}={g}) = ρ(s)^{g}",
                            "error": relation_error(action.reduced[(i, g)], rho[g], cov, scales[i])})
    names = world.factor_names
    keys = sorted(gens)
    for a in range(len(keys)):
        for b in range(a + 1, len(keys)):
            i, j = keys[a], keys[b]
            si, sj, ni, nj = gens[i], gens[j], names[i], names[j]
            out.append({"relation": f"ρ(s_{ni})ρ(s_{nj}) = ρ(s_{nj})ρ(s_{ni})",
                        "error": relation_error(si @ sj, sj @ si, cov, min(scales[i], scales[j]))})
    return out
