"""Run directories: atomic checkpoints (no pickled code), the JSON run config, and reloading a trained model.

A run directory holds

- ``config.json``: ``{"model": model.config, "world": {"name", "kwargs"}, "fit": {...}}``;
- ``checkpoint.pt``: ``torch.save`` of plain tensors / dicts / numbers only (model and optimiser state, the
  step, the seed, the config as a JSON string), read back with ``torch.load(weights_only=True)``;
- ``metrics.jsonl``: one JSON object per logged step.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import torch

CHECKPOINT = "checkpoint.pt"
CONFIG = "config.json"
METRICS = "metrics.jsonl"
FORMAT = 1
_KEYS = ("format", "model", "optimizer", "step", "seed", "config")


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be read or does not belong to this run."""


def _atomic_write(path: Path, write) -> None:
    """Write through ``write(file)`` to a temporary file next to ``path``, fsync, then ``os.replace``."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_json(path: str | os.PathLike, obj: dict) -> None:
    """Atomically write ``obj`` as indented JSON."""
    _atomic_write(Path(path), lambda fh: fh.write(json.dumps(obj, indent=2, sort_keys=True).encode()))


def read_json(path: str | os.PathLike) -> dict:
    """Read a JSON run file; a missing or malformed file raises :class:`CheckpointError`."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{path}: not found; is this a groupdrl run directory?") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: not valid JSON ({err})") from None


def save_checkpoint(path: str | os.PathLike, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    step: int, seed: int, config: dict) -> None:
    """Atomically save the training state after ``step`` steps (tmp file + ``os.replace``)."""
    state = {
        "format": FORMAT,
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": optimizer.state_dict(),
        "step": int(step),
        "seed": int(seed),
        "config": json.dumps(config, sort_keys=True),
    }
    _atomic_write(Path(path), lambda fh: torch.save(state, fh))


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Load a checkpoint with ``weights_only=True``; anything unreadable raises :class:`CheckpointError`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint there")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises RuntimeError, UnpicklingError, EOFError... on damaged files
        raise CheckpointError(
            f"{path}: the checkpoint is corrupted or not a groupdrl checkpoint ({type(err).__name__}: {err}). "
            "Training will not restart from scratch on its own: delete the run directory or choose another "
            "out_dir to start over.") from None
    if not isinstance(state, dict) or any(k not in state for k in _KEYS):
        raise CheckpointError(f"{path}: not a groupdrl checkpoint (expected keys {list(_KEYS)})")
    if state["format"] != FORMAT:
        raise CheckpointError(f"{path}: checkpoint format {state['format']!r}, this groupdrl reads {FORMAT}")
    state["config"] = json.loads(state["config"])
    return state


def build_world(spec: dict):
    """The built-in world ``spec = {"name", "kwargs"}`` from :mod:`groupdrl.worlds`."""
    from groupdrl import worlds

    if not hasattr(worlds, "get"):
        raise CheckpointError("groupdrl.worlds has no registry (worlds.get) yet; pass world= explicitly")
    return worlds.get(spec["name"], **spec.get("kwargs", {}))


def load_run(out_dir: str | os.PathLike, world=None, device: str | torch.device = "cpu"):
    """Rebuild the trained model of a run directory: returns ``(model, world)``.

    ``world`` defaults to the built-in world recorded in ``config.json``; pass it for a user-defined world.
    The model is in eval mode on ``device``.
    """
    from groupdrl import models

    out_dir = Path(out_dir)
    config = read_json(out_dir / CONFIG)
    state = load_checkpoint(out_dir / CHECKPOINT)
    if world is None:
        world = build_world(config["world"])
    model = models.get(config["model"]["name"], world, **config["model"]["hparams"])
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as err:
        raise CheckpointError(f"{out_dir / CHECKPOINT}: parameters do not fit the model in config.json ({err})") \
            from None
    return model.to(device).eval(), world
