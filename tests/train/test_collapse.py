"""Collapse detection (groupdrl.train.collapse): constructed collapsed and healthy models, the fit hook and
the comparison table."""
from __future__ import annotations

import json
import math
import warnings

import pytest
import torch
from torch import nn

from groupdrl import models
from groupdrl.cli import comparison_table
from groupdrl.train import CollapsedRunWarning, collapse_check, fit
from groupdrl.train.collapse import COLLAPSE, KL_TOL
from groupdrl.worlds import flatland, vector_world

VECTOR = vector_world((4, 4))  # (cos, sin) of two C4 factors: 4-dim observations


def head(model) -> nn.Linear:
    """The encoder's last linear layer (μ rows first, then log σ² rows)."""
    return [m for m in model.encoder.modules() if isinstance(m, nn.Linear)][-1]


def collapsed_vae(world, **kw):
    """A β-VAE whose posterior is the prior for every input: μ = 0, log σ² = 0."""
    m = models.get("beta_vae", world, **kw)
    with torch.no_grad():
        head(m).weight.zero_()
        head(m).bias.zero_()
    return m


def informative_vae(world, **kw):
    """A β-VAE with μ = a fixed linear map of the observation's first features and σ² = e⁻⁴."""
    m = models.get("beta_vae", world, **kw)
    d = m.latent_dim
    lin = nn.Linear(world.observation_shape[0], 2 * d)
    with torch.no_grad():
        lin.weight.zero_()
        lin.weight[:d, :d] = torch.eye(d)
        lin.bias.zero_()
        lin.bias[d:] = -4.0
    m.encoder = lin
    return m


class FixedCodes(nn.Module):
    """A model without a posterior: ``encode(x) = offset + scale · x[:, :2]``."""

    name = "fixed"

    def __init__(self, offset: float, scale: float):
        super().__init__()
        self.offset, self.scale = offset, scale
        self.dummy = nn.Parameter(torch.zeros(()))

    def encode(self, x):
        return self.offset + self.scale * x[:, :2] + 0 * self.dummy


def test_prior_posterior_is_collapsed_by_kl_and_codes():
    for world in (VECTOR, flatland(n=4, image_size=16)):
        out = collapse_check(collapsed_vae(world), world)
        assert out.collapsed
        assert out.kl_per_dim == [0.0] * 10  # KL(N(0, 1) ‖ N(0, 1)) exactly
        assert "posterior KL" in out.reason and "constant" in out.reason
        assert max(out.code_spread) == 0.0


def test_informative_posterior_is_healthy():
    m = informative_vae(VECTOR, latent_dim=2, hidden=[8])
    out = collapse_check(m, VECTOR, n_states=400)
    assert not out.collapsed and out.reason == ""
    # KL_j = ½ (E[x_j²] + e⁻⁴ + 4 − 1) with E[cos²] = E[sin²] = ½ over C4's uniform states (≈ ±0.06 sampled)
    expect = 0.5 * (0.5 + math.exp(-4) + 3)
    assert all(abs(k - expect) < 0.06 for k in out.kl_per_dim)
    assert all(abs(s - math.sqrt(0.5)) < 0.05 for s in out.code_spread)


def test_kl_below_tolerance_in_every_dimension_is_collapsed_even_with_moving_codes():
    """μ moves (spread 0.1 ≫ the code tolerance) but under σ = 1: KL_j = ½ E[μ_j²] = 0.0025 < KL_TOL."""
    m = informative_vae(VECTOR, latent_dim=2, hidden=[8])
    with torch.no_grad():
        m.encoder.weight[:2] *= 0.1
        m.encoder.bias[2:] = 0.0
    out = collapse_check(m, VECTOR)
    assert max(out.kl_per_dim) < KL_TOL and max(out.code_spread) > 0.05
    assert out.collapsed and "posterior KL" in out.reason and "constant" not in out.reason


@pytest.mark.parametrize("offset,scale,collapsed", [(0.0, 1.0, False), (0.0, 1e-4, True), (100.0, 5.0, False),
                                                   (100.0, 1e-2, True), (0.0, 0.0, True)])
def test_codes_without_posterior_are_judged_by_their_spread(offset, scale, collapsed):
    """Spread 0.71 · scale against 1 % of max(1, rms): rms ≈ offset for offset 100."""
    out = collapse_check(FixedCodes(offset, scale), VECTOR)
    assert out.kl_per_dim is None
    assert out.collapsed is collapsed


def test_non_finite_codes_are_collapsed():
    out = collapse_check(FixedCodes(float("nan"), 1.0), VECTOR)
    assert out.collapsed and "not finite" in out.reason


def test_bad_arguments():
    m = FixedCodes(0.0, 1.0)
    with pytest.raises(ValueError, match="n_states"):
        collapse_check(m, VECTOR, n_states=1)
    with pytest.raises(ValueError, match="kl_tol"):
        collapse_check(m, VECTOR, kl_tol=float("nan"))


def test_joint_vae_reports_continuous_and_discrete_kl():
    m = models.get("joint_vae", VECTOR, cont_dim=2, disc_dims=[3], hidden=[8])
    out = collapse_check(m, VECTOR)
    assert len(out.kl_per_dim) == 3  # two continuous dimensions, one discrete code


def test_mode_is_restored():
    m = collapsed_vae(VECTOR).train()
    collapse_check(m, VECTOR)
    assert m.training


def test_fit_records_and_warns_on_a_collapsed_run(tmp_path):
    m = collapsed_vae(VECTOR, latent_dim=2, hidden=[8])
    with pytest.warns(CollapsedRunWarning, match="beta_vae"):
        fit(m, VECTOR, steps=1, batch_size=8, lr=1e-12, out_dir=tmp_path / "dead", quiet=True)
    record = json.loads((tmp_path / "dead" / COLLAPSE).read_text())
    assert record["collapsed"] and record["kl_per_dim"] == [0.0, 0.0]

    healthy = informative_vae(VECTOR, latent_dim=2, hidden=[8])
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollapsedRunWarning)
        fit(healthy, VECTOR, steps=1, batch_size=8, lr=1e-12, out_dir=tmp_path / "alive", quiet=True)
    assert not json.loads((tmp_path / "alive" / COLLAPSE).read_text())["collapsed"]


def test_comparison_table_flags_collapsed_verdicts():
    def row(name, collapsed):
        return {"model": {"name": name}, "step": 600, "train_s": 12.0,
                "group": {"summary": {"disentangled": False, "equivariance_error": 0.5, "leakage_offdiag_max": 0.2,
                                      "dlsbd": 0.3}},
                "intuitive": {"mig": 0.01, "dci_disentanglement": 0.02},
                "collapse": {"collapsed": collapsed, "reason": "posterior KL below 0.05 nats" if collapsed else ""}}

    table = comparison_table([row("beta_vae", False), row("factor_vae", True)])
    assert "| collapsed |" in table.splitlines()[0]
    assert "| beta_vae | 600 | 12 | no | no |" in table
    assert "| factor_vae | 600 | 12 | yes | (no) |" in table
    assert "- factor_vae: posterior KL below 0.05 nats" in table
    assert "not a finding" in comparison_table([row("factor_vae", True)])
    assert "not a finding" not in comparison_table([row("beta_vae", False)])
