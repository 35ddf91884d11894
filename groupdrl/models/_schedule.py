"""Step-dependent training: a resumable step counter and the linear capacity schedule C(t) of AnnealedVAE
(Burgess et al. 2018) and JointVAE (Dupont 2018)."""
from __future__ import annotations

import torch
from torch import nn


class StepCounter(nn.Module):
    """A training-step counter t kept in the state dict, so a resumed run continues where it stopped.

    ``t`` is a persistent ``int64`` buffer ``step``; :meth:`tick` advances it by one in training mode (call it
    once per loss evaluation); in eval mode it stays put.
    """

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("step", torch.zeros((), dtype=torch.long))

    def tick(self) -> None:
        """t ← t + 1 when the module is in training mode."""
        if self.training:
            self.step += 1


class CapacitySchedule(StepCounter):
    """C(t) = min(C_max, C_min + (C_max − C_min) · t / T), t a :class:`StepCounter`.

    Parameters
    ----------
    steps : int
        T, the number of steps over which C grows from C_min to C_max.

    Examples
    --------
    >>> s = CapacitySchedule(100)
    >>> float(s(25.0))  # t = 0
    0.0
    """

    def __init__(self, steps: int) -> None:
        super().__init__()
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ValueError(f"capacity_steps: expected a positive int, got {steps!r}")
        self.steps = steps

    def forward(self, c_max: float, c_min: float = 0.0) -> torch.Tensor:
        """C(t) at the current step (a 0-d tensor of the default dtype)."""
        frac = torch.clamp(self.step.to(torch.get_default_dtype()) / self.steps, max=1.0)
        return c_min + (c_max - c_min) * frac
