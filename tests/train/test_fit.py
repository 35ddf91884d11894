"""The fit loop: exact resume, atomic and validated checkpoints, divergence, metrics, configuration."""
from __future__ import annotations

import json
import math

import pytest
import torch

from groupdrl import models
from groupdrl.train import CheckpointError, TrainingDiverged, fit, load_checkpoint, load_run, resolve_device, step_seed
from groupdrl.worlds import vector_world

WORLD = vector_world((6, 5), names=("a", "b"), embedding="onehot")
KW = dict(batch_size=16, lr=1e-3, seed=5, checkpoint_every=5, quiet=True, log_every=1)


def build(name: str = "hae"):
    return models.get(name, WORLD, seed=1, hidden=[32, 32])


def interrupt_at(model, call: int, exc: BaseException):
    """Make the ``call``-th loss evaluation raise ``exc`` (a run killed in the middle of a step)."""
    loss, count = model.loss, [0]

    def wrapped(batch, generator=None, step=None):
        count[0] += 1
        if count[0] == call:
            raise exc
        return loss(batch, generator, step)

    model.loss = wrapped


def test_resume_after_kill_is_bit_identical(tmp_path):
    straight = fit(build(), WORLD, steps=20, out_dir=tmp_path / "a", **KW)

    killed = build()
    interrupt_at(killed, 13, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        fit(killed, WORLD, steps=20, out_dir=tmp_path / "b", **KW)
    assert load_checkpoint(tmp_path / "b" / "checkpoint.pt")["step"] == 10
    resumed = fit(build(), WORLD, steps=20, out_dir=tmp_path / "b", resume=True, **KW)

    for (k, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), k
    opt_a = load_checkpoint(tmp_path / "a" / "checkpoint.pt")["optimizer"]["state"]
    opt_b = load_checkpoint(tmp_path / "b" / "checkpoint.pt")["optimizer"]["state"]
    assert all(torch.equal(opt_a[i]["exp_avg_sq"], opt_b[i]["exp_avg_sq"]) for i in opt_a)
    # the metrics of the steps run twice (11, 12) are not duplicated
    steps = [json.loads(line)["step"] for line in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 21))


def test_vae_noise_is_part_of_the_resumable_stream(tmp_path):
    """beta_vae draws reparameterisation noise every step: resume must replay it exactly too."""
    straight = fit(build("beta_vae"), WORLD, steps=8, out_dir=tmp_path / "a", **{**KW, "checkpoint_every": 4})
    fit(build("beta_vae"), WORLD, steps=4, out_dir=tmp_path / "b", **{**KW, "checkpoint_every": 4})
    resumed = fit(build("beta_vae"), WORLD, steps=8, out_dir=tmp_path / "b", resume=True,
                  **{**KW, "checkpoint_every": 4})
    assert all(torch.equal(a, b) for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()))
    other_seed = fit(build("beta_vae"), WORLD, steps=8, out_dir=tmp_path / "c", **{**KW, "seed": 6})
    assert not all(torch.equal(a, b) for a, b in zip(straight.state_dict().values(), other_seed.state_dict().values()))


