"""`groupdrl sweep` on a local Ray with 2 CPUs (one Ray session for the module): a 2-model × 2-seed grid in which
one task's worker is killed mid-run; the next call skips the finished runs and resumes the killed one from its
checkpoint, bit-identically to an uninterrupted run."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time

import pytest
import ray
import torch

from groupdrl.cli import main
from groupdrl.sweep import grid_from_dict, run_point, run_sweep
from groupdrl.sweep.task import ERRORS, RUNNING

STEPS = 100
GRID = {"models": [{"name": "beta_vae", "hparams": {"latent_dim": 2, "hidden": [16]}},
                   {"name": "hae", "hparams": {"hidden": [16]}}],
        "worlds": [{"name": "vector", "options": {"sizes": [4, 4]}}], "seeds": [0, 1],
        "fit": {"steps": STEPS, "batch_size": 16, "checkpoint_every": 10},
        "verify": {"full": False, "n_metric": 200}}


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def kill_when_checkpointed(run_dir, killed: dict, stop: threading.Event):
    """Kill (SIGKILL) the worker running ``run_dir`` once it has written a checkpoint: a task killed mid-run."""
    while not stop.is_set():
        try:
            pid = json.loads((run_dir / RUNNING).read_text())["pid"]
        except (FileNotFoundError, json.JSONDecodeError):
            pid = None
        if pid and (run_dir / "checkpoint.pt").exists():
            os.kill(pid, signal.SIGKILL)
            killed["pid"] = pid
            return
        time.sleep(0.005)


@contextlib.contextmanager
def killer(run_dir):
    """While the block runs, SIGKILL the worker of ``run_dir`` once it has a checkpoint; yields the record."""
    killed, stop = {}, threading.Event()
    thread = threading.Thread(target=kill_when_checkpointed, args=(run_dir, killed, stop))
    thread.start()
    try:
        yield killed
    finally:
        stop.set()
        thread.join()


def test_killed_task_is_recorded_then_resumed(tmp_path):
    grid = grid_from_dict(GRID)
    target = tmp_path / grid.points()[0].name
    with killer(target) as killed:
        first = run_sweep(grid, tmp_path, progress_every=5, quiet=True)
    assert killed, "the worker was never seen mid-run"
    assert [f["name"] for f in first.failed] == [target.name] and len(first.results) == 3
    (error,) = [json.loads(line) for line in (target / ERRORS).read_text().splitlines()]
    assert error["where"] == "ray" and error["error"] == "WorkerCrashedError", error
    stopped_at = error["checkpoint_step"]
    assert 10 <= stopped_at < STEPS and not (target / RUNNING).exists()

    second = run_sweep(grid, tmp_path, quiet=True)
    assert second.ok and second.skipped == 3 and len(second.results) == 4
    resumed = next(r for r in second.results if r["name"] == target.name)
    assert resumed["resumed_from"] == stopped_at and resumed["step"] == STEPS
    assert len((target / ERRORS).read_text().splitlines()) == 1     # the crash stays on record

    # the resumed run ends where an uninterrupted one does (same seed, one thread each)
    straight = run_point(grid.points()[0], tmp_path / "straight", cpus=1, checkpoint_every=10)
    assert straight["status"] == "done"
    a, b = (torch.load(d / "checkpoint.pt", weights_only=True)["model"] for d in (target, tmp_path / "straight"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_with_retries_ray_resumes_a_killed_task_at_once(tmp_path):
    grid = grid_from_dict({**GRID, "models": GRID["models"][:1], "seeds": [2]})
    target = tmp_path / grid.points()[0].name
    with killer(target) as killed:
        summary = run_sweep(grid, tmp_path, max_retries=1, quiet=True)
    assert killed and summary.ok and not (target / ERRORS).exists()
    assert 10 <= summary.results[0]["resumed_from"] < STEPS and summary.results[0]["step"] == STEPS


def test_an_exception_inside_a_task_is_recorded_by_the_cli(tmp_path, capsys):
    args = ["sweep", "--models", "beta_vae", "--worlds", "vector", "--world-set", "sizes=[4,4]", "--set",
            "latent_dim=2", "--set", "hidden=[16]", "--seeds", "0,1", "--steps", "4", "--light", "--n-metric", "100",
            "--out", str(tmp_path), "--no-save"]
    grid_point = grid_from_dict({"models": [{"name": "beta_vae", "hparams": {"latent_dim": 2, "hidden": [16]}}],
                                 "worlds": [{"name": "vector", "options": {"sizes": [4, 4]}}], "seeds": [0]})
    broken = tmp_path / grid_point.points()[0].name
    broken.mkdir(parents=True)
    (broken / "checkpoint.pt").write_bytes(b"junk")
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "1 runs done" in out and f"failed: {broken.name}: CheckpointError" in out and "errors.jsonl" in out
    record = json.loads((broken / ERRORS).read_text())
    assert record["where"] == "task" and "load_checkpoint" in record["traceback"]


@pytest.mark.parametrize("kwargs,match", [({"gpus": 1}, "GPU"), ({"cpus": 3}, "CPU")])
def test_tasks_the_local_ray_cannot_hold_are_refused(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        run_sweep(grid_from_dict(GRID), tmp_path, quiet=True, **kwargs)
