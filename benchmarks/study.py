"""The field's study under both definitions: every model × seeds × worlds, one sweep, one report.

Each run is what ``groupdrl compare --quick`` trains (same steps, batch, world sizes and schedule lengths
fitted to the run, :func:`groupdrl.cli.compare_hparams`), then the full verification (``verify_group`` and
every intuitive metric on ``--n-metric`` states). The runs go through :func:`groupdrl.sweep.run_sweep`
(resumable: rerun the command to finish an interrupted study) and are aggregated by
:func:`groupdrl.sweep.report` into ``--results`` (table, variance shares, Spearman correlations, figures).

Usage::

    .venv/bin/python benchmarks/study.py --out runs/study                      # every model, 3 worlds, 3 seeds
    .venv/bin/python benchmarks/study.py --out runs/study --models hae,lsbd_vae --backend ray
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from groupdrl import models
from groupdrl.cli import QUICK, compare_hparams
from groupdrl.sweep import grid_from_dict, report, run_sweep

#: The study's worlds: the quick comparison's two worlds and one world setting no default was chosen on.
WORLDS = {"flatland": ("flatland", QUICK["worlds"]["flatland"]),
          "arrow": ("arrow", QUICK["worlds"]["arrow"]),
          "arrow12x6": ("arrow", {"n_orientations": 12, "n_colours": 6, "image_size": 16})}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="sweep directory (resumable)")
    p.add_argument("--results", type=Path, default=Path(__file__).resolve().parent / "results" / "study",
                   help="where the aggregated report goes")
    p.add_argument("--models", default=",".join(models.names()))
    p.add_argument("--worlds", default=",".join(WORLDS))
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--steps", type=int, default=QUICK["steps"])
    p.add_argument("--n-metric", type=int, default=QUICK["n_metric"])
    p.add_argument("--backend", choices=("local", "ray"), default="local")
    p.add_argument("--no-report", action="store_true", help="run only; aggregate later")
    args = p.parse_args(argv)
    names = [m for m in args.models.split(",") if m]
    worlds = [w for w in args.worlds.split(",") if w]
    unknown = [w for w in worlds if w not in WORLDS]
    if unknown:
        raise SystemExit(f"--worlds: unknown {unknown}; known {list(WORLDS)}")
    grid = grid_from_dict({
        "models": [{"name": n, "hparams": compare_hparams(n, args.steps, True)} for n in names],
        "worlds": [{"name": WORLDS[w][0], "options": WORLDS[w][1]} for w in worlds],
        "seeds": [int(s) for s in args.seeds.split(",")],
        "fit": {"steps": args.steps, "batch_size": QUICK["batch_size"], "lr": 1e-3, "checkpoint_every": args.steps},
        "verify": {"full": True, "n_metric": args.n_metric, "seed": 0}}, where="study")
    t0 = time.perf_counter()
    summary = run_sweep(grid, args.out, backend=args.backend, cpus=1, save_report=False)
    print(f"study: {len(summary.results)} runs done, {len(summary.failed)} failed, {time.perf_counter() - t0:.0f} s")
    if not args.no_report:
        report(args.out, args.results)
    return 1 if summary.failed else 0


if __name__ == "__main__":
    sys.exit(main())