def test_checkpoint_is_plain_data_written_atomically(tmp_path):
    fit(build(), WORLD, steps=6, out_dir=tmp_path, **KW)
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)  # no pickled code inside
    assert state["step"] == 6 and state["seed"] == 5
    assert json.loads(state["config"])["model"] == build().config
    assert not list(tmp_path.glob("*.tmp"))
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["fit"]["steps"] == 6 and config["world"]["name"] == "vector"


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_corrupted_checkpoint_is_a_clear_error_not_a_restart(tmp_path, damage):
    fit(build(), WORLD, steps=5, out_dir=tmp_path, **KW)
    path = tmp_path / "checkpoint.pt"
    data = path.read_bytes()
    path.write_bytes({"garbage": b"not a checkpoint at all", "truncated": data[: len(data) // 2],
                      "empty": b""}[damage])
    with pytest.raises(CheckpointError, match="corrupted"):
        fit(build(), WORLD, steps=10, out_dir=tmp_path, resume=True, **KW)
    with pytest.raises(FileExistsError, match="resume"):  # nor does a fresh run silently overwrite it
        fit(build(), WORLD, steps=10, out_dir=tmp_path, **KW)
    assert path.read_bytes() != data  # left as it was for the user to inspect


def test_resume_needs_a_matching_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        fit(build(), WORLD, steps=5, out_dir=tmp_path / "none", resume=True, **KW)
    fit(build(), WORLD, steps=5, out_dir=tmp_path / "a", **KW)
    with pytest.raises(CheckpointError, match="another run configuration"):
        fit(build(), WORLD, steps=10, out_dir=tmp_path / "a", resume=True, **{**KW, "lr": 2e-3})
    with pytest.raises(CheckpointError, match="another run configuration"):
        fit(models.get("hae", WORLD, hidden=[16]), WORLD, steps=10, out_dir=tmp_path / "a", resume=True, **KW)


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    model = build()
    loss = model.loss
    count = [0]

    def poisoned(batch, generator=None, step=None):
        count[0] += 1
        out = loss(batch, generator, step)
        if count[0] == 8:
            out = {**out, "loss": out["loss"] * math.nan}
        return out

    model.loss = poisoned
    with pytest.raises(TrainingDiverged, match=r"step 8: the loss is not finite.*step 5"):
        fit(model, WORLD, steps=20, out_dir=tmp_path, **KW)
    state = load_checkpoint(tmp_path / "checkpoint.pt")
    assert state["step"] == 5
    assert all(torch.isfinite(v).all() for v in state["model"].values())
    assert all(torch.isfinite(p).all() for p in model.parameters())  # the bad step was not applied


def test_load_run_rebuilds_the_trained_model(tmp_path):
    trained = fit(build(), WORLD, steps=5, out_dir=tmp_path, **KW)
    model, world = load_run(tmp_path, world=WORLD)
    assert not model.training
    trained.eval()  # hae standardises its code with running statistics in eval mode
    x = WORLD.render(WORLD.all_states())
    with torch.no_grad():
        torch.testing.assert_close(model.encode(x), trained.encode(x))


def test_metrics_and_progress_lines(tmp_path, capsys):
    fit(build(), WORLD, steps=4, out_dir=tmp_path, **{**KW, "quiet": False, "log_every": 2})
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [2, 4]
    assert {"loss", "recon", "latent", "obs_per_s"} <= set(records[0])
    err = capsys.readouterr().err
    assert "[hae] step 4/4" in err and "latent" in err


def test_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="steps"):
        fit(build(), WORLD, steps=0, out_dir=tmp_path)
    with pytest.raises(ValueError, match="lr"):
        fit(build(), WORLD, steps=1, lr=-1.0, out_dir=tmp_path)
    with pytest.raises(ValueError, match="observations of shape"):
        fit(build(), vector_world((6, 5)), steps=1, out_dir=tmp_path)
    with pytest.raises(ValueError, match="device"):
        resolve_device("tpu")
    assert resolve_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            resolve_device("cuda")
        assert resolve_device(None) == torch.device("cpu")


def test_step_seed_depends_on_every_part():
    base = step_seed(0, 10, 0, "data")
    assert base == step_seed(0, 10, 0, "data")
    assert len({base, step_seed(1, 10, 0, "data"), step_seed(0, 11, 0, "data"), step_seed(0, 10, 1, "data"),
                step_seed(0, 10, 0, "noise")}) == 5
    assert 0 <= base < 2**63


def _image_model_and_world():
    from groupdrl import worlds

    world = worlds.get("flatland", n=4, image_size=16)
    return models.get("beta_vae", world, seed=0), world


def test_channels_last_is_the_same_function(tmp_path):
    """The default channels-last layout changes float rounding only: a few steps agree with NCHW to 1e-4."""
    kw = {**KW, "batch_size": 8}
    model, world = _image_model_and_world()
    fast = fit(model, world, steps=3, out_dir=tmp_path / "a", **kw)
    assert fast.encoder.conv[0].weight.is_contiguous(memory_format=torch.channels_last)
    model, world = _image_model_and_world()
    plain = fit(model, world, steps=3, out_dir=tmp_path / "b", channels_last=False, **kw)
    assert plain.encoder.conv[0].weight.is_contiguous()
    for (name, a), b in zip(fast.named_parameters(), plain.parameters()):
        assert torch.allclose(a, b, atol=1e-4), name
    assert any(not torch.equal(a, b) for a, b in zip(fast.parameters(), build().parameters()))


def test_bf16_precision_trains_and_is_recorded(tmp_path):
    model, world = _image_model_and_world()
    fit(model, world, steps=3, out_dir=tmp_path, precision="bf16", **{**KW, "batch_size": 8})
    assert json.loads((tmp_path / "config.json").read_text())["fit"]["precision"] == "bf16"
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert all(math.isfinite(line["loss"]) for line in lines) and len(lines) == 3
    assert all(p.dtype == torch.float32 for p in model.parameters())  # autocast: weights stay float32
    with pytest.raises(ValueError, match="precision: expected one of"):
        fit(build(), WORLD, steps=1, out_dir=tmp_path / "x", precision="fp16", **KW)


def test_compile_switch_compiles_the_loss(tmp_path, monkeypatch):
    """compile=True hands the model (forward = loss) to torch.compile (not run here: compiling takes minutes)."""
    compiled = []

    def fake_compile(module):
        compiled.append(module)
        return module

    monkeypatch.setattr(torch, "compile", fake_compile)
    model = build()
    fit(model, WORLD, steps=2, out_dir=tmp_path, compile=True, **KW)
    assert compiled == [model]
