"""One grid point as one task: train (resuming a killed run from its checkpoint), verify, record the result.

A run directory ``SWEEP_DIR/<point name>/`` holds, next to the files of :func:`groupdrl.train.fit`
(``config.json``, ``checkpoint.pt``, ``metrics.jsonl``) and of ``groupdrl verify`` (``report/``):

- ``point.json``: the grid point (model, hyperparameters, world, options, seed, fit and verify settings);
- ``running.json``: while a task runs it (host, pid, the sweep call's id);
- ``result.json``: written atomically when the run is finished and verified — its presence, for the same
  point, is what "done" means;
- ``errors.jsonl``: one record per failed attempt (error type, message, traceback, step reached), kept
  across attempts.
"""
from __future__ import annotations

import json
import os
import socket
import time
import traceback
from pathlib import Path

import torch

import groupdrl
from groupdrl._io import atomic_write
from groupdrl.sweep.grid import Point

POINT = "point.json"
RESULT = "result.json"
RUNNING = "running.json"
ERRORS = "errors.jsonl"


def is_done(run_dir: Path, point: Point) -> bool:
    """Whether ``run_dir`` holds a result of exactly this point (same fit and verify settings too)."""
    path = Path(run_dir) / RESULT
    if not path.is_file():
        return False
    try:
        return json.loads(path.read_text()).get("point") == _normal(point.to_dict())
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return False


def run_point(point: Point, run_dir: str | os.PathLike, *, cpus: int = 1, gpus: float = 0,
              checkpoint_every: int = 500, save_report: bool = True, sweep_id: str = "") -> dict:
    """Train and verify one grid point in ``run_dir``; never raises for a failure of the run itself.

    A checkpoint already in ``run_dir`` is resumed (``fit(..., resume=True)``, bit-identical to an
    uninterrupted run on the same device and thread count); a result is written atomically to
    ``result.json``. Any exception is appended to ``errors.jsonl`` with its traceback and returned as
    ``{"status": "failed", ...}``. Torch uses ``cpus`` threads during the task; ``gpus > 0`` trains on CUDA.

    Returns
    -------
    dict
        ``{"name", "status": "done" | "failed", ...}``; a done run's dict is its ``result.json``.
    """
    from groupdrl.train.checkpoint import write_json

    run_dir = Path(run_dir)
    threads = torch.get_num_threads()
    torch.set_num_threads(cpus)
    started = time.time()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        _claim(run_dir, point)
        write_json(run_dir / RUNNING, {"host": socket.gethostname(), "pid": os.getpid(), "sweep_id": sweep_id,
                                       "started": started})
        device = "cuda" if gpus > 0 else "cpu"
        result = _train_and_verify(point, run_dir, device=device, checkpoint_every=checkpoint_every,
                                   save_report=save_report)
        result.update(name=run_dir.name, status="done", wall_s=time.time() - started, device=device,
                      threads=torch.get_num_threads(), host=socket.gethostname(),
                      versions={"groupdrl": groupdrl.__version__, "torch": torch.__version__})
        write_json(run_dir / RESULT, result)
        return result
    except Exception as err:  # a failed run is recorded, never lost, and the sweep goes on
        return record_failure(run_dir, err, traceback.format_exc(), where="task", started=started)
    finally:
        torch.set_num_threads(threads)
        (run_dir / RUNNING).unlink(missing_ok=True)


def record_failure(run_dir: Path, err: BaseException, trace: str, *, where: str, started: float) -> dict:
    """Append a failure to ``run_dir/errors.jsonl`` (rewritten atomically) and return its record; ``where``
    says who saw it (``"task"``: the run's own exception, ``"ray"``: its worker died)."""
    from groupdrl.train.checkpoint import CHECKPOINT, CheckpointError, load_checkpoint

    run_dir = Path(run_dir)
    try:
        step = load_checkpoint(run_dir / CHECKPOINT)["step"]
    except CheckpointError:
        step = None
    record = {"name": run_dir.name, "status": "failed", "error": type(err).__name__, "message": str(err),
              "traceback": trace, "where": where, "checkpoint_step": step, "host": socket.gethostname(),
              "time": time.time(), "wall_s": time.time() - started}
    path = run_dir / ERRORS
    old = path.read_text() if path.is_file() else ""
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(path, old + json.dumps(record) + "\n")
    return record


def _claim(run_dir: Path, point: Point) -> None:
    """Record the point in ``point.json``, or refuse a directory that holds another grid point's run."""
    from groupdrl.train.checkpoint import write_json

    path = run_dir / POINT
    if path.is_file():
        held = json.loads(path.read_text())
        if {k: held.get(k) for k in ("model", "world", "seed")} != _normal(point.identity()):
            raise ValueError(f"run_dir: {run_dir} holds the run of another grid point ({held}); not mixing them")
    write_json(path, point.to_dict())


def _train_and_verify(point: Point, run_dir: Path, *, device: str, checkpoint_every: int,
                      save_report: bool) -> dict:
    from groupdrl import models, worlds
    from groupdrl.sweep.evaluate import jsonable, verify_run
    from groupdrl.train import fit
    from groupdrl.train.checkpoint import CHECKPOINT, load_checkpoint

    steps = point.fit["steps"]
    ckpt = run_dir / CHECKPOINT
    resumed_from = load_checkpoint(ckpt)["step"] if ckpt.exists() else 0
    if resumed_from > steps:
        raise ValueError(f"steps: the run in {run_dir} already has {resumed_from} steps, more than the grid's "
                         f"{steps}; use another sweep directory for fewer steps")
    world = worlds.get(point.world, **point.world_options)
    model = models.get(point.model, world, seed=point.seed, **point.hparams)
    t0 = time.perf_counter()
    fit(model, world, steps=steps, batch_size=point.fit["batch_size"], lr=point.fit["lr"], seed=point.seed,
        out_dir=run_dir, checkpoint_every=checkpoint_every, resume=resumed_from > 0, device=device,
        log_every=max(1, min(50, steps // 10)), quiet=True,
        world_config={"name": point.world, "kwargs": point.world_options})
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = verify_run(run_dir, world=world, seed=point.verify["seed"], n_metric=point.verify["n_metric"],
                        full=point.verify["full"], save=save_report, device=device)
    verify_s = time.perf_counter() - t0
    combined = report.pop("_report", None)
    report.pop("run")
    return {**jsonable(report), "point": _normal(point.to_dict()), "resumed_from": resumed_from,
            "train_s": train_s, "verify_s": verify_s,
            "agree": None if combined is None else bool(combined.agree)}


def _normal(d: dict) -> dict:
    """The JSON round trip of ``d`` (tuples → lists), so a point compares equal to its saved copy."""
    return json.loads(json.dumps(d, sort_keys=True))
