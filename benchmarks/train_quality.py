"""Quality: do lsbd_vae and hae trained on CPU pass the group-theory verifier on flatland and arrow?

Each (world, model) pair is trained with ``groupdrl.train.fit`` from seed 0, then judged by
``groupdrl.verify.group.verify_group`` (seed 0). The issue's bar: largest off-diagonal leakage ≤ 0.05 and
D_LSBD ≤ 0.05. Results go to ``benchmarks/results/train_quality.md`` (and ``.json``).

Usage::

    .venv/bin/python benchmarks/train_quality.py [--only flatland:lsbd_vae,arrow:hae] [--threads 1]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
from pathlib import Path

import numpy as np
import torch

from groupdrl import models, worlds
from groupdrl.train import fit
from groupdrl.verify.group import verify_group

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
SEED = 0
#: Small images keep each run within minutes on a shared 2-core machine.
WORLDS = {
    "flatland": {"n": 8, "image_size": 16},
    "arrow": {"n_orientations": 8, "n_colours": 8, "image_size": 16},
}
RUNS = {
    "lsbd_vae": {"steps": 3000, "batch_size": 32, "lr": 1e-3, "hparams": {}},
    "hae": {"steps": 3000, "batch_size": 32, "lr": 1e-3, "hparams": {}},
}


def encoder(model):
    def encode(x):
        with torch.no_grad():
            return model.encode(x.float())
    return encode


def run(world_name: str, model_name: str, out_root: Path, hparams: dict) -> dict:
    world = worlds.get(world_name, **WORLDS[world_name])
    cfg = {**RUNS[model_name], "hparams": {**RUNS[model_name]["hparams"], **hparams}}
    model = models.get(model_name, world, seed=SEED, **cfg["hparams"])
    out = out_root / _tag(world_name, model_name, cfg["hparams"])
    t0 = time.perf_counter()
    resume = (out / "checkpoint.pt").exists()  # an interrupted benchmark continues its runs exactly
    fit(model, world, steps=cfg["steps"], batch_size=cfg["batch_size"], lr=cfg["lr"], seed=SEED, out_dir=out,
        checkpoint_every=250, resume=resume, log_every=250, world_config={"name": world_name, "kwargs": WORLDS[world_name]})
    train_s = time.perf_counter() - t0
    model.eval()
    t0 = time.perf_counter()
    rep = verify_group(encoder(model), world, seed=SEED)
    verify_s = time.perf_counter() - t0
    leak = np.asarray(rep.leakage, dtype=float)
    dlsbd = None if rep.dlsbd is None else float(rep.dlsbd["value"])
    off = float(leak[~np.eye(len(leak), dtype=bool)].max())
    return {"world": world_name, "world_kwargs": WORLDS[world_name], "model": model_name, "seed": SEED,
            "steps": cfg["steps"], "batch_size": cfg["batch_size"], "lr": cfg["lr"], "hparams": cfg["hparams"],
            "train_s": train_s, "verify_s": verify_s, "disentangled": bool(rep.disentangled),
            "equivariance_error": _scalar(rep.equivariance_error), "homomorphism_error": _scalar(rep.homomorphism_error),
            "leakage_offdiag_max": off, "leakage": leak.tolist(), "dlsbd": dlsbd,
            "dlsbd_frequencies": None if rep.dlsbd is None else _jsonable(rep.dlsbd["frequencies"]),
            "passes_bar": bool(off <= 0.05 and dlsbd is not None and dlsbd <= 0.05)}


def _jsonable(v):
    return np.asarray(v).tolist() if not isinstance(v, dict) else {k: _jsonable(x) for k, x in v.items()}


def _scalar(v):
    if v is None:
        return None
    if isinstance(v, dict):
        return max(float(x) for x in v.values())
    return float(np.max(np.asarray(v, dtype=float)))


def write(results: list[dict]) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "train_quality.json").write_text(json.dumps(results, indent=2))
    lines = [
        "# Training quality: symmetry-based models against the group-theory verifier",
        "",
        f"Machine: {os.cpu_count()} cores shared with other jobs (up to 5 helpers testing at once), "
        f"torch {torch.__version__}, {platform.python_version()}; CPU only. Produced by "
        "`.venv/bin/python benchmarks/train_quality.py`.",
        "",
        "Bar (issue 7): largest off-diagonal leakage ≤ 0.05 and D_LSBD ≤ 0.05 (`verify_group`, seed 0).",
        "",
        "| world | model | hparams | seed | steps | batch | train s | disentangled | equivariance err | "
        "homomorphism err | max off-diag leakage | D_LSBD | passes bar |",
        "|" + "---|" * 13,
    ]
    for r in results:
        lines.append(f"| {r['world']} {r['world_kwargs']} | {r['model']} | {r['hparams'] or 'defaults'} | {r['seed']} | "
                     f"{r['steps']} | "
                     f"{r['batch_size']} | {r['train_s']:.0f} | {r['disentangled']} | {_f(r['equivariance_error'])} | "
                     f"{_f(r['homomorphism_error'])} | {_f(r['leakage_offdiag_max'])} | {_f(r['dlsbd'])} | "
                     f"{'yes' if r['passes_bar'] else 'no'} |")
    (RESULTS / "train_quality.md").write_text("\n".join(lines) + "\n" + NOTES)


NOTES = """
Setup: 16×16 images (flatland: 8×8 positions, ball radius 2 px; arrow: 8 orientations × 8 hues) so that each run
takes minutes on the shared CPU; batch 32, Adam(1e-3), seed 0 for the initialisation, the data stream, the
sampling noise and the verifier. `train s` is wall time with two of these trainings and other helpers' test runs
sharing the 2 cores.

