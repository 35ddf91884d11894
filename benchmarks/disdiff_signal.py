"""How much can DisDiff's code tell its gradient field, and how much does the field use it? Per timestep t.

DisDiff (and PDAE, which it builds on) trains the encoder only through L_r = |ε − (ε_θ + k_t G_ψ(x_t, z, t))|:
the code z helps only as far as knowing x₀ lowers the error of the frozen DDPM's ε estimate. On a finite world
that ceiling is computable: the exact posterior mean E[x₀ | x_t] over the world's images gives the best
*unconditional* estimate ε_B = (x_t − √ᾱ_t E[x₀ | x_t]) / √(1 − ᾱ_t); its error E‖ε − ε_B‖² / D is all
that a perfect code can remove (with x₀ known, ε is exact). This script trains DisDiff with its defaults
(``width`` and the budget below) and reports, per t, the mean squared ε error of

- ``bayes``: ε_B, the information a code can add (0: the image is already determined by x_t);
- ``ddpm``: the frozen DDPM alone (ε_θ);
- ``field``: ε_θ + k_t Σ_c G_ψ(x_t, z_c, t) with the model's code z of x₀;
- ``shuffled``: the same with codes permuted across the batch (no information about x₀).

``field`` < ``shuffled`` is the field using the code; ``ddpm`` − ``bayes`` is the DDPM's own error, which
the field can also reduce without the code. Two encoders: the model's (trained), and an *oracle* code
(a fixed random projection of x₀, injective on the world) that isolates the field from the encoder.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/disdiff_signal.py [--steps 3000] [--pretrain 1500] [--width 32]
"""
from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from groupdrl import models, worlds
from groupdrl.train import fit
from groupdrl.verify.intuitive import verify_intuitive

RESULTS = Path(__file__).resolve().parent / "results"
TIMESTEPS = (0, 50, 100, 200, 300, 400, 500, 600, 800, 999)


class OracleCode(nn.Module):
    """x₀ ↦ a fixed Gaussian random projection (entries N(0, 1/16)), injective on a world's images."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.register_buffer("proj", torch.randn(in_dim, out_dim, generator=torch.Generator().manual_seed(3)) / 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) @ self.proj


@torch.no_grad()
def per_t(m, images: torch.Tensor, repeats: int = 4) -> list[dict]:
    g = torch.Generator().manual_seed(0)
    x0 = images.repeat(repeats, 1, 1, 1)
    n = len(x0)
    rows = []
    for step in TIMESTEPS:
        t = torch.full((n,), step)
        eps = torch.randn(x0.shape, generator=g)
        a_bar, alpha = m.alphas_bar[step], m.alphas[step]
        x_t = a_bar.sqrt() * x0 + (1 - a_bar).sqrt() * eps
        feats = m.ddpm.trunk(x_t, t)
        eps_theta = m.ddpm.head(feats, t)
        k_t = -(alpha * (1 - a_bar)).sqrt()

        def corrected(z):
            return eps_theta + k_t * m.unit_fields(feats, t, z).sum(0)

        z = m.encoder(x0)
        log_w = -((x_t[:, None] - a_bar.sqrt() * images[None]) ** 2).flatten(2).sum(2) / (2 * (1 - a_bar))
        posterior_mean = torch.einsum("nk,kchw->nchw", torch.softmax(log_w, 1), images)
        eps_bayes = (x_t - a_bar.sqrt() * posterior_mean) / (1 - a_bar).sqrt()

        def mse(e):
            return round(float(((eps - e) ** 2).mean()), 5)

        rows.append({"t": step, "bayes": mse(eps_bayes), "ddpm": mse(eps_theta), "field": mse(corrected(z)),
                     "shuffled": mse(corrected(z[torch.randperm(n, generator=g)]))})
    return rows


def run(encoder: str, steps: int, pretrain: int, width: int, seed: int) -> dict:
    world = worlds.get("flatland", n=8, image_size=16)
    m = models.get("disdiff", world, seed=seed, width=width, pretrain_steps=pretrain)
    if encoder == "oracle":
        m.encoder = OracleCode(math.prod(world.observation_shape), m.n_units * m.unit_dim)
    scores = {}
    if encoder == "model":
        m.eval()
        scores["untrained"] = verify_intuitive(m.encode, world, n_train=2000, n_test=1000, seed=0).scores
        m.train()
    t0 = time.time()
    fit(m, world, steps=steps, batch_size=32, lr=1e-3, seed=seed, out_dir=tempfile.mkdtemp(), quiet=True)
    train_s = time.time() - t0
    m.eval()
    if encoder == "model":
        scores["trained"] = verify_intuitive(m.encode, world, n_train=2000, n_test=1000, seed=0).scores
    scores = {k: {s: round(float(v[s]), 3) for s in ("mig", "dci_disentanglement")} for k, v in scores.items()}
    images = world.render(world.all_states()).float()
    return {"encoder": encoder, "steps": steps, "pretrain": pretrain, "width": width, "seed": seed,
            "train_s": round(train_s), "scores": scores, "per_t": per_t(m, images)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--pretrain", type=int, default=1500)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--encoder", choices=("oracle", "model"), default="oracle")
    parser.add_argument("--out", type=Path, default=RESULTS / "disdiff_signal.jsonl")
    args = parser.parse_args()
    torch.set_num_threads(1)
    result = run(args.encoder, args.steps, args.pretrain, args.width, args.seed)
    with args.out.open("a") as f:
        f.write(json.dumps(result) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
