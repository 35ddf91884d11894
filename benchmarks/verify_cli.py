"""Where the time of ``groupdrl verify RUN`` goes, on a 16 px built-in world with default settings.

Trains (once, kept in ``--work``; default a temporary folder) a ``beta_vae`` run on ``flatland`` with
``image_size=16`` (300 steps, the model is only needed to have a real conv encoder), then runs the real
command ``python -m groupdrl verify RUN`` in a subprocess ``--repeats`` times and reports its wall time, its
CPU time (user + system of the child) and the time of each part from its progress lines. With ``--uncached``
it also times, in this process and interleaved with the cached runs, the intuitive half with
``encode_once=False`` (the code path before the encoder cache: every request encoded) — slow: minutes. With
``--before SRC`` (a source tree of an older groupdrl, e.g. ``git archive main | tar -x -C SRC``) it also runs
that tree's ``groupdrl verify RUN``, interleaved (paired runs under the same load). Writes
``benchmarks/results/verify_cli.json``; the table in ``verify_cli.md`` is written by hand from it (with a
cProfile of the command).

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/verify_cli.py [--repeats 3] [--uncached] [--before SRC]``
(also run by ``run_all.py``: one repeat with ``--quick``).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PART = re.compile(r"^\[verify\] (.+): ([0-9.]+) s$")


def train(run: Path) -> None:
    if (run / "checkpoint.pt").exists():
        return
    subprocess.run([sys.executable, "-m", "groupdrl", "train", "beta_vae", "--world", "flatland", "--world-set",
                    "image_size=16", "--steps", "300", "--out", str(run), "--quiet"], check=True, cwd=ROOT)


def load() -> float:
    return os.getloadavg()[0]


def cli_once(run: Path, out: Path | None, src: Path = ROOT) -> dict:
    """``python -m groupdrl verify RUN`` of the groupdrl in ``src`` (``out=None``: an old CLI without ``--out``)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "groupdrl", "verify", str(run), *(["--out", str(out)] if out else [])],
                          cwd=src, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    parts = {m.group(1): float(m.group(2)) for line in proc.stderr.splitlines() if (m := PART.match(line))}
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "parts": parts}


def uncached_once(run: Path) -> dict:
    """The intuitive half as it ran before the cache: ``encode_once=False`` (each request encoded)."""
    from groupdrl.train import load_run
    from groupdrl.verify import verify_intuitive

    model, world = load_run(run)
    parts: dict[str, float] = {}

    def progress(line: str) -> None:
        if m := re.match(r"^(.+): ([0-9.]+) s$", line):
            parts[m.group(1)] = float(m.group(2))

    start, cpu = time.perf_counter(), time.process_time()
    verify_intuitive(model.encode, world, encode_once=False, progress=progress)
    return {"wall_s": time.perf_counter() - start, "cpu_s": time.process_time() - cpu, "parts": parts}


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the benchmark; returns the headline numbers (median wall and CPU seconds of the command)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--uncached", action="store_true", help="also time the intuitive half without the cache")
    p.add_argument("--before", type=Path, help="source tree of an older groupdrl to time the same command from")
    p.add_argument("--work", help="where the run is trained and kept (default: a temporary folder)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results", help="folder of verify_cli.json")
    p.add_argument("--quick", action="store_true", help="one repeat (a smoke run of run_all.py)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work or tmp)
        run = work / "beta_vae_flatland16"
        train(run)
        rows = []
        for r in range(1 if args.quick else args.repeats):
            row = {"repeat": r, "load_before": load(), "cli": cli_once(run, work / "report")}
            if args.before:
                row["before_cli"] = cli_once(run, None, src=args.before)
            if args.uncached:
                row["uncached_intuitive"] = uncached_once(run)
            row["load_after"] = load()
            rows.append(row)
            print(json.dumps(row), flush=True)
    result = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "python": platform.python_version(),
              "threads": os.environ.get("OMP_NUM_THREADS", "torch default"),
              "run": "beta_vae on flatland(n=8, image_size=16), 300 steps", "rows": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "verify_cli.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out / 'verify_cli.json'}")
    return {"verify_cli_wall_s": statistics.median(r["cli"]["wall_s"] for r in rows),
            "verify_cli_cpu_s": statistics.median(r["cli"]["cpu_s"] for r in rows)}


if __name__ == "__main__":
    main()
