"""Quality: do the symmetry-based models, with their default settings, pass the group-theory verifier?

The user protocol of issue 15: 16 px worlds, ``fit`` for 3000 steps at batch 32 with Adam(1e-3), then
``verify_group(model.encode, world, seed=seed)``; seeds 0, 1, 2 seed the initialisation, the data and noise
streams and the verifier. Every model runs with its **default** hyperparameters on every world it
applies to. Worlds are *tuning* worlds (defaults were chosen by looking at runs on them) or *held out*
(never looked at before the defaults were fixed): arrow 12×6, flatland n = 16 and the ``dial`` world of
``heldout_worlds.py``.

Per row: the verdict of ``verify_group`` and its reasons, the leakage (largest share of a factor's latent
change outside its own subspace, the quantity the verdict bounds by 0.05), D_LSBD, the equivariance and
homomorphism errors, the training time and a collapse flag. The code is *collapsed* when it does not tell
the states apart: its total variance over the state grid is ≈ 0 or more than half of the states have
another state's code within 1 % of the code's spread (an ignored factor makes every state a twin of
another). Results: ``benchmarks/results/train_quality.{json,md}``. Resumable: a recorded row is skipped
while the code it depends on (``source_hash``: the sources without docstrings and comments) is unchanged,
and an interrupted training resumes from its checkpoint.

Usage::

    python benchmarks/train_quality.py [--shard 0/2] [--only-models hae,quessard] [--only-worlds arrow8x8]
    python benchmarks/train_quality.py --reverse             # a second worker, meeting the first in the middle
    python benchmarks/train_quality.py --write-only          # rewrite the .md from the .json

Experiments (not defaults) go to another file: ``--hparams '{"gamma": 40}' --results /tmp/exp.json``.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import fcntl
import hashlib
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

# this checkout's groupdrl (not an installed copy) and the held-out worlds next to this file
sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]
from heldout_worlds import HELD_OUT  # noqa: E402

from groupdrl import models, worlds  # noqa: E402
from groupdrl.models.base import check_factors  # noqa: E402
from groupdrl.train import fit  # noqa: E402
from groupdrl.verify.group import verify_group  # noqa: E402

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "train_quality.json"
PROTOCOL = {"steps": 3000, "batch_size": 32, "lr": 1e-3}
SEEDS = (0, 1, 2)
MODELS = ("hae", "lsbd_vae", "equivariant_vae", "forward_vae", "quessard")
#: key -> (builder name, kwargs, role). "tuning": defaults were chosen on runs of this world.
WORLDS = {
    "flatland8": ("flatland", {"n": 8, "image_size": 16}, "tuning"),
    "arrow8x8": ("arrow", {"n_orientations": 8, "n_colours": 8, "image_size": 16}, "tuning"),
    "arrow12x6": ("arrow", {"n_orientations": 12, "n_colours": 6, "image_size": 16}, "held out"),
    "flatland16": ("flatland", {"n": 16, "image_size": 16}, "held out"),
    "dial": ("dial", {}, "held out"),
    # issue 11's worlds (factors that are not cyclic); the SO(3) object at 32 px (at 16 px its smallest sphere
    # is 1.3 pixels wide)
    "so3_object": ("so3_object", {"n_colours": 8, "image_size": 32}, "held out"),
    "dihedral4": ("dihedral_shape", {"n": 4, "n_colours": 8, "image_size": 16}, "held out"),
    "arrow_so2": ("arrow_continuous", {"image_size": 16}, "held out"),
}
#: Held-out worlds a model's defaults were nonetheless chosen on (its rows there count as tuning rows).
TUNED_ON = {"forward_vae": ("flatland16",)}
#: What a world tells a model (not a hyperparameter): which factor rotates the image, where it is not the
#: default ``"orientation"``.
WORLD_SETTINGS = {"dihedral4": {"equivariant_vae": {"rotation_factor": "pose"}}}
COLLAPSE_RTOL = 1e-2
#: Models whose objective cannot guarantee a pass: the reason from the mathematics and its proof (cited on failed rows).
BY_CONSTRUCTION = {
    "quessard": ("its objective does not identify an equivariant encoder: it never compares enc(x_t) with "
                 "ρ(a_t)…ρ(a_1) enc(x_0), so codes with no linear action (and ρ(a)^N ≠ I) are global minimisers "
                 "as well as equivariant ones", "proofs/k_quessard_not_identified.md"),
}
PACKAGE = Path(__file__).resolve().parents[1] / "groupdrl"
#: Sources a row's result depends on besides the shared ones: a recorded row is reused only while the hash of
#: these files is unchanged (an edited model is re-run).
SHARED_SOURCES = ("models/base.py", "groups/so3.py", "nn/conv.py", "nn/mlp.py", "nn/init.py", "train/data.py", "train/fit.py",
                  "worlds/data.py")
MODEL_SOURCES = {"hae": ("models/hae.py",), "lsbd_vae": ("models/lsbd_vae.py",),
                 "equivariant_vae": ("models/equivariant_vae.py", "models/lsbd_vae.py", "nn/escnn_encoder.py"),
                 "forward_vae": ("models/forward_vae.py",), "quessard": ("models/quessard.py",)}


def _code(path: Path) -> str:
    """The code of a Python file without its docstrings and comments (its AST), so prose edits keep rows valid."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def source_hash(model: str) -> str:
    """Short hash of the code (docstrings and comments excluded) a model's row depends on."""
    digest = hashlib.sha256()
    for rel in SHARED_SOURCES + MODEL_SOURCES[model]:
        digest.update(_code(PACKAGE / rel).encode())
    return digest.hexdigest()[:12]


