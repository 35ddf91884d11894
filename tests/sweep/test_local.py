"""`run_sweep(backend="local")` and the CLI: train + verify per grid point, skip finished runs, resume, record
failures; and `import groupdrl` leaves Ray unimported."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from groupdrl.cli import main
from groupdrl.sweep import grid_from_dict, run_sweep
from groupdrl.sweep.task import ERRORS, RESULT

TINY = {"hparams": {"latent_dim": 2, "hidden": [16]}}


def spec(steps=12, seeds=(0, 1), full=False, models=("beta_vae",)):
    return {"models": [{"name": m, **TINY} for m in models],
            "worlds": [{"name": "vector", "options": {"sizes": [4, 4]}}], "seeds": list(seeds),
            "fit": {"steps": steps, "batch_size": 16, "checkpoint_every": 4},
            "verify": {"full": full, "n_metric": 200}}


def test_full_verification_then_skip(tmp_path):
    grid = grid_from_dict(spec(full=True, seeds=(0,)))
    first = run_sweep(grid, tmp_path, backend="local", save_report=False, quiet=True)
    assert first.ok and first.skipped == 0 and len(first.results) == 1
    r = first.results[0]
    assert r["status"] == "done" and r["step"] == 12 and r["resumed_from"] == 0
    assert r["point"]["seed"] == 0 and r["threads"] == 1
    assert isinstance(r["group"]["summary"]["disentangled"], bool) and isinstance(r["agree"], bool)
    for k in ("mig", "dci_disentanglement", "factor_vae", "beta_vae", "sap", "modularity"):
        assert 0.0 <= r["intuitive"][k] <= 1.0
    again = run_sweep(grid, tmp_path, backend="local", quiet=True)
    assert again.skipped == 1 and again.results == first.results          # finished runs are not redone


def test_more_steps_continue_finished_runs_with_the_tasks_threads(tmp_path):
    threads = torch.get_num_threads()
    run_sweep(grid_from_dict(spec()), tmp_path, backend="local", quiet=True)
    longer = run_sweep(grid_from_dict(spec(steps=16)), tmp_path, backend="local", cpus=2, quiet=True)
    # the same points with more steps: each run continues from its checkpoint and is verified again
    assert longer.skipped == 0 and [(x["resumed_from"], x["step"]) for x in longer.results] == [(12, 16)] * 2
    assert [x["threads"] for x in longer.results] == [2, 2] and torch.get_num_threads() == threads


def test_a_killed_run_resumes_bit_identically(tmp_path):
    from groupdrl import models, worlds
    from groupdrl.train import fit

    grid = grid_from_dict(spec(seeds=(3,)))
    (point,) = grid.points()
    # a run killed after its checkpoint at step 8: fit stopped there, no result written
    world = worlds.get("vector", sizes=[4, 4])
    fit(models.get("beta_vae", world, seed=3, **TINY["hparams"]), world, steps=8, batch_size=16, seed=3,
        out_dir=tmp_path / "a" / point.name, checkpoint_every=4, quiet=True,
        world_config={"name": "vector", "kwargs": {"sizes": [4, 4]}})
    resumed = run_sweep(grid, tmp_path / "a", backend="local", quiet=True)
    straight = run_sweep(grid, tmp_path / "b", backend="local", quiet=True)
    assert resumed.results[0]["resumed_from"] == 8 and straight.results[0]["resumed_from"] == 0
    a, b = (torch.load(d / point.name / "checkpoint.pt", weights_only=True)["model"] for d in (tmp_path / "a",
                                                                                              tmp_path / "b"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_failures_are_recorded_and_the_sweep_goes_on(tmp_path):
    grid = grid_from_dict(spec(steps=4))
    broken = tmp_path / grid.points()[0].name
    broken.mkdir(parents=True)
    (broken / "checkpoint.pt").write_bytes(b"not a checkpoint")
    for attempt in (1, 2):
        summary = run_sweep(grid, tmp_path, backend="local", quiet=True)
        assert [f["name"] for f in summary.failed] == [broken.name] and len(summary.results) == 1
        errors = [json.loads(line) for line in (broken / ERRORS).read_text().splitlines()]
        assert len(errors) == attempt                                     # earlier attempts are kept
        assert errors[-1]["error"] == "CheckpointError" and "Traceback" in errors[-1]["traceback"]
        assert not (broken / RESULT).exists() and (broken / "checkpoint.pt").read_bytes() == b"not a checkpoint"
    # fewer steps than a run already has is refused, not silently reported
    shorter = run_sweep(grid_from_dict(spec(steps=2)), tmp_path, backend="local", quiet=True)
    assert any("more than the grid" in f["message"] for f in shorter.failed)


def test_cli_sweep_from_flags_and_from_a_file(tmp_path, capsys):
    flags = ["--models", "beta_vae", "--worlds", "vector", "--world-set", "sizes=[4,4]", "--set", "latent_dim=2",
             "--set", "hidden=[16]", "--grid", "beta=[1,4]", "--steps", "3", "--batch-size", "8", "--light",
             "--n-metric", "100", "--backend", "local", "--no-save"]
    assert main(["sweep", *flags, "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr()
    assert "2 runs done" in out.out and "[sweep] 2/2 done" in out.err
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "beta_vae+beta=1+hidden=16+latent_dim=2__vector+sizes=4x4__seed0",
        "beta_vae+beta=4+hidden=16+latent_dim=2__vector+sizes=4x4__seed0", "grid.json"]
    config = tmp_path / "grid.toml"
    config.write_text('models = ["beta_vae"]\nworlds = [{name = "vector", options = {sizes = [4, 4]}}]\n'
                      'seeds = [0]\n[fit]\nsteps = 2\n[verify]\nfull = false\nn_metric = 100\n')
    assert main(["sweep", "--config", str(config), "--steps", "3", "--out", str(tmp_path / "b")]) == 2
    assert "set ['--steps'] there" in capsys.readouterr().err
    assert main(["sweep", "--config", str(config), "--backend", "local", "--out", str(tmp_path / "b")]) == 0
    assert main(["sweep", "--worlds", "vector", "--out", str(tmp_path / "c")]) == 2
    assert "--models: required" in capsys.readouterr().err
    assert main(["sweep", "--models", "beta_vae", "--worlds", "vector", "--seeds", "0,x", "--out", "c"]) == 2


def test_import_groupdrl_does_not_import_ray():
    code = "import sys, groupdrl, groupdrl.sweep, groupdrl.cli; print('ray' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "False", proc.stderr


@pytest.mark.parametrize("kwargs,match", [({"backend": "dask"}, "backend"), ({"max_retries": -1}, "max_retries"),
                                          ({"cpus": 0}, "cpus"), ({"backend": "local", "address": "x:1"}, "address"),
                                          *([({"backend": "local", "gpus": 1}, "CUDA")] if not torch.cuda.is_available()
                                            else [])])
def test_bad_execution_settings(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        run_sweep(grid_from_dict(spec()), tmp_path, **kwargs)


@pytest.mark.parametrize("command,phrase", [("sweep", "resume"), ("report", "Spearman")])
def test_the_commands_explain_themselves(command, phrase, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0 and phrase in capsys.readouterr().out
