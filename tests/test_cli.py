"""The ``groupdrl`` command line, through ``main(argv)`` and one real subprocess."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from groupdrl import models
from groupdrl.cli import main, parse_assignments

VEC = ["--world", "vector", "--world-set", "sizes=[4,4]"]
SMALL = ["--set", "latent_dim=2", "--set", "hidden=[16]"]


def test_python_dash_m_help():
    proc = subprocess.run([sys.executable, "-m", "groupdrl", "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    for command in ("train", "verify", "compare", "models", "worlds", "demo"):
        assert command in proc.stdout


@pytest.mark.parametrize("command,phrase", [("train", "--resume"), ("verify", "D_LSBD"), ("compare", "--quick"),
                                            ("models", "data"), ("worlds", "built-in"), ("demo", "random pairs")])
def test_each_command_explains_itself(command, phrase, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert phrase in capsys.readouterr().out


def test_listings_and_demo(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in models.names())
    assert main(["worlds"]) == 0
    assert "flatland" in capsys.readouterr().out
    assert main(["demo"]) == 0
    assert "ok" in capsys.readouterr().out


def test_unknown_names_list_the_valid_ones(tmp_path, capsys):
    assert main(["train", "nope", *VEC, "--out", str(tmp_path / "r")]) == 2
    assert "beta_vae" in capsys.readouterr().err
    assert main(["train", "hae", "--world", "nowhere", "--out", str(tmp_path / "r")]) == 2
    assert "flatland" in capsys.readouterr().err
    assert main(["compare", *VEC, "--models", "hae,nope", "--out", str(tmp_path / "c")]) == 2
    assert "valid names" in capsys.readouterr().err
    assert main(["train", "hae", *VEC, "--set", "oops", "--out", str(tmp_path / "r")]) == 2
    assert "key=value" in capsys.readouterr().err


def test_parse_assignments():
    assert parse_assignments(["beta=4", "hidden=[8, 8]", "steps=uniform", "flag=true"], "--set") == \
        {"beta": 4, "hidden": [8, 8], "steps": "uniform", "flag": True}


def test_train_resume_and_verify(tmp_path, capsys):
    run = str(tmp_path / "run")
    args = ["train", "beta_vae", *VEC, *SMALL, "--out", run, "--quiet", "--checkpoint-every", "2"]
    assert main([*args, "--steps", "4"]) == 0
    assert main([*args, "--steps", "4"]) == 2  # an existing run is not overwritten
    assert "--resume" in capsys.readouterr().err
    assert main([*args, "--steps", "6", "--resume"]) == 0
    assert torch.load(f"{run}/checkpoint.pt", weights_only=True)["step"] == 6
    capsys.readouterr()
    assert main(["verify", run, "--json", "--n-metric", "300"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["step"] == 6 and report["model"]["name"] == "beta_vae"
    assert isinstance(report["group"]["summary"]["disentangled"], bool)
    assert 0.0 <= report["intuitive"]["mig"] <= 1.0
    assert (tmp_path / "run" / "report" / "report.md").exists() and (tmp_path / "run" / "report" / "report.png").exists()
    (tmp_path / "run" / "checkpoint.pt").write_bytes(b"junk")
    assert main(["verify", run]) == 1
    assert "corrupted" in capsys.readouterr().err


def test_compare_prints_a_table(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", *VEC, "--models", "beta_vae,lsbd_vae", "--steps", "5", "--batch-size", "16",
                 "--n-metric", "300", "--out", str(out), "--quiet"]) == 0
    table = capsys.readouterr().out
    assert "| beta_vae | 5 |" in table and "| lsbd_vae | 5 |" in table and "D_LSBD" in table
    assert (out / "compare.md").exists()
    page = (out / "compare.html").read_text()  # the same table as a self-contained page
    assert "<td>beta_vae</td>" in page and "<td>lsbd_vae</td>" in page and "<th>D_LSBD</th>" in page
    rows = json.loads((out / "compare.json").read_text())
    assert [r["model"]["name"] for r in rows] == ["beta_vae", "lsbd_vae"]
    assert all(isinstance(r["collapse"]["collapsed"], bool) for r in rows)  # fit's check, shown as a column
    # compare is a sweep (one world, one seed): its runs are sweep runs that `groupdrl report` reads
    from groupdrl.sweep import collect

    assert sorted(r["name"] for r in rows) == sorted(p.name for p in out.iterdir() if p.is_dir())
    assert [r["status"] for r in collect(out)] == ["done", "done"]
    assert main(["compare", *VEC, "--models", "beta_vae", "--steps", "5", "--out", str(out)]) == 2  # not empty
    assert main(["compare", *VEC, "--models", "beta_vae", "--steps", "5", "--batch-size", "16", "--n-metric", "300",
                 "--out", str(out), "--quiet", "--force"]) == 0  # --force retrains
    assert json.loads((out / "compare.json").read_text())[0]["resumed_from"] == 0


def test_compare_says_which_models_cannot_read_the_world(tmp_path, capsys):
    out = tmp_path / "cmp"
    dihedral = ["--world", "dihedral_shape", "--world-set", "image_size=16", "--world-set", "n_colours=2"]
    assert main(["compare", *dihedral, "--models", "beta_vae,hae", "--steps", "3", "--batch-size", "8",
                 "--n-metric", "200", "--out", str(out), "--quiet"]) == 0
    table = capsys.readouterr().out
    assert "| beta_vae | 3 |" in table and "not applicable: hae: HAE handles factors of the groups" in table
    assert "not applicable: hae" in (out / "compare.md").read_text()
    assert "not applicable: hae" in (out / "compare.html").read_text()
    assert [r["model"]["name"] for r in json.loads((out / "compare.json").read_text())] == ["beta_vae"]
    assert main(["compare", *dihedral, "--models", "hae", "--steps", "3", "--out", str(tmp_path / "none")]) == 2


def test_compare_fits_schedules_to_its_run():
    """AnnealedVAE/JointVAE ramp their capacity over the first third of a compare run, whatever its length,
    DisDiff pretrains its DDPM for the first half; --quick adds its own settings; models without schedules
    get nothing."""
    from groupdrl.cli import compare_hparams

    assert compare_hparams("annealed_vae", 600, quick=False) == {"capacity_steps": 200}
    assert compare_hparams("joint_vae", 3000, quick=True) == {"capacity_steps": 1000}
    assert compare_hparams("disdiff", 600, quick=True) == {"pretrain_steps": 300}
    assert compare_hparams("beta_vae", 600, quick=True) == {}
    assert compare_hparams("hae", 600, quick=True) == {"gamma_warmup": 200}


USER_MODULE = '''
import math
import torch


def position_code(x):
    """(cos, sin) of the ball's column and row on the torus, read off the image."""
    w = x.shape[-1]
    t = 2 * math.pi * torch.arange(w, dtype=x.dtype, device=x.device) / w
    cols, rows = x[:, 0].sum(1), x[:, 0].sum(2)
    ang = [torch.atan2((m * t.sin()).sum(1), (m * t.cos()).sum(1)) for m in (cols, rows)]
    return torch.stack([ang[0].cos(), ang[0].sin(), ang[1].cos(), ang[1].sin()], 1)


class Encoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(()))

    def forward(self, x):
        return position_code(x) * self.scale


encoder = Encoder()
'''
FLAT = ["--world", "flatland", "--world-set", "n=4", "--world-set", "image_size=8", "--n-metric", "300"]


def test_verify_a_user_encoder_from_a_module(tmp_path, monkeypatch, capsys):
    (tmp_path / "user_encoders.py").write_text(USER_MODULE)
    monkeypatch.chdir(tmp_path)
    for name in ("user_encoders:encoder", "user_encoders:Encoder", "user_encoders:position_code"):
        assert main(["verify", "--encoder", name, *FLAT, "--out", "rep"]) == 0, name
        out = capsys.readouterr()
        assert "| group theory (Higgins et al. 2018) | disentangled ✓ |" in out.out, name
        assert "[verify] intuitive: BetaVAE score" in out.err
    assert (tmp_path / "rep" / "report.html").exists() and (tmp_path / "rep" / "report.md").exists()
    assert main(["verify", "--encoder", "user_encoders:encoder", *FLAT, "--json", "--no-save", "--quiet"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["group"]["disentangled"] is True and out.err == ""


def test_verify_a_user_encoder_file_on_labelled_arrays(tmp_path, capsys):
    from groupdrl.worlds import flatland

    (tmp_path / "enc.py").write_text(USER_MODULE)
    world = flatland(4, 8)
    states = world.all_states()[:-3]  # an incomplete grid: the last three states are not in the data
    np.savez(tmp_path / "balls.npz", images=world.render(states).numpy(), factors=states.numpy(),
             names=np.array(["x", "y"]), periodic=np.array([True, True]))
    assert main(["verify", "--encoder", f"{tmp_path / 'enc.py'}:position_code", "--data", str(tmp_path / "balls.npz"),
                 "--n-metric", "300", "--out", str(tmp_path / "rep"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "| group theory (Higgins et al. 2018) | disentangled ✓ |" in out
    assert "13 of the 16 states of its grid" in out


@pytest.mark.parametrize("argv,message", [
    (["verify"], "RUN: give a run directory, or --encoder"),
    (["verify", "--encoder", "math:cos"], "--encoder needs exactly one world"),
    (["verify", "--encoder", "nowhere_module_xyz:f", "--world", "flatland"], "cannot import 'nowhere_module_xyz'"),
    (["verify", "--encoder", "math:nothing", "--world", "flatland"], "has no attribute 'nothing'"),
    (["verify", "--encoder", "math", "--world", "flatland"], "expected MODULE:NAME"),
    (["verify", "run_dir", "--world", "flatland"], "a run directory brings its own model and world"),
    (["verify", "--encoder", "math:cos", "--data", "x.npz", "--world-set", "n=4"], "--world-set"),
    (["verify", "--encoder", "math:cos", "--data", "missing.npz"], "--data: path: cannot read"),
])
def test_verify_refuses_unclear_requests(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert message in capsys.readouterr().err
