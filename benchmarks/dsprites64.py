"""dSprites at 64 px: β-VAE, β-TCVAE, FactorVAE and DIP-VAE-I next to the published numbers (issue 13 item 4).

Each (model, seed) trains with ``fit`` on the procedural dSprites (1 × 64 × 64, the full 737,280-state grid),
batch 64, Adam(1e-3), the models' default hyperparameters, for ``--steps`` steps (the papers train 3 × 10⁵:
a budget of a few thousand steps on 2 CPU cores is a reduced-budget run, and says so). Then MIG, SAP and DCI
on ``--n-codes`` sampled states (test split half as large) and the FactorVAE score on ``--n-votes`` training /
half as many evaluation votes of 64 images each (disentanglement_lib: 10,000 / 5,000; fewer here for time).
Training throughput (images/s) is recorded per run, next to the bare-loop figure of
``benchmarks/results/train_overhead.md``. Resumable: a (model, seed) with a result in ``--out`` is skipped.

Usage::

    .venv/bin/python benchmarks/dsprites64.py --out runs/dsprites64 --steps 1000
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

from groupdrl import models, worlds
from groupdrl.train import fit
from groupdrl.verify import metrics as M
from groupdrl.verify.metrics._common import encode_states, sample_states

MODELS = ("beta_vae", "beta_tcvae", "factor_vae", "dip_vae_i")
#: Published dSprites anchors (REFERENCE.md §4: mean over 10 seeds, 10 latents, 3 × 10⁵ steps at batch 64);
#: None where the reference gives none.
PUBLISHED = {"beta_vae": {"mig": 0.132, "factor_vae": 0.735, "sap": 0.057, "dci": 0.215},
             "beta_tcvae": {"mig": 0.240, "factor_vae": 0.792, "sap": 0.072, "dci": 0.353},
             "factor_vae": dict.fromkeys(("mig", "factor_vae", "sap", "dci")),
             "dip_vae_i": dict.fromkeys(("mig", "factor_vae", "sap", "dci"))}
RESULTS = Path(__file__).resolve().parent / "results"


def run(name: str, seed: int, args) -> dict:
    """Train one model and score it; the row recorded for (name, seed)."""
    world = worlds.get("dsprites", image_size=64)
    model = models.get(name, world, seed=seed)
    t0 = time.perf_counter()
    model = fit(model, world, steps=args.steps, batch_size=64, lr=1e-3, seed=seed, out_dir=args.out / f"{name}_s{seed}",
                checkpoint_every=args.steps, quiet=True)
    train_s = time.perf_counter() - t0
    model.eval()
    gen = torch.Generator().manual_seed(10_000 + seed)
    train = sample_states(world, args.n_codes, gen)
    test = sample_states(world, args.n_codes // 2, gen)
    t1 = time.perf_counter()
    codes, codes_test = (encode_states(model.encode, world, s, 256) for s in (train, test))
    arrays = dict(codes=codes, factors=train.numpy(), codes_test=codes_test, factors_test=test.numpy(), seed=seed)
    fv = M.factor_vae_score(model.encode, world, n_train=args.n_votes, n_eval=args.n_votes // 2, seed=seed)
    collapse = json.loads((args.out / f"{name}_s{seed}" / "collapse.json").read_text())
    return {"model": name, "seed": seed, "steps": args.steps, "train_s": train_s,
            "images_per_s": args.steps * 64 / train_s, "metrics_s": time.perf_counter() - t1,
            "collapsed": collapse["collapsed"], "mig": M.mig(codes=codes, factors=train.numpy(), seed=seed)["mig"],
            "sap": M.sap(**arrays)["sap"], "dci_disentanglement": M.dci(**arrays)["disentanglement"],
            "factor_vae": fv["eval_accuracy"], "load": os.getloadavg()[0]}


def table(rows: list[dict], args) -> str:
    lines = ["# dSprites 64 px: four baselines against the published numbers", "",
             f"Produced by `benchmarks/dsprites64.py --steps {args.steps}` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}); "
             f"procedural dSprites 1 × 64 × 64, batch 64, Adam(1e-3), default hyperparameters, torch threads "
             f"{torch.get_num_threads()}, torch {torch.__version__}, {platform.machine()}. MIG / SAP / DCI on "
             f"{args.n_codes} sampled states (test {args.n_codes // 2}), FactorVAE score on {args.n_votes} / "
             f"{args.n_votes // 2} votes of 64 images. **Reduced budget: {args.steps} steps = "
             f"{args.steps * 64:,} images ≈ {args.steps * 64 / 737280:.2f} epochs; the published numbers are after "
             "3 × 10⁵ steps.** Load: the 1-minute average at the end of each run (2 shared cores).", "",
             "| model | seed | collapsed | MIG | FactorVAE | DCI-D | SAP | train s | images/s | load |",
             "|" + "---|" * 10]
    for r in rows:
        lines.append(f"| {r['model']} | {r['seed']} | {'yes' if r['collapsed'] else 'no'} | {r['mig']:.3f} | "
                     f"{r['factor_vae']:.3f} | {r['dci_disentanglement']:.3f} | {r['sap']:.3f} | {r['train_s']:.0f} | "
                     f"{r['images_per_s']:.0f} | {r['load']:.1f} |")
    lines += ["", "Median over seeds (published in brackets: REFERENCE.md §4, mean over 10 seeds after 3 × 10⁵ steps).", "",
              "| model | runs | MIG | FactorVAE | SAP | DCI-D |", "|" + "---|" * 6]
    med = {}
    for m in MODELS:
        rs = [r for r in rows if r["model"] == m]
        if not rs:
            continue
        med[m] = statistics.median(r["mig"] for r in rs)
        pub = PUBLISHED[m]
        cells = [f"{statistics.median(r[k] for r in rs):.3f}" + (f" ({pub[p]:.3f})" if pub[p] is not None else "")
                 for k, p in (("mig", "mig"), ("factor_vae", "factor_vae"), ("sap", "sap"),
                              ("dci_disentanglement", "dci"))]
        lines.append(f"| {m} | {len(rs)} | " + " | ".join(cells) + " |")
    if "beta_vae" in med and "beta_tcvae" in med:
        lines += ["", f"Published ordering β-TCVAE above β-VAE on MIG: **{'reproduces' if med['beta_tcvae'] > med['beta_vae'] else 'does not reproduce'}** "
                  f"at this budget (medians {med['beta_tcvae']:.3f} vs {med['beta_vae']:.3f})."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--n-codes", type=int, default=10000)
    p.add_argument("--n-votes", type=int, default=800)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--results", type=Path, default=RESULTS / "dsprites64")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    done = args.out / "rows.jsonl"
    rows = [json.loads(line) for line in done.read_text().splitlines()] if done.is_file() else []
    for seed in (int(s) for s in args.seeds.split(",")):
        for name in args.models.split(","):
            if any(r["model"] == name and r["seed"] == seed and r["steps"] == args.steps for r in rows):
                continue
            row = run(name, seed, args)
            rows.append(row)
            with done.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)
            text = table(sorted(rows, key=lambda r: (MODELS.index(r["model"]), r["seed"])), args)
            args.results.with_suffix(".md").write_text(text)
            args.results.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
