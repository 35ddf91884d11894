"""Distributed data parallel when launched with ``torchrun`` (gloo on CPU, NCCL on CUDA)."""
from __future__ import annotations

import os

import torch
import torch.distributed as dist


def launched() -> bool:
    """True when the process was started by ``torchrun`` with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def setup(device: torch.device) -> tuple[int, int, bool]:
    """Join the process group if launched by torchrun: returns ``(rank, world_size, created)``.

    ``created`` says whether this call initialised the group (and :func:`teardown` should end it).
    """
    if not launched():
        return 0, 1, False
    created = False
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        created = True
    return dist.get_rank(), dist.get_world_size(), created


def local_device(device: torch.device) -> torch.device:
    """Under torchrun, the CUDA device of this process's ``LOCAL_RANK``."""
    if device.type == "cuda" and device.index is None and launched():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def wrap(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``DistributedDataParallel(model)`` (parameters broadcast from rank 0; gradients averaged)."""
    ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)


def teardown(created: bool) -> None:
    if created and dist.is_initialized():
        dist.destroy_process_group()
