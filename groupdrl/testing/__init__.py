"""Property-based testing helpers: hypothesis strategies and ``assert_*`` checks."""
from __future__ import annotations

from groupdrl.testing.assertions import assert_equivariant, assert_homomorphism
from groupdrl.testing.disentangled import assert_disentangled
from groupdrl.testing.strategies import elements, representations, states, subgroup_elements

__all__ = ["elements", "subgroup_elements", "representations", "states", "assert_homomorphism",
           "assert_equivariant", "assert_disentangled"]
