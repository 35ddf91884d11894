"""Running a grid: the runs still to do, executed as Ray tasks (or one after another), with a progress line."""
from __future__ import annotations

import json
import os
import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from groupdrl.sweep.grid import Grid, Point, check_resources
from groupdrl.sweep.task import RUNNING, is_done, record_failure, run_point

BACKENDS = ("ray", "local")


@dataclass
class SweepSummary:
    """What a ``run_sweep`` call did: ``results`` holds every finished run of the grid (skipped ones
    included, read from their ``result.json``), ``failed`` the failure records of this call; both in grid
    order."""

    out: Path
    results: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    skipped: int = 0
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed


def run_sweep(grid: Grid, out: str | os.PathLike, *, backend: str = "ray", address: str | None = None,
              cpus: int | None = None, gpus: float | None = None, num_cpus: int | None = None,
              max_retries: int = 0, save_report: bool = True, progress_every: float = 30.0,
              quiet: bool = False) -> SweepSummary:
    """Run every grid point not yet done into ``out/<point name>/``; return a :class:`SweepSummary`.

    Finished runs (a ``result.json`` for the same point) are skipped; a run with a checkpoint but no result
    (killed, or failed in an earlier call) resumes from it; a failure is recorded in its run directory and
    the other runs go on.

    Parameters
    ----------
    grid : Grid
        From :func:`~groupdrl.sweep.load_grid` or :func:`~groupdrl.sweep.grid_from_dict`.
    out : path
        The sweep directory (created); ``out/grid.json`` records the last grid run there.
    backend : "ray" or "local"
        ``"ray"``: one Ray task per run, each declaring ``num_cpus=cpus, num_gpus=gpus`` so Ray packs them.
        ``"local"``: the runs one after another in this process (tiny grids, debugging); everything but the
        executor is shared.
    address : str, optional
        An existing Ray cluster (``ray.init(address=...)``; ``out`` must then be on a file system every node
        sees). Default: a new local Ray (or the one this process already started).
    cpus, gpus : optional
        Per-task resources; default the grid's ``[resources]``. Torch uses ``cpus`` threads in each task;
        ``gpus > 0`` trains on CUDA.
    num_cpus : int, optional
        CPUs of a new local Ray (default: all of this machine's).
    max_retries : int
        Ray retries of a task whose worker died (each retry resumes from the checkpoint); 0 records the
        crash, and the next ``run_sweep`` call resumes the run.
    save_report : bool
        Write each run's ``report/`` (md, json, png) when it is verified with ``full``.
    progress_every : float
        Seconds between progress lines (stderr) while nothing finishes.
    quiet : bool
        No progress lines.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend: expected one of {list(BACKENDS)}, got {backend!r}")
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError(f"max_retries: expected an int ≥ 0, got {max_retries!r}")
    if address is not None and backend != "ray":
        raise ValueError("address: only the ray backend connects to a cluster")
    res = check_resources({"cpus": grid.resources["cpus"] if cpus is None else cpus,
                           "gpus": grid.resources["gpus"] if gpus is None else gpus}, "resources")
    if backend == "local" and res["gpus"] > 0 and not torch.cuda.is_available():
        raise ValueError(f"gpus: {res['gpus']} per task asked for, torch sees no CUDA device")
    out = Path(out).resolve()
    points = grid.points()
    out.mkdir(parents=True, exist_ok=True)
    from groupdrl.train.checkpoint import write_json

    write_json(out / "grid.json", grid.to_dict())
    summary = SweepSummary(out=out)
    todo = []
    for p in points:
        if is_done(out / p.name, p):
            summary.results.append(json.loads((out / p.name / "result.json").read_text()))
        else:
            todo.append(p)
    summary.skipped = len(points) - len(todo)
    progress = Progress(total=len(points), skipped=summary.skipped, quiet=quiet)
    kwargs = {"cpus": res["cpus"], "gpus": res["gpus"], "checkpoint_every": grid.checkpoint_every,
              "save_report": save_report, "sweep_id": uuid.uuid4().hex}

    def finished(result: dict) -> None:
        (summary.results if result["status"] == "done" else summary.failed).append(result)
        progress.update(result)

    progress.line()
    if todo:
        if backend == "local":
            _run_local(todo, out, kwargs, finished, progress)
        else:
            _run_ray(todo, out, kwargs, finished, progress, address=address, num_cpus=num_cpus,
                     max_retries=max_retries, progress_every=progress_every)
    order = {p.name: i for i, p in enumerate(points)}
    summary.results.sort(key=lambda r: order[r["name"]])
    summary.failed.sort(key=lambda r: order[r["name"]])
    summary.elapsed_s = progress.elapsed()
    return summary


def _run_local(todo: list[Point], out: Path, kwargs: dict, finished: Callable, progress: Progress) -> None:
    for p in todo:
        progress.running = 1
        finished(run_point(p, out / p.name, **kwargs))


def _run_ray(todo: list[Point], out: Path, kwargs: dict, finished: Callable, progress: Progress, *,
             address: str | None, num_cpus: int | None, max_retries: int, progress_every: float) -> None:
    try:
        import ray  # slow to import: only here
    except ImportError:
        raise ImportError("backend: 'ray' needs Ray (pip install 'groupdrl[sweep]', or ray); --backend local runs "
                          "the grid without it") from None

    started_here = not ray.is_initialized()
    if started_here:
        if address is None:
            ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
    try:
        if address is None:  # a local Ray cannot grow: a task asking for more than it has would wait forever
            have = ray.cluster_resources()
            for key, name in (("cpus", "CPU"), ("gpus", "GPU")):
                if kwargs[key] > have.get(name, 0):
                    raise ValueError(f"{key}: each task asks for {kwargs[key]} {name}(s), the local Ray has "
                                     f"{have.get(name, 0):g}")
        task = ray.remote(num_cpus=kwargs["cpus"], num_gpus=kwargs["gpus"], max_retries=max_retries)(run_point)
        pending = {task.remote(p, out / p.name, **kwargs): p for p in todo}
        submitted = time.time()
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=progress_every)
            for ref in ready:
                p = pending.pop(ref)
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayError as err:  # the worker died (killed, out of memory, node lost)
                    (out / p.name / RUNNING).unlink(missing_ok=True)
                    result = record_failure(out / p.name, err, "".join(traceback.format_exception(err)),
                                            where="ray", started=submitted)
                finished(result)
            progress.running = _count_running(out, [q.name for q in pending.values()], kwargs["sweep_id"])
            if not ready:
                progress.line()
    finally:
        if started_here:
            ray.shutdown()


def _count_running(out: Path, names: list[str], sweep_id: str) -> int:
    """In-flight tasks that have started (their ``running.json`` carries this call's id); the others queue."""
    n = 0
    for name in names:
        try:
            n += json.loads((out / name / RUNNING).read_text()).get("sweep_id") == sweep_id
        except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
            pass
    return n


class Progress:
    """One line for the sweep as a whole: ``[sweep] 5/8 done (2 skipped), 1 failed, 2 running | elapsed
    0:00:42 | ETA 0:00:20``; the ETA extrapolates the rate at which this call's runs have finished."""

    def __init__(self, total: int, skipped: int, quiet: bool):
        self.total, self.done, self.failed, self.running, self.finished_now = total, skipped, 0, 0, 0
        self.skipped, self.quiet, self.t0 = skipped, quiet, time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def update(self, result: dict) -> None:
        self.finished_now += 1
        if result["status"] == "done":
            self.done += 1
        else:
            self.failed += 1
        self.running = max(0, self.running - 1)
        self.line(f"{result['status']}: {result['name']}" + ("" if result["status"] == "done" else
                                                            f" ({result['error']}: {result['message'][:200]})"))

    def line(self, event: str = "") -> None:
        if self.quiet:
            return
        left = self.total - self.done - self.failed
        eta = "–" if not self.finished_now else _clock(self.elapsed() / self.finished_now * left)
        print(f"[sweep] {self.done}/{self.total} done ({self.skipped} skipped), {self.failed} failed, "
              f"{self.running} running, {left - self.running} queued | elapsed {_clock(self.elapsed())} | ETA {eta}"
              + (f" | {event}" if event else ""), file=sys.stderr, flush=True)


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
