"""Runs that cannot be mixed or corrupted: the lock, --resume's configuration check, the content hash, and
one-line CLI errors on anything that is not a run directory (issue 10, "Runs")."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from groupdrl import cli, models
from groupdrl.train import CheckpointError, fit, load_checkpoint, load_run
from groupdrl.train.checkpoint import RunLock
from groupdrl.worlds import vector_world

WORLD = vector_world((6, 5), names=("a", "b"), embedding="onehot")
KW = dict(batch_size=16, lr=1e-3, seed=5, checkpoint_every=5, quiet=True, log_every=1)


def build(world=WORLD):
    return models.get("beta_vae", world, seed=1, hidden=[16], latent_dim=2)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    fit(build(), WORLD, steps=5, out_dir=out, world_config={"name": "vector", "kwargs": {"sizes": [6, 5]}}, **KW)
    return out


def test_a_second_run_on_a_locked_directory_fails_clearly(tmp_path):
    lock = RunLock(tmp_path)
    try:
        with pytest.raises(CheckpointError, match=f"in use by another groupdrl run \\(pid {os.getpid()}"):
            fit(build(), WORLD, steps=2, out_dir=tmp_path, **KW)
        assert not (tmp_path / "checkpoint.pt").exists()
    finally:
        lock.release()
    fit(build(), WORLD, steps=2, out_dir=tmp_path, **KW)  # released: the directory is usable again
    fit(build(), WORLD, steps=4, out_dir=tmp_path, resume=True, **KW)  # and the run released it at the end


def test_resume_refuses_another_world_option_naming_it(tmp_path):
    fit(build(), WORLD, steps=5, out_dir=tmp_path, world_config={"name": "vector", "kwargs": {"sizes": [6, 5]}},
        **KW)
    before = (tmp_path / "config.json").read_text()
    other = vector_world((6, 4), names=("a", "b"), embedding="onehot")
    with pytest.raises(CheckpointError, match=r"world\.kwargs\.sizes: \[6, 5\] in the checkpoint, \[6, 4\] now"):
        fit(build(other), other, steps=10, out_dir=tmp_path, resume=True,
            world_config={"name": "vector", "kwargs": {"sizes": [6, 4]}}, **KW)
    # a user world without a registry entry is told apart by its structure
    with pytest.raises(CheckpointError, match=r"world\.repr"):
        fit(build(other), other, steps=10, out_dir=tmp_path, resume=True,
            world_config={"name": "vector", "kwargs": {"sizes": [6, 5]}}, **KW)
    with pytest.raises(CheckpointError, match=r"model\.hparams\.beta: 4\.0 in the checkpoint, 2\.0 now"):
        fit(models.get("beta_vae", WORLD, seed=1, hidden=[16], latent_dim=2, beta=2.0), WORLD, steps=10,
            out_dir=tmp_path, resume=True, world_config={"name": "vector", "kwargs": {"sizes": [6, 5]}}, **KW)
    assert (tmp_path / "config.json").read_text() == before  # config.json is not rewritten


@pytest.mark.parametrize("where", [0, 100, "middle", -90, -40, -1])
def test_any_flipped_byte_is_a_checkpoint_error(run, tmp_path, where):
    data = bytearray((run / "checkpoint.pt").read_bytes())
    i = len(data) // 2 if where == "middle" else where
    data[i] ^= 0x01
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupted"):
        load_checkpoint(path)


def test_plain_torch_load_still_reads_a_checkpoint(run):
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    assert state["step"] == 5 and state["format"] == 2


def test_a_checkpoint_without_hash_is_refused(run, tmp_path):
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    torch.save(state, tmp_path / "checkpoint.pt")
    with pytest.raises(CheckpointError, match="no content hash"):
        load_checkpoint(tmp_path / "checkpoint.pt")


def test_a_cut_metrics_line_does_not_block_resume(tmp_path):
    fit(build(), WORLD, steps=5, out_dir=tmp_path, **KW)
    with open(tmp_path / "metrics.jsonl", "a") as fh:
        fh.write('{"step": 6, "loss": 1.')  # killed in the middle of an append
    fit(build(), WORLD, steps=7, out_dir=tmp_path, resume=True, **KW)
    steps = [json.loads(line)["step"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 8))


def test_load_run_refuses_a_config_edited_after_training(run, tmp_path):
    for name in ("checkpoint.pt", "config.json"):
        (tmp_path / name).write_bytes((run / name).read_bytes())
    config = json.loads((tmp_path / "config.json").read_text())
    config["model"]["hparams"]["latent_dim"] = 3
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="latent_dim: 2 in the checkpoint, 3 now"):
        load_run(tmp_path)


def _bad_runs(run: Path, root: Path) -> dict[str, Path]:
    root.mkdir()
    (root / "a_file").write_text("hi")
    for name, config in (("empty_config", "{}"), ("list_config", "[1]"), ("not_json", "{"),
                         ("no_checkpoint", (run / "config.json").read_text())):
        (root / name).mkdir()
        (root / name / "config.json").write_text(config)
    (root / "garbage").mkdir()
    (root / "garbage" / "config.json").write_text((run / "config.json").read_text())
    (root / "garbage" / "checkpoint.pt").write_bytes(os.urandom(3000))
    bad_model = json.loads((run / "config.json").read_text())
    bad_model["model"]["name"] = "no_such_model"
    (root / "unknown_model").mkdir()
    (root / "unknown_model" / "config.json").write_text(json.dumps(bad_model))
    (root / "unknown_model" / "checkpoint.pt").write_bytes((run / "checkpoint.pt").read_bytes())
    return {p.name: p for p in root.iterdir()} | {"missing": root / "missing"}


def test_groupdrl_verify_gives_one_line_errors(run, tmp_path, capsys):
    for name, path in _bad_runs(run, tmp_path / "bad").items():
        assert cli.main(["verify", str(path), "--no-save"]) == 1, name
        err = capsys.readouterr().err.strip()
        assert err.startswith("groupdrl verify: error: ") and "\n" not in err, (name, err)
