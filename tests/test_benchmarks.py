"""The plumbing of ``benchmarks/run_all.py`` (what it runs and writes; no timing is asserted)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

RUN_ALL = Path(__file__).resolve().parents[1] / "benchmarks" / "run_all.py"


@pytest.fixture()
def run_all(monkeypatch):
    spec = importlib.util.spec_from_file_location("run_all_under_test", RUN_ALL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_writes_every_number_with_its_target_and_reports_failures(run_all, monkeypatch, tmp_path):
    calls = []

    def fast(argv):
        calls.append(argv)
        return {"so2_step_ratio_2t": 2.5, "fit_over_bare": 1.04, "unlisted_metric": 7.0}

    def broken(argv):
        raise RuntimeError("no such world")

    monkeypatch.setattr(run_all, "BENCHMARKS", {"fast": fast, "broken": broken, "unused": fast})
    status = run_all.main(["--quick", "--out", str(tmp_path), "--only", "fast,broken"])
    assert status == 1  # a benchmark failed
    assert calls == [["--out", str(tmp_path), "--quick"]]
    text = (tmp_path / "RESULTS.md").read_text()
    assert f"torch {torch.__version__}" in text and "commit" in text and "UTC" in text and "logical cores" in text
    assert "smoke run" in text
    rows = {line.split("|")[2].strip().split(":")[0]: line for line in text.splitlines() if line.startswith("| ")}
    assert "| 2.500 | <= 3 | yes |" in rows["`so2_step_ratio_2t`"]
    assert "| 1.040 | <= 1.02 | **no** |" in rows["`fit_over_bare`"]
    assert "| 7.000 |  |  |" in rows["`unlisted_metric`"]
    assert "RuntimeError: no such world" in rows["error"]


def test_unknown_benchmark_is_refused(run_all, tmp_path):
    with pytest.raises(SystemExit):
        run_all.main(["--quick", "--out", str(tmp_path), "--only", "nn_encoders"])


def test_a_real_benchmark_runs_in_quick_mode(run_all, tmp_path):
    """verify_group's quick setting (1,000 pairs) through the real plumbing; its own table is not rewritten."""
    threads = torch.get_num_threads()
    assert run_all.main(["--quick", "--out", str(tmp_path), "--only", "verify_group"]) == 0
    assert torch.get_num_threads() == threads  # the benchmark's thread setting does not leak
    text = (tmp_path / "RESULTS.md").read_text()
    assert "`verify_group_own_s`" in text
    assert not (tmp_path / "verify_group.md").exists()
