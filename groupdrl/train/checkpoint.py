"""Run directories: atomic, content-hashed checkpoints (no pickled code), the JSON run config, a lock, and
reloading a trained model.

A run directory holds

- ``config.json``: ``{"model": model.config, "world": {"name", "kwargs", "repr", "observation_shape"},
  "fit": {...}}``;
- ``checkpoint.pt``: ``torch.save`` of plain tensors / dicts / numbers only (model and optimiser state, the
  step, the seed, the config as a JSON string), followed by a trailer ``\ngroupdrl-sha256:<hex>\n`` holding
  the SHA-256 of everything before it. :func:`load_checkpoint` checks the hash (torch does not check the
  zip CRCs: without it a flipped byte loads as a silently different model), then reads the payload with
  ``torch.load(weights_only=True)``; plain ``torch.load`` still reads the file;
- ``metrics.jsonl``: one JSON object per logged step;
- ``.lock``: held (``flock``) by the process training in it, so two runs cannot write one directory; the
  operating system releases it when that process ends, however it ends.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import time
from pathlib import Path

import torch

from groupdrl._io import atomic_write

CHECKPOINT = "checkpoint.pt"
CONFIG = "config.json"
METRICS = "metrics.jsonl"
LOCK = ".lock"
FORMAT = 2
_KEYS = ("format", "model", "optimizer", "step", "seed", "config")
_TRAILER = b"\ngroupdrl-sha256:"
_TRAILER_LEN = len(_TRAILER) + 64 + 1


class CheckpointError(RuntimeError):
    """A run directory or checkpoint that cannot be read, is in use, or does not belong to this run."""


def write_json(path: str | os.PathLike, obj: dict) -> None:
    """Atomically write ``obj`` as indented JSON."""
    atomic_write(path, json.dumps(obj, indent=2, sort_keys=True))


def write_text(path: str | os.PathLike, text: str) -> None:
    """Atomically write ``text``."""
    atomic_write(path, text)


def read_json(path: str | os.PathLike) -> dict:
    """Read a JSON run file (an object); a missing, unreadable or malformed file raises :class:`CheckpointError`."""
    path = Path(path)
    try:
        obj = json.loads(path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{path}: not found; is this a groupdrl run directory?") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: not valid JSON ({err})") from None
    except OSError as err:
        raise CheckpointError(f"{path}: cannot be read ({err.strerror or err})") from None
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: expected a JSON object, got {type(obj).__name__}")
    return obj


def check_run_dir(path: str | os.PathLike, name: str = "run", must_exist: bool = True) -> Path:
    """``path`` as a run directory: ``TypeError`` for a non-path, :class:`CheckpointError` for a file or (with
    ``must_exist``) a missing directory."""
    if not isinstance(path, (str, os.PathLike)) or (isinstance(path, str) and not path.strip()):
        raise TypeError(f"{name}: expected a directory path, got {path!r}")
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise CheckpointError(f"{name}: {path} is a file, not a run directory")
    if must_exist and not path.is_dir():
        raise CheckpointError(f"{name}: {path} does not exist; give a run directory written by `groupdrl train`")
    return path


def read_config(run: str | os.PathLike) -> dict:
    """``config.json`` of a run directory, checked to name a model and a world (else :class:`CheckpointError`)."""
    path = check_run_dir(run) / CONFIG
    config = read_json(path)
    for section, keys in (("model", {"name": str, "hparams": dict}), ("world", {"name": str, "kwargs": dict}),
                          ("fit", {})):
        part = config.get(section)
        if not isinstance(part, dict):
            raise CheckpointError(f"{path}: expected a {section!r} object, got {part!r}; not a groupdrl run config")
        for key, kind in keys.items():
            if not isinstance(part.get(key), kind):
                raise CheckpointError(f"{path}: expected {section}.{key} to be a {kind.__name__}, "
                                      f"got {part.get(key)!r}")
    return config


def config_differences(saved: dict, now: dict, prefix: str = "") -> list[str]:
    """Human-readable paths where two JSON configs differ, e.g. ``"world.kwargs.n: 8 in the checkpoint, 10 now"``."""
    if isinstance(saved, dict) and isinstance(now, dict):
        return [d for k in sorted(set(saved) | set(now), key=str)
                for d in config_differences(saved.get(k, _ABSENT), now.get(k, _ABSENT), f"{prefix}{k}.")]
    if saved != now:
        return [f"{prefix.rstrip('.')}: {_shown(saved)} in the checkpoint, {_shown(now)} now"]
    return []


_ABSENT = object()


def _shown(value) -> str:
    return "absent" if value is _ABSENT else repr(value)


class RunLock:
    """An exclusive ``flock`` on ``run/.lock`` held while a process trains in ``run`` (POSIX)."""

    def __init__(self, run: str | os.PathLike) -> None:
        import fcntl

        run = check_run_dir(run, "out_dir", must_exist=False)
        run.mkdir(parents=True, exist_ok=True)
        self.path = run / LOCK
        self._fh = open(self.path, "a+")
        try:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._fh.seek(0)
            holder = self._fh.read().strip() or "unknown"
            self._fh.close()
            raise CheckpointError(f"out_dir: {run} is in use by another groupdrl run ({holder}); wait for it to "
                                  "finish or choose another directory") from None
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.write(f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        self._fh.flush()

    def release(self) -> None:
        """Release the lock (closing the file releases the ``flock``)."""
        if not self._fh.closed:
            self._fh.truncate(0)
            self._fh.close()


def save_checkpoint(path: str | os.PathLike, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    step: int, seed: int, config: dict) -> None:
    """Atomically save the training state after ``step`` steps, with its SHA-256 trailer (tmp file + replace)."""
    state = {
        "format": FORMAT,
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": optimizer.state_dict(),
        "step": int(step),
        "seed": int(seed),
        "config": json.dumps(config, sort_keys=True),
    }
    buf = io.BytesIO()
    torch.save(state, buf)
    body = buf.getvalue()
    trailer = _TRAILER + hashlib.sha256(body).hexdigest().encode() + b"\n"
    atomic_write(path, body + trailer)


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Load a checkpoint: check its SHA-256, then ``torch.load(weights_only=True)``; anything unreadable,
    damaged or foreign raises :class:`CheckpointError`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint there")
    restart = "Nothing restarts from scratch on its own: delete the run directory to start over."
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CheckpointError(f"{path}: cannot be read ({err.strerror or err})") from None
    body, trailer = data[:-_TRAILER_LEN], data[-_TRAILER_LEN:]
    if len(data) < _TRAILER_LEN or not trailer.startswith(_TRAILER) or not trailer.endswith(b"\n"):
        raise CheckpointError(f"{path}: the checkpoint is corrupted or not a groupdrl checkpoint (no content hash "
                              f"trailer: truncated, damaged, or written by another program). {restart}")
    if hashlib.sha256(body).hexdigest().encode() != trailer[len(_TRAILER):-1]:
        raise CheckpointError(f"{path}: the checkpoint is corrupted: its content does not match its SHA-256 (the "
                              f"file changed after it was written, e.g. a flipped byte). {restart}")
    try:
        state = torch.load(io.BytesIO(body), map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises RuntimeError, UnpicklingError, EOFError... on foreign files
        raise CheckpointError(f"{path}: the checkpoint is corrupted or not a groupdrl checkpoint "
                              f"({type(err).__name__}: {err}). {restart}") from None
    if not isinstance(state, dict) or any(k not in state for k in _KEYS):
        raise CheckpointError(f"{path}: not a groupdrl checkpoint (expected keys {list(_KEYS)})")
    if state["format"] != FORMAT:
        raise CheckpointError(f"{path}: checkpoint format {state['format']!r}, this groupdrl reads {FORMAT}")
    try:
        state["config"] = json.loads(state["config"])
    except (TypeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path}: the run configuration inside the checkpoint is not JSON ({err})") from None
    if not isinstance(state["config"], dict):
        raise CheckpointError(f"{path}: the run configuration inside the checkpoint is not a JSON object")
    return state


def build_world(spec: dict):
    """The built-in world ``spec = {"name", "kwargs"}`` from :mod:`groupdrl.worlds`."""
    from groupdrl import worlds

    return worlds.get(spec["name"], **spec.get("kwargs", {}))


def load_run(out_dir: str | os.PathLike, world=None, device: str | torch.device = "cpu"):
    """Rebuild the trained model of a run directory: returns ``(model, world)``.

    ``world`` defaults to the built-in world recorded in ``config.json``; pass it for a user-defined world.
    The model is in eval mode on ``device``. A directory, config or checkpoint that cannot give back the
    model it records raises :class:`CheckpointError`.
    """
    from groupdrl import models

    out_dir = check_run_dir(out_dir)
    config = read_config(out_dir)
    state = load_checkpoint(out_dir / CHECKPOINT)
    differ = config_differences(state["config"].get("model"), config["model"])
    if differ:
        raise CheckpointError(f"{out_dir / CONFIG}: its model does not match the checkpoint's: {'; '.join(differ)}")
    try:
        if world is None:
            world = build_world(config["world"])
        model = models.get(config["model"]["name"], world, **config["model"]["hparams"])
    except (ValueError, TypeError) as err:
        raise CheckpointError(f"{out_dir / CONFIG}: cannot rebuild the model and world it records ({err})") from None
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as err:
        raise CheckpointError(f"{out_dir / CHECKPOINT}: parameters do not fit the model in config.json ({err})") \
            from None
    return model.to(device).eval(), world
