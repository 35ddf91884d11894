"""``groupdrl report SWEEP_DIR``: every run of a sweep in one table, with figures and the study's statistics.

Per world setting: each model's distribution over seeds of the group-theory scores (D_LSBD, largest
off-diagonal leakage, verdict) and of the intuitive ones (MIG, DCI disentanglement, FactorVAE score); the
share of each score's variance due to the model, its hyperparameters and the seed
(:func:`~groupdrl.sweep.stats.variance_shares`); and, across all runs, Spearman's ρ between each group-theory
score and each intuitive metric with a seeded bootstrap interval (:func:`~groupdrl.sweep.stats.spearman_ci`).
"""
from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import numpy as np

from groupdrl._io import atomic_write
from groupdrl.sweep.grid import Point, label
from groupdrl.sweep.stats import spearman_ci, variance_shares
from groupdrl.sweep.task import ERRORS, POINT, RESULT

#: Group-theory scores (Higgins et al. 2018): lower is better except the verdict (1 = disentangled).
GROUP_SCORES = {"dlsbd": "D_LSBD", "leakage_offdiag_max": "max leakage", "equivariance_error": "equivariance error",
                "group_disentangled": "group verdict"}
#: Intuitive metrics (higher is better).
INTUITIVE_SCORES = {"mig": "MIG", "dci_disentanglement": "DCI-D", "factor_vae": "FactorVAE", "beta_vae": "BetaVAE",
                    "sap": "SAP", "modularity": "modularity"}
#: The panels of ``scores.png``.
FIGURE_SCORES = ("dlsbd", "leakage_offdiag_max", "group_disentangled", "mig", "dci_disentanglement", "factor_vae")
_COLUMNS = ("name", "status", "model", "config", "hparams", "world", "setting", "seed", "step", "train_s",
            "verify_s", "collapsed", *GROUP_SCORES, "intuitive_disentangled", "mig", "dci_disentanglement",
            "dci_completeness", "dci_informativeness", "factor_vae", "beta_vae", "sap", "modularity", "explicitness", "agree", "error")


def collect(sweep_dir: str | os.PathLike) -> list[dict]:
    """One flat row per run directory of ``sweep_dir`` (those with a ``point.json``), sorted by name.

    ``status`` is ``"done"`` (a ``result.json``), ``"failed"`` (errors recorded, no result) or
    ``"incomplete"`` (neither: never finished, or running now). Scores missing from a run are None.
    """
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise ValueError(f"sweep_dir: {sweep_dir} is not a directory")
    rows = []
    for run in sorted(p.parent for p in sweep_dir.glob(f"*/{POINT}")):
        point = json.loads((run / POINT).read_text())
        result = json.loads((run / RESULT).read_text()) if (run / RESULT).is_file() else None
        errors = [json.loads(line) for line in (run / ERRORS).read_text().splitlines() if line.strip()] \
            if (run / ERRORS).is_file() else []
        rows.append(_row(run.name, Point.from_dict(result["point"] if result else point), result, errors))
    _label_configs(rows)
    return rows


def _row(name: str, point: Point, result: dict | None, errors: list[dict]) -> dict:
    row = dict.fromkeys(_COLUMNS)
    row.update(name=name, model=point.model, hparams=json.dumps(point.hparams, sort_keys=True), world=point.world,
               setting=label(point.world, point.world_options), seed=point.seed,
               status="done" if result else "failed" if errors else "incomplete")
    if result:
        g = result["group"]["summary"]
        i = result.get("intuitive") or {}
        row.update(step=result["step"], train_s=result.get("train_s"), verify_s=result.get("verify_s"),
                   collapsed=(result.get("collapse") or {}).get("collapsed"),
                   dlsbd=g.get("dlsbd"), leakage_offdiag_max=g.get("leakage_offdiag_max"),
                   equivariance_error=g.get("equivariance_error"), group_disentangled=g.get("disentangled"),
                   intuitive_disentangled=i.get("disentangled"), agree=result.get("agree"),
                   **{k: i.get(k) for k in ("mig", "dci_disentanglement", "dci_completeness", "dci_informativeness",
                                            "factor_vae", "beta_vae", "sap", "modularity", "explicitness")})
    elif errors:
        row["error"] = f"{errors[-1]['error']}: {errors[-1]['message']}"[:300]
    return row


def _label_configs(rows: list[dict]) -> None:
    """``config``: the model, plus the hyperparameters that vary between its runs (e.g. ``beta_vae(beta=4)``)."""
    for model in {r["model"] for r in rows}:
        mine = [r for r in rows if r["model"] == model]
        hps = [json.loads(r["hparams"]) for r in mine]
        varying = sorted({k for hp in hps for k in hp if any(h.get(k) != hp.get(k) for h in hps)})
        for r, hp in zip(mine, hps):
            r["config"] = model + (f"({', '.join(f'{k}={hp.get(k)}' for k in varying)})" if varying else "")


