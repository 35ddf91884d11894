"""Wall time of ``groupdrl compare --quick`` and, per trained model, its training time, collapse flag and metrics.

Each configuration runs ``python -m groupdrl compare --world W --quick --models M --seed S`` as a subprocess
with ``OMP_NUM_THREADS`` = ``--threads`` (2 = the target machine's cores), timed from start to exit
(training, verification and the table). The runs' ``compare.json`` give the per-model training time, the
collapse check (``groupdrl.train.collapse_check``), MIG and DCI. For reference, each world row also gets the
MIG / DCI of a random code (Gaussian noise of width 10, independent of the observation), and each model the
MIG / DCI of its untrained code (the same model and seed at initialisation): a randomly initialised conv
encoder already separates the images, so "above a random code" alone does not show that a model learned. The 1-minute load
average is recorded before and after each command: the machine is shared, so times are upper bounds.

Usage::

    .venv/bin/python benchmarks/compare_quick.py --worlds flatland,arrow                      # the default models
    .venv/bin/python benchmarks/compare_quick.py --worlds flatland --models BASELINES --seeds 0,1,2 --tag baselines
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from groupdrl import worlds
from groupdrl import models as registry
from groupdrl.cli import DEFAULT_COMPARE, QUICK, compare_hparams, intuitive_metrics

RESULTS = Path(__file__).resolve().parent / "results"
BASELINES = ("beta_vae", "annealed_vae", "dip_vae_i", "dip_vae_ii", "factor_vae", "beta_tcvae", "joint_vae",
             "rf_vae", "infogan", "disdiff")


def random_code_metrics(world_name: str, seed: int, width: int = 10) -> dict:
    """MIG / DCI of codes drawn from N(0, I) independently of the observation (the chance level)."""
    world = worlds.get(world_name, **QUICK["worlds"].get(world_name, {}))
    rng = np.random.default_rng(seed)
    return intuitive_metrics(lambda x: torch.from_numpy(rng.normal(size=(len(x), width))), world,
                             n=QUICK["n_metric"], seed=seed)


@torch.no_grad()
def untrained_code_metrics(world_name: str, model: str, seed: int) -> dict:
    """MIG / DCI of ``model``'s code at initialisation (as ``compare --quick`` builds it, seed ``seed``)."""
    world = worlds.get(world_name, **QUICK["worlds"].get(world_name, {}))
    m = registry.get(model, world, seed=seed, **compare_hparams(model, QUICK["steps"], quick=True)).eval()
    return intuitive_metrics(m.encode, world, n=QUICK["n_metric"], seed=seed)


def run(world: str, models: list[str], seed: int, threads: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cmp"
        cmd = [sys.executable, "-m", "groupdrl", "compare", "--world", world, "--quick", "--models", ",".join(models),
               "--seed", str(seed), "--out", str(out), "--quiet"]
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t0
        if proc.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
        rows = json.loads((out / "compare.json").read_text())
    return {"world": world, "models": models, "seed": seed, "wall_s": wall, "load_before": load0,
            "load_after": os.getloadavg()[0],
            "runs": [{"model": r["model"]["name"], "steps": r["step"], "train_s": r["train_s"],
                      "collapsed": r["collapse"]["collapsed"], "reason": r["collapse"]["reason"],
                      "kl_max": max(r["collapse"]["kl_per_dim"]) if r["collapse"]["kl_per_dim"] else None,
                      "mig": r["intuitive"]["mig"], "dci_d": r["intuitive"]["dci_disentanglement"],
                      "dci_i": r["intuitive"]["dci_informativeness"],
                      "disentangled": r["group"]["summary"]["disentangled"]} for r in rows]}


def table(batch: dict) -> str:
    """Markdown rows of a batch: one per trained model, with the world's random-code and the model's untrained
    MIG / DCI-D next to the trained ones."""
    lines = ["| world | seed | model | steps | train s | collapsed | max KL/dim | MIG | DCI-D | untrained MIG | "
             "untrained DCI-D | Higgins |", "|" + "---|" * 12]
    for r in batch["runs"]:
        rnd = batch["random_code"][r["world"]]
        lines.append(f"| {r['world']} | {r['seed']} | random code | – | – | – | – | {rnd['mig']:.3f} | "
                     f"{rnd['dci_disentanglement']:.3f} | – | – | – |")
        for m in r["runs"]:
            kl = "–" if m["kl_max"] is None else f"{m['kl_max']:.2f}"
            lines.append(f"| {r['world']} | {r['seed']} | {m['model']} | {m['steps']} | {m['train_s']:.0f} | "
                         f"{'yes' if m['collapsed'] else 'no'} | {kl} | {m['mig']:.3f} | {m['dci_d']:.3f} | "
                         f"{m['untrained']['mig']:.3f} | {m['untrained']['dci_d']:.3f} | "
                         f"{'yes' if m['disentangled'] else 'no'} |")
        lines.append(f"| {r['world']} | {r['seed']} | *whole command* | | wall {r['wall_s']:.0f} s | | | | | | | "
                     f"load {r['load_before']:.1f} → {r['load_after']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--worlds", default="flatland,arrow")
    p.add_argument("--models", default=",".join(DEFAULT_COMPARE), help="comma list, or BASELINES for the ten")
    p.add_argument("--seeds", default="0")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--tag", default="default", help="name of this batch in the results JSON")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    names = list(BASELINES) if args.models == "BASELINES" else args.models.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    path = RESULTS / "compare_quick.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    batch = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch "
                        f"{torch.__version__}, Python {platform.python_version()}", "threads": args.threads,
             "quick": QUICK, "runs": [], "random_code": {}}
    for world in args.worlds.split(","):
        batch["random_code"][world] = random_code_metrics(world, 0)
        for seed in seeds:
            r = run(world, names, seed, args.threads)
            for row in r["runs"]:
                init = untrained_code_metrics(world, row["model"], seed)
                row["untrained"] = {"mig": init["mig"], "dci_d": init["dci_disentanglement"]}
            print(json.dumps(r), flush=True)
            batch["runs"].append(r)
    results[args.tag] = batch
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(table(batch))
    print(f"written {path}")


if __name__ == "__main__":
    main()
