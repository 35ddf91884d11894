"""The ``groupdrl`` command line: train, verify and compare models on built-in worlds.

``groupdrl compare --world flatland --quick`` trains each model briefly and prints the formal verdict
(Higgins et al. 2018) next to the intuitive metrics; ``groupdrl --help`` lists every command.
"""
from __future__ import annotations

import argparse
import inspect
import json
import sys
import time
from pathlib import Path

import torch

#: Models ``groupdrl compare`` trains when ``--models`` is not given.
DEFAULT_COMPARE = ("beta_vae", "hae", "lsbd_vae")
#: ``--quick``: steps, batch size, world options per built-in world and metric sample sizes (≲ 3 min, 2 cores).
QUICK = {"steps": 600, "batch_size": 32, "n_metric": 2000,
         "worlds": {"flatland": {"n": 8, "image_size": 16}, "arrow": {"n_orientations": 8, "n_colours": 8,
                                                                       "image_size": 16}},
         "hparams": {"hae": {"gamma_warmup": 200}}}


# ---- shared helpers -----------------------------------------------------------------------------

def parse_assignments(items: list[str] | None, what: str) -> dict:
    """``["beta=4", "hidden=[64,64]", "steps=uniform"]`` → dict; values are JSON when they parse, else strings."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip().isidentifier():
            raise ValueError(f"{what}: expected key=value, got {item!r}")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


def _first_line(obj) -> str:
    return (inspect.getdoc(obj) or "").strip().splitlines()[0] if inspect.getdoc(obj) else ""


def _encoder(model, batch: int = 512):
    """``model.encode`` as a plain function of observations: no gradients, chunked, float32 on the model's device."""
    device = model.device

    def encode(x: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(x)
        with torch.no_grad():
            return torch.cat([model.encode(c.to(device=device, dtype=torch.float32)).cpu()
                              for c in x.split(batch)]) if len(x) else torch.zeros(0, 0)

    return encode


def _group_summary(report) -> dict:
    """The numbers of a GroupReport the comparison table shows."""
    import numpy as np

    leak = np.asarray(report.leakage, dtype=float)
    off = leak[~np.eye(len(leak), dtype=bool)]
    return {"disentangled": bool(report.disentangled), "equivariance_error": _num(report.equivariance_error),
            "leakage_offdiag_max": float(off.max()) if off.size else 0.0,
            "dlsbd": None if report.dlsbd is None else float(report.dlsbd["value"])}


def _num(v):
    """A scalar or a per-factor dict/array of numbers → float (the maximum over factors) or None."""
    import numpy as np

    if v is None:
        return None
    if isinstance(v, dict):
        vals = [_num(x) for x in v.values()]
        vals = [x for x in vals if x is not None]
        return max(vals) if vals else None
    arr = np.asarray(v, dtype=float)
    return float(arr.max()) if arr.size else None


def verify_run(out_dir: str | Path, *, world=None, seed: int = 0, n_metric: int = 10000, full: bool = True,
               save: bool = True, device: str = "cpu") -> dict:
    """Verify the trained model of a run directory; returns a report dict (JSON-ready except ``"_report"``).

    ``full``: the combined report of ``groupdrl.verify.verify`` (both definitions, every intuitive metric;
    saved to ``out_dir/report/`` as ``report.json``, ``report.md`` and PNGs when ``save``) in
    ``report["_report"]``. Otherwise only ``verify_group`` and MIG/DCI on ``n_metric`` states (what
    ``groupdrl compare`` shows). Either way ``report["group"]["summary"]`` holds the verdict, equivariance
    error, largest off-diagonal leakage and D_LSBD, ``report["intuitive"]`` MIG / DCI, and
    ``report["collapse"]`` the :func:`~groupdrl.train.collapse_check` of the model (a verdict on a
    collapsed model is not a finding).
    """
    from groupdrl.train import collapse_check, load_run
    from groupdrl.train.checkpoint import CHECKPOINT, CONFIG, load_checkpoint, read_json

    out_dir = Path(out_dir)
    config = read_json(out_dir / CONFIG)
    step = load_checkpoint(out_dir / CHECKPOINT)["step"]
    model, world = load_run(out_dir, world=world, device=device)
    encode = _encoder(model)
    report: dict = {"run": str(out_dir), "model": config["model"], "world": config["world"], "step": step,
                    "group": None, "intuitive": None}
    if full:
        from groupdrl.verify import verify

        combined = verify(encode, world, seed=seed,
                          intuitive_kwargs={"n_train": n_metric, "n_test": max(1, n_metric // 2)})
        group = combined.group
        scores = combined.intuitive.scores
        report["intuitive"] = {**_jsonable(scores), "disentangled": bool(combined.intuitive.disentangled)}
        report["_report"] = combined
        if save:
            report["files"] = {k: str(v) for k, v in combined.save(out_dir / "report").items()}
    else:
        from groupdrl.verify.group import verify_group

        group = verify_group(encode, world, seed=seed)
        report["intuitive"] = intuitive_metrics(encode, world, n=n_metric, seed=seed)
    report["group"] = {"summary": _group_summary(group), "report": _jsonable(group.to_dict())}
    report["collapse"] = collapse_check(model, world, seed=seed).to_dict()
    return report


def compare_hparams(name: str, steps: int, quick: bool) -> dict:
    """Hyperparameters ``groupdrl compare`` gives model ``name`` for a run of ``steps`` steps.

    Schedule lengths are fitted to the run (``Model.run_fractions``: AnnealedVAE's and JointVAE's capacity
    ramp, DisDiff's pretraining), so no model is compared in the middle of a schedule written for 10⁵
    steps; ``--quick`` adds its own settings (``QUICK["hparams"]``).
    """
    from groupdrl import models

    hparams = {k: max(1, round(f * steps)) for k, f in models.model_class(name).run_fractions.items()}
    return {**hparams, **(QUICK["hparams"].get(name, {}) if quick else {})}


def intuitive_metrics(encode, world, *, n: int, seed: int) -> dict:
    """MIG and DCI (disentanglement, completeness, informativeness) of ``encode`` on ``n`` sampled states."""
    from groupdrl.verify.metrics import dci, mig

    gen = torch.Generator().manual_seed(seed)
    states = world.sample_states(n, generator=gen)
    codes = encode(world.render(states)).numpy()
    factors = states.numpy()
    m = mig(codes=codes, factors=factors, seed=seed)
    d = dci(codes=codes, factors=factors, seed=seed)
    return {"mig": m["mig"], "dci_disentanglement": d["disentanglement"], "dci_completeness": d["completeness"],
            "dci_informativeness": d.get("informativeness_test")}


def _jsonable(obj):
    """numpy / torch values → plain JSON types (recursively)."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, torch.Tensor):
        return _jsonable(obj.detach().cpu().numpy())
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj if obj is None or isinstance(obj, (bool, int, float, str)) else str(obj)


def _fmt(v, spec: str = ".3f") -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return format(v, spec)


def comparison_table(rows: list[dict]) -> str:
    """Markdown table: one row per trained model, the collapse flag and the group verdict next to MIG / DCI.

    The verdict of a collapsed run is shown in parentheses and a note under the table says why: it
    describes a (near) constant code, not a finding.
    """
    head = ("| model | steps | train s | collapsed | disentangled (Higgins) | equivariance err | "
            "max off-diag leakage | D_LSBD | MIG | DCI-D |")
    lines = [head, "|" + "---|" * 10]
    notes = []
    for r in rows:
        g = (r.get("group") or {}).get("summary") or {}
        i = r.get("intuitive") or {}
        collapse = r.get("collapse") or {}
        verdict = _fmt(g.get("disentangled"))
        if collapse.get("collapsed"):
            verdict = f"({verdict})"
            notes.append(f"- {r['model']['name']}: {collapse['reason']}")
        lines.append(f"| {r['model']['name']} | {r['step']} | {r['train_s']:.0f} | {_fmt(collapse.get('collapsed'))} | "
                     f"{verdict} | {_fmt(g.get('equivariance_error'))} | {_fmt(g.get('leakage_offdiag_max'))} | "
                     f"{_fmt(g.get('dlsbd'))} | {_fmt(i.get('mig'))} | {_fmt(i.get('dci_disentanglement'))} |")
    if notes:
        lines += ["", "Collapsed runs (their verdicts and metrics describe a (near) constant code, not a finding):",
                  *notes]
    return "\n".join(lines)


# ---- commands -----------------------------------------------------------------------------------

def _world_from_args(name: str, sets: list[str] | None, defaults: dict | None = None):
    from groupdrl import worlds

    kwargs = {**(defaults or {}), **parse_assignments(sets, "--world-set")}
    return worlds.get(name, **kwargs), {"name": name, "kwargs": kwargs}


def cmd_train(args) -> int:
    from groupdrl import models
    from groupdrl.train import fit

    world, spec = _world_from_args(args.world, args.world_set)
    hparams = parse_assignments(args.set, "--set")
    model = models.get(args.model, world, seed=args.seed, **hparams)
    fit(model, world, steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed, out_dir=args.out,
        checkpoint_every=args.checkpoint_every, resume=args.resume, device=args.device, log_every=args.log_every,
        quiet=args.quiet, world_config=spec)
    print(f"trained {args.model} on {args.world} for {args.steps} steps: {args.out}")
    return 0


def cmd_verify(args) -> int:
    report = verify_run(args.run, seed=args.seed, n_metric=args.n_metric, save=not args.no_save)
    combined = report.pop("_report")
    if args.json:
        print(json.dumps(_jsonable(report), indent=2))
        return 0
    print(f"run {report['run']}: {report['model']['name']} on {report['world']['name']} after {report['step']} steps\n")
    print(combined.to_markdown())
    if report.get("files"):
        print("\nwritten: " + ", ".join(report["files"].values()))
    return 0


def cmd_models(args) -> int:
    from groupdrl import models

    for name in models.names():
        cls = models.model_class(name)
        print(f"{name:16s} [{cls.data}] {_first_line(cls)}")
    return 0


def cmd_worlds(args) -> int:
    from groupdrl import worlds

    for name in worlds.names():
        w = worlds.get(name)
        factors = " × ".join(f"{f.name}:C{f.size}" for f in w.factors)
        print(f"{name:12s} G = {factors}, observations {tuple(w.observation_shape)} (defaults; change with "
              f"--world-set)")
    return 0


def cmd_compare(args) -> int:
    from groupdrl import models
    from groupdrl.train import fit

    names = [m.strip() for m in args.models.split(",") if m.strip()]
    for name in names:
        models.model_class(name)  # unknown names fail before any training
    quick = args.quick
    steps = args.steps or (QUICK["steps"] if quick else 2000)
    batch = args.batch_size or (QUICK["batch_size"] if quick else 64)
    n_metric = args.n_metric or (QUICK["n_metric"] if quick else 10000)
    defaults = QUICK["worlds"].get(args.world, {}) if quick else {}
    world, spec = _world_from_args(args.world, args.world_set, defaults)
    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not args.force:
        raise FileExistsError(f"--out: {out} is not empty; choose another directory or pass --force")
    rows = []
    for name in names:
        run = out / name
        if run.exists() and args.force:
            import shutil

            shutil.rmtree(run)
        print(f"== {name}: {steps} steps on {world!r}", file=sys.stderr, flush=True)
        model = models.get(name, world, seed=args.seed, **compare_hparams(name, steps, quick))
        t0 = time.perf_counter()
        fit(model, world, steps=steps, batch_size=batch, lr=args.lr, seed=args.seed, out_dir=run,
            checkpoint_every=steps, log_every=max(1, steps // 5), quiet=args.quiet, world_config=spec,
            device=args.device)
        train_s = time.perf_counter() - t0
        report = verify_run(run, world=world, seed=args.seed, n_metric=n_metric, full=False)
        report["train_s"] = train_s
        rows.append(report)
    table = comparison_table(rows)
    (out / "compare.md").write_text(f"world: {spec}\n\n{table}\n")
    (out / "compare.json").write_text(json.dumps(_jsonable(rows), indent=2))
    print(table)
    print(f"\n(runs, compare.md and compare.json in {out}; `groupdrl verify {out}/<model>` gives the full report)")
    return 0


def cmd_demo(args) -> int:
    import groupdrl.groups as G

    grp = G.Product(x=G.Cyclic(8), y=G.Cyclic(8))
    rho = grp.representation({"x": "standard", "y": "standard"})
    gen = torch.Generator().manual_seed(args.seed)
    a, b = grp.sample(256, generator=gen), grp.sample(256, generator=gen)
    err = (rho(grp.compose(a, b), torch.float64) - rho(a, torch.float64) @ rho(b, torch.float64)).abs().max()
    print(f"G = {grp!r}\nρ = {rho.name} (dim {rho.dim}), blocks {rho.blocks}")
    print(f"homomorphism check on 256 random pairs: max |ρ(gh) − ρ(g)ρ(h)| = {float(err):.2e} (float64, tol 1e-10): "
          f"{'ok' if err < 1e-10 else 'FAILED'}")
    return 0 if err < 1e-10 else 1


# ---- parser -------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    p = argparse.ArgumentParser(
        prog="groupdrl", formatter_class=fmt,
        description="Symmetry-based (group-theory) disentangled representation learning.",
        epilog="examples:\n"
               "  groupdrl compare --world flatland --quick      train beta_vae, hae, lsbd_vae briefly and compare\n"
               "  groupdrl train hae --world flatland --steps 2000 --out runs/hae\n"
               "  groupdrl verify runs/hae\n"
               "  groupdrl models | groupdrl worlds | groupdrl demo")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def common_train(sp):
        sp.add_argument("--world", required=True, help="built-in world (see `groupdrl worlds`)")
        sp.add_argument("--world-set", action="append", metavar="KEY=VALUE",
                        help="world option, repeatable (e.g. image_size=16, n=8); values parsed as JSON")
        sp.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
        sp.add_argument("--seed", type=int, default=0, help="seed of the initialisation, data and noise (default 0)")
        sp.add_argument("--device", default="cpu", help="cpu (default), cuda, or auto (CUDA when available)")
        sp.add_argument("--quiet", action="store_true", help="no progress lines")

    sp = sub.add_parser("train", formatter_class=fmt, help="train a model on a world, with checkpoints",
                        description="Train MODEL on a built-in world. The run directory gets config.json, an "
                                    "atomically written checkpoint.pt and metrics.jsonl; a killed run continues "
                                    "exactly with --resume. Under torchrun the run is data parallel.",
                        epilog="example:\n  groupdrl train lsbd_vae --world arrow --world-set image_size=32 "
                               "--steps 3000 --set gamma=1 --out runs/lsbd\n"
                               "  torchrun --nproc_per_node 2 -m groupdrl train hae --world flatland --out runs/ddp")
    sp.add_argument("model", help="model name (see `groupdrl models`)")
    common_train(sp)
    sp.add_argument("--batch-size", type=int, default=64, help="batch size per process (default 64)")
    sp.add_argument("--steps", type=int, default=2000, help="total optimisation steps (default 2000)")
    sp.add_argument("--set", action="append", metavar="KEY=VALUE",
                    help="model hyperparameter, repeatable (e.g. beta=4, gamma=400, hidden=[64,64])")
    sp.add_argument("--out", required=True, help="run directory")
    sp.add_argument("--resume", action="store_true", help="continue the checkpoint in --out")
    sp.add_argument("--checkpoint-every", type=int, default=500, help="steps between checkpoints (default 500)")
    sp.add_argument("--log-every", type=int, default=50, help="steps between progress lines (default 50)")
    sp.set_defaults(func=cmd_train)

    sp = sub.add_parser("verify", formatter_class=fmt, help="verify a trained run against the formal definition",
                        description="Reload the model and world of a run directory and report the group-theory "
                                    "verdict (equivariance, homomorphism, leakage between factor subspaces, "
                                    "D_LSBD) next to the intuitive metrics (BetaVAE, FactorVAE, MIG, SAP, DCI, "
                                    "modularity); writes RUN/report/report.{json,md,png}.")
    sp.add_argument("run", help="run directory written by `groupdrl train`")
    sp.add_argument("--seed", type=int, default=0, help="seed of the verifier's samples (default 0)")
    sp.add_argument("--n-metric", type=int, default=10000,
                    help="train states of the intuitive metrics (test: half as many; default 10000)")
    sp.add_argument("--no-save", action="store_true", help="do not write RUN/report/ (json, md, png)")
    sp.add_argument("--json", action="store_true", help="print the report as JSON")
    sp.set_defaults(func=cmd_verify)

    sp = sub.add_parser("compare", formatter_class=fmt, help="train several models briefly and compare verdicts",
                        description="Train each model on the same world, then print a table of the formal verdict "
                                    "(equivariance error, largest off-diagonal leakage, D_LSBD) next to MIG and "
                                    "DCI. --quick (16x16 images, 600 steps, HAE's latent weight ramped over 200 "
                                    "steps) finishes in about 3 minutes on 2 free cores.",
                        epilog="example:\n  groupdrl compare --world flatland --quick\n"
                               "  groupdrl compare --world arrow --models hae,lsbd_vae --steps 3000 --out runs/cmp")
    common_train(sp)
    sp.add_argument("--batch-size", type=int, default=None, help="batch size (default 64, --quick 32)")
    sp.add_argument("--models", default=",".join(DEFAULT_COMPARE),
                    help=f"comma-separated model names (default {','.join(DEFAULT_COMPARE)})")
    sp.add_argument("--steps", type=int, default=None, help="steps per model (default 2000, --quick 600)")
    sp.add_argument("--quick", action="store_true", help="small world images and few steps (≲ 3 min on 2 cores)")
    sp.add_argument("--out", default="runs/compare", help="directory for the runs and compare.md (default runs/compare)")
    sp.add_argument("--force", action="store_true", help="overwrite runs already in --out")
    sp.add_argument("--n-metric", type=int, default=None, help="states for MIG/DCI (default 10000, --quick 2000)")
    sp.set_defaults(func=cmd_compare)

    sp = sub.add_parser("models", help="list the models", description="List the registered models, the data "
                        "each trains on and its paper.")
    sp.set_defaults(func=cmd_models)
    sp = sub.add_parser("worlds", help="list the built-in worlds", description="List the built-in worlds.")
    sp.set_defaults(func=cmd_worlds)
    sp = sub.add_parser("demo", help="build a group and check a homomorphism",
                        description="Build G = C8 × C8, its block-diagonal representation ρ = ρ_x ⊕ ρ_y and "
                                    "check ρ(gh) = ρ(g)ρ(h) on random pairs.")
    sp.add_argument("--seed", type=int, default=0)
    sp.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``groupdrl`` and ``python -m groupdrl``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except (ValueError, TypeError, FileExistsError, FileNotFoundError) as err:
        print(f"groupdrl {args.command}: error: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:  # CheckpointError, TrainingDiverged (FloatingPointError is an ArithmeticError)
        print(f"groupdrl {args.command}: error: {err}", file=sys.stderr)
        return 1
    except FloatingPointError as err:
        print(f"groupdrl {args.command}: error: {err}", file=sys.stderr)
        return 1