def summarize(rows: list[dict], *, n_boot: int = 2000, seed: int = 0) -> dict:
    """The statistics of :func:`report`: per setting and configuration the scores over seeds, the variance
    shares (model / hyperparameters / seed) of every score, and Spearman's ρ of every (group, intuitive) pair
    over all finished runs (and per setting when there are several). Undefined numbers (a constant score)
    are None."""
    done = [r for r in rows if r["status"] == "done"]
    settings = sorted({r["setting"] for r in done})
    per_config, variance = [], []
    for s in settings:
        mine = [r for r in done if r["setting"] == s]
        for c in sorted({r["config"] for r in mine}):
            runs = [r for r in mine if r["config"] == c]
            per_config.append({"setting": s, "config": c, "n": len(runs),
                               "group_pass": sum(bool(r["group_disentangled"]) for r in runs),
                               "intuitive_pass": sum(bool(r["intuitive_disentangled"]) for r in runs),
                               "collapsed": sum(bool(r["collapsed"]) for r in runs),
                               **{k: _spread([r[k] for r in runs]) for k in (*GROUP_SCORES, *INTUITIVE_SCORES)
                                  if k != "group_disentangled"}})
        tuned = len({r["config"] for r in mine}) > len({r["model"] for r in mine})  # hyperparameters varied
        for k in (*GROUP_SCORES, *INTUITIVE_SCORES):
            v = variance_shares(_values(mine, k), [r["model"] for r in mine], [r["config"] for r in mine])
            variance.append({"setting": s, "score": k, "model": v["levels"][0],
                             "hparams": v["levels"][1] if tuned else None, "seed": v["within"], "n": v["n"]})
    scopes = [("all runs", done)] + ([(s, [r for r in done if r["setting"] == s]) for s in settings]
                                     if len(settings) > 1 else [])
    correlation = [{"scope": name, "group": g, "intuitive": m,
                    **spearman_ci(_values(runs, g), _values(runs, m), n_boot=n_boot, seed=seed)}
                   for name, runs in scopes for g in GROUP_SCORES for m in INTUITIVE_SCORES]
    return _finite({"counts": {s: sum(r["status"] == s for r in rows) for s in ("done", "failed", "incomplete")},
                    "per_config": per_config, "variance": variance, "correlation": correlation,
                    "bootstrap": {"n_boot": n_boot, "seed": seed, "level": 0.95}})


