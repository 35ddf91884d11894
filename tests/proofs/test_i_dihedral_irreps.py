"""Proposition (i): 1-D codes of D_N are not faithful (N ≥ 3); ρ_k is faithful iff gcd(k, N) = 1
(proofs/i_dihedral_irreps.md)."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import groupdrl.groups as G
from groupdrl.verify.group import verify_group
from groupdrl.worlds import Factor, World


def kernel(rho) -> list[list[int]]:
    g = rho.group.elements()
    m = rho(g, torch.float64)
    eye = torch.eye(rho.dim, dtype=torch.float64)
    return g[(m - eye).abs().flatten(1).amax(1) < 1e-9].tolist()


@given(st.integers(1, 12))
def test_sums_of_1d_irreps_contain_r_squared_in_their_kernel(n):
    d = G.Dihedral(n)
    ones = [d.representation(s) for s in ("trivial", "flip", "rot", "rotflip") if s in ("trivial", "flip")
            or n % 2 == 0]
    total = ones[0]
    for r in ones[1:]:
        total = total + r
    for rho in ones:  # every 1-D irrep takes the values ±1
        assert set(rho(d.elements(), torch.float64).flatten().tolist()) <= {1.0, -1.0}
    ker = kernel(total)
    assert [0, 2 % n] in ker
    assert (len(ker) == 1) == (n <= 2)  # faithful only for D_1, D_2


@given(st.integers(3, 14), st.data())
def test_the_2d_irrep_k_is_faithful_iff_k_is_prime_to_n(n, data):
    k = data.draw(st.integers(1, (n - 1) // 2))
    ker = kernel(G.Dihedral(n).representation(f"irrep:{k}"))
    assert (ker == [[0, 0]]) == (math.gcd(k, n) == 1)
    assert all(f == 0 and (a * k) % n == 0 for f, a in ker)


@pytest.mark.parametrize(("n", "k"), [(5, 1), (5, 2), (6, 2), (8, 2), (8, 3)])
def test_the_verifier_reports_faithfulness_as_the_proposition_says(n, k):
    d = G.Dihedral(n)
    rho = d.representation(f"irrep:{k}")
    world = World([Factor("pose", group=d)], render=lambda s: s.float())
    v = torch.tensor([0.9, 0.3], dtype=torch.float64)
    r = verify_group(lambda o: rho(d.elements()[o[:, 0].long()], torch.float64) @ v, world, n_states=100,
                     n_elements=2 * n)
    assert r.disentangled and r.faithful["pose"] == (math.gcd(k, n) == 1)
