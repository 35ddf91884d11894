"""verify(): both definitions side by side; they disagree exactly where the mathematics says."""
from __future__ import annotations

import json
import math

import pytest
import torch

from groupdrl.verify import Report, verify
from groupdrl.worlds import Factor, World

SMALL = dict(intuitive_kwargs=dict(n_train=1000, n_test=500), group_kwargs=dict(n_states=400))
Q = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1)))[0]


def noisy(scale: float):
    gen = torch.Generator().manual_seed(0)
    return lambda x: x + scale * torch.randn(x.shape, generator=gen, dtype=x.dtype)


# C2 × C2 × C2: the sign code ±1 per factor is a faithful 1-D representation, so it is both
# axis-aligned (intuitive) and linearly equivariant (formal).
SIGNS = World([Factor("a", 2), Factor("b", 2), Factor("c", 2)], render=lambda s: (2 * s - 1).double(), name="signs")
# C8 × C8 with the raw index as code: axis-aligned, but a line code of a cyclic factor.
VALUES = World([Factor("a", 8), Factor("b", 8)], render=lambda s: s.double(), name="values")


@pytest.fixture(scope="module")
def sign_report() -> Report:
    return verify(noisy(0.02), SIGNS, **SMALL)


def test_sign_code_is_disentangled_under_both(sign_report):
    assert sign_report.group.disentangled, sign_report.group.reasons
    assert sign_report.intuitive.disentangled, sign_report.intuitive.failed
    assert sign_report.agree


def test_rotated_sign_code_passes_formally_and_fails_intuitively(sign_report):
    enc = noisy(0.02)
    rotated = verify(lambda x: enc(x) @ Q, SIGNS, **SMALL)
    assert rotated.group.disentangled, rotated.group.reasons
    assert not rotated.intuitive.disentangled
    assert rotated.intuitive.scores["mig"] < sign_report.intuitive.scores["mig"] - 0.5
    assert not rotated.agree
    assert "disagree" in rotated.to_markdown()


def test_line_code_of_a_cyclic_factor_is_the_reverse_disagreement():
    report = verify(noisy(0.01), VALUES, **SMALL)
    assert report.intuitive.disentangled
    assert not report.group.disentangled
    assert any("equivariant" in r for r in report.group.reasons)


def test_save_writes_json_markdown_and_figures(sign_report, tmp_path):
    paths = sign_report.save(tmp_path / "out")
    data = json.loads(paths["report.json"].read_text())
    assert data["agree"] is True and data["group"]["disentangled"] is True
    assert "| group theory" in paths["report.md"].read_text()
    for name in ("report.png", "group.png", "intuitive.png"):
        assert paths[name].stat().st_size > 2000
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no temp files left


def test_circle_code_of_cyclic_factors_is_formally_disentangled():
    def circle(x):
        th = x * 2 * math.pi / 8
        return torch.stack([torch.cos(th[:, 0]), torch.sin(th[:, 0]), torch.cos(th[:, 1]), torch.sin(th[:, 1])], 1)

    report = verify(circle, VALUES, **SMALL)
    assert report.group.disentangled, report.group.reasons
    assert report.group.dlsbd["value"] < 0.01
