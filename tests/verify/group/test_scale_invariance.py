"""verify_group does not depend on the code's scale (found by tests/fuzz: the affine fit put latents of scale
1e50 next to a column of ones, and lstsq's relative cutoff dropped the ones; at 1e-50 it dropped the latents)."""
from __future__ import annotations

import math

import pytest
import torch

from groupdrl.verify import verify_group
from groupdrl.worlds import Factor, World

WORLD = World([Factor("a", 4), Factor("b", 3)], render=lambda s: s.double())


def circle(x: torch.Tensor) -> torch.Tensor:
    t = 2 * math.pi * x / torch.tensor([4.0, 3.0], dtype=x.dtype)
    return torch.cat([t.cos(), t.sin()], 1)


@pytest.mark.parametrize("scale", [1e-140, 1e-50, 1.0, 1e50, 1e140])
def test_a_rescaled_circle_code_passes_with_zero_error(scale):
    report = verify_group(lambda o: circle(o) * scale, WORLD, n_states=6, n_elements=1, seed=0)
    assert report.disentangled and report.equivariance_error < 1e-20 and report.homomorphism_error < 1e-20


def test_too_few_states_to_determine_the_action_is_an_error_not_a_verdict():
    with pytest.raises(ValueError, match="n_states: the latents of the 2 sampled states span"):
        verify_group(circle, WORLD, n_states=2, n_elements=1, seed=0)


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_latents_whose_squares_leave_float64_are_refused(scale):
    with pytest.raises(ValueError, match=r"encoder output: largest \|latent\|"):
        verify_group(lambda o: circle(o) * scale, WORLD, n_states=20)
