"""Sweeps: grids of runs (models × worlds × world options × hyperparameters × seeds) as Ray tasks, and reports.

>>> from groupdrl.sweep import grid_from_dict, run_sweep, report
>>> grid = grid_from_dict({"models": ["beta_vae", "hae"], "worlds": ["flatland"], "seeds": 3,
...                        "fit": {"steps": 600}})                                 # doctest: +SKIP
>>> summary = run_sweep(grid, "runs/study")          # a local Ray; backend="local" runs them in turn  # doctest: +SKIP
>>> report("runs/study")                              # runs/study/report/{report.md, runs.csv, *.png}   # doctest: +SKIP

Ray is imported only when a sweep runs on it (it is slow to import).
"""
from __future__ import annotations

from groupdrl.sweep.evaluate import intuitive_metrics, verify_run
from groupdrl.sweep.execute import SweepSummary, run_sweep
from groupdrl.sweep.grid import Grid, Point, grid_from_dict, load_grid
from groupdrl.sweep.report import collect, report, summarize
from groupdrl.sweep.stats import spearman, spearman_ci, variance_shares
from groupdrl.sweep.task import run_point

__all__ = ["Grid", "Point", "SweepSummary", "collect", "grid_from_dict", "intuitive_metrics", "load_grid", "report",
           "run_point", "run_sweep", "spearman", "spearman_ci", "summarize", "variance_shares", "verify_run"]