def build_world(key: str):
    name, kwargs, _ = WORLDS[key]
    return HELD_OUT[name](**kwargs) if name in HELD_OUT else worlds.get(name, **kwargs)


def not_applicable(model: str, world_key: str, world) -> str | None:
    """Why ``model`` cannot be built for ``world`` (``None`` if it can)."""
    try:
        check_factors(world, models.model_class(model))
    except ValueError as e:
        return str(e).removeprefix("world: ")
    rotation = WORLD_SETTINGS.get(world_key, {}).get(model, {}).get("rotation_factor", "orientation")
    if model == "equivariant_vae" and rotation not in world.factor_names:
        return ("needs a factor acting by rotations of the image plane (its escnn encoder is equivariant to them); "
                f"the factors {list(world.factor_names)} are not")
    return None


def collapse(model, world) -> dict:
    """Spread of the code over every state and the share of states with a near twin (see the module doc)."""
    with torch.no_grad():
        states = world.all_states() if world.is_finite else world.sample_states(
            2048, generator=torch.Generator().manual_seed(0))
        z = torch.cat([model.encode(world.render(s).float()) for s in states.split(256)]).double()
    spread = float(((z - z.mean(0)) ** 2).sum(1).mean().sqrt())
    dist = torch.cdist(z, z) + torch.eye(len(z), dtype=z.dtype) * float("inf")
    twins = float((dist.min(1).values <= COLLAPSE_RTOL * spread).double().mean()) if spread > 0 else 1.0
    rms = float((z**2).sum(1).mean().sqrt())
    return {"spread": spread, "twin_share": twins, "collapsed": bool(spread <= 1e-6 * max(rms, 1e-30) or twins > 0.5)}


def last_terms(out: Path) -> dict:
    """The loss terms of the last logged step."""
    lines = (out / "metrics.jsonl").read_text().splitlines()
    rec = json.loads(lines[-1])
    return {k: v for k, v in rec.items() if k not in ("obs_per_s", "elapsed_s")}


def run(world_key: str, model_name: str, seed: int, hparams: dict, steps: int, out_root: Path) -> dict:
    world = build_world(world_key)
    name, kwargs, role = WORLDS[world_key]
    role = "tuning" if world_key in TUNED_ON.get(model_name, ()) else role
    row = {"world": world_key, "world_builder": name, "world_kwargs": kwargs, "role": role, "model": model_name,
           "seed": seed, "hparams": hparams, **PROTOCOL, "steps": steps, "source": source_hash(model_name)}
    reason = not_applicable(model_name, world_key, world)
    if reason is not None:
        return {**row, "applies": False, "why_not": reason}
    given = WORLD_SETTINGS.get(world_key, {}).get(model_name, {})
    row["world_settings"] = given
    model = models.get(model_name, world, seed=seed, **given, **hparams)
    out = out_root / f"{tag(world_key, model_name, seed, hparams, steps)}_{row['source']}"
    resume = (out / "checkpoint.pt").exists()
    t0 = time.perf_counter()
    fit(model, world, steps=steps, batch_size=PROTOCOL["batch_size"], lr=PROTOCOL["lr"], seed=seed, out_dir=out,
        checkpoint_every=500, resume=resume, log_every=100, quiet=True)
    train_s = time.perf_counter() - t0
    model.eval()
    t0 = time.perf_counter()
    rep = verify_group(model.encode, world, seed=seed)
    verify_s = time.perf_counter() - t0
    leak = None if rep.leakage is None else np.asarray(rep.leakage, dtype=float)
    return {**row, "applies": True, "train_s": train_s, "resumed": resume, "verify_s": verify_s,
            "load_avg": os.getloadavg()[0], "disentangled": bool(rep.disentangled), "reasons": rep.reasons,
            "equivariance_error": rep.equivariance_error, "homomorphism_error": rep.homomorphism_error,
            "leakage": None if leak is None else float((1 - np.diag(leak)).max()),
            "leakage_matrix": None if leak is None else leak.tolist(),
            "dlsbd": None if rep.dlsbd is None else float(rep.dlsbd["value"]),
            "final_terms": last_terms(out), **collapse(model, world)}


