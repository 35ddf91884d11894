"""Training: the fit loop, batches drawn from worlds, checkpoints and run directories, DDP."""
from __future__ import annotations

from groupdrl.train.checkpoint import CheckpointError, load_checkpoint, load_run, save_checkpoint
from groupdrl.train.collapse import Collapse, CollapsedRunWarning, collapse_check
from groupdrl.train.data import WorldSampler
from groupdrl.train.fit import TrainingDiverged, fit, resolve_device, step_seed

__all__ = ["CheckpointError", "Collapse", "CollapsedRunWarning", "TrainingDiverged", "WorldSampler", "collapse_check",
           "fit", "load_checkpoint", "load_run", "resolve_device", "save_checkpoint", "step_seed"]
