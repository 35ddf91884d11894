"""Proposition (c): no faithful 1-D real representation of C_N, N > 2 (proofs/c_no_faithful_1d.md)."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from groupdrl.verify.group import verify_group
from groupdrl.worlds import Factor, World


@given(st.integers(1, 60))
def test_real_roots_of_unity_are_plus_minus_one(n):
    roots = np.roots([1] + [0] * (n - 1) + [-1])
    real = np.sort(roots[np.abs(roots.imag) < 1e-9].real)
    expected = [-1.0, 1.0] if n % 2 == 0 else [1.0]
    np.testing.assert_allclose(real, expected, atol=1e-6)


@given(st.integers(3, 12), st.integers(0, 2**31 - 1))
def test_an_injective_scalar_code_of_cn_is_not_linearly_equivariant(n, seed):
    values = np.random.default_rng(seed).permutation(n).astype(float)  # injective, unit gaps
    table = torch.from_numpy(values)
    w = World([Factor("a", n)], render=lambda s: s.float())
    r = verify_group(lambda obs: table[obs[:, 0].long()][:, None], w, n_states=100, n_elements=n, seed=seed)
    assert not r.disentangled
    assert max(r.equivariance_relative["a"], r.homomorphism_error) > 1e-3


def test_the_sign_code_of_c2_and_of_even_cn_is_exactly_equivariant():
    # the exception: (−1)^x is a (non-faithful for N > 2) 1-D representation
    for n in (2, 6):
        w = World([Factor("a", n)], render=lambda s: s.float())
        r = verify_group(lambda obs: (1 - 2 * (obs[:, :1].double() % 2)), w, n_states=50)
        assert r.equivariance_error < 1e-12 and r.disentangled
        assert r.subspace_dims == [1]
        assert any("no faithful 1-D" in note for note in r.notes) == (n > 2)