def tag(world: str, model: str, seed: int, hparams: dict, steps: int) -> str:
    extra = "".join(f"_{k}-{v}" for k, v in sorted(hparams.items()))
    return f"{world}_{model}_s{seed}" + ("" if steps == PROTOCOL["steps"] else f"_t{steps}") + extra


def row_tag(r: dict) -> str:
    return tag(r["world"], r["model"], r["seed"], r["hparams"], r["steps"])


@contextlib.contextmanager
def locked(path: Path):
    """Exclusive lock shared by concurrent shards writing the same results file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"train_quality_{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read(path: Path) -> list[dict]:
    return json.loads(path.read_text()) if path.exists() else []


def record(path: Path, row: dict) -> None:
    """Add ``row`` to the results file (atomic replace, under the lock) and rewrite the Markdown table."""
    with locked(path):
        rows = {row_tag(r): r for r in read(path)}
        rows[row_tag(row)] = row
        rows = [rows[k] for k in sorted(rows)]
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(rows, indent=1))
        os.replace(tmp, path)
        write_markdown(path, rows)


def _f(v, fmt=".3f") -> str:
    return "–" if v is None else format(v, fmt)


def write_markdown(path: Path, rows: list[dict]) -> None:
    lines = ["# Training quality: symmetry-based models against the group-theory verifier", "",
             f"Produced by `benchmarks/train_quality.py`. Protocol: 16 px (the SO(3) object 32 px), {PROTOCOL['steps']} steps, batch "
             f"{PROTOCOL['batch_size']}, Adam({PROTOCOL['lr']:g}), default hyperparameters, "
             "`verify_group(model.encode, world, seed=seed)` with its default tolerances (0.05). "
             f"Machine: {os.cpu_count()} CPU cores shared with other agents, one torch thread a run, "
             f"torch {torch.__version__}, Python {platform.python_version()}. `train s` is wall time under that "
             "load (`load` = 1-min load average at the end of the run).", ""]
    current = {m: source_hash(m) for m in MODELS}
    default = [r for r in rows if not r["hparams"] and r["steps"] == PROTOCOL["steps"] and r["source"] == current[r["model"]]]
    lines += ["## Pass rate per model (default settings, current sources)", "",
              "| model | passes / rows (all) | tuning worlds | held-out worlds | collapsed rows | mean train s (wall) "
              "| not applicable | cannot pass by construction |", "|---|---|---|---|---|---|---|---|"]
    for m in MODELS:
        mine = [r for r in default if r["model"] == m and r["applies"]]
        tuned = [r for r in mine if r["role"] == "tuning"]
        held = [r for r in mine if r["role"] != "tuning"]
        na = sorted({r["world"] for r in default if r["model"] == m and not r["applies"]})

        def rate(rs):
            return f"{sum(r['disentangled'] for r in rs)}/{len(rs)}" if rs else "–"
        wall = f"{np.mean([r['train_s'] for r in mine]):.0f}" if mine else "–"
        lines.append(f"| {m} | {rate(mine)} ({100 * sum(r['disentangled'] for r in mine) / max(len(mine), 1):.0f} %) "
                     f"| {rate(tuned)} | {rate(held)} | {sum(r['collapsed'] for r in mine)} | {wall} "
                     f"| {', '.join(na) or '–'} | {'yes: {} ({})'.format(*BY_CONSTRUCTION[m]) if m in BY_CONSTRUCTION else 'no'} |")
    done = {(r["world"], r["model"], r["seed"]) for r in default}
    missing = [(w, m, s) for w in WORLDS for m in MODELS for s in SEEDS if (w, m, s) not in done]
    if missing:
        lines += ["", f"**Not run** ({len(missing)} of the {len(WORLDS) * len(MODELS) * len(SEEDS)} default rows; "
                  "the pass rates above count only the rows run): "
                  + "; ".join(f"{w} {m} (seeds {', '.join(str(s) for w2, m2, s in missing if (w2, m2) == (w, m))})"
                              for w, m in dict.fromkeys((w, m) for w, m, _ in missing)) + "."]
    lines += ["", "## Rows", "",
              "| world | role | model | settings | seed | verdict | leakage | D_LSBD | equivariance | homomorphism "
              "| collapsed | train s | verify s | load | failed conditions |", "|" + "---|" * 15]
    for r in sorted(rows, key=lambda r: (MODELS.index(r["model"]), list(WORLDS).index(r["world"]), row_tag(r))):
        given = "".join(f" ({k}={v}: the world's)" for k, v in r.get("world_settings", {}).items())
        settings = "defaults" + given if r in default else \
            ", ".join([f"{k}={v}" for k, v in r["hparams"].items()] + [f"steps={r['steps']}"] * (r["steps"] != PROTOCOL["steps"])
                      + ["stale sources"] * (r["source"] != current[r["model"]]))
        head = f"| {r['world']} | {r['role']} | {r['model']} | {settings} | {r['seed']} | "
        if not r["applies"]:
            lines.append(head + f"n/a | | | | | | | | | not applicable: {r['why_not']} |")
            continue
        why = "; ".join(x.split(":")[0] for x in r["reasons"])
        if why and r["model"] in BY_CONSTRUCTION:
            why += f" (by construction: {BY_CONSTRUCTION[r['model']][1]})"
        lines.append(head + f"{'pass' if r['disentangled'] else 'FAIL'} | {_f(r['leakage'], '.2g')} | {_f(r['dlsbd'], '.2g')} | "
                     f"{_f(r['equivariance_error'], '.4f')} | {_f(r['homomorphism_error'], '.4f')} | "
                     f"{'yes' if r['collapsed'] else 'no'} | {r['train_s']:.0f} | {r['verify_s']:.1f} | {r['load_avg']:.1f} | {why} |")
    lines += ["", "World keys: " + "; ".join(f"`{k}` = {b}({', '.join(f'{a}={v}' for a, v in kw.items())}) [{role}]"
                                            for k, (b, kw, role) in WORLDS.items()), ""]
    lines += [f"{m}'s defaults were also chosen on {', '.join(ws)}: its rows there are tuning rows." for m, ws in TUNED_ON.items()]
    lines += [""] * bool(TUNED_ON)
    notes = path.with_name(path.stem + "_notes.md")
    if notes.exists():
        lines += [notes.read_text()]
    path.with_suffix(".md").write_text("\n".join(lines) + "\n")


def jobs(args) -> list[tuple]:
    ms = [m for m in (args.only_models.split(",") if args.only_models else MODELS)]
    ws = [w for w in (args.only_worlds.split(",") if args.only_worlds else WORLDS)]
    seeds = [int(s) for s in args.seeds.split(",")]
    unknown = [m for m in ms if m not in MODELS] + [w for w in ws if w not in WORLDS]
    if unknown:
        raise SystemExit(f"unknown model or world keys: {unknown}")
    # world-major, in the order given: an interrupted run has every model and seed on the worlds it reached
    return [(w, m, s) for w in ws for m in ms for s in seeds]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only-models", default="")
    p.add_argument("--only-worlds", default="")
    p.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    p.add_argument("--shard", default="0/1", help="i/n: run every n-th job starting at i (parallel shards)")
    p.add_argument("--hparams", default="{}", help="JSON hyperparameters overriding the defaults (experiments)")
    p.add_argument("--steps", type=int, default=PROTOCOL["steps"])
    p.add_argument("--results", default=str(RESULTS))
    p.add_argument("--out", default="/tmp/groupdrl_train_quality", help="run directories")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reverse", action="store_true", help="work through the jobs from the end (a second worker)")
    p.add_argument("--write-only", action="store_true")
    args = p.parse_args()
    path = Path(args.results)
    if args.write_only:
        write_markdown(path, read(path))
        return
    torch.set_num_threads(args.threads)
    hparams = json.loads(args.hparams)
    i, n = (int(v) for v in args.shard.split("/"))
    todo = jobs(args)[i::n]
    for w, m, s in reversed(todo) if args.reverse else todo:
        key = tag(w, m, s, hparams, args.steps)
        if any(row_tag(r) == key and r.get("source") == source_hash(m) for r in read(path)):
            continue
        Path(args.out).mkdir(parents=True, exist_ok=True)
        with open(Path(args.out) / f"{key}.lock", "w") as lock:
            try:  # another worker is training this row
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            if any(row_tag(r) == key and r.get("source") == source_hash(m) for r in read(path)):
                continue
            row = run(w, m, s, hparams, args.steps, Path(args.out))
        record(path, row)
        print(json.dumps({k: row.get(k) for k in ("world", "model", "seed", "disentangled", "leakage", "dlsbd",
                                                   "homomorphism_error", "collapsed", "train_s")}), flush=True)


if __name__ == "__main__":
    main()