Findings:

- **LSBD-VAE passes on both worlds** (leakage ≤ 0.01, D_LSBD ≤ 0.011): its ρ is known, only the encoder is learned.
- **HAE** with its former default ramp (γ reaches 400 after `gamma_warmup=1000` of 3000 steps) passes on
  flatland (leakage 0.0003, D_LSBD 0.0003) but **fails on arrow**: the encoder is equivariant for the fitted
  action but the learned action is no homomorphism (error 1.26), the subspaces leak (0.14) and D_LSBD ≈ 0.5.
  Of three variants tried after that (same seed), a longer ramp `gamma_warmup=2500` passes on arrow (leakage
  0.0003, D_LSBD 0.0003) and, re-run afterwards, on flatland (leakage 0.0003, D_LSBD 0.0004); γ = 40 or one
  factor moved per step (`steps="subgroup"`) fail. 2500 is now HAE's default. It was chosen by looking at the
  verifier's verdict on these two worlds, so these rows are tuned, not held-out results. HAE has to learn ρ and
  the encoder together; when γ reaches 400 before the autoencoder separates orientation from hue, the code
  freezes in an entangled configuration.
- Two changes were needed before HAE learned anything on images (documented in `groupdrl/models/hae.py`): the
  latent weight γ ramps up over `gamma_warmup` steps (with γ = 400 from step 0 the code collapses to a point),
  and the code is batch-standardised (the shared conv encoder's outputs differ between images by ~1e-3 of their
  offset at initialisation, and even the plain autoencoder stayed at the blank image). LSBD-VAE needed the same
  standardisation of its circle locations; its first arrow run without it collapsed (posterior scale at the
  maximum, KL = 0).
"""


def _f(v):
    return "–" if v is None else f"{v:.4f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default="", help="comma-separated world:model pairs (default: all four)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--out", default="/tmp/groupdrl_train_quality", help="run directories")
    p.add_argument("--write-only", action="store_true", help="rewrite the .md from the recorded .json")
    p.add_argument("--hparams", default="{}", help="JSON model hyperparameters overriding the defaults")
    p.add_argument("--fresh", action="store_true", help="delete earlier run directories instead of resuming them")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    pairs = [tuple(s.split(":")) for s in args.only.split(",") if s] or [(w, m) for w in WORLDS for m in RUNS]
    if args.write_only:
        write(_previous())
        return
    hparams = json.loads(args.hparams)
    for w, m in pairs:
        out = Path(args.out)
        if args.fresh:
            shutil.rmtree(out / _tag(w, m, {**RUNS[m]["hparams"], **hparams}), ignore_errors=True)
        result = run(w, m, out, hparams)
        print(json.dumps({k: v for k, v in result.items() if k != "leakage"}), flush=True)
        # re-read: other invocations may have written meanwhile
        results = {_tag(r["world"], r["model"], r["hparams"]): r for r in _previous()}
        results[_tag(w, m, result["hparams"])] = result
        write([results[k] for k in sorted(results)])


def _tag(world: str, model: str, hparams: dict) -> str:
    extra = "_".join(f"{k}-{v}" for k, v in sorted(hparams.items()))
    return f"{world}_{model}" + (f"_{extra}" if extra else "")


def _previous() -> list[dict]:
    path = RESULTS / "train_quality.json"
    return json.loads(path.read_text()) if path.exists() else []


if __name__ == "__main__":
    main()
