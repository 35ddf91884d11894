"""verify(): both definitions side by side; they disagree exactly where the mathematics says."""
from __future__ import annotations

import json
import math
import os
import stat
import warnings

import numpy as np
import pytest
import torch

from groupdrl.groups import SO2
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


def circle(x):
    th = x * 2 * math.pi / 8
    return torch.stack([torch.cos(th[:, 0]), torch.sin(th[:, 0]), torch.cos(th[:, 1]), torch.sin(th[:, 1])], 1)


def entangled(x):
    """x on one circle and x + y on the other: equivariant, but moving x moves both circles."""
    a, b = x[:, 0] * 2 * math.pi / 8, (x[:, 0] + x[:, 1]) * 2 * math.pi / 8
    return torch.stack([a.cos(), a.sin(), b.cos(), b.sin()], 1)


@pytest.fixture(scope="module")
def line_report() -> Report:
    return verify(lambda x: x.double(), VALUES, **SMALL)


def test_a_line_code_report_names_the_failure_in_plain_words(line_report):
    text = line_report.to_markdown()
    group = text.split("## Intuitive definition")[0]
    assert "**a is encoded on a line, not a circle.**" in group
    assert "needs a 2-D rotation block" in group and "the step 7→0" in group
    assert "Consequence:" in group and "What to try:" in group
    counter = group.split("### Counterexample")[1].split("###")[0]
    # a sentence with the states, the move (a shift, not "y = 1"), the latents and the prediction
    assert "From the state a = " in counter and "shifting " in counter and "by +1" in counter
    assert "wraps around from 7 to 0" in counter and "h(x) = [" in counter and "predicts ρ(g)·h(x) = [" in counter
    # thresholds of both verdicts next to the scores, and why the two disagree
    assert "(≤ 0.05) ✗" in text and "MIG 0.9" in text and "(≥ 0.3) ✓" in text
    assert "**The definitions disagree.**" in text and "cannot wrap around" in text


def test_an_entangled_code_report_shows_the_leak_on_a_state():
    report = verify(entangled, VALUES, **SMALL)
    assert not report.group.disentangled and [f["kind"] for f in report.group.failures] == ["leakage"]
    group = report.to_markdown().split("## Intuitive definition")[0]
    assert "**Moving a also moves the code of b.**" in group and "50% of it lands in Z_b" in group
    counter = group.split("### Counterexample")[1]
    assert "shifting a by +1 changes the code by [" in counter and "the code of b changes although b did not" in counter


def test_a_passing_report_has_no_counterexample_and_explains_the_metrics():
    report = verify(circle, VALUES, **SMALL)
    assert report.group.disentangled and not report.intuitive.disentangled
    group = report.group.to_markdown()
    assert "Counterexample" not in group and "What failed" not in group and "Worst pair" not in group
    assert report.group.counterexamples() == []
    text = report.to_markdown()
    assert "a (2-D), b (2-D) are held by a subspace of more than one dimension" in text
    assert "vector-wise" in text and "dimension-wise" in text
    assert "MIG 0.0" in text and "< 0.3.**" in text  # the failing metric, in plain words


def test_html_report_is_self_contained_and_files_get_normal_permissions(line_report, tmp_path):
    old = os.umask(0o022)
    try:
        paths = line_report.save(tmp_path / "out")
    finally:
        os.umask(old)
    page = paths["report.html"].read_text()
    assert page.count("data:image/png;base64,") == 3 and 'src="http' not in page
    assert "<strong>a is encoded on a line, not a circle.</strong>" in page and '<td class="fail">' in page
    for path in paths.values():
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_figures_label_their_axes_and_show_1d_subspaces(line_report):
    fig = line_report.group.plot()
    leak, za = fig.axes[0], fig.axes[1]
    assert leak.get_xlabel() == "subspace" and leak.get_ylabel() == "factor moved"
    assert [t.get_text() for t in leak.get_xticklabels()] == ["Z_a", "Z_b"]
    # a 1-D subspace is drawn as its coordinate against the factor's value, not squashed onto a line
    assert za.get_xlabel() == "Z_a coordinate (1-D)" and za.get_ylabel() == "a" and "✗" in za.get_title()
    assert np.ptp(za.collections[0].get_offsets()[:, 1]) == 7
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert "share of the change" in labels and "a" in labels  # colour bars are labelled
    card = line_report.plot().axes[0]
    cells = card.tables[0].get_celld()
    failing = [cells[r, 0].get_text().get_text() for r in range(1, 40) if (r, 0) in cells
               and cells[r, 0].get_facecolor()[:3] == pytest.approx((0xf6 / 255, 0xc6 / 255, 0xc6 / 255))]
    assert "group: equivariance error, a" in failing and "group: worst relation error" in failing
    assert not any(name.startswith("intuitive") for name in failing)


def test_no_convergence_warning_leaks():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        verify(lambda x: torch.cat([x.double(), 1e3 * torch.sin(x.double())], 1), VALUES, **SMALL)


def test_continuous_factors_are_binned_for_the_intuitive_half():
    world = World([Factor("angle", group=SO2()), Factor("c", 4)], render=lambda s: s.float(), name="mixed")
    code = lambda x: torch.stack([x[:, 0].cos(), x[:, 0].sin(), x[:, 1].double()], 1)
    report = verify(code, world, group_kwargs=dict(n_states=200), intuitive_kwargs=dict(n_train=600, n_test=300))
    assert report.intuitive.settings["binning"] == {"angle": "16 arcs of 22.5°"}
    assert report.intuitive.scores["dci_informativeness"] > 0.9  # the labels are what the code encodes
    assert "angle: 16 arcs of 22.5°" in report.to_markdown()


def test_a_constant_code_is_called_collapsed():
    report = verify(lambda x: torch.ones(len(x), 2), VALUES, **SMALL)
    assert "**The code is constant.**" in report.to_markdown() and "collapsed" in report.to_markdown()
