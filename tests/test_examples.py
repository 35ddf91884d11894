"""The examples a user copies from keep working."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_verify_my_encoder_example(tmp_path):
    out = subprocess.run([sys.executable, "-W", "ignore", str(EXAMPLES / "verify_my_encoder.py"), str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    # a rotated sign code: formally disentangled, not intuitively
    assert "| group theory (Higgins et al. 2018) | disentangled |" in out.stdout
    assert "| intuitive (Bengio et al. 2013) | not disentangled |" in out.stdout
    assert (tmp_path / "report.json").exists() and (tmp_path / "report.png").exists()


def test_property_tests_example_passes():
    spec = importlib.util.spec_from_file_location("property_tests_example", EXAMPLES / "property_tests.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tests = [getattr(module, name) for name in dir(module) if name.startswith("test_")]
    assert len(tests) == 4
    for test in tests:
        test()
