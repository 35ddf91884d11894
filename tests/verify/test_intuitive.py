"""verify_intuitive: known answers on hand-made codes of a world whose observations are its factors."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from groupdrl.verify.intuitive import verify_intuitive
from groupdrl.worlds import Factor, World

WORLD = World([Factor("a", 8), Factor("b", 8), Factor("c", 8)], render=lambda s: s.double(), name="values")
SMALL = dict(n_train=1500, n_test=500)


def noisy(scale: float, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    return lambda x: x + scale * torch.randn(x.shape, generator=gen, dtype=x.dtype)


@pytest.fixture(scope="module")
def aligned():
    return verify_intuitive(noisy(0.05), WORLD, **SMALL)


def test_aligned_code_is_intuitively_disentangled(aligned):
    assert aligned.disentangled, aligned.to_markdown()
    assert aligned.scores["mig"] > 0.9 and aligned.scores["dci_disentanglement"] > 0.9
    assert aligned.moved_by == ["a", "b", "c"]
    assert np.allclose(np.argmax(aligned.normalized_mi, axis=1), [0, 1, 2])


def test_rotated_code_fails_the_intuitive_verdict(aligned):
    q = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1)))[0]
    enc = noisy(0.05)
    rotated = verify_intuitive(lambda x: enc(x) @ q, WORLD, **SMALL)
    assert not rotated.disentangled
    assert "mig" in rotated.failed and "dci_disentanglement" in rotated.failed
    assert rotated.scores["mig"] < aligned.scores["mig"] - 0.4
    # the information is all still there: informativeness stays high
    assert rotated.scores["dci_informativeness"] > 0.7


def test_noise_code_scores_near_zero():
    gen = torch.Generator().manual_seed(3)
    report = verify_intuitive(lambda x: torch.randn(x.shape[0], 3, generator=gen, dtype=x.dtype), WORLD, **SMALL)
    assert not report.disentangled
    assert report.scores["mig"] < 0.05
    assert report.scores["factor_vae"] < 0.6  # chance is 1/3


def test_report_serialises_plots_and_is_deterministic(aligned, tmp_path):
    again = verify_intuitive(noisy(0.05), WORLD, **SMALL)
    assert again.scores == aligned.scores
    data = json.loads(aligned.to_json())
    assert data["disentangled"] is True and set(data["thresholds"]) == {"mig", "dci_disentanglement", "factor_vae"}
    fig = aligned.plot()
    fig.savefig(tmp_path / "i.png")
    assert (tmp_path / "i.png").stat().st_size > 1000


def test_traversal_grid_with_a_decoder(tmp_path):
    decoder = lambda z: torch.sigmoid(z[:, :1, None, None].expand(-1, 1, 6, 6).float())
    report = verify_intuitive(noisy(0.05), WORLD, n_train=300, n_test=100, decoder=decoder)
    fig = report.plot()
    assert len(fig.axes) >= 4
    fig.savefig(tmp_path / "t.png")


def test_bad_thresholds_name_the_argument():
    with pytest.raises(ValueError, match="thresholds"):
        verify_intuitive(noisy(0.05), WORLD, n_train=200, n_test=100, thresholds={"nope": 1.0})
