"""The documentation: the site builds without warnings, its code runs, the glossary covers the reports.

The tutorials' code lives in examples/ (run by tests/test_examples.py) and is included into the
pages; the other ```python blocks of the pages and of the README run here, each page's blocks in
order in one fresh interpreter (``` text / bash blocks are not run).
"""
from __future__ import annotations

import importlib.util
import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import groupdrl
from groupdrl.cli import comparison_table
from groupdrl.verify import verify, verify_group
from groupdrl.worlds import Factor, World

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted([ROOT / "README.md", *DOCS.rglob("*.md")])
FENCE = re.compile(r"^```python\n(.*?)^```", re.M | re.S)


def python_blocks(page: Path) -> list[str]:
    """The page's ```python blocks, except those that only include an example file (``--8<--``)."""
    return [b for b in FENCE.findall(page.read_text()) if not b.lstrip().startswith("--8<--")]


def test_site_builds_with_warnings_as_errors(tmp_path):
    assert importlib.util.find_spec("mkdocs"), "the site needs the docs extra: pip install '.[docs]'"
    out = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                         capture_output=True, text=True, cwd=ROOT, timeout=600,
                         env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert (tmp_path / "site" / "glossary" / "index.html").exists()
    assert "groupdrl.verify.verify_group" in (tmp_path / "site" / "api" / "verify" / "index.html").read_text()


@pytest.mark.parametrize("page", [p for p in PAGES if python_blocks(p)], ids=lambda p: str(p.relative_to(ROOT)))
def test_code_blocks_run(page, tmp_path):
    code = "\n\n".join(python_blocks(page))
    env = {**os.environ, "PYTHONPATH": str(Path(groupdrl.__file__).parents[1]), "MPLBACKEND": "Agg",
           "OMP_NUM_THREADS": "1"}  # one torch thread, as in the xdist workers
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]


def test_tutorials_include_examples_that_exist():
    includes = [m for p in DOCS.rglob("*.md") for m in re.findall(r'--8<-- "([^"]+)"', p.read_text())]
    assert includes and all((ROOT / path).is_file() for path in includes)
    assert {Path(p).name for p in includes} >= {"verify_my_encoder.py", "property_tests.py",
                                                "equivariant_layers.py", "train_and_compare.py", "your_own_data.py"}


#: Report vocabulary that is not in a table header: reason and note templates, line labels, figure
#: titles. Each must still be printed by groupdrl (a report below or the source of what prints them)
#: and must have a glossary entry.
PHRASES = [
    "The two definitions agree", "The definitions disagree", "What failed, in plain words", "Consequence",
    "What to try", "Counterexample", "The numbers", "pooled equivariance error",
    "Homomorphism error (worst relation)", "smallest principal angle", "Leakage L[i, j]", "D_LSBD ≤",
    "frequencies", "General definition", "collision defect", "1-NN prediction error",
    "is encoded on a line, not a circle", "do not compose like the group", "No action exists on this code",
    "Tolerances", "Note", "Cayley edge", "ρ(s)^", "ρ(s_", "not equivariant under", "is not a homomorphism",
    "no subspace Z_", "leaks out of Z_", "are not independent", "the latent is constant", "no action of G on Z",
    "the action is linear about a fitted centre c", "bounded factors", "general definition (§5)",
    "has no faithful 1-D real representation", "is not faithful", "ρ(word of element", "(sampled pair of",
    "entangled", "D_LSBD not computed", "unassigned",
    "Latent traversal (the factor that moves each latent dimension most)", "I(z_j; v) / H(v)",
    "DCI importance", "variance along the factor / total", "Continuous factors are binned", "decoded traversals",
]


#: A header's threshold, e.g. " (≤ 0.05)": the glossary explains the term, the number is the tolerance in use.
THRESHOLD = re.compile(r"\s*\([≤≥] [^)]*\)$")


def _table_vocabulary(markdown: str) -> set[str]:
    """Header cells of every table (not the leakage matrix, headed by factor names; thresholds cut off) and the
    score names."""
    terms, lines = set(), markdown.splitlines()
    for i, line in enumerate(lines[:-1]):
        if line.startswith("|") and lines[i + 1].startswith("|---") and not line.startswith("| |"):
            cells = [THRESHOLD.sub("", c.strip()) for c in line.strip("|").split("|")]
            terms.update(cells)
            if cells[0] == "score":  # the intuitive table: one row per score
                for row in itertools.takewhile(lambda r: r.startswith("|"), lines[i + 2:]):
                    terms.add(row.strip("|").split("|")[0].strip())
    return terms


def test_glossary_covers_every_report_term():
    world = World([Factor("x", 8), Factor("y", 6)], render=lambda s: s.float(), name="dials")
    line_code = verify(lambda s: s.float(), world, seed=0, group_kwargs=dict(n_states=200),
                       intuitive_kwargs=dict(n_train=500, n_test=250)).to_markdown()
    general = verify_group(lambda s: (s[:, :1] * s[:, 1:]).float(), world, linear=False, n_states=200).to_markdown()
    bounded = World([Factor("x", 8, periodic=False), Factor("y", 6)], render=lambda s: s.float())
    partial = verify_group(lambda s: s.float(), bounded, n_states=200).to_markdown()
    constant = verify_group(lambda s: torch.zeros(len(s), 2), world, n_states=50).to_markdown()
    printed = "\n".join([line_code, general, partial, constant, comparison_table([])])
    source = "\n".join(p.read_text() for p in (ROOT / "groupdrl" / "verify").rglob("*.py"))
    glossary = (DOCS / "glossary.md").read_text().lower()

    stale = [p for p in PHRASES if p not in printed and p not in source]
    assert not stale, f"no longer printed by groupdrl: {stale}; update PHRASES and docs/glossary.md"
    vocabulary = _table_vocabulary(printed) | set(PHRASES)
    assert len(vocabulary) > 50
    missing = sorted(t for t in vocabulary if t.lower() not in glossary)
    assert not missing, f"report terms without a glossary entry in docs/glossary.md: {missing}"
