"""Verifying a trained run directory under both definitions (moved here from ``groupdrl.cli`` so the sweep
layer and the CLI share it; ``groupdrl.cli.verify_run`` is the same function)."""
from __future__ import annotations

from pathlib import Path

import torch


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
               save: bool = True, device: str = "cpu", out: str | Path | None = None, progress=None) -> dict:
    """Verify the trained model of a run directory; returns a report dict (JSON-ready except ``"_report"``).

    ``full``: the combined report of ``groupdrl.verify.verify`` (both definitions, every intuitive metric;
    saved to ``out`` (default ``out_dir/report/``) as ``report.json``, ``report.md``, ``report.html`` and PNGs
    when ``save``) in ``report["_report"]``. Otherwise only ``verify_group`` and MIG/DCI on ``n_metric`` states
    (what ``groupdrl compare`` shows). Either way ``report["group"]["summary"]`` holds the verdict, equivariance
    error, largest off-diagonal leakage and D_LSBD, ``report["intuitive"]`` MIG / DCI, and ``report["collapse"]``
    the run's collapse check (``collapse.json`` written by :func:`~groupdrl.train.fit`; ``None`` if absent).
    The model's code of each distinct state is computed once (it is deterministic in eval mode); ``progress``
    (a callable taking a line of text) hears the long parts.
    """
    from groupdrl.train import load_run
    from groupdrl.train.checkpoint import CHECKPOINT, check_run_dir, load_checkpoint, read_config, read_json
    from groupdrl.train.collapse import COLLAPSE
    from groupdrl.verify.encode import cached

    out_dir = check_run_dir(out_dir)
    config = read_config(out_dir)
    step = load_checkpoint(out_dir / CHECKPOINT)["step"]
    model, world = load_run(out_dir, world=world, device=device)
    encode = cached(model.encode, world)  # the shared encoder call reads the model's device
    report: dict = {"run": str(out_dir), "model": config["model"], "world": config["world"], "step": step,
                    "group": None, "intuitive": None,
                    "collapse": read_json(out_dir / COLLAPSE) if (out_dir / COLLAPSE).is_file() else None}
    if full:
        from groupdrl.verify import verify

        combined = verify(encode, world, seed=seed, progress=progress,
                          intuitive_kwargs={"n_train": n_metric, "n_test": max(1, n_metric // 2)})
        group = combined.group
        scores = combined.intuitive.scores
        report["intuitive"] = {**jsonable(scores), "disentangled": bool(combined.intuitive.disentangled)}
        report["_report"] = combined
        if save:
            report["files"] = {k: str(v) for k, v in combined.save(out or out_dir / "report").items()}
    else:
        from groupdrl.verify.group import verify_group

        group = verify_group(encode, world, seed=seed)
        report["intuitive"] = intuitive_metrics(encode, world, n=n_metric, seed=seed)
    report["group"] = {"summary": _group_summary(group), "report": jsonable(group.to_dict())}
    return report


def intuitive_metrics(encode, world, *, n: int, seed: int) -> dict:
    """MIG and DCI (disentanglement, completeness, informativeness) of ``encode`` on ``n`` sampled states
    (continuous factors binned into classes as in :func:`groupdrl.verify.verify_intuitive`)."""
    from groupdrl.verify.binned import binned
    from groupdrl.verify.encode import encode as encode_states
    from groupdrl.verify.metrics import dci, mig

    gen = torch.Generator().manual_seed(seed)
    world = binned(world, seed=seed)
    states = world.sample_states(n, generator=gen)
    codes = encode_states(encode, world, states)
    factors = states.numpy()
    m = mig(codes=codes, factors=factors, seed=seed)
    d = dci(codes=codes, factors=factors, seed=seed)
    return {"mig": m["mig"], "dci_disentanglement": d["disentanglement"], "dci_completeness": d["completeness"],
            "dci_informativeness": d.get("informativeness_test")}


def jsonable(obj):
    """numpy / torch values → plain JSON types (recursively)."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, torch.Tensor):
        return jsonable(obj.detach().cpu().numpy())
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj if obj is None or isinstance(obj, (bool, int, float, str)) else str(obj)
