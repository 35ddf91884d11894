"""assert_disentangled: hypothesis finds and shrinks counterexamples."""
from __future__ import annotations

import pytest
import torch
from group_codes import entangled, exact, line, make_world

from groupdrl.testing.disentangled import assert_disentangled


def test_exact_code_passes_and_returns_the_report():
    report = assert_disentangled(exact, make_world(), n_states=100, max_examples=20)
    assert report.disentangled


def test_given_rho_passes():
    w = make_world()
    assert_disentangled(exact, w, rho=w.group.representation({"a": "standard", "b": "standard"}), n_states=100,
                        max_examples=20)


def test_entangled_code_reports_the_shrunk_counterexample():
    with pytest.raises(AssertionError) as info:
        assert_disentangled(entangled, make_world(), n_states=100, max_examples=20)
    msg = str(info.value)
    # shrunk to the simplest state and the generator; then the report summary
    assert "the change of the code from the state a = 0, b = 0, shifting a by +1 leaves Z_a" in msg
    assert "NOT disentangled" in msg
    assert "Moving a also moves the code of b." in msg  # the failed condition in plain words


def test_line_code_fails_on_equivariance():
    with pytest.raises(AssertionError, match="not equivariant: from the state a = 0, b = 0, shifting"):
        assert_disentangled(line, make_world(), n_states=100, max_examples=20)


def test_constant_code_fails():
    with pytest.raises(AssertionError, match="constant"):
        assert_disentangled(lambda o: torch.zeros(len(o), 2), make_world(), n_states=50)


def test_statistical_failure_without_a_per_pair_counterexample_still_fails():
    # small equivariance errors under the per-pair bound but over the averaged tolerance
    noise = lambda o: 0.2 * torch.sin(7.0 * o[:, :1].double() + 3.0 * o[:, 1:].double())  # noqa: E731
    enc = lambda o: exact(o) + noise(o)  # noqa: E731
    with pytest.raises(AssertionError, match="NOT disentangled"):
        assert_disentangled(enc, make_world(), n_states=100, max_examples=10, tol=0.001, atol=10.0)