def _finite(obj):
    """NaN / inf → None, recursively (undefined statistics; keeps the JSON standard)."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return None if isinstance(obj, float) and not np.isfinite(obj) else obj


def report(sweep_dir: str | os.PathLike, out: str | os.PathLike | None = None, *, n_boot: int = 2000,
           seed: int = 0, figures: bool = True) -> dict[str, Path]:
    """Aggregate every run of ``sweep_dir`` into ``out`` (default ``sweep_dir/report``); returns the paths.

    Writes ``runs.csv`` (one row per run), ``report.json`` (the rows and :func:`summarize`'s statistics),
    ``report.md`` (tables) and, with ``figures``, ``scores.png`` (per model the distribution over seeds of
    D_LSBD, leakage, verdict, MIG, DCI-D and FactorVAE, one row of panels per world setting),
    ``variance.png`` (variance shares) and ``spearman.png`` (ρ with its interval). Every file is written
    atomically.
    """
    rows = collect(sweep_dir)
    if not rows:
        raise ValueError(f"sweep_dir: {sweep_dir} holds no runs (no */{POINT}); is it a `groupdrl sweep` directory?")
    stats = summarize(rows, n_boot=n_boot, seed=seed)
    out = Path(out) if out is not None else Path(sweep_dir) / "report"
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in ("runs.csv", "report.json", "report.md")}
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(_COLUMNS))
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(paths["runs.csv"], buf.getvalue())
    atomic_write(paths["report.json"], json.dumps({"runs": rows, **stats}, indent=2))
    atomic_write(paths["report.md"], to_markdown(Path(sweep_dir), rows, stats))
    if figures:
        from groupdrl.sweep import _figures

        for name, fig in (("scores.png", _figures.scores(rows)), ("variance.png", _figures.variance(stats)),
                          ("spearman.png", _figures.spearman(stats))):
            paths[name] = out / name
            _figures.save(fig, paths[name])
    return paths


def to_markdown(sweep_dir: Path, rows: list[dict], stats: dict) -> str:
    """The report's tables: counts, runs, per configuration, variance shares, rank correlations, failures."""
    c = stats["counts"]
    lines = [f"# Sweep report: {sweep_dir}", "",
             f"{len(rows)} runs: {c['done']} done, {c['failed']} failed, {c['incomplete']} incomplete.", "",
             "## Runs", "",
             "A collapsed run (posterior KL ≈ 0 in every dimension, or a (near) constant code; "
             "`groupdrl.train.collapse_check`) has verdicts that describe a constant code, not a finding.", "",
             "| run | status | steps | train s | collapsed | group verdict | D_LSBD | max leakage | equivariance err | "
             "intuitive verdict | MIG | DCI-D | FactorVAE |", "|" + "---|" * 13]
    for r in rows:
        lines.append(f"| {r['name']} | {r['status']} | {_f(r['step'], 'd')} | {_f(r['train_s'], '.0f')} | "
                     f"{_f(r['collapsed'])} | "
                     + " | ".join(_f(r[k]) for k in ("group_disentangled", "dlsbd", "leakage_offdiag_max",
                                                     "equivariance_error", "intuitive_disentangled", "mig",
                                                     "dci_disentanglement", "factor_vae")) + " |")
    lines += ["", "## Per model: median [min, max] over seeds", "",
              "| setting | model | runs | collapsed | group pass | intuitive pass | D_LSBD | max leakage | MIG | "
              "DCI-D | FactorVAE |", "|" + "---|" * 11]
    for p in stats["per_config"]:
        lines.append(f"| {p['setting']} | {p['config']} | {p['n']} | {p['collapsed']} | "
                     f"{p['group_pass']}/{p['n']} | "
                     f"{p['intuitive_pass']}/{p['n']} | "
                     + " | ".join(_spread_text(p[k]) for k in ("dlsbd", "leakage_offdiag_max", "mig",
                                                               "dci_disentanglement", "factor_vae")) + " |")
    lines += ["", "## Where the variance comes from", "",
              "Shares of each score's sum of squares within a world setting: between models, between "
              "hyperparameter settings of one model (– when none were varied), and between seeds of one configuration "
              "(they add up to 1; – throughout: the score is constant or missing there, nothing to split).",
              "", "| setting | score | model | hyperparameters | seed | runs |", "|" + "---|" * 6]
    for v in stats["variance"]:
        name = {**GROUP_SCORES, **INTUITIVE_SCORES}[v["score"]]
        lines.append(f"| {v['setting']} | {name} | {_f(v['model'])} | {_f(v['hparams'])} | {_f(v['seed'])} | "
                     f"{v['n']} |")
    b = stats["bootstrap"]
    lines += ["", "## Rank correlation of the two definitions", "",
              f"Spearman's ρ over runs with a {b['level']:.0%} percentile bootstrap interval ({b['n_boot']} "
              f"resamples, seed {b['seed']}). D_LSBD, leakage and equivariance error are lower-is-better: "
              "agreement with an intuitive metric shows as ρ < 0; for the verdict (1 = disentangled) as ρ > 0. "
              "– : a score is constant over these runs (no ranks to correlate).",
              "", "| runs | group score | intuitive metric | ρ | interval | n |", "|" + "---|" * 6]
    for s in stats["correlation"]:
        lines.append(f"| {s['scope']} | {GROUP_SCORES[s['group']]} | {INTUITIVE_SCORES[s['intuitive']]} | "
                     f"{_f(s['rho'], '+.2f')} | [{_f(s['low'], '+.2f')}, {_f(s['high'], '+.2f')}] | {s['n']} |")
    failed = [r for r in rows if r["status"] == "failed"]
    if failed:
        lines += ["", "## Failed runs (tracebacks in RUN/errors.jsonl; rerun the sweep to resume them)", "",
                  "| run | error |", "|---|---|"]
        lines += [f"| {r['name']} | {r['error'].replace('|', '/')} |" for r in failed]
    return "\n".join(lines) + "\n"


def _values(rows: list[dict], key: str) -> list[float]:
    return [float("nan") if r[key] is None else float(r[key]) for r in rows]


def _spread(values: list) -> dict:
    x = np.array([v for v in values if v is not None], dtype=float)
    x = x[np.isfinite(x)]
    if not len(x):
        return {"median": None, "min": None, "max": None}
    return {"median": float(np.median(x)), "min": float(x.min()), "max": float(x.max())}


def _spread_text(s: dict) -> str:
    return "–" if s["median"] is None else f"{s['median']:.3f} [{s['min']:.3f}, {s['max']:.3f}]"


def _f(v, spec: str = ".3f") -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return format(v, spec)
