"""The hypothesis strategies draw valid objects and the assert helpers catch what they should."""
from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest
import torch
from hypothesis import given, settings

import groupdrl
import groupdrl.groups as G
from groupdrl.testing import (assert_equivariant, assert_homomorphism, elements, representations, states,
                              subgroup_elements)
from groupdrl.worlds import Factor, World

PROD = G.Product(x=G.Cyclic(6), r=G.SO2(), d=G.Dihedral(3))


@given(elements(PROD, 5))
def test_elements_are_valid(g):
    PROD.validate(g)
    assert PROD.batch_size(g) == 5


@given(subgroup_elements(PROD, "r", 3))
def test_subgroup_elements_are_identity_elsewhere(g):
    assert bool(G.Cyclic(6).equal(g["x"], G.Cyclic(6).identity(3)).all())
    assert bool(G.Dihedral(3).equal(g["d"], G.Dihedral(3).identity(3)).all())


@given(representations(PROD))
def test_drawn_representations_are_disentangled_homomorphisms(rho):
    assert_homomorphism(rho, atol=1e-5, max_examples=5)
    # every summand acts through one factor: the blocks cover the space
    assert sum(sl.stop - sl.start for sl in rho.blocks.values()) == rho.dim


def test_states_strategy_respects_sizes():
    world = World([Factor("a", 3), Factor("b", 5)], render=lambda s: s.float())

    @given(states(world, 4))
    def check(s):
        world.validate_states(s)
        assert s.shape == (4, 2)

    check()


def test_assert_equivariant_accepts_equivariant_and_rejects_others():
    grp = G.SO2()
    rho1, rho2 = grp.representation("irrep:1"), grp.representation("irrep:2")
    assert_equivariant(lambda x: 3.0 * x, rho1, rho1, atol=1e-4)

    def square_map(x):  # z -> z^2 in complex notation is equivariant from frequency 1 to 2
        a, b = x[..., 0], x[..., 1]
        return torch.stack([a * a - b * b, 2 * a * b], -1)

    assert_equivariant(square_map, rho1, rho2, atol=1e-3)
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(square_map, rho1, rho1, atol=1e-3)


def test_assert_equivariant_with_an_action_callable():
    grp = G.Cyclic(4)
    roll = lambda g, x: torch.stack([torch.roll(xi, int(k), dims=-1) for xi, k in zip(x, g.expand(len(x)))])
    inputs = st_images()
    assert_equivariant(lambda x: x.cumsum(-2), roll, roll, group=grp, inputs=inputs)
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(lambda x: x.cumsum(-1), roll, roll, group=grp, inputs=inputs)


def st_images():
    from hypothesis import strategies as st

    return st.integers(0, 1000).map(lambda s: torch.rand(2, 4, 4, generator=torch.Generator().manual_seed(s)))


def test_no_module_changes_torch_default_dtype():
    mods = [m.name for m in pkgutil.walk_packages(groupdrl.__path__, "groupdrl.") if not m.name.endswith("__main__")]
    code = (
        "import importlib, torch\n"
        f"for m in {mods!r}:\n"
        "    importlib.import_module(m)\n"
        "    assert torch.get_default_dtype() == torch.float32, m\n"
        "import groupdrl.groups as G, torch\n"
        "G.SO3().distance(G.SO3().identity(1), G.SO3().identity(1))\n"
        "assert torch.get_default_dtype() == torch.float32\n"
    )
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert mods  # the package has modules to check
    assert importlib.import_module("groupdrl.groups")


@given(elements(G.Cyclic(5)))
def test_assert_homomorphism_inside_given_still_catches_bad_reps(g):
    good = G.Cyclic(5).representation("irrep:2")
    assert_homomorphism(good, atol=1e-9)
    # ρ(k) = R(k²·2π/5) is not a homomorphism: nested mode checks seeded samples and generators
    bad = G.Representation(G.Cyclic(5), lambda h, dtype: good._fn(h * h % 5, dtype), 2, "bad")
    with pytest.raises(AssertionError, match="ρ"):
        assert_homomorphism(bad, atol=1e-6)


# ---- the new factors: dihedral, SO(2) on a circle, SO(3) ------------------------------------------------
MIXED = World([Factor("c", 4), Factor("d", group=G.Dihedral(3)), Factor("r", group=G.SO3()),
               Factor("p", group=G.SO2(), base_point=(1.0, 1.0))], render=lambda s: s.float())


@given(states(MIXED, 3))
def test_states_of_continuous_worlds_are_valid(s):
    assert s.dtype == torch.float64 and s.shape == (3, MIXED.state_dim)
    MIXED.validate_states(s)


def test_element_and_state_strategies_shrink_to_the_identity():
    from hypothesis import find

    for group in (G.SO3(), G.SO2(), G.Dihedral(5), G.Torus(2)):
        g = find(elements(group), lambda g: True)
        assert bool(group.equal(g, group.identity(1), atol=1e-6).all()), group
    s = find(states(MIXED), lambda s: True)
    assert torch.allclose(s, MIXED.identity_state().double())


@pytest.mark.escnn  # SO(3)'s l = 2 irrep (one of the draws) comes from escnn
@settings(max_examples=10)  # SO(3)'s l = 2 irrep comes from escnn one element at a time (~2 ms each)
@given(representations(G.Product(r=G.SO3(), d=G.Dihedral(4), t=G.SO2()), max_summands=2))
def test_drawn_representations_of_lie_and_dihedral_factors_are_homomorphisms(rho):
    assert_homomorphism(rho, atol=1e-5)
    assert rho.is_orthogonal()
