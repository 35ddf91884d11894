"""LSBD-VAE: the encoder's output layout (issue 10)."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from groupdrl import models
from groupdrl.worlds import vector_world

WORLD = vector_world((6, 5, 4), names=("a", "b", "c"))


class _Fixed(nn.Module):
    """An 'encoder' returning a given output, whatever the observations."""

    def __init__(self, out: torch.Tensor) -> None:
        super().__init__()
        self.out = out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
def test_each_encoder_column_feeds_exactly_one_posterior_parameter(training):
    """Columns 0..2K−1 are the K circle locations (x, y per circle), 2K..3K−1 the K scales.

    The old code read the scales from columns 2, 5, 8 (an interleaved layout), so column 2 moved both the
    location of circle 1 and the scale of circle 0, and columns 4 and 7 moved nothing.
    """
    model = models.get("lsbd_vae", WORLD).train(training)
    k = len(WORLD.factor_names)
    out = torch.randn(6, 3 * k, generator=torch.Generator().manual_seed(0))
    x = torch.zeros(6, *WORLD.observation_shape)
    model.encoder = _Fixed(out)
    with torch.no_grad():
        mu0, t0 = model.posterior(x)
    expected = [f"mu{j // 2}" for j in range(2 * k)] + [f"t{j}" for j in range(k)]
    for col in range(3 * k):
        bumped = out.clone()
        bumped[0, col] += 0.5  # one row: a shift of the whole column would vanish in the batch standardisation
        model.encoder = _Fixed(bumped)
        with torch.no_grad():
            mu, t = model.posterior(x)
        changed = [f"mu{i}" for i in range(k) if not torch.allclose(mu[:, i], mu0[:, i])]
        changed += [f"t{i}" for i in range(k) if not torch.allclose(t[:, i], t0[:, i])]
        assert changed == [expected[col]], (col, changed)
