"""Run every speed benchmark and write ``benchmarks/RESULTS.md``: one command to compare a change.

Usage::

    .venv/bin/python benchmarks/run_all.py            # all, about 20-40 minutes on 2 cores
    .venv/bin/python benchmarks/run_all.py --quick    # smoke run of the plumbing, a few minutes
    .venv/bin/python benchmarks/run_all.py --only nn_encoder,train_overhead

Runs ``render``, ``metrics``, ``nn_encoder``, ``train_step``, ``train_overhead``, ``verify_group`` and
``verify_cli`` (not the quality benchmark ``train_quality``) in this process, one after the other, each writing
its detailed table to ``--out`` (default ``benchmarks/results``; with ``--quick`` a new temporary folder, so that a
smoke run never replaces recorded results). ``RESULTS.md`` (``--results``, default ``benchmarks/RESULTS.md``,
with ``--quick`` inside ``--out``) lists the date, the git commit, the machine, the library versions, the
load before and after each benchmark and every headline number against its target. The checkout this file
lives in is imported (not an installed ``groupdrl``). Exit status 1 when a benchmark failed.
"""
from __future__ import annotations

import argparse
import datetime
import importlib
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for path in (str(HERE), str(ROOT)):  # this checkout's benchmarks and groupdrl come first
    if path not in sys.path:
        sys.path.insert(0, path)

import torch  # noqa: E402

RESULTS = HERE / "results"
#: metric -> (comparison, target, what it is); metrics without an entry are reported without a target.
TARGETS: dict[str, tuple[str, float, str]] = {
    "render_min_step_over_render": (">=", 5.0, "training step / render time, smallest over worlds"),
    "render_dsprites_grid_s": ("<=", 60.0, "full dSprites grid render (s)"),
    "metrics_reference_over_suite": (">=", 3.0, "reference DCI time / suite of six metrics"),
    "metrics_dci_max_difference": ("<=", 0.02, "DCI agreement with disentanglement_lib"),
    "c4_step_ratio_2t": ("<=", 1.5, "C4 encoder step / plain CNN step, 2 threads"),
    "c4_step_ratio_1t": ("<=", 1.5, "C4 encoder step / plain CNN step, 1 thread"),
    "so2_step_ratio_2t": ("<=", 3.0, "SO(2) encoder step / plain CNN step, 2 threads"),
    "so2_step_ratio_1t": ("<=", 3.0, "SO(2) encoder step / plain CNN step, 1 thread"),
    "so2_export_eval_ratio": ("", 0.0, "exported SO(2) encoder forward / plain CNN forward"),
    "so2_equivariance_error": ("<=", 0.038, "SO(2) median off-grid error / |f|, 64 px (before: 0.038)"),
    "so2_equivariance_error_rot": ("<=", 0.207, "same, rotating coordinates (before: 0.207)"),
    "train_step_share_of_peak_before": ("", 0.0, "β-VAE 64 px step FLOP/s / fp32 peak, before"),
    "train_step_share_of_peak_default": ("", 0.0, "β-VAE 64 px step FLOP/s / fp32 peak, fit's default now"),
    "train_step_default_over_before": ("<=", 1.0, "β-VAE 64 px step, default / before"),
    "train_step_worst_world_default_over_before": ("<=", 1.05, "slowest built-in world, default / before "
                                                   "(within timing noise)"),
    "fit_over_bare": ("<=", 1.02, "fit / bare loop of the same arithmetic (wall time)"),
    "fit_over_bare_cpu": ("<=", 1.02, "same, process CPU time"),
    "verify_group_own_s": ("<=", 5.0, "verify_group's own time, 10,000 pairs, d = 10 (s)"),
    "verify_cli_wall_s": ("<=", 60.0, "`groupdrl verify RUN`, 16 px flatland, default settings (wall s)"),
    "verify_cli_cpu_s": ("", 0.0, "same, CPU s of the command"),
}


def _module_main(name: str) -> Callable[[list[str]], dict[str, float]]:
    def run(argv: list[str]) -> dict[str, float]:
        return importlib.import_module(name).main(argv)

    return run


def _verify_group(argv: list[str]) -> dict[str, float]:
    """``verify_group.py`` (the worlds helper's) has no ``--quick`` / ``--out``: time its headline setting
    (or a small one), and let its ``main`` rewrite its table only when results go to ``benchmarks/results``."""
    bench = importlib.import_module("verify_group")
    quick, out = "--quick" in argv, Path(argv[argv.index("--out") + 1])
    own = bench.run(200, 10)[0] if quick else bench.run(2000, 10)[0]
    if not quick and out.resolve() == RESULTS.resolve():
        bench.main()
    return {"verify_group_own_s": own}


