"""Each symmetry-based model's ``loss()`` against its paper's objective, recomputed term by term.

On a fixed small batch (float64) the objective is rebuilt here from the model's networks (encoder,
decoder, learned matrices) and the paper's formula: every weight is set away from 1 and from the others,
each weighted term is checked to be a visible share of the total, and the total and every reported term
must agree to 1e-7, so changing any single term's weight, sign or presence fails. Sequence models run on
sequences of length 3 whose actions do not commute, so composing them in the wrong order fails too.
"""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from groupdrl import models
from groupdrl.models.lsbd_vae import WALK_STEPS
from groupdrl.train import WorldSampler
from groupdrl.worlds import arrow, flatland

FLAT = flatland(4, 16)
RTOL = 1e-7


def _double(batch):
    return {k: (_double(v) if isinstance(v, dict) else v.double() if v.is_floating_point() else v)
            for k, v in batch.items()}


def _setup(name, world, n=8, **hparams):
    model = models.get(name, world, seed=3, **hparams).double()
    gen = torch.Generator().manual_seed(11)
    batch = _double(WorldSampler(world).batch(model.data, n, gen, **model.data_kwargs))
    return model, batch


def _bce(logits, x):
    """Bernoulli negative log-likelihood summed over each observation: ``(n,)``."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def _check(terms, expected, weighted):
    """The total and each reported term agree; every weighted term is a visible share of the total."""
    total = sum(weighted.values())
    for name, value in weighted.items():
        assert abs(float(value.detach())) > 1e-3 * abs(float(total.detach())), f"term {name} is too small to be checked"
    torch.testing.assert_close(terms["loss"], total, rtol=RTOL, atol=0)
    for name, value in expected.items():
        torch.testing.assert_close(terms[name], value, rtol=RTOL, atol=0, msg=name)


def _mismatch(a, b):
    return not torch.allclose(a, b, rtol=1e-3)


@pytest.mark.parametrize("step", [None, 40])
def test_hae_objective(step):
    """Keurti et al. 2023 (authors' normalisation): mean_t Σ_p BCE(dec(ρ(g_t)…ρ(g_1) h(o_0)), o_t)
    + γ min(1, t/T_warm) mean_{t≥1, i} (h(o_t) − ρ(g_t)…ρ(g_1) h(o_0))_i²."""
    # 3-D blocks: SO(3) actions of one factor do not commute
    model, batch = _setup("hae", FLAT, block_dim=3, gamma=7.0, gamma_warmup=100, length=3)
    x, g = batch["x"], batch["g"]
    n, t1 = x.shape[:2]
    terms = model.loss(batch, torch.Generator().manual_seed(5), step)
    h = model.encode(x.reshape(n * t1, *x.shape[2:])).reshape(n, t1, -1)
    pred, preds = h[:, 0], [h[:, 0]]
    rhos = [model.rho([g[k][:, t] for k in model.factor_names]) for t in range(t1 - 1)]
    for rho in rhos:
        pred = torch.einsum("nij,nj->ni", rho, pred)
        preds.append(pred)
    recon = torch.stack([_bce(model.decoder(p), x[:, t]).mean() for t, p in enumerate(preds)]).mean()
    latent = ((h[:, 1:] - torch.stack(preds[1:], 1)) ** 2).mean()
    weight = 7.0 * (1.0 if step is None else min(1.0, step / 100))
    _check(terms, {"recon": recon, "latent": latent}, {"recon": recon, "latent": weight * latent})
    # the sequence's actions do not commute: the reversed composition gives another prediction
    assert _mismatch(torch.einsum("nij,njk->nik", rhos[1], rhos[0]), torch.einsum("nij,njk->nik", rhos[0], rhos[1]))


def test_quessard_objective():
    """Quessard et al. 2020 (authors' normalisation): mean_t mean_p BCE(dec(ρ(a_t)…ρ(a_1) z_0), x_t)
    + λ mean_a (Σ_ij θ²_aij − max_ij θ²_aij), z_0 = enc(x_0)/‖enc(x_0)‖."""
    model, batch = _setup("quessard", FLAT, lam=0.37, length=3)
    x, g = batch["x"], batch["g"]
    n, t1 = x.shape[:2]
    terms = model.loss(batch, torch.Generator().manual_seed(5))
    enc = model.encoder(x[:, 0])
    z = enc / enc.norm(dim=1, keepdim=True)
    mats = model.matrices()
    zs, used = [z], []
    for t in range(t1 - 1):
        a = model.action_index({k: v[:, t] for k, v in g.items()})
        used.append(a)
        z = torch.einsum("nij,nj->ni", mats[a], z)
        zs.append(z)
    pixels = x[0, 0].numel()
    recon = torch.stack([_bce(model.decoder(zt), x[:, t]).mean() / pixels for t, zt in enumerate(zs)]).mean()
    sq = model.theta**2
    penalty = (sq.sum(1) - sq.max(1).values).mean()
    _check(terms, {"recon": recon, "entanglement": penalty}, {"recon": recon, "entanglement": 0.37 * penalty})
    # at least one sequence takes two different actions whose matrices do not commute
    m1, m2 = mats[used[0]], mats[used[1]]
    assert _mismatch(m1 @ m2, m2 @ m1)


def test_forward_vae_objective():
    """Caselles-Dupré et al. 2019 with two rotation planes a factor and the scale-free forward term:
    recon(x | z) + β KL(q(z|x) ‖ N(0, I)) + λ Σ_planes ‖(A_a z − μ(x'))_plane‖² / s_plane, z = μ + σ ε,
    A_a = I but the learned block (B⁺ or B⁻) of the factor the generator a moves, s_plane the plane's spread
    E‖μ(x')_plane − mean‖² over the batch."""
    model, batch = _setup("forward_vae", FLAT, beta=2.5, lam=0.6)
    angles = torch.tensor([[[0.4, 1.1], [-1.3, 0.2]], [[2.2, -0.7], [0.9, 1.6]]], dtype=torch.float64)
    with torch.no_grad():  # non-trivial action blocks: two rotation planes a factor, by these angles
        model.angles.copy_(angles)
    x, g = batch["x"], batch["g"]
    terms = model.loss(batch, torch.Generator().manual_seed(5))
    mu, logvar = model.encoder(x).chunk(2, dim=1)
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(5), dtype=mu.dtype)
    z = mu + (0.5 * logvar).exp() * eps
    recon = _bce(model.decoder(z), x).mean()
    kl = (0.5 * (mu**2 + logvar.exp() - logvar - 1).sum(1)).mean()
    a = torch.eye(8, dtype=mu.dtype).repeat(len(x), 1, 1)
    for i, (name, size) in enumerate(zip(model.factor_names, model.factor_sizes)):
        up, down = g[name] == 1, g[name] == size - 1
        for j in range(2):
            plus, minus = _rotation(angles[0, i, j]), _rotation(angles[1, i, j])
            block = torch.where(up[:, None, None], plus, torch.eye(2, dtype=mu.dtype))
            p = slice(4 * i + 2 * j, 4 * i + 2 * j + 2)
            a[:, p, p] = torch.where(down[:, None, None], minus, block)
    assert all(bool(((g[k] == 1) | (g[k] == size - 1)).any()) for k, size in zip(model.factor_names, model.factor_sizes))
    mu_next = model.encoder(batch["x_next"]).chunk(2, dim=1)[0]
    err = ((torch.einsum("nij,nj->ni", a, z) - mu_next) ** 2).reshape(len(x), 4, 2).sum(2)
    spread = ((mu_next - mu_next.mean(0)) ** 2).reshape(len(x), 4, 2).sum(2).mean(0)
    assert _mismatch(spread, torch.ones_like(spread))  # dividing by the spreads is visible
    forward = (err / spread).sum(1).mean()
    _check(terms, {"recon": recon, "kl": kl, "forward": forward},
           {"recon": recon, "kl": 2.5 * kl, "forward": 0.6 * forward})


def _walk(mu, t, gen):
    z = mu
    for _ in range(WALK_STEPS):
        z = F.normalize(z + (t / WALK_STEPS).sqrt()[..., None] * torch.randn(mu.shape, generator=gen, dtype=mu.dtype),
                        dim=-1)
    return z


def _rotation(angle):
    c, s = angle.cos(), angle.sin()
    return torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)


@pytest.mark.parametrize("name,world", [("lsbd_vae", FLAT),
                                        pytest.param("equivariant_vae", arrow(4, 3, 16), marks=pytest.mark.escnn)],
                         ids=["lsbd_vae", "equivariant_vae"])
def test_lsbd_objective(name, world):
    """Tonnaer et al. 2022: recon(x|z) + β KL + mean_m [recon(x_m | z̃_m) + β KL(x_m)]
    + γ Σ_m Σ_k 2(1 − cos∠(z_mk, z̃_mk)), z̄ = normalise(Σ_m ρ(g_m)⁻¹ z_m), z̃_m = ρ(g_m) z̄ (per circle),
    KL_k = log 2π − ½ log(2πe t_k)."""
    model, batch = _setup(name, world, n=16, gamma=2.5, beta=0.4, set_size=4)
    gen = torch.Generator().manual_seed(5)
    terms = model.loss(batch, torch.Generator().manual_seed(5))
    sizes = torch.tensor(model.factor_sizes, dtype=torch.float64)

    def kl(t):
        return (math.log(2 * math.pi) - 0.5 * torch.log(2 * math.pi * math.e * t)).sum(-1).mean()

    x = batch["x"]
    mu, t = model.posterior(x)
    recon_u = _bce(model.decoder(_walk(mu, t, gen).flatten(1)), x).mean()
    xs = batch["x_sets"]
    b, m = xs.shape[:2]
    mu_m, t_m = model.posterior(xs.flatten(0, 1))
    z_m = _walk(mu_m, t_m, gen).reshape(b, m, -1, 2)
    angle = 2 * math.pi * torch.stack([batch["g_sets"][k] for k in model.factor_names], -1) / sizes  # (b, m, K)
    rho = _rotation(angle.double())                                                                 # (b, m, K, 2, 2)
    back = torch.einsum("bmkji,bmkj->bmki", rho, z_m)                                              # ρ⁻¹ = ρᵀ
    z_bar = F.normalize(back.sum(1), dim=-1)
    z_tilde = torch.einsum("bmkij,bkj->bmki", rho, z_bar)
    recon_l = _bce(model.decoder(z_tilde.flatten(2).flatten(0, 1)), xs.flatten(0, 1)).mean()
    lsbd = (2 * (1 - (z_m * z_tilde).sum(-1))).sum((1, 2)).mean()
    kl_u, kl_l = kl(t), kl(t_m)
    _check(terms, {"recon": recon_u, "kl": kl_u, "recon_labelled": recon_l, "kl_labelled": kl_l, "lsbd": lsbd},
           {"recon": recon_u, "kl": 0.4 * kl_u, "recon_labelled": recon_l, "kl_labelled": 0.4 * kl_l,
            "lsbd": 2.5 * lsbd})
