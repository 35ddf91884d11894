"""The ``groupdrl`` command line: train, verify and compare models on built-in worlds.

``groupdrl compare --world flatland --quick`` trains each model briefly and prints the formal verdict
(Higgins et al. 2018) next to the intuitive metrics; ``groupdrl --help`` lists every command.
"""
from __future__ import annotations

import argparse
import inspect
import json
import sys
from pathlib import Path

import torch

# verify_run lives in the sweep layer (sweeps and `groupdrl verify`/`compare` share it)
from groupdrl.sweep.evaluate import intuitive_metrics, verify_run  # noqa: F401
from groupdrl.sweep.evaluate import jsonable as _jsonable

#: Models ``groupdrl compare`` trains when ``--models`` is not given.
DEFAULT_COMPARE = ("beta_vae", "hae", "lsbd_vae")
#: ``--quick``: steps, batch size, world options per built-in world and metric sample sizes (≲ 3 min, 2 cores).
QUICK = {"steps": 600, "batch_size": 32, "n_metric": 2000,
         "worlds": {"flatland": {"n": 8, "image_size": 16}, "arrow": {"n_orientations": 8, "n_colours": 8,
                                                                       "image_size": 16},
                    "dihedral_shape": {"image_size": 16}, "dsprites": {"image_size": 32},
                    "shapes3d": {"image_size": 32}},
         "hparams": {"hae": {"gamma_warmup": 200}}}


#: The line above the list of collapsed runs under a comparison table.
COLLAPSE_NOTE = "Collapsed runs (their verdicts and metrics describe a (near) constant code, not a finding):"


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


def compare_hparams(name: str, steps: int, quick: bool) -> dict:
    """Hyperparameters ``groupdrl compare`` gives model ``name`` for a run of ``steps`` steps.

    Schedule lengths are fitted to the run (``Model.run_fractions``: AnnealedVAE's and JointVAE's capacity
    ramp, DisDiff's pretraining), so no model is compared in the middle of a schedule written for 10⁵
    steps; ``--quick`` adds its own settings (``QUICK["hparams"]``).
    """
    from groupdrl import models

    hparams = {k: max(1, round(f * steps)) for k, f in models.model_class(name).run_fractions.items()}
    return {**hparams, **(QUICK["hparams"].get(name, {}) if quick else {})}


def _fmt(v, spec: str = ".3f") -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return format(v, spec)


def comparison_rows(rows: list[dict]) -> tuple[list[str], list[list[str]]]:
    """Header and cells of the comparison: one row per trained model, the collapse flag and the group verdict
    next to MIG / DCI; the verdict of a collapsed run is in parentheses (it describes a (near) constant code)."""
    head = ["model", "steps", "train s", "collapsed", "disentangled (Higgins)", "equivariance err",
            "max off-diag leakage", "D_LSBD", "MIG", "DCI-D"]
    cells = []
    for r in rows:
        g = (r.get("group") or {}).get("summary") or {}
        i = r.get("intuitive") or {}
        collapse = r.get("collapse") or {}
        verdict = _fmt(g.get("disentangled"))
        cells.append([r["model"]["name"], str(r["step"]), f"{r['train_s']:.0f}", _fmt(collapse.get("collapsed")),
                      f"({verdict})" if collapse.get("collapsed") else verdict, _fmt(g.get("equivariance_error")),
                      _fmt(g.get("leakage_offdiag_max")), _fmt(g.get("dlsbd")), _fmt(i.get("mig")),
                      _fmt(i.get("dci_disentanglement"))])
    return head, cells


def collapse_notes(rows: list[dict]) -> list[str]:
    """One line per collapsed run with the reason (empty when none collapsed)."""
    return [f"{r['model']['name']}: {r['collapse']['reason']}" for r in rows if (r.get("collapse") or {}).get("collapsed")]


