"""The training loop shared by every model."""
from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import time
from pathlib import Path

import torch

from groupdrl._checks import resolve_device
from groupdrl.train import ddp
from groupdrl.train.checkpoint import (CHECKPOINT, CONFIG, METRICS, CheckpointError, RunLock, check_run_dir,
                                       config_differences, load_checkpoint, save_checkpoint, write_json, write_text)
from groupdrl.train.collapse import COLLAPSE, collapse_check, warn_if_collapsed
from groupdrl.train.data import WorldSampler, to_device


#: Numerical precisions of the training step (see ``fit(precision=...)``).
PRECISIONS = ("fp32", "bf16")


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


def step_seed(seed: int, step: int, rank: int, stream: str) -> int:
    """A 63-bit seed for (run seed, step, process rank, stream): every step's randomness is independent of
    what ran before it, so a resumed run draws exactly the batches an uninterrupted one draws."""
    digest = hashlib.blake2b(f"{seed}/{step}/{rank}/{stream}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & (2**63 - 1)


def _positive(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}: expected a positive int, got {value!r}")
    return value


def _count(batch: dict, obs_dims: int) -> int:
    """Number of observations in a batch."""
    return sum(v[..., *([0] * obs_dims)].numel() for k, v in batch.items()
               if isinstance(v, torch.Tensor) and k.startswith("x"))


def _trim_metrics(path: Path, step: int) -> None:
    """Drop metric lines logged after ``step`` (a resumed run logs them again) and a line cut short by a kill;
    rewritten atomically."""
    if not path.exists():
        return
    keep = [line for line in path.read_text().splitlines() if (s := _logged_step(line)) is not None and s <= step]
    write_text(path, "".join(line + "\n" for line in keep))


def _logged_step(line: str) -> int | None:
    try:
        return int(json.loads(line)["step"])
    except (ValueError, KeyError, TypeError):
        return None


def fit(model, world, *, steps: int, batch_size: int = 64, lr: float = 1e-3, seed: int = 0,
        out_dir: str | os.PathLike, checkpoint_every: int = 500, resume: bool = False,
        device: str | torch.device | None = "cpu", log_every: int = 50, quiet: bool = False,
        world_config: dict | None = None, cache_bytes: int = 512 * 2**20, channels_last: bool = True,
        precision: str = "fp32", compile: bool = False):
    """Train ``model`` on batches drawn from ``world`` with Adam; return the trained model (unwrapped).

    One backward pass of ``model.loss(batch)["loss"]`` per step. At the end the model is checked for
    collapse (:func:`~groupdrl.train.collapse.collapse_check`, recorded in ``collapse.json``); a collapsed
    run raises a :class:`~groupdrl.train.collapse.CollapsedRunWarning`. A model with several players (a GAN, a
    FactorVAE discriminator) gives ``param_groups(lr)`` (Adam groups with their own lr / betas) and a
    total loss whose terms reach only their own player's parameters.

    Each step's batch and noise come from generators seeded by ``(seed, step, rank)`` (:func:`step_seed`),
    so ``resume=True`` continues a killed run exactly: the parameters after ``steps`` are bit-identical to
    an uninterrupted run with the same seed (same device and thread count).

    Parameters
    ----------
    model : groupdrl.models.Model
        Asks for its batches through ``model.data`` / ``model.data_kwargs``.
    world : World
    steps : int
        Total number of optimisation steps (a resumed run continues up to it).
    batch_size : int
        Batch size per process.
    lr : float
        Adam learning rate.
    seed : int
        Seed of the data and noise streams.
    out_dir : path
        Run directory (``config.json``, ``checkpoint.pt``, ``metrics.jsonl``, ``collapse.json``); a directory
        already holding a checkpoint needs ``resume=True``. Locked while training: a second run on it fails with
        :class:`CheckpointError`.
    checkpoint_every : int
        Steps between checkpoints (always one at the end), each written atomically.
    resume : bool
        Continue from ``out_dir/checkpoint.pt``; a missing or corrupted checkpoint is an error, never a silent
        restart, and so is one of another model, world (name, options, factors, observation shape) or
        setting (batch size, lr, seed, processes): the error lists what differs.
    device : "cpu", "cuda", "auto" or None
        ``None``/``"auto"``: CUDA when available. Under ``torchrun`` each process uses ``LOCAL_RANK``'s GPU
        (NCCL) or the CPU (gloo) and the model is wrapped in ``DistributedDataParallel``.
    log_every : int
        Steps between progress lines (stderr) and ``metrics.jsonl`` records.
    quiet : bool
        No progress lines.
    world_config : dict, optional
        ``{"name", "kwargs"}`` rebuilding a built-in world (recorded so ``groupdrl verify`` can reload the run).
    cache_bytes : int
        Render-cache budget of the :class:`~groupdrl.train.data.WorldSampler`.
    channels_last : bool
        Keep 4-D weights and image batches in channels-last (NHWC) memory layout, in which oneDNN's CPU
        convolutions run the shared conv nets 5–25 % faster (``benchmarks/results/train_step.md``). Same
        function; float rounding differs from NCHW. (Adam is always the fused single-kernel one.)
    precision : {"fp32", "bf16"}
        ``"bf16"``: the loss (forward and backward) under ``torch.autocast`` with bfloat16 (weights and Adam
        stay float32); recorded in the run config. 1.8x faster for the β-VAE step at 64 px on a CPU with
        bf16 instructions, but every matrix product of the model — group actions and representations in
        the latent included — then rounds to 8 significant bits: opt in per model after checking its results.
    compile : bool
        Run the model's loss through ``torch.compile`` (forward and, by AOTAutograd, backward): a one-time
        compilation of half a minute to minutes for 10–25 % per step (``benchmarks/results/train_step.md``).

    Raises
    ------
    TrainingDiverged
        The loss became NaN or inf; the last checkpoint (before that step) is kept.
    CheckpointError
        ``resume=True`` with a missing, corrupted or mismatching checkpoint.
    """
    steps = _positive(steps, "steps")
    batch_size = _positive(batch_size, "batch_size")
    checkpoint_every = _positive(checkpoint_every, "checkpoint_every")
    log_every = _positive(log_every, "log_every")
    if not isinstance(seed, int):
        raise TypeError(f"seed: expected an int, got {type(seed).__name__}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr: expected a positive finite number, got {lr!r}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision: expected one of {list(PRECISIONS)}, got {precision!r}")
    if tuple(model.observation_shape) != tuple(world.observation_shape):
        raise ValueError(f"world: observations of shape {tuple(world.observation_shape)}, the model was built for "
                         f"{tuple(model.observation_shape)}")

    device = resolve_device(device)
    out = check_run_dir(out_dir, "out_dir", must_exist=False)
    rank, world_size, created = ddp.setup(device)
    device = ddp.local_device(device)
    ckpt_path, metrics_path = out / CHECKPOINT, out / METRICS
    config = {
        "model": model.config,
        "world": {**(world_config or {"name": world.name, "kwargs": {}}), "repr": repr(world),
                  "observation_shape": list(world.observation_shape)},
        "fit": {"batch_size": batch_size, "lr": float(lr), "seed": seed, "world_size": world_size,
                **({"precision": precision} if precision != "fp32" else {})},
    }
    lock = None
    try:
        lock = RunLock(out) if rank == 0 else None  # a second run on this directory fails here
        memory_format = torch.channels_last if channels_last else torch.contiguous_format
        model.to(device, memory_format=memory_format)
        # a model with several players (VAE + discriminator, generator + critic) gives its own Adam groups
        groups = model.param_groups(lr) if hasattr(model, "param_groups") else model.parameters()
        optimizer = torch.optim.Adam(groups, lr=lr, fused=True)  # one kernel for all parameters: 4x the default
        start = 0
        if resume:
            state = load_checkpoint(ckpt_path)
            differ = config_differences(state["config"], config)
            if differ:
                raise CheckpointError(f"{ckpt_path}: the checkpoint belongs to another run configuration; --resume "
                                      f"continues only the same model, world and settings: {'; '.join(differ)}")
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            start = state["step"]
        elif ckpt_path.exists():
            raise FileExistsError(f"out_dir: {out} already holds a checkpoint; pass resume=True (--resume) to "
                                  "continue it or choose another directory")
        if rank == 0:
            out.mkdir(parents=True, exist_ok=True)
            write_json(out / CONFIG, {**config, "fit": {**config["fit"], "steps": steps}})
            if resume:
                _trim_metrics(metrics_path, start)

        net = ddp.wrap(model, device) if world_size > 1 else model
        net.train()
        loss_fn = torch.compile(net) if compile else net
        autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")
        sampler = WorldSampler(world, cache_bytes=cache_bytes)
        obs_dims = len(world.observation_shape)
        t0, seen = time.perf_counter(), 0
        for step in range(start, steps):
            data_gen = torch.Generator().manual_seed(step_seed(seed, step, rank, "data"))
            batch = to_device(sampler.batch(model.data, batch_size, data_gen, **model.data_kwargs), device,
                              memory_format)
            noise_gen = torch.Generator(device=device).manual_seed(step_seed(seed, step, rank, "noise"))
            with autocast:
                terms = loss_fn(batch, noise_gen, step)
            loss = terms["loss"]
            if not bool(torch.isfinite(loss)):
                bad = {k: float(v.detach()) for k, v in terms.items()}
                kept = f"the last good checkpoint is {ckpt_path} (step {_saved_step(ckpt_path)})" \
                    if ckpt_path.exists() else "no checkpoint was written yet"
                raise TrainingDiverged(f"step {step + 1}: the loss is not finite ({bad}); training stopped and "
                                       f"{kept}. Lower the learning rate or check the data.")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            seen += _count(batch, obs_dims)
            done = step + 1
            if rank == 0 and (done % log_every == 0 or done == steps):
                elapsed = time.perf_counter() - t0
                record = {"step": done, **{k: float(v.detach()) for k, v in terms.items()},
                          "obs_per_s": seen / max(elapsed, 1e-9), "elapsed_s": elapsed}
                with open(metrics_path, "a") as fh:
                    fh.write(json.dumps(record) + "\n")
                if not quiet:
                    parts = "  ".join(f"{k} {v:.4g}" for k, v in record.items() if k in terms)
                    print(f"[{model.name}] step {done}/{steps}  {parts}  ({record['obs_per_s']:.0f} obs/s)",
                          file=sys.stderr, flush=True)
            if rank == 0 and (done % checkpoint_every == 0 or done == steps):
                save_checkpoint(ckpt_path, model, optimizer, done, seed, config)
        if rank == 0:  # a collapsed run is flagged, never silently reported
            collapse = collapse_check(model, world, seed=seed)
            write_json(out / COLLAPSE, collapse.to_dict())
            warn_if_collapsed(collapse, f"{model.name} ({out})")
    finally:
        if lock is not None:
            lock.release()
        ddp.teardown(created)
    return model


def _saved_step(path: Path) -> int | str:
    try:
        return load_checkpoint(path)["step"]
    except CheckpointError:
        return "unreadable"