#: name -> function(argv) returning the benchmark's headline numbers; argv carries ``--out`` and ``--quick``.
BENCHMARKS: dict[str, Callable[[list[str]], dict[str, float]]] = {
    "render": _module_main("render"),
    "metrics": _module_main("metrics"),
    "nn_encoder": _module_main("nn_encoder"),
    "train_step": _module_main("train_step"),
    "train_overhead": _module_main("train_overhead"),
    "verify_group": _verify_group,
    "verify_cli": _module_main("verify_cli"),
}


def _load() -> str:
    return "{:.1f}".format(os.getloadavg()[0])


def _git() -> str:
    try:
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{rev}{' (with uncommitted changes)' if dirty else ''}" if rev else "unknown"


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _versions() -> str:
    out = [f"Python {platform.python_version()}", f"torch {torch.__version__}"]
    for name in ("numpy", "escnn", "sklearn"):
        try:
            out.append(f"{name} {importlib.import_module(name).__version__}")
        except (ImportError, AttributeError):
            pass
    return ", ".join(out)


def _check(metric: str, value: float) -> tuple[str, str]:
    """``(target, verdict)`` cells of a metric."""
    if metric not in TARGETS or not TARGETS[metric][0]:
        return "", ""
    op, target, _ = TARGETS[metric]
    ok = value <= target if op == "<=" else value >= target
    return f"{op} {target:g}", "yes" if ok else "**no**"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke run of every benchmark (minutes, meaningless numbers)")
    p.add_argument("--only", default="", help=f"comma-separated subset of {', '.join(BENCHMARKS)}")
    p.add_argument("--out", type=Path, default=None, help="directory of the detailed tables")
    p.add_argument("--results", type=Path, default=None, help="path of RESULTS.md")
    args = p.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        p.error(f"--only: unknown benchmarks {unknown}; choose from {list(BENCHMARKS)}")
    out = args.out or (Path(tempfile.mkdtemp(prefix="groupdrl-bench-")) if args.quick else RESULTS)
    results = args.results or (out / "RESULTS.md" if args.quick else HERE / "RESULTS.md")
    started = datetime.datetime.now(datetime.timezone.utc)
    rows, failed = [], []
    for name in names:
        bench_argv = ["--out", str(out)] + (["--quick"] if args.quick else [])
        before, t0, threads = _load(), time.perf_counter(), torch.get_num_threads()
        print(f"== {name} {' '.join(bench_argv)} (load {before})", flush=True)
        try:
            summary = BENCHMARKS[name](bench_argv)
        except Exception as err:  # a failing benchmark is reported, the others still run
            traceback.print_exc()
            failed.append(name)
            summary = {"error": f"{type(err).__name__}: {err}"}
        finally:
            torch.set_num_threads(threads)
        rows.append((name, summary, before, _load(), time.perf_counter() - t0))
    lines = ["# Speed benchmarks", "",
             f"Produced by `benchmarks/run_all.py{' --quick' if args.quick else ''}`"
             f"{' (smoke run: the numbers mean nothing)' if args.quick else ''} on "
             f"{started:%Y-%m-%d %H:%M} UTC, commit {_git()}.", "",
             f"- Machine: {_cpu()}, {os.cpu_count()} logical cores, {platform.system()} {platform.release()}.",
             f"- Software: {_versions()}.",
             f"- Load (1-minute average; above {os.cpu_count()} means other jobs competed for the cores): given "
             "before → after each benchmark. Ratios are paired (interleaved, same load) where the benchmark says so.",
             f"- Details: `{out}/<benchmark>.md`.", "",
             "| benchmark | metric | value | target | met | load | seconds |", "|---|---|---|---|---|---|---|"]
    for name, summary, before, after, seconds in rows:
        for metric, value in summary.items():
            if isinstance(value, float):
                target, verdict = _check(metric, value)
                what = TARGETS.get(metric, ("", 0.0, ""))[2]
                shown = f"{value:.3f}" if abs(value) < 100 else f"{value:.0f}"
                lines.append(f"| {name} | `{metric}`{': ' + what if what else ''} | {shown} | {target} | {verdict} "
                             f"| {before} → {after} | {seconds:.0f} |")
            else:
                lines.append(f"| {name} | {metric} | {value} | | **no** | {before} → {after} | {seconds:.0f} |")
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {results}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