def comparison_table(rows: list[dict]) -> str:
    """Markdown table of :func:`comparison_rows`; a note under it names each collapsed run and why: its verdict
    and metrics describe a (near) constant code, not a finding."""
    from groupdrl.verify._doc import to_markdown

    table = to_markdown([("table", *comparison_rows(rows))]).rstrip()
    notes = collapse_notes(rows)
    if notes:
        table += "\n\n" + COLLAPSE_NOTE + "\n" + "\n".join(f"- {n}" for n in notes)
    return table


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
    from groupdrl.verify import verify
    from groupdrl.verify.encode import load_encoder

    progress = None if args.quiet else (lambda line: print(f"[verify] {line}", file=sys.stderr, flush=True))
    picked = [f for f, v in (("--encoder", args.encoder), ("--world", args.world), ("--data", args.data)) if v]
    if args.run is not None:
        if picked:
            raise ValueError(f"{picked[0]}: a run directory brings its own model and world; give RUN or "
                             "--encoder with --world/--data, not both")
        report = verify_run(args.run, seed=args.seed, n_metric=args.n_metric, save=not args.no_save,
                            device=args.device, out=args.out, progress=progress)
        combined = report.pop("_report")
        header = f"run {report['run']}: {report['model']['name']} on {report['world']['name']} after {report['step']} steps"
    else:
        if not args.encoder:
            raise ValueError("RUN: give a run directory, or --encoder MODULE:NAME with --world NAME or --data FILE.npz")
        if bool(args.world) == bool(args.data):
            raise ValueError("--world/--data: --encoder needs exactly one world: a built-in one (--world NAME) or "
                             "your labelled arrays (--data FILE.npz)")
        if args.world_set and not args.world:
            raise ValueError("--world-set: options of a built-in world; only with --world")
        world = _world_from_args(args.world, args.world_set)[0] if args.world else _load_data(args.data)
        encoder = load_encoder(_import_attribute(args.encoder), device=args.device)
        combined = verify(encoder, world, seed=args.seed, progress=progress,
                          intuitive_kwargs={"n_train": args.n_metric, "n_test": max(1, args.n_metric // 2)})
        report = {"encoder": args.encoder, "world": repr(world), **_jsonable(combined.to_dict())}
        if not args.no_save:
            report["files"] = {k: str(v) for k, v in combined.save(args.out or "groupdrl-report").items()}
        header = f"encoder {args.encoder} on {world!r}"
    if args.json:
        print(json.dumps(_jsonable(report), indent=2))
        return 0
    print(f"{header}\n")
    print(combined.to_markdown())
    if report.get("files"):
        print("\nwritten: " + ", ".join(report["files"].values()))
    return 0


def _load_data(path: str):
    from groupdrl.worlds import load_arrays

    try:
        return load_arrays(path)
    except ValueError as err:
        raise ValueError(f"--data: {err}") from None


def _import_attribute(spec: str):
    """``module:name`` or ``path/to/file.py:name`` (``name`` may be dotted) → the object it names.

    A module is imported with the current directory on ``sys.path`` (as ``python -m`` does); a ``.py`` path is
    loaded as a module from that file.
    """
    import importlib
    import importlib.util
    import os

    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"--encoder: expected MODULE:NAME or FILE.py:NAME (e.g. mymodels:encoder), got {spec!r}")
    try:
        if module_name.endswith(".py") or os.sep in module_name:
            if not os.path.isfile(module_name):
                raise ValueError(f"--encoder: no file {module_name!r}")
            loader = importlib.util.spec_from_file_location(Path(module_name).stem, module_name)
            module = importlib.util.module_from_spec(loader)
            loader.loader.exec_module(module)
        else:
            if os.getcwd() not in sys.path and "" not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(module_name)
    except ImportError as err:
        raise ValueError(f"--encoder: cannot import {module_name!r}: {type(err).__name__}: {err}") from None
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            public = sorted(n for n in vars(module) if not n.startswith("_"))[:20]
            raise ValueError(f"--encoder: {module_name!r} has no attribute {attr!r} (it has {public})")
        obj = getattr(obj, part)
    return obj


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
        factors = " × ".join(f"{f.name}:{worlds.factor_label(f)}" for f in w.factors)
        print(f"{name:16s} G = {factors}, observations {tuple(w.observation_shape)} (defaults; change with "
              f"--world-set)")
    return 0


def cmd_compare(args) -> int:
    """``groupdrl compare``: a sweep of the given models on one world and one seed (:func:`groupdrl.sweep.run_sweep`,
    local backend, light verification), so compare and a many-run study share one code path; the table adds
    the collapse flag that :func:`~groupdrl.train.fit` records in each run."""
    import shutil

    from groupdrl import models
    from groupdrl.models.base import check_factors
    from groupdrl.sweep import grid_from_dict, run_sweep

    names = _names(args.models)
    for name in names:
        models.model_class(name)  # unknown names fail before any training
    quick = args.quick
    steps = args.steps or (QUICK["steps"] if quick else 2000)
    batch = args.batch_size or (QUICK["batch_size"] if quick else 64)
    n_metric = args.n_metric or (QUICK["n_metric"] if quick else 10000)
    defaults = QUICK["worlds"].get(args.world, {}) if quick else {}
    world, spec = _world_from_args(args.world, args.world_set, defaults)
    skipped = {}
    for name in names:  # e.g. forward_vae reads cyclic shifts only: say so instead of failing its run
        try:
            check_factors(world, models.model_class(name))
        except ValueError as err:
            skipped[name] = str(err).removeprefix("world: ")
    names = [n for n in names if n not in skipped]
    if not names:
        raise ValueError(f"--models: none of them can be trained on world {spec['name']!r}: {skipped}")
    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not args.force:
        raise FileExistsError(f"--out: {out} is not empty; choose another directory or pass --force")
    grid = grid_from_dict({"models": [{"name": n, "hparams": compare_hparams(n, steps, quick)} for n in names],
                           "worlds": [{"name": spec["name"], "options": spec["kwargs"]}], "seeds": [args.seed],
                           "fit": {"steps": steps, "batch_size": batch, "lr": args.lr, "checkpoint_every": steps},
                           "verify": {"full": False, "n_metric": n_metric, "seed": args.seed}}, where="compare")
    for point in grid.points():
        if args.force and (out / point.name).exists():
            shutil.rmtree(out / point.name)
    cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    summary = run_sweep(grid, out, backend="local", cpus=torch.get_num_threads(), gpus=1 if cuda else 0,
                        save_report=False, quiet=args.quiet)
    for f in summary.failed:
        print(f"failed: {f['name']}: {f['error']}: {f['message'][:300]} (traceback in {out / f['name']}/errors.jsonl)",
              file=sys.stderr)
    rows = summary.results
    table = comparison_table(rows)
    from groupdrl._io import atomic_write
    from groupdrl.verify._doc import to_html

    not_applicable = "".join(f"\nnot applicable: {k}: {v}" for k, v in skipped.items())
    table += not_applicable
    atomic_write(out / "compare.md", f"world: {spec}\n\n{table}\n")
    notes = [("p", f"{COLLAPSE_NOTE} {'; '.join(collapse_notes(rows))}")] if collapse_notes(rows) else []
    notes += [("p", f"not applicable: {k}: {v}") for k, v in skipped.items()]
    atomic_write(out / "compare.html", to_html([("h", 1, "groupdrl compare"), ("p", f"world: {spec}"),
                                                ("table", *comparison_rows(rows)), *notes], "groupdrl compare"))
    atomic_write(out / "compare.json", json.dumps(_jsonable(rows), indent=2))
    print(table)
    print(f"\n(runs, compare.md, compare.html and compare.json in {out}; `groupdrl verify {out}/<run>` gives the "
          "full report)")
    return 1 if summary.failed else 0


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def _sweep_grid(args):
    """The grid of ``groupdrl sweep``: from ``--config``, or from the grid flags (not both)."""
    from groupdrl.sweep import grid_from_dict, load_grid

    flags = {"--models": args.models, "--worlds": args.worlds, "--seeds": args.seeds, "--set": args.set,
             "--grid": args.grid, "--world-set": args.world_set, "--world-grid": args.world_grid,
             "--steps": args.steps, "--batch-size": args.batch_size, "--lr": args.lr,
             "--checkpoint-every": args.checkpoint_every, "--n-metric": args.n_metric, "--light": args.light or None}
    if args.config:
        given = [k for k, v in flags.items() if v is not None]
        if given:
            raise ValueError(f"--config: the grid comes from {args.config}; set {given} there, not as flags")
        return load_grid(args.config)
    for flag in ("--models", "--worlds"):
        if not flags[flag]:
            raise ValueError(f"{flag}: required without --config (comma-separated names)")
    try:
        seeds = [int(s) for s in _names(args.seeds or "0")]
    except ValueError:
        raise ValueError(f"--seeds: expected comma-separated ints, got {args.seeds!r}") from None
    hp, hp_grid = parse_assignments(args.set, "--set"), parse_assignments(args.grid, "--grid")
    wo, wo_grid = parse_assignments(args.world_set, "--world-set"), parse_assignments(args.world_grid, "--world-grid")
    fit = {k: v for k, v in (("steps", args.steps), ("batch_size", args.batch_size), ("lr", args.lr),
                             ("checkpoint_every", args.checkpoint_every)) if v is not None}
    verify = {k: v for k, v in (("n_metric", args.n_metric), ("full", False if args.light else None)) if v is not None}
    return grid_from_dict({"models": [{"name": m, "hparams": hp, "grid": hp_grid} for m in _names(args.models)],
                           "worlds": [{"name": w, "options": wo, "grid": wo_grid} for w in _names(args.worlds)],
                           "seeds": seeds, "fit": fit, "verify": verify}, where="flags")


def cmd_sweep(args) -> int:
    from groupdrl.sweep import run_sweep

    summary = run_sweep(_sweep_grid(args), args.out, backend=args.backend, address=args.address,
                        cpus=args.cpus_per_task, gpus=args.gpus_per_task, num_cpus=args.num_cpus,
                        max_retries=args.max_retries, save_report=not args.no_save, progress_every=args.progress_every)
    print(f"{len(summary.results)} runs done ({summary.skipped} were already), {len(summary.failed)} failed, in "
          f"{summary.elapsed_s:.0f} s: {summary.out}")
    for f in summary.failed:
        print(f"  failed: {f['name']}: {f['error']}: {f['message'][:300]}")
    if summary.failed:
        print("(tracebacks in RUN/errors.jsonl; run the same command again to resume the failed runs)")
    print(f"`groupdrl report {summary.out}` aggregates the runs")
    return 0 if summary.ok else 1


def cmd_report(args) -> int:
    from groupdrl.sweep import report

    paths = report(args.sweep_dir, args.out, n_boot=args.n_boot, seed=args.seed, figures=not args.no_figures)
    print("written: " + ", ".join(str(p) for p in paths.values()))
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
               "  groupdrl verify --encoder mymodels:encoder --world flatland\n"
               "  groupdrl sweep --models beta_vae,hae --worlds flatland --seeds 0,1,2 --out runs/study\n"
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

    sp = sub.add_parser("verify", formatter_class=fmt, help="verify a trained run or your own encoder",
                        description="Report the group-theory verdict (equivariance, homomorphism, leakage between "
                                    "factor subspaces, D_LSBD) next to the intuitive metrics (BetaVAE, FactorVAE, "
                                    "MIG, SAP, DCI, modularity) of a trained run (RUN) or of your own encoder "
                                    "(--encoder) on a built-in world (--world) or your labelled arrays (--data). "
                                    "Writes report.{md,html,json} and figures to --out (default RUN/report, or "
                                    "./groupdrl-report for --encoder).\n\n"
                                    "--encoder MODULE:NAME (or FILE.py:NAME) names, in a module importable from the "
                                    "current directory: an nn.Module instance (its forward returns the (n, d) "
                                    "codes; put in eval mode), a function of a batch of observations, or a class "
                                    "or zero-argument function that returns one of those (called once). "
                                    "Observations are what the world renders: float32 images (n, C, H, W) in "
                                    "[0, 1].\n\n"
                                    "--data FILE.npz holds 'images' (N, ...) and 'factors' (N, k) (optional "
                                    "'names', 'periodic'); see groupdrl.worlds.from_arrays. An incomplete grid "
                                    "of factor values is fine: moves to states not in the data are not used.\n\n"
                                    "--device cuda (or auto) runs an nn.Module encoder (or the run's model) on "
                                    "the GPU; observations are moved there batch by batch. A plain function "
                                    "gets CPU tensors and handles devices itself.",
                        epilog="examples:\n  groupdrl verify runs/hae\n"
                               "  groupdrl verify --encoder mymodels:encoder --world flatland "
                               "--world-set image_size=16\n"
                               "  groupdrl verify --encoder mymodels:Encoder --data shapes.npz --device cuda")
    sp.add_argument("run", nargs="?", help="run directory written by `groupdrl train` (or give --encoder)")
    sp.add_argument("--encoder", metavar="MODULE:NAME", help="your encoder (see above)")
    sp.add_argument("--world", help="built-in world for --encoder (see `groupdrl worlds`)")
    sp.add_argument("--world-set", action="append", metavar="KEY=VALUE",
                    help="option of --world, repeatable (e.g. image_size=16); values parsed as JSON")
    sp.add_argument("--data", metavar="FILE.npz", help="a world of your labelled arrays, for --encoder")
    sp.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N or auto (CUDA when available)")
    sp.add_argument("--seed", type=int, default=0, help="seed of the verifier's samples (default 0)")
    sp.add_argument("--n-metric", type=int, default=10000,
                    help="train states of the intuitive metrics (test: half as many; default 10000)")
    sp.add_argument("--out", help="report directory (default RUN/report, or ./groupdrl-report with --encoder)")
    sp.add_argument("--no-save", action="store_true", help="do not write the report files")
    sp.add_argument("--json", action="store_true", help="print the report as JSON")
    sp.add_argument("--quiet", action="store_true", help="no progress lines (on stderr)")
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

    sp = sub.add_parser("sweep", formatter_class=fmt, help="train and verify a grid of runs as Ray tasks",
                        description="Train and verify every point of a grid (models × worlds × world options × "
                                    "hyperparameters × seeds), each in its own run directory OUT/<point>, as Ray "
                                    "tasks on a local Ray (default) or a cluster (--address), or one after another "
                                    "(--backend local). Finished runs are skipped, killed ones resume from their "
                                    "checkpoint, failures are kept in RUN/errors.jsonl: run the same command again "
                                    "to finish a sweep. The grid comes from a TOML/YAML file (--config; see "
                                    "groupdrl.sweep.grid) or from the flags below.",
                        epilog="examples:\n  groupdrl sweep --models beta_vae,hae --worlds flatland "
                               "--world-set image_size=16 --seeds 0,1,2 --steps 600 --out runs/study\n"
                               "  groupdrl sweep --config study.toml --out runs/study --cpus-per-task 2\n"
                               "  groupdrl report runs/study")
    sp.add_argument("--out", required=True, help="sweep directory (one run directory per grid point)")
    sp.add_argument("--config", help="grid file (TOML, or YAML with PyYAML); excludes the grid flags")
    g = sp.add_argument_group("grid flags (without --config)")
    g.add_argument("--models", help="comma-separated model names")
    g.add_argument("--worlds", help="comma-separated built-in world names")
    g.add_argument("--seeds", help="comma-separated seeds (default 0)")
    g.add_argument("--set", action="append", metavar="KEY=VALUE", help="hyperparameter of every model, repeatable")
    g.add_argument("--grid", action="append", metavar="KEY=[V1,V2]", help="hyperparameter axis, repeatable")
    g.add_argument("--world-set", action="append", metavar="KEY=VALUE", help="world option, repeatable")
    g.add_argument("--world-grid", action="append", metavar="KEY=[V1,V2]", help="world option axis, repeatable")
    g.add_argument("--steps", type=int, help="steps per run (default 2000)")
    g.add_argument("--batch-size", type=int, help="batch size (default 64)")
    g.add_argument("--lr", type=float, help="Adam learning rate (default 1e-3)")
    g.add_argument("--checkpoint-every", type=int, help="steps between checkpoints (default 500)")
    g.add_argument("--n-metric", type=int, help="states of the intuitive metrics (default 10000)")
    g.add_argument("--light", action="store_true", help="verify_group + MIG/DCI only (no FactorVAE/BetaVAE/SAP)")
    e = sp.add_argument_group("execution")
    e.add_argument("--backend", choices=("ray", "local"), default="ray",
                   help="ray (default: tasks on a local Ray or --address) or local (one run after another)")
    e.add_argument("--address", help="an existing Ray cluster, e.g. auto or ray://HOST:10001 (OUT on a file system "
                                     "every node sees; groupdrl installed there)")
    e.add_argument("--cpus-per-task", type=int, help="CPUs (torch threads) per run (default: the grid's, 1)")
    e.add_argument("--gpus-per-task", type=float, help="GPUs per run, fractions share one (default 0: CPU)")
    e.add_argument("--num-cpus", type=int, help="CPUs of the local Ray (default: all)")
    e.add_argument("--max-retries", type=int, default=0,
                   help="Ray retries of a run whose worker died, each resuming its checkpoint (default 0)")
    e.add_argument("--no-save", action="store_true", help="no per-run report/ (md, json, png)")
    e.add_argument("--progress-every", type=float, default=30.0, help="seconds between progress lines (default 30)")
    sp.set_defaults(func=cmd_sweep)

    sp = sub.add_parser("report", formatter_class=fmt, help="aggregate a sweep into tables and figures",
                        description="Aggregate every run of a sweep directory: runs.csv, report.json and report.md "
                                    "(per model the scores over seeds, the variance due to model, hyperparameters "
                                    "and seed, Spearman's rank correlation of the group-theory scores with each "
                                    "intuitive metric with a bootstrap interval) and figures scores.png, "
                                    "variance.png, spearman.png.",
                        epilog="example:\n  groupdrl report runs/study")
    sp.add_argument("sweep_dir", help="directory written by `groupdrl sweep`")
    sp.add_argument("--out", help="where to write (default SWEEP_DIR/report)")
    sp.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples (default 2000)")
    sp.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")
    sp.add_argument("--no-figures", action="store_true", help="tables only")
    sp.set_defaults(func=cmd_report)

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
    except (ValueError, TypeError, OSError) as err:  # a user's mistake; OSError: paths (FileExistsError, …)
        print(f"groupdrl {args.command}: error: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:  # CheckpointError, TrainingDiverged (FloatingPointError is an ArithmeticError)
        print(f"groupdrl {args.command}: error: {err}", file=sys.stderr)
        return 1
    except FloatingPointError as err:
        print(f"groupdrl {args.command}: error: {err}", file=sys.stderr)
        return 1
