"""Proposition (k): Quessard et al.'s objective does not identify an equivariant encoder
(proofs/k_quessard_not_identified.md).

The real ``Quessard`` on C_3 × C_4 with one-hot observations (T = 3): its encoder is replaced by a lookup
of the 12 states onto points of S^3, its decoder by a nearest-neighbour lookup over the propagated points
ρ(u) e_s of every (state, word of length ≤ T) that outputs logits ±M of the target observation.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import nn

from groupdrl.models import get
from groupdrl.train.data import WorldSampler
from groupdrl.verify.group import verify_group
from groupdrl.worlds import Factor, World

SIZES = (3, 4)
D = 4  # latent_dim = 2K
PLANES = (0, 5)  # θ columns of the pairs (0, 1) and (2, 3): factor i rotates its own plane


def _render(s: torch.Tensor) -> torch.Tensor:
    return torch.cat([F.one_hot(s[:, i], n) for i, n in enumerate(SIZES)], 1).float()


WORLD = World([Factor("a", SIZES[0]), Factor("b", SIZES[1])], render=_render, name="onehot")
STATES = torch.tensor(list(itertools.product(*map(range, SIZES))))


class Lookup(nn.Module):
    """enc(x) = points[state of the one-hot x]."""

    def __init__(self, points: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("points", points)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.points[x[:, :SIZES[0]].argmax(1) * SIZES[1] + x[:, SIZES[0]:].argmax(1)]


class Nearest(nn.Module):
    """Logits ±M of the target of the nearest propagated point; records its inputs."""

    def __init__(self, keys: torch.Tensor, targets: torch.Tensor, m: float) -> None:
        super().__init__()
        self.keys, self.targets, self.m, self.last = keys, targets, m, None

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        self.last = z.detach()
        return (2 * self.targets[torch.cdist(z, self.keys).argmin(1)] - 1) * self.m


def _element(i: int, k: int) -> dict:
    """The element k of factor i (identity elsewhere), once per state of ``STATES``."""
    return {f: torch.full((len(STATES),), k if j == i else 0) for j, f in enumerate(WORLD.factor_names)}


def _minimiser(alphas, points: torch.Tensor, m: float = 10.0):
    """Quessard with θ^{a_i^±} = ±α_i on plane i, enc = the lookup, dec = ``Nearest``; and the separation
    of (C): the least distance between propagated points whose targets differ."""
    model = get("quessard", WORLD, likelihood="bernoulli")
    theta = torch.zeros_like(model.theta)
    for i, (p, a) in enumerate(zip(PLANES, alphas)):
        theta[2 * i, p], theta[2 * i + 1, p] = a, -a
    with torch.no_grad():
        model.theta.copy_(theta)
    model.encoder = Lookup(points)
    mats, z0 = model.matrices().detach(), model.encode(_render(STATES)).detach()
    moves = [_element(i, sign % n) for i, n in enumerate(SIZES) for sign in (1, -1)]  # the 2K actions a_i^±
    words = (itertools.product(moves, repeat=t) for t in range(model.data_kwargs["length"] + 1))
    keys, targets = [], []
    for word in itertools.chain.from_iterable(words):
        z, s = z0, STATES
        for g in word:  # as Quessard.loss composes them: z_t = ρ(a_t) z_{t−1}
            z = torch.einsum("nij,nj->ni", mats[model.action_index(g)], z)
            s = WORLD.act(g, s)[0]
        keys.append(z)
        targets.append(_render(s))
    keys, targets = torch.cat(keys), torch.cat(targets)
    differ = (targets[:, None] != targets[None]).any(-1)
    separation = float(torch.cdist(keys.double(), keys.double())[differ].min())
    model.decoder = Nearest(keys, targets, m)
    return model, separation


def _sphere(rng, n: int) -> torch.Tensor:
    p = rng.normal(size=(n, D))
    return torch.from_numpy(p / np.linalg.norm(p, axis=1, keepdims=True)).float()


def _equivariant(rng):
    """Faithful ρ (α_i = 2π/N_i) and the orbit e_s = ρ(s) v of v = (R(φ_a) ε_1, R(φ_b) ε_1)/√2, random φ."""
    ang = 2 * math.pi * STATES.double() / torch.tensor(SIZES) + torch.from_numpy(rng.uniform(0, 2 * math.pi, 2))
    points = torch.stack([ang[:, 0].cos(), ang[:, 0].sin(), ang[:, 1].cos(), ang[:, 1].sin()], 1) / math.sqrt(2)
    return _minimiser([2 * math.pi / n for n in SIZES], points.float())


@torch.no_grad()
def _losses(model, seed: int, batches: int = 3) -> list[dict]:
    gen, sampler = torch.Generator().manual_seed(seed), WorldSampler(WORLD)
    return [{k: float(v) for k, v in model.loss(sampler.batch(model.data, 64, gen, **model.data_kwargs)).items()}
            for _ in range(batches)]


@torch.no_grad()
def _decoder_infimum(model, seed: int) -> float:
    """inf over all decoders of the reconstruction term on the same batches: rows whose propagated points
    coincide share one output, best at the mean of their targets (per pixel: the entropy of that mean)."""
    gen, sampler, total = torch.Generator().manual_seed(seed), WorldSampler(WORLD), []
    for _ in range(3):
        batch = sampler.batch(model.data, 64, gen, **model.data_kwargs)
        model.loss(batch)
        z, x = model.decoder.last.double(), batch["x"].reshape(-1, sum(SIZES)).double()
        group = (torch.cdist(z, z) < 1e-4).double()
        q = (group @ x / group.sum(1, keepdim=True)).clamp(1e-12, 1 - 1e-12)
        total.append(float(-(x * q.log() + (1 - x) * (1 - q).log()).mean()))
    return float(np.mean(total))


@settings(max_examples=8)  # each example builds two models and runs the verifier twice (~0.2 s)
@given(st.integers(0, 2**32 - 1))
def test_a_non_equivariant_code_is_as_good_a_minimiser_as_an_equivariant_one(seed):
    rng = np.random.default_rng(seed)
    alphas = rng.uniform(0.2, 2 * math.pi - 0.2, size=2)
    generic, separation = _minimiser(alphas, _sphere(rng, len(STATES)))
    mats = generic.matrices().detach().double()
    order_gap = [float((torch.linalg.matrix_power(mats[2 * i], n) - torch.eye(D)).abs().max())
                 for i, n in enumerate(SIZES)]
    assume(separation > 1e-3 and min(order_gap) > 1e-2)  # off a neighbourhood of the null set of statement 2
    equi, sep_equi = _equivariant(rng)
    assert sep_equi > 0.1

    # statement 2: ρ(a)^N ≠ I, and for each generator no affine map sends e_s to e_{g·s} (rank ≥ d + 2)
    points = generic.encoder.points.double()
    col = torch.cat([points, torch.ones(len(STATES), 1, dtype=torch.double)], 1)
    for g in (_element(0, 1), _element(1, 1)):
        moved = col[WORLD.state_index(WORLD.act(g, STATES)[0])]
        sv = torch.linalg.svdvals(torch.cat([col, moved], 1))
        assert sv[D + 1] > 1e-3 * sv[0]

    # statement 1: the same loss, at its infimum: Π = 0 and recon = log(1 + e^{−M}) on every batch
    bound = math.log1p(math.exp(-generic.decoder.m))
    for ours, theirs in zip(_losses(generic, seed), _losses(equi, seed)):
        assert ours["entanglement"] == 0.0 and theirs["entanglement"] == 0.0
        assert math.isclose(ours["loss"], theirs["loss"], rel_tol=1e-6)
        assert math.isclose(ours["loss"], bound, rel_tol=1e-2)
    assert _decoder_infimum(generic, seed) < 1e-9 and _decoder_infimum(equi, seed) < 1e-9
    generic.decoder.m = equi.decoder.m = 20.0  # → 0 as M grows
    assert max(r["loss"] for r in _losses(generic, seed) + _losses(equi, seed)) < 2 * math.exp(-20)

    # the verifier tells them apart
    bad, good = verify_group(generic.encode, WORLD, seed=0), verify_group(equi.encode, WORLD, seed=0)
    assert not bad.disentangled and any(f["kind"] == "equivariance" for f in bad.failures), bad.reasons
    assert good.disentangled, good.reasons


def test_without_R_every_code_stays_above_the_infimum():
    """Statement 1 (⇒) and 2: α_b = 2π/3 makes ρ(3 steps) = I on C_4 (3·α_b ∈ 2πℤ, 4 ∤ 3), so (R) fails;
    then (C) fails for any code, and no decoder brings the reconstruction to 0 on the same batches."""
    rng = np.random.default_rng(0)
    model, separation = _minimiser([2 * math.pi / 3, 2 * math.pi / 3], _sphere(rng, len(STATES)))
    assert separation < 1e-5
    assert _decoder_infimum(model, 0) > 1e-2
