"""Fuzz: run directories, checkpoints and `groupdrl verify` on generated damage — a CheckpointError (or a
one-line CLI error), never a report from a damaged run."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fuzz_helpers import attempt, time_bound
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from groupdrl import cli, models
from groupdrl.train import CheckpointError, fit, load_checkpoint, load_run
from groupdrl.worlds import vector_world

WORLD = vector_world((3, 2), names=("a", "b"), embedding="onehot")
SPEC = {"name": "vector", "kwargs": {"sizes": [3, 2], "names": ["a", "b"], "embedding": "onehot"}}
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=4),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                   max_size=3), max_leaves=8)
RUN_CASES = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fuzzrun")
    fit(models.get("beta_vae", WORLD, seed=0, latent_dim=2, hidden=[8]), WORLD, steps=2, batch_size=8, out_dir=out,
        quiet=True, world_config=SPEC)
    return out


@st.composite
def damage(draw, data: bytes) -> bytes:
    """Flipped bytes, a cut, appended or replaced bytes."""
    kind = draw(st.sampled_from(["flip", "cut", "append", "splice"]))
    out = bytearray(data)
    if kind == "flip":
        for i in draw(st.lists(st.integers(0, len(out) - 1), min_size=1, max_size=4, unique=True)):
            out[i] ^= draw(st.integers(1, 255))
    elif kind == "cut":
        out = out[:draw(st.integers(0, len(out) - 1))]
    elif kind == "append":
        out += draw(st.binary(min_size=1, max_size=64))
    else:
        i = draw(st.integers(0, len(out) - 1))
        out[i:i + 8] = draw(st.binary(min_size=0, max_size=16))
    return bytes(out)


@RUN_CASES
@given(data=st.data())
def test_damaged_checkpoints_never_load(run, tmp_path, data):
    good = (run / "checkpoint.pt").read_bytes()
    bad = data.draw(damage(good).filter(lambda b: b != good))
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(bad)
    state, error = attempt(lambda: load_checkpoint(path), str(path))
    assert state is None and ("corrupted" in error or "not a groupdrl checkpoint" in error), error


@RUN_CASES
@given(config=st.one_of(JSON, JSON.map(lambda v: {"model": v, "world": v, "fit": {}}), st.just("the run's")),
       data=st.data())
def test_groupdrl_verify_on_generated_run_directories(run, tmp_path_factory, config, data, capsys):
    """Generated config.json, damaged checkpoints, files: exit status 1 or 2 with one line; a report only
    for the intact run."""
    out = tmp_path_factory.mktemp("case")
    shutil.copy(run / "checkpoint.pt", out / "checkpoint.pt")
    if config == "the run's":
        shutil.copy(run / "config.json", out / "config.json")
    else:
        (out / "config.json").write_text(json.dumps(config))
    if data.draw(st.booleans(), "damage the checkpoint"):
        (out / "checkpoint.pt").write_bytes(data.draw(damage((run / "checkpoint.pt").read_bytes())))
    damaged = (out / "checkpoint.pt").read_bytes() != (run / "checkpoint.pt").read_bytes()  # a splice may be a no-op
    target = out if data.draw(st.booleans(), "directory (else its config file)") else out / "config.json"
    with time_bound():
        status = cli.main(["verify", str(target), "--no-save", "--json", "--n-metric", "50"])
    captured = capsys.readouterr()
    if config == "the run's" and not damaged and target == out:
        assert status == 0 and json.loads(captured.out)["step"] == 2
        return
    err = captured.err.strip()
    assert status in (1, 2) and err.startswith("groupdrl verify: error: ") and "\n" not in err, (status, err)
    with pytest.raises(CheckpointError):
        load_run(target)


@RUN_CASES
@given(sizes=st.sampled_from([[3, 2], [3, 2], [2, 3], [3, 3]]), beta=st.sampled_from([4.0, 4.0, 0.5, 4.000001]),
       lr=st.sampled_from([1e-3, 1e-3, 2e-3]), seed=st.sampled_from([0, 0, 1]))
def test_resume_continues_only_the_same_run(run, tmp_path_factory, sizes, beta, lr, seed):
    out = tmp_path_factory.mktemp("resume")
    for name in ("checkpoint.pt", "config.json"):
        shutil.copy(run / name, out / name)
    world = vector_world(tuple(sizes), names=("a", "b"), embedding="onehot")
    spec = {**SPEC, "kwargs": {**SPEC["kwargs"], "sizes": sizes}}
    model = models.get("beta_vae", world, seed=0, latent_dim=2, hidden=[8], beta=beta)
    same = sizes == [3, 2] and beta == 4.0 and lr == 1e-3 and seed == 0
    result, error = attempt(lambda: fit(model, world, steps=3, batch_size=8, lr=lr, seed=seed, out_dir=out,
                                        quiet=True, resume=True, world_config=spec), str(out / "checkpoint.pt"))
    assert (result is not None) == same, error
    event("resumed" if same else "refused")
    if not same:
        assert "another run configuration" in error and "in the checkpoint" in error
        assert json.loads((out / "config.json").read_text()) == json.loads((run / "config.json").read_text())
