"""The examples a user copies from (and the tutorials include) run and show what they say they show.

Each example is a tutorial's code (docs/tutorials/*.md include them), so each is run here as a user
runs it: a fresh interpreter, importing the groupdrl under test. ~5–30 s each (the verify and
train examples do real work on flatland).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import groupdrl

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def run(*args: str, cwd: Path) -> str:
    # one torch thread, as in the xdist workers (two spinning threads per process on 2 shared cores
    # cost 2-5x the CPU time here)
    env = {**os.environ, "PYTHONPATH": str(Path(groupdrl.__file__).parents[1]), "MPLBACKEND": "Agg",
           "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=900, cwd=cwd, env=env)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    return out.stdout


def table_rows(markdown: str, first_header: str) -> list[list[str]]:
    """The body rows (cells) of the markdown table whose first header cell is ``first_header``."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def test_every_example_is_tested():
    tested = {"verify_my_encoder", "flatland_codes", "property_tests", "equivariant_layers",
              "equivariant_image_encoder", "train_and_compare", "your_own_data"}
    assert {p.stem for p in EXAMPLES.glob("*.py")} == tested


def test_verify_my_encoder(tmp_path):
    out = run(str(EXAMPLES / "verify_my_encoder.py"), str(tmp_path), cwd=tmp_path)
    # a linear position read-out: one number per factor, so intuitively disentangled; formally not,
    # because C8's relation 7 -> 0 cannot hold on a line (proofs/c_no_faithful_1d.md)
    assert "| group theory (Higgins et al. 2018) | not disentangled ✗ |" in out
    assert "| intuitive (Bengio et al. 2013) | disentangled ✓ |" in out
    assert "1. **x is encoded on a line, not a circle.**" in out and "the step 7→0 cannot be represented" in out
    assert re.search(r"Cayley edge 7→0 of Cyclic\(8\) \((x|y)\): ρ\(7\)ρ\(s\) = ρ\(0\)", out)
    assert re.search(r"From the state x = \d, y = \d, shifting (x|y) by [+-]\d", out)  # the counterexample sentence
    assert {"report.json", "report.md", "report.html", "report.png"} <= {p.name for p in tmp_path.iterdir()}


def test_flatland_codes_match_the_definitions_page(tmp_path):
    out = run(str(EXAMPLES / "flatland_codes.py"), str(tmp_path), cwd=tmp_path)
    verdicts = {r[0]: r[1:3] for r in table_rows(out, "code")}
    assert verdicts == {"torus": ["disentangled", "not disentangled"],
                        "rotated": ["disentangled", "not disentangled"],
                        "line": ["not disentangled", "disentangled"],
                        "entangled": ["not disentangled", "not disentangled"]}
    # the page shows this table (regenerate both with the example when the verifier changes)
    page = (ROOT / "docs" / "definitions.md").read_text()
    assert {r[0]: r[1:3] for r in table_rows(page, "code")} == verdicts
    figures = {p.name for p in tmp_path.iterdir()}
    assert {"flatland.png", "code-torus.png", "code-line.png", "code-torus-intuitive.png"} <= figures
    assert figures <= {p.name for p in (ROOT / "docs" / "figures").iterdir()}


def test_property_tests_example_passes(tmp_path):
    out = run("-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLES / "property_tests.py"), cwd=tmp_path)
    assert re.search(r"^7 passed", out, re.M), out


def test_equivariant_layers_example(tmp_path):
    out = run(str(EXAMPLES / "equivariant_layers.py"), cwd=tmp_path)
    first, last = map(float, re.search(r"training loss: ([\d.]+) at step 0, ([\d.]+) at step 199", out).groups())
    assert last < 0.2 * first
    assert float(re.search(r"ρ\(g\)f\(z\)\| on 5 random pairs: (\S+)", out).group(1)) < 1e-5
    assert float(re.search(r"\|export\(f\)\(z\) − f\(z\)\|: (\S+)", out).group(1)) < 1e-5


@pytest.mark.escnn
def test_equivariant_image_encoder_example(tmp_path):
    out = run(str(EXAMPLES / "equivariant_image_encoder.py"), cwd=tmp_path)
    assert float(re.search(r"\|h\(g·x\) − ρ\(g\) h\(x\)\|: (\S+)", out).group(1)) < 1e-4
    assert float(re.search(r"\|export\(h\)\(x\) − h\(x\)\|: (\S+)", out).group(1)) < 1e-4


def test_train_and_compare_example_runs(tmp_path):
    # 20 steps, small metric samples: checks the script, not the models (no verdict of a 20-step run is a finding)
    out = run(str(EXAMPLES / "train_and_compare.py"), "--steps", "20", "--n-metric", "200", "--out", str(tmp_path),
              cwd=tmp_path)
    assert [r[0] for r in table_rows(out, "model")] == ["beta_vae", "lsbd_vae"]
    assert (tmp_path / "lsbd_vae" / "report" / "report.md").exists()


def test_your_own_data(tmp_path):
    out = run(str(EXAMPLES / "your_own_data.py"), str(tmp_path), cwd=tmp_path)
    # (cos, sin) per cyclic factor on an incomplete grid: formally disentangled on the partial action;
    # MIG is dimension-wise and sees each factor spread over two latents
    assert out.count("World('squares', x=6, y=6, 30 of 36 states)") == 2  # from the arrays and from the .npz
    assert "| group theory (Higgins et al. 2018) | disentangled ✓ |" in out
    assert "| intuitive (Bengio et al. 2013) | not disentangled ✗ |" in out
    assert "so MIG, which looks for one dimension per factor, comes out low" in out
    assert "### Counterexample" not in out
    assert {"report.html", "squares.npz"} <= {p.name for p in tmp_path.iterdir()}
