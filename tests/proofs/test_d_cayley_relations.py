"""Proposition (d): relations on the generators ⇔ homomorphism (proofs/d_cayley_relations.md)."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from groupdrl.groups import Cyclic, Dihedral
from groupdrl.verify.group.homomorphism import cayley_extension

GROUPS = [Cyclic(5), Cyclic(6), Dihedral(3), Dihedral(4)]


def _max_relator(rho, gens, relators):
    return max((np.abs(rho[u] @ gens[j] - rho[v]).max() for u, v, j in relators), default=0.0)


def _max_hom_error(group, rho):
    elems = group.elements()
    n = group.order
    a = torch.arange(n).repeat_interleave(n)
    b = torch.arange(n).repeat(n)
    prod = group.index(group.compose(group.take(elems, a), group.take(elems, b)))
    return max(np.abs(rho[int(p)] - rho[int(i)] @ rho[int(j)]).max() for i, j, p in zip(a, b, prod))


@given(st.sampled_from(GROUPS), st.sampled_from(["regular", "standard"]), st.integers(0, 2**31 - 1),
       st.sampled_from([0.0, 0.0, 1e-3, 0.3]))
def test_relators_vanish_iff_the_extension_is_a_homomorphism(group, spec, seed, eps):
    rep = group.representation(spec)
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(rep.dim, rep.dim)) + 3 * np.eye(rep.dim)
    gens = [q @ m @ np.linalg.inv(q) for m in rep(group.generators(), torch.float64).numpy()]
    gens = [g + eps * rng.normal(size=g.shape) for g in gens]
    rho, relators = cayley_extension(group, gens)
    rel, hom = _max_relator(rho, gens, relators), _max_hom_error(group, rho)
    assert (rel < 1e-8) == (hom < 1e-8)
    if eps == 0:
        assert rel < 1e-8
        for k, g in enumerate(group.generators()):  # φ(s_j) = A_j
            np.testing.assert_allclose(rho[int(group.index(g[None]))], gens[k], atol=1e-10)


def test_cyclic_relator_is_the_nth_power():
    s = np.array([[0.0, -1.0], [1.0, 0.0]])  # order 4
    for n, ok in ((4, True), (8, True), (6, False)):
        rho, relators = cayley_extension(Cyclic(n), [s])
        assert relators == [(n - 1, 0, 0)]  # the single relator s^N = e
        assert (np.abs(rho[n - 1] @ s - rho[0]).max() < 1e-12) == ok


@given(st.integers(0, 2**31 - 1), st.booleans())
def test_factors_extend_to_the_product_iff_generators_commute(seed, commuting):
    rng = np.random.default_rng(seed)
    ra = Cyclic(3).representation("standard")(torch.tensor([1]), torch.float64)[0].numpy()
    rb = Cyclic(4).representation("standard")(torch.tensor([1]), torch.float64)[0].numpy()
    q = rng.normal(size=(4, 4)) + 3 * np.eye(4)
    qi = np.linalg.inv(q)
    a = q @ np.block([[ra, np.zeros((2, 2))], [np.zeros((2, 2)), np.eye(2)]]) @ qi
    b = q @ np.block([[np.eye(2), np.zeros((2, 2))], [np.zeros((2, 2)), rb]]) @ qi
    if not commuting:
        p = rng.normal(size=(4, 4)) + 3 * np.eye(4)
        b = p @ b @ np.linalg.inv(p)
    phi = {(i, j): np.linalg.matrix_power(a, i) @ np.linalg.matrix_power(b, j) for i in range(3) for j in range(4)}
    hom = max(np.abs(phi[((i1 + i2) % 3, (j1 + j2) % 4)] - phi[(i1, j1)] @ phi[(i2, j2)]).max()
              for (i1, j1) in phi for (i2, j2) in phi)
    comm = np.abs(a @ b - b @ a).max()
    assert (hom < 1e-8) == (comm < 1e-8) == commuting
