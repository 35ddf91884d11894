"""Collapse detection: did a trained model learn a code at all?

A collapsed run has a code that carries (almost) no information about the world: a VAE whose posterior
equals the prior (KL ≈ 0 in every latent dimension, the decoder draws the mean image), or any model whose
codes are (near) constant over the world's states. Its verdicts — formal or intuitive — describe a
constant map, not a finding, so :func:`~groupdrl.train.fit` checks every run at its end (and records
``collapse.json`` in the run directory) and ``groupdrl compare`` shows the flag next to each verdict.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import torch

#: File of a run directory holding the :class:`Collapse` record of the trained model.
COLLAPSE = "collapse.json"
#: A latent dimension whose posterior KL is below this (nats, mean over the world's states) carries no
#: information: KL ≥ I(x; z_d) and a Gaussian channel with I = ½ log(1 + SNR) = 0.05 nats has SNR ≈ 0.1.
KL_TOL = 0.05
#: Codes whose standard deviation over the world's states is below ``SPREAD_TOL · max(1, rms)`` in every
#: dimension are constant: 1 % of the unit scale of the models' priors (N(0, I), U(−1, 1)), or of the
#: codes' own magnitude when that is larger.
SPREAD_TOL = 1e-2


class CollapsedRunWarning(UserWarning):
    """A training run ended collapsed (see :func:`collapse_check`)."""


@dataclass(frozen=True)
class Collapse:
    """The result of :func:`collapse_check` (``to_dict()`` is JSON).

    Attributes
    ----------
    collapsed : bool
    reason : str
        Why it is collapsed (``""`` when it is not).
    kl_per_dim : list of float or None
        Mean posterior KL of each latent dimension (nats); ``None`` for a model without a posterior.
    code_spread : list of float
        Standard deviation of each code dimension over the sampled states.
    code_rms : float
        Root mean square of the codes (their magnitude, offset included).
    n_states : int
    """

    collapsed: bool
    reason: str
    kl_per_dim: list[float] | None
    code_spread: list[float]
    code_rms: float
    n_states: int

    def to_dict(self) -> dict:
        return asdict(self)


@torch.no_grad()
def collapse_check(model, world, *, n_states: int = 512, seed: int = 0, kl_tol: float = KL_TOL,
                   spread_tol: float = SPREAD_TOL, batch_size: int = 256) -> Collapse:
    """Whether ``model`` is collapsed on ``world``: posterior KL ≈ 0 in every dimension, or constant codes.

    ``n_states`` states are drawn with a generator seeded by ``seed`` and rendered; the model is evaluated
    in eval mode (its mode is restored) on its own device.

    - **KL** (models with ``kl_per_dim(x)``, the VAE family): collapsed when every dimension's mean
      KL(q(z_d|x) ‖ p(z_d)) is below ``kl_tol`` nats.
    - **Codes** (every model, on ``encode(x)``): collapsed when every dimension's standard deviation over
      the states is below ``spread_tol · max(1, rms)``, rms the codes' root mean square.

    Examples
    --------
    >>> collapse_check(model, world).collapsed  # doctest: +SKIP
    False
    """
    for name, value in (("n_states", n_states), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 2:
            raise ValueError(f"{name}: expected an int >= 2, got {value!r}")
    for name, value in (("kl_tol", kl_tol), ("spread_tol", spread_tol)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    states = world.sample_states(n_states, generator=torch.Generator().manual_seed(seed))
    x = world.render(states).float()
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        codes, kls = [], []
        kl_fn = getattr(model, "kl_per_dim", None)
        for chunk in x.split(batch_size):
            chunk = chunk.to(device)
            codes.append(model.encode(chunk).double().cpu())
            if kl_fn is not None:
                kls.append(kl_fn(chunk).double().cpu() * len(chunk))
    finally:
        model.train(was_training)
    codes = torch.cat(codes)
    spread = codes.std(0)
    rms = float(codes.pow(2).mean().sqrt())
    kl = (torch.stack(kls).sum(0) / len(x)).tolist() if kls else None
    reasons = []
    if not bool(torch.isfinite(codes).all()):
        reasons.append("the codes are not finite")
    if kl is not None and max(kl) < kl_tol:
        reasons.append(f"posterior KL below {kl_tol:g} nats in every dimension (max {max(kl):.2g})")
    if float(spread.max()) < spread_tol * max(1.0, rms):
        reasons.append(f"codes constant over the world (largest std {float(spread.max()):.2g}, rms {rms:.2g})")
    return Collapse(collapsed=bool(reasons), reason="; ".join(reasons), kl_per_dim=kl,
                    code_spread=spread.tolist(), code_rms=rms, n_states=len(x))


def warn_if_collapsed(result: Collapse, what: str) -> None:
    """Issue a :class:`CollapsedRunWarning` naming ``what`` (e.g. the model and its run directory)."""
    if result.collapsed:
        warnings.warn(f"{what} ended collapsed: {result.reason}. Its verdicts and metrics describe a "
                      "(near) constant code, not a finding; train longer or check the hyperparameters.",
                      CollapsedRunWarning, stacklevel=3)
