"""Four hand-made codes of flatland images, judged by both definitions of disentanglement.

Run with:  .venv/bin/python examples/flatland_codes.py [OUT_DIR]     (about 30 s on 2 cores)

Flatland is a ball on an 8 × 8 torus: G = C8 × C8 moves it by whole cells (x right, y down),
wrapping around. Each code first finds the ball's position as two angles (the circular mean
of the lit pixels' columns and rows, a linear function of the pixels), then encodes them:

- torus:     (cos, sin) of each angle        a 2-D rotation block per factor
- rotated:   the torus code times a fixed orthogonal 4 × 4 matrix (a change of basis)
- line:      each angle as one number in [0, 2π): moving x from 7 to 0 jumps back
- entangled: (cos, sin) of x's angle and of the sum of both angles

It prints each verdict and writes the figures of the docs ("The two definitions") to OUT_DIR
(default docs/figures): flatland.png and one report figure per code.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from groupdrl import worlds  # noqa: E402
from groupdrl.verify import verify  # noqa: E402

world = worlds.get("flatland", n=8, image_size=16)
SIDE = world.observation_shape[-1]
ANGLE = 2 * math.pi * torch.arange(SIDE) / SIDE  # of each pixel column (row)


def ball_phasors(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Circular means of the lit pixels' columns and rows as unit-circle complex numbers e^{iθ}."""
    lit = images[:, 0]
    columns, rows = lit.sum(1), lit.sum(2)  # (n, SIDE) profiles of the ball
    ux = torch.complex((columns * ANGLE.cos()).sum(1), (columns * ANGLE.sin()).sum(1))
    uy = torch.complex((rows * ANGLE.cos()).sum(1), (rows * ANGLE.sin()).sum(1))
    return ux / ux.abs(), uy / uy.abs()


def torus(images: torch.Tensor) -> torch.Tensor:
    ux, uy = ball_phasors(images)
    return torch.stack([ux.real, ux.imag, uy.real, uy.imag], 1)


MIXING = torch.linalg.qr(torch.randn(4, 4, generator=torch.Generator().manual_seed(0)))[0]


def rotated(images: torch.Tensor) -> torch.Tensor:
    return torus(images) @ MIXING


def line(images: torch.Tensor) -> torch.Tensor:
    ux, uy = ball_phasors(images)
    return torch.stack([ux.angle() % (2 * math.pi), uy.angle() % (2 * math.pi)], 1)


def entangled(images: torch.Tensor) -> torch.Tensor:
    ux, uy = ball_phasors(images)
    both = ux * uy  # e^{i(θx + θy)}: moved by x and by y
    return torch.stack([ux.real, ux.imag, both.real, both.imag], 1)


CODES = {"torus": torus, "rotated": rotated, "line": line, "entangled": entangled}


def verdict_table(reports: dict) -> str:
    """Markdown table: one row per code, both verdicts and the numbers that decide them."""
    mark = {True: "disentangled", False: "not disentangled"}
    rows = ["| code | group theory | intuitive | equivariance error | max leakage | MIG | DCI-D | FactorVAE |",
            "|---|---|---|---|---|---|---|---|"]
    for name, r in reports.items():
        leak = r.group.leakage - torch.diag(torch.as_tensor(r.group.leakage).diagonal()).numpy()
        s = r.intuitive.scores
        rows.append(f"| {name} | {mark[r.group.disentangled]} | {mark[r.intuitive.disentangled]} | "
                    f"{r.group.equivariance_error:.3f} | {leak.max():.3f} | {s['mig']:.2f} | "
                    f"{s['dci_disentanglement']:.2f} | {s['factor_vae']:.2f} |")
    return "\n".join(rows)


def flatland_figure(path: Path) -> None:
    """The world: the ball at x = 0 … 7 (y = 2), then y = 0 … 7 (x = 5)."""
    states = torch.tensor([[x, 2] for x in range(8)] + [[5, y] for y in range(8)])
    images = world.render(states)[:, 0]
    fig, axes = plt.subplots(2, 8, figsize=(8, 2.9))
    for ax, img, (x, y) in zip(axes.flat, images, states.tolist()):
        ax.imshow(img, cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"x={x}, y={y}", fontsize=7, pad=2)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("flatland: G = C8 × C8 moves the ball (x right, y down, wrapping around)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    reports = {name: verify(code, world, seed=0, intuitive_kwargs=dict(n_train=2000, n_test=1000))
               for name, code in CODES.items()}
    print(verdict_table(reports))
    flatland_figure(out_dir / "flatland.png")
    for name, r in reports.items():
        fig = r.group.plot()
        fig.suptitle(f"{name} code: {'disentangled' if r.group.disentangled else 'not disentangled'} "
                     "(group theory)")
        fig.savefig(out_dir / f"code-{name}.png", dpi=80)
        plt.close(fig)
        fig = r.intuitive.plot()
        fig.savefig(out_dir / f"code-{name}-intuitive.png", dpi=70)
        plt.close(fig)
    return reports


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/figures"))
