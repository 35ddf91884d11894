"""`groupdrl report` on synthetic sweep directories whose statistics are known."""
from __future__ import annotations

import csv
import json

import pytest

from groupdrl.cli import main
from groupdrl.sweep import Point, collect, report
from groupdrl.sweep.task import ERRORS, POINT, RESULT

MODEL_DLSBD = {"beta_vae": 0.6, "hae": 0.1, "lsbd_vae": 0.3}
SEED_FACTOR = {0: 0.55, 1: 0.7, 2: 0.9, 3: 0.6}


def write_run(root, model, seed, *, result=True, error=None, world_options=None):
    point = Point(model, {}, "vector", world_options or {"sizes": [4, 4]}, seed)
    run = root / point.name
    run.mkdir(parents=True)
    (run / POINT).write_text(json.dumps(point.to_dict()))
    if error:
        (run / ERRORS).write_text(json.dumps({"error": "CheckpointError", "message": error, "traceback": "..."}) + "\n")
    if result:
        d = MODEL_DLSBD[model]
        (run / RESULT).write_text(json.dumps({
            "point": point.to_dict(), "step": 100, "train_s": 1.0, "verify_s": 1.0, "agree": True,
            "collapse": {"collapsed": seed == 3, "reason": "KL < 0.05 nats in every dimension" if seed == 3 else ""},
            "group": {"summary": {"disentangled": model == "hae", "dlsbd": d, "leakage_offdiag_max": d / 2 + seed / 100,
                                  "equivariance_error": 0.01 * (seed + 1)}},
            "intuitive": {"mig": 1 - d ** 2, "dci_disentanglement": 0.5, "factor_vae": SEED_FACTOR[seed],
                          "beta_vae": 0.9, "sap": 0.1 * seed, "modularity": 0.8, "disentangled": False}}))
    return run


@pytest.fixture
def sweep(tmp_path):
    for model in MODEL_DLSBD:
        for seed in SEED_FACTOR:
            write_run(tmp_path, model, seed)
    write_run(tmp_path, "beta_vae", 7, result=False, error="checkpoint.pt is corrupted")
    write_run(tmp_path, "hae", 8, result=False)
    return tmp_path


def test_statistics_have_their_known_answers(sweep):
    paths = report(sweep, n_boot=300, seed=0, figures=False)
    stats = json.loads(paths["report.json"].read_text())
    assert stats["counts"] == {"done": 12, "failed": 1, "incomplete": 1}
    var = {v["score"]: v for v in stats["variance"]}
    # D_LSBD depends only on the model: no seed share; FactorVAE only on the seed: no model share
    assert var["dlsbd"]["model"] == pytest.approx(1.0) and var["dlsbd"]["seed"] == pytest.approx(0.0, abs=1e-12)
    assert var["factor_vae"]["model"] == pytest.approx(0.0, abs=1e-12) and var["factor_vae"]["seed"] == pytest.approx(1.0)
    assert var["dlsbd"]["hparams"] is None                        # no hyperparameter was varied
    assert var["modularity"]["model"] is None                     # constant: nothing to split
    rho = {(c["group"], c["intuitive"]): c for c in stats["correlation"]}
    # MIG = 1 − D_LSBD² decreases with D_LSBD: ρ = −1 exactly, and every resample agrees
    assert rho[("dlsbd", "mig")]["rho"] == pytest.approx(-1.0)
    assert rho[("dlsbd", "mig")]["low"] == pytest.approx(-1.0) and rho[("dlsbd", "mig")]["high"] == pytest.approx(-1.0)
    assert rho[("equivariance_error", "sap")]["rho"] == pytest.approx(1.0)   # both increase with the seed
    assert rho[("dlsbd", "modularity")]["rho"] is None            # a constant metric has no rank correlation
    assert rho[("dlsbd", "mig")]["n"] == 12                        # failed and incomplete runs left out
    per = {p["config"]: p for p in stats["per_config"]}
    assert per["hae"]["group_pass"] == 4 and per["beta_vae"]["group_pass"] == 0
    assert per["beta_vae"]["factor_vae"] == pytest.approx({"median": 0.65, "min": 0.55, "max": 0.9})


def test_collapsed_runs_are_flagged_per_run_and_counted_per_model(sweep):
    paths = report(sweep, n_boot=50, seed=0, figures=False)
    stats = json.loads(paths["report.json"].read_text())
    assert {p["config"]: p["collapsed"] for p in stats["per_config"]} == dict.fromkeys(MODEL_DLSBD, 1)  # seed 3
    rows = {r["name"]: r for r in collect(sweep)}
    assert rows[Point("hae", {}, "vector", {"sizes": [4, 4]}, 3).name]["collapsed"] is True
    assert rows[Point("hae", {}, "vector", {"sizes": [4, 4]}, 0).name]["collapsed"] is False
    assert rows[Point("hae", {}, "vector", {"sizes": [4, 4]}, 8).name]["collapsed"] is None  # no result: unknown
    md = paths["report.md"].read_text()
    assert "| collapsed |" in md and "not a finding" in md


def test_files_table_and_figures(sweep, capsys):
    assert main(["report", str(sweep), "--n-boot", "200"]) == 0
    out = sweep / "report"
    assert str(out / "report.md") in capsys.readouterr().out
    rows = list(csv.DictReader((out / "runs.csv").open()))
    assert len(rows) == 14 and {r["status"] for r in rows} == {"done", "failed", "incomplete"}
    md = (out / "report.md").read_text()
    assert "14 runs: 12 done, 1 failed, 1 incomplete" in md
    assert "checkpoint.pt is corrupted" in md                     # the failure is shown, not dropped
    assert "| all runs | D_LSBD | MIG | -1.00 | [-1.00, -1.00] | 12 |" in md
    for name in ("scores.png", "variance.png", "spearman.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_hyperparameter_settings_and_world_settings_are_separated(tmp_path):
    for seed in (0, 1):
        for opts in ({"sizes": [4, 4]}, {"sizes": [5, 5]}):
            write_run(tmp_path, "hae", seed, world_options=opts)
    rows = collect(tmp_path)
    assert sorted({r["setting"] for r in rows}) == ["vector+sizes=4x4", "vector+sizes=5x5"]
    stats = json.loads(report(tmp_path, n_boot=50, figures=False)["report.json"].read_text())
    assert {c["scope"] for c in stats["correlation"]} == {"all runs", "vector+sizes=4x4", "vector+sizes=5x5"}


def test_configs_name_the_varied_hyperparameters(tmp_path):
    for beta in (1, 4):
        point = Point("beta_vae", {"beta": beta, "latent_dim": 2}, "vector", {}, 0)
        (tmp_path / point.name).mkdir()
        (tmp_path / point.name / POINT).write_text(json.dumps(point.to_dict()))
    assert sorted(r["config"] for r in collect(tmp_path)) == ["beta_vae(beta=1)", "beta_vae(beta=4)"]


def test_not_a_sweep_directory(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "holds no runs" in capsys.readouterr().err
    with pytest.raises(ValueError, match="not a directory"):
        collect(tmp_path / "nothing")
