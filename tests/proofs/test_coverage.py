"""Every proof in proofs/ declares an id and has a numerical test tests/proofs/test_<id>.py."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROOFS = sorted(p for p in (ROOT / "proofs").glob("*.md") if p.name != "README.md")


def test_there_are_proofs():
    assert len(PROOFS) >= 5


def test_every_proof_has_an_id_a_statement_a_proof_and_a_test():
    ids = []
    for path in PROOFS:
        text = path.read_text(encoding="utf-8")
        match = re.search(r"^id: (\w+)$", text, re.MULTILINE)
        assert match, f"{path.name}: no 'id: <name>' line"
        pid = match.group(1)
        assert path.stem == pid, f"{path.name}: id {pid!r} should equal the file name"
        assert "## Statement" in text and "## Proof" in text and "∎" in text, f"{path.name}: statement/proof missing"
        test = ROOT / "tests" / "proofs" / f"test_{pid}.py"
        assert test.exists(), f"{path.name}: no numerical test {test.relative_to(ROOT)}"
        ids.append(pid)
    assert len(set(ids)) == len(ids)


def test_the_readme_lists_every_proof():
    readme = (ROOT / "proofs" / "README.md").read_text(encoding="utf-8")
    for path in PROOFS:
        assert f"`{path.stem}`" in readme, f"proofs/README.md does not list {path.stem}"
