"""The statistical baselines' objectives, pinned term by term (REFERENCE.md §4).

Each test recomputes the paper's objective on a fixed small batch with the model's own networks — every
term written out here, independently of the model's code — and compares it with ``loss()``: the value of
each returned term, and the gradient of ``"loss"`` with respect to every player's parameters (so a sign,
a weight, a missing term or a wrong ``detach`` changes the result). The noise is replayed from a generator
seeded like the one passed to ``loss()``, in the order the model draws it (stated in each test).
Hyperparameters are set to distinct values that no default shares, so an ignored weight shows.
"""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from groupdrl import models
from groupdrl.models.beta_tcvae import log_importance_weights
from groupdrl.worlds import vector_world

WORLD = vector_world((4, 4), embedding="onehot")  # 8-dim binary observations
SEED = 11


def batch(n: int = 12) -> torch.Tensor:
    states = WORLD.sample_states(n, generator=torch.Generator().manual_seed(3))
    return WORLD.render(states).float()


def gen() -> torch.Generator:
    return torch.Generator().manual_seed(SEED)


def build(name: str, **hparams):
    return models.get(name, WORLD, seed=5, hidden=[16, 16], **hparams)


def bce(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """−log Bernoulli(x; sigmoid(logits)) summed over the observation, mean over the batch."""
    p = torch.sigmoid(logits)
    return -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum(1).mean()


def gaussian_nll(mean: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """½‖x − mean‖² (unit variance, constants dropped), mean over the batch."""
    return 0.5 * ((x - mean) ** 2).sum(1).mean()


def kl_dims(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ_j, σ_j²) ‖ N(0, 1)) per dimension, mean over the batch."""
    var = logvar.exp()
    return (0.5 * (mu**2 + var - 1) - 0.5 * logvar).mean(0)


def posterior(model, x):
    mu, logvar = model.encoder(x).chunk(2, dim=1)
    return mu, logvar


def assert_close(a, b, what: str) -> None:
    torch.testing.assert_close(a, b, rtol=2e-5, atol=2e-5, msg=lambda m: f"{what}: {m}")


def assert_gradients(model, loss: torch.Tensor, players: list[tuple[list, torch.Tensor]]) -> None:
    """∂loss/∂θ equals ∂reference/∂θ for each (parameters θ, reference objective of their player)."""
    for params, reference in players:
        got = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
        want = torch.autograd.grad(reference, params, retain_graph=True, allow_unused=True)
        for p, a, b in zip(params, got, want):
            a = torch.zeros_like(p) if a is None else a
            b = torch.zeros_like(p) if b is None else b
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def params_of(*modules) -> list:
    return [p for m in modules for p in m.parameters()]


def nontrivial(*terms: torch.Tensor) -> None:
    """Each term is large enough that a changed weight or sign moves the total beyond the tolerance."""
    for t in terms:
        assert abs(float(t.detach())) > 1e-2, float(t.detach())


# ---- β-VAE (Higgins et al. 2017): recon + β KL --------------------------------------------------------------

@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_beta_vae_objective(likelihood):
    m = build("beta_vae", latent_dim=3, beta=3.7, likelihood=likelihood)
    x = batch()
    out = m.loss({"x": x}, gen())
    mu, logvar = posterior(m, x)
    z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=gen())  # ε: the one draw
    out_dec = m.decoder(z)
    recon = bce(out_dec, x) if likelihood == "bernoulli" else gaussian_nll(out_dec, x)
    kl = kl_dims(mu, logvar).sum()
    nontrivial(recon, kl)
    assert_close(out["recon"], recon, "recon")
    assert_close(out["kl"], kl, "kl")
    reference = recon + 3.7 * kl
    assert_close(out["loss"], reference, "loss")
    assert_gradients(m, out["loss"], [(params_of(m), reference)])


# ---- AnnealedVAE (Burgess et al. 2018): recon + γ |KL − C(t)| -----------------------------------------------

@pytest.mark.parametrize("step,above", [(3, True), (90, False), (None, False)])
def test_annealed_vae_objective(step, above):
    """C(t) = C_max min(1, t / T) with C_max = 12, T = 100: the KL (≈ 6 nats here) is above C at t = 3 and
    below it at t = 90 and after training (``None``), so both signs of |KL − C| are exercised."""
    m = build("annealed_vae", latent_dim=3, gamma=7.3, c_max=12.0, capacity_steps=100, likelihood="bernoulli")
    x = batch()
    out = m.loss({"x": x}, gen(), step=step)
    mu, logvar = posterior(m, x)
    z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=gen())
    recon, kl = bce(m.decoder(z), x), kl_dims(mu, logvar).sum()
    c = 12.0 * min(1.0, step / 100) if step is not None else 12.0
    assert (float(kl.detach()) > c) is above
    nontrivial(recon, kl - c)
    assert_close(out["capacity"], torch.tensor(c), "capacity")
    reference = recon + 7.3 * (kl - c).abs()
    assert_close(out["loss"], reference, "loss")
    assert_gradients(m, out["loss"], [(params_of(m), reference)])


# ---- DIP-VAE (Kumar et al. 2018): recon + KL + λ_od Σ_{i≠j} C_ij² + λ_d Σ_i (C_ii − 1)² ---------------------

@pytest.mark.parametrize("name", ["dip_vae_i", "dip_vae_ii"])
def test_dip_vae_objective(name):
    m = build(name, latent_dim=3, lambda_od=2.3, lambda_d=4.1, likelihood="bernoulli")
    x = batch()
    out = m.loss({"x": x}, gen())
    mu, logvar = posterior(m, x)
    z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=gen())
    recon, kl = bce(m.decoder(z), x), kl_dims(mu, logvar).sum()
    # Cov_batch[μ] = E[μ μᵀ] − E[μ] E[μ]ᵀ; DIP-VAE-II adds E[diag σ²] (the covariance of q(z))
    cov = (mu[:, :, None] * mu[:, None, :]).mean(0) - mu.mean(0)[:, None] * mu.mean(0)[None, :]
    if name == "dip_vae_ii":
        cov = cov + torch.diag(logvar.exp().mean(0))
    off = sum(cov[i, j] ** 2 for i in range(3) for j in range(3) if i != j)
    diag = sum((cov[i, i] - 1) ** 2 for i in range(3))
    nontrivial(recon, kl, off, diag)
    reference = recon + kl + 2.3 * off + 4.1 * diag
    assert_close(out["dip"], 2.3 * off + 4.1 * diag, "dip")
    assert_close(out["loss"], reference, "loss")
    assert_gradients(m, out["loss"], [(params_of(m), reference)])


# ---- FactorVAE (Kim & Mnih 2018) and RF-VAE (Kim et al. 2019): a VAE and a TC discriminator ------------------

def permuted(z: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Each column of ``z`` reordered by its own random permutation (argsort of uniform draws)."""
    u = torch.rand(z.shape, generator=g)
    return torch.stack([z[torch.argsort(u[:, j]), j] for j in range(z.shape[1])], 1)


def discriminator_objective(disc, real, fake) -> torch.Tensor:
    """−½ E log D(z)₀ − ½ E log D(z̄)₁ with D's softmax over its two logits."""
    return -0.5 * (torch.log_softmax(disc(real), 1)[:, 0].mean() + torch.log_softmax(disc(fake), 1)[:, 1].mean())


def _scale_discriminator(m) -> None:
    """Larger logits at initialisation, so that the TC term is far from 0."""
    with torch.no_grad():
        m.discriminator.net[-1].weight.mul_(20)
        m.discriminator.net[-1].bias.copy_(torch.tensor([0.7, -0.4]))


def two_batches(m, x, g):
    """FactorVAE's draws: z from the first half (ε first), z' from the second half without gradient."""
    mu, logvar = posterior(m, x[:6])
    z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=g)
    mu2, logvar2 = posterior(m, x[6:])
    return mu, logvar, z, (mu2 + torch.exp(0.5 * logvar2) * torch.randn(mu2.shape, generator=g)).detach()


def test_factor_vae_objective():
    """Draws: ε for z (first half), ε' for z' (second half, no gradient), then the permutation of z'."""
    m = build("factor_vae", latent_dim=3, gamma=13.0, disc_hidden=[16, 16], likelihood="bernoulli")
    _scale_discriminator(m)
    x = batch()
    x1 = x[:6]
    out = m.loss({"x": x}, gen())
    g = gen()
    mu, logvar, z, z2 = two_batches(m, x, g)
    logits = m.discriminator(z)
    recon, kl, tc = bce(m.decoder(z), x1), kl_dims(mu, logvar).sum(), (logits[:, 0] - logits[:, 1]).mean()
    nontrivial(recon, kl, tc)
    vae = recon + kl + 13.0 * tc
    disc = discriminator_objective(m.discriminator, z.detach(), permuted(z2, g))
    for key, value in (("recon", recon), ("kl", kl), ("tc", tc), ("vae", vae), ("disc", disc)):
        assert_close(out[key], value, key)
    assert_close(out["loss"], vae + disc, "loss")
    vae_params = [p for n, p in m.named_parameters() if not n.startswith("discriminator.")]
    assert_gradients(m, out["loss"], [(vae_params, vae), (params_of(m.discriminator), disc)])


def test_rf_vae_objective():
    """L = recon + Σ_j λ(r_j) KL_j + γ TC(r ⊙ z) + η_S ‖r‖₁ + η_H H(r), λ(r) = λ_max − (λ_max − λ_min) r,
    with relevances r spread over (0, 1); the discriminator sees r ⊙ z against permuted r ⊙ z'."""
    m = build("rf_vae", latent_dim=3, lambda_min=0.3, lambda_max=7.0, gamma=2.9, eta_s=1.7, eta_h=0.6,
              disc_hidden=[16, 16], likelihood="bernoulli")
    _scale_discriminator(m)
    with torch.no_grad():
        m.relevance_logit.copy_(torch.tensor([1.2, -0.8, 0.3]))
    x = batch()
    x1 = x[:6]
    out = m.loss({"x": x}, gen())
    g = gen()
    mu, logvar, z, z2 = two_batches(m, x, g)
    r = 1 / (1 + torch.exp(-m.relevance_logit))
    recon = bce(m.decoder(z), x1)
    kl = ((7.0 - (7.0 - 0.3) * r) * kl_dims(mu, logvar)).sum()
    logits = m.discriminator(r * z)
    tc = (logits[:, 0] - logits[:, 1]).mean()
    l1 = r.abs().sum()
    entropy = -(r * torch.log(r) + (1 - r) * torch.log(1 - r)).sum()
    nontrivial(recon, kl, tc, l1, entropy)
    vae = recon + kl + 2.9 * tc + 1.7 * l1 + 0.6 * entropy
    disc = discriminator_objective(m.discriminator, (r * z).detach(), permuted(r.detach() * z2, g))
    for key, value in (("recon", recon), ("kl", kl), ("tc", tc), ("l1", l1), ("entropy", entropy), ("vae", vae),
                       ("disc", disc)):
        assert_close(out[key], value, key)
    assert_close(out["loss"], vae + disc, "loss")
    vae_params = [p for n, p in m.named_parameters() if not n.startswith("discriminator.")]
    assert_gradients(m, out["loss"], [(vae_params, vae), (params_of(m.discriminator), disc)])


# ---- β-TCVAE (Chen et al. 2018): recon + α MI + β TC + γ KL_dim ------------------------------------------------

def log_density(z, mu, logvar):
    """log N(z; μ, σ²) elementwise."""
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu) ** 2 / logvar.exp())


@pytest.mark.parametrize("estimator", ["mws", "mss"])
def test_beta_tcvae_objective(estimator):
    """log q(z_i) from the batch: MWS weights every q(z_i|x_j) by 1/(B N); MSS (App. C.2, M = B − 1) by 1/N for
    j = i, (N − M)/(N M) for j = i + 1 mod B and 1/M otherwise. MI = E[log q(z|x) − log q(z)],
    TC = E[log q(z) − Σ_d log q(z_d)], KL_dim = E[Σ_d log q(z_d) − log p(z)]."""
    n_data = 16  # the world's number of states
    m = build("beta_tcvae", latent_dim=3, alpha=1.4, beta=5.3, gamma=0.6, estimator=estimator,
              likelihood="bernoulli")
    x = batch()
    b = len(x)
    out = m.loss({"x": x}, gen())
    mu, logvar = posterior(m, x)
    z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=gen())
    if estimator == "mws":
        w = torch.full((b, b), 1 / (b * n_data))
    else:
        mm = b - 1
        w = torch.full((b, b), 1 / mm)
        for i in range(b):
            w[i, i] = 1 / n_data
            w[i, (i + 1) % b] = (n_data - mm) / (n_data * mm)
    torch.testing.assert_close(log_importance_weights(b, n_data).exp() if estimator == "mss" else w, w)
    log_q = torch.stack([torch.stack([log_density(z[i], mu[j], logvar[j]) for j in range(b)]) for i in range(b)])
    log_qz = torch.logsumexp(log_q.sum(2) + w.log(), 1)  # (B,)
    log_qz_dims = torch.logsumexp(log_q + w.log()[:, :, None], 1).sum(1)
    log_qz_x = log_density(z, mu, logvar).sum(1)
    log_pz = (-0.5 * math.log(2 * math.pi) - 0.5 * z**2).sum(1)
    mi, tc, dim_kl = (log_qz_x - log_qz).mean(), (log_qz - log_qz_dims).mean(), (log_qz_dims - log_pz).mean()
    recon = bce(m.decoder(z), x)
    nontrivial(recon, mi, tc, dim_kl)
    for key, value in (("recon", recon), ("mi", mi), ("tc", tc), ("dim_kl", dim_kl)):
        assert_close(out[key], value, key)
    reference = recon + 1.4 * mi + 5.3 * tc + 0.6 * dim_kl
    assert_close(out["loss"], reference, "loss")
    assert_gradients(m, out["loss"], [(params_of(m), reference)])


# ---- JointVAE (Dupont 2018): recon + γ |KL_z − C_z(t)| + γ |Σ_k KL(q(c_k|x) ‖ Unif) − C_c(t)| -----------------

def test_joint_vae_objective():
    """Draws: the Gumbel noise of each discrete code in order, then ε of the continuous part."""
    m = build("joint_vae", cont_dim=2, disc_dims=[3, 2], gamma=9.0, cont_capacity=3.0, disc_capacity=0.9,
              capacity_steps=10, temperature=0.5, likelihood="bernoulli")
    x = batch()
    step = 4
    out = m.loss({"x": x}, gen(), step=step)
    h = m.encoder(x)
    mu, logvar = h[:, :2], h[:, 2:4]
    logits = [h[:, 4:7], h[:, 7:9]]
    g = gen()
    codes = []
    for lg in logits:
        u = torch.rand(lg.shape, generator=g)
        gumbel = -torch.log(-torch.log(u + torch.finfo(u.dtype).tiny) + torch.finfo(u.dtype).tiny)
        codes.append(torch.softmax((torch.log_softmax(lg, 1) + gumbel) / 0.5, 1))
    z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=g)
    recon = bce(m.decoder(torch.cat([z, *codes], 1)), x)
    kl_cont = kl_dims(mu, logvar).sum()
    kl_disc = sum((torch.softmax(lg, 1) * (torch.log_softmax(lg, 1) + math.log(lg.shape[1]))).sum(1).mean()
                  for lg in logits)
    c_z, c_c = 3.0 * step / 10, min(0.9, math.log(3) + math.log(2)) * step / 10
    nontrivial(recon, kl_cont - c_z, kl_disc - c_c)
    for key, value in (("recon", recon), ("kl_cont", kl_cont), ("kl_disc", kl_disc)):
        assert_close(out[key], value, key)
    assert_close(out["capacity_cont"], torch.tensor(c_z), "capacity_cont")
    assert_close(out["capacity_disc"], torch.tensor(c_c), "capacity_disc")
    reference = recon + 9.0 * ((kl_cont - c_z).abs() + (kl_disc - c_c).abs())
    assert_close(out["loss"], reference, "loss")
    assert_gradients(m, out["loss"], [(params_of(m), reference)])


# ---- InfoGAN (Chen et al. 2016): min_{G,Q} max_D V(D, G) − λ L_I ----------------------------------------------

@pytest.mark.parametrize("r1", [0.0, 3.1])
def test_infogan_objective(r1):
    """Draws: c and ε together, U(−1, 1). D/Q: BCE(D(x), 1) + BCE(D(x̃), 0) − λ L_I on detached fakes
    + (γ/2) E‖∇_x D(x)‖² on the real batch (R1; γ = 0 is the paper's objective); G: BCE(D(x̃), 1) − λ L_I
    through D and Q; L_I = E log N(c; Q(x̃), I) + k log 2."""
    m = build("infogan", code_dim=2, noise_dim=3, lambda_info=0.7, trunk_dim=8, r1=r1)
    x = batch()
    out = m.loss({"x": x}, gen())
    u = 2 * torch.rand(len(x), 5, generator=gen()) - 1
    c, noise = u[:, :2], u[:, 2:]
    fake = m.generate(c, noise)

    def critic(v):
        h = m.critic.trunk(v)
        return m.critic.d_head(h)[:, 0], m.critic.q_head(h)

    def info(c_pred):
        return (-0.5 * (c - c_pred) ** 2 - 0.5 * math.log(2 * math.pi)).sum(1).mean() + 2 * math.log(2)

    x_req = x.clone().requires_grad_(True)
    real_logit, _ = critic(x_req)
    slope, = torch.autograd.grad(real_logit.sum(), x_req, create_graph=True)  # ∂D(x_i)/∂x_i per sample
    penalty = (slope**2).sum(1).mean()
    fake_logit, c_pred = critic(fake.detach())
    d_obj = (-F.logsigmoid(real_logit).mean() - F.logsigmoid(-fake_logit).mean() - 0.7 * info(c_pred)
             + 0.5 * r1 * penalty)
    g_logit, g_pred = critic(fake)
    g_obj = -F.logsigmoid(g_logit).mean() - 0.7 * info(g_pred)
    nontrivial(info(c_pred), -F.logsigmoid(real_logit).mean(), -F.logsigmoid(-fake_logit).mean())
    assert_close(out["d_loss"], d_obj, "d_loss")
    assert_close(out["g_loss"], g_obj, "g_loss")
    assert_close(out["mi"], info(g_pred), "mi")
    if r1:
        nontrivial(penalty)
        assert_close(out["r1"], penalty, "r1")
    assert_close(out["loss"], d_obj + g_obj, "loss")
    assert_gradients(m, out["loss"], [(params_of(m.generator_net), g_obj), (params_of(m.critic), d_obj)])


# ---- DisDiff (Yang et al. 2023) ---------------------------------------------------------------------------------

def _disdiff():
    m = build("disdiff", n_units=3, unit_dim=2, lambda_d=0.37, pretrain_steps=5, timesteps=50, width=4)
    torch.nn.init.normal_(m.field.last_layer.weight, std=0.5)  # the field starts at 0; a trained one does not
    return m


def _diffusion(m, x, g):
    """Draws: t ~ U{0..T−1}, then ε ~ N(0, I); x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε with linear β from 1e-4 to 0.02."""
    betas = torch.linspace(1e-4, 0.02, 50, dtype=torch.float64)
    alpha = 1 - betas
    alpha_bar = torch.cumprod(alpha, 0)
    t = torch.randint(50, (len(x),), generator=g)
    eps = torch.randn(x.shape, generator=g)
    a_bar, a = alpha_bar[t].float()[:, None], alpha[t].float()[:, None]
    return t, eps, a_bar, a, a_bar.sqrt() * x + (1 - a_bar).sqrt() * eps


def test_disdiff_pretraining_objective():
    m = _disdiff()
    x = batch()
    out = m.loss({"x": x}, gen(), step=4)
    t, eps, _, _, x_t = _diffusion(m, x, gen())
    reference = ((eps - m.ddpm(x_t, t)) ** 2).mean()
    nontrivial(reference)
    assert_close(out["loss"], reference, "loss")
    assert_gradients(m, out["loss"], [(params_of(m), reference)])


def test_disdiff_objective():
    """L = L_r + λ L_d, L_r = mean |ε − (ε_θ + k_t Σ_c G_ψ(x_t, z_c, t))|, k_t = −√(α_t (1 − ᾱ_t)); L_d the
    cross-entropies of the invariant logits ‖ẑ^c_k − ẑ_k‖ and the variant logits ‖ẑ_k − z_k‖ − ‖ẑ^c_k − z_k‖
    for one random unit c per sample (drawn after t and ε), codes of x̂₀ by a frozen copy of E."""
    m = _disdiff()
    x = batch()
    out = m.loss({"x": x}, gen(), step=5)
    g = gen()
    t, eps, a_bar, a, x_t = _diffusion(m, x, g)
    c = torch.randint(3, (len(x),), generator=g)
    eps_theta = m.ddpm(x_t, t).detach()
    z = m.encoder(x)
    units = z.reshape(len(x), 3, 2)

    def only(k):  # z with every unit but k set to 0
        keep = torch.zeros(3, 2)
        keep[k] = 1
        return (units * keep).reshape(len(x), 6)

    feats = [f.detach() for f in m.ddpm.trunk(x_t, t)]  # the frozen DDPM's features, read by the field
    fields = torch.stack([m.field(feats, t, only(k)) for k in range(3)])  # (3, n, d)
    k_t = -(a * (1 - a_bar)).sqrt()
    l_r = (eps - (eps_theta + k_t * fields.sum(0))).abs().mean()
    frozen = {k: v.detach() for k, v in m.encoder.named_parameters()}

    def e_frozen(v):
        return torch.func.functional_call(m.encoder, frozen, (v,)).reshape(len(x), 3, 2)

    x0_hat = (x_t - (1 - a_bar).sqrt() * eps_theta) / a_bar.sqrt()
    x0_hat_c = (x_t - (1 - a_bar).sqrt() * (eps_theta + k_t * fields[c, torch.arange(len(x))])) / a_bar.sqrt()
    z_hat, z_hat_c, z0 = e_frozen(x0_hat), e_frozen(x0_hat_c), units.detach()
    d = (z_hat_c - z_hat).norm(dim=2)
    e = (z_hat - z0).norm(dim=2) - (z_hat_c - z0).norm(dim=2)
    l_d = -torch.log_softmax(d, 1)[torch.arange(len(x)), c].mean() - torch.log_softmax(e, 1)[torch.arange(len(x)), c].mean()
    nontrivial(l_r, l_d)
    assert_close(out["recon"], l_r, "recon")
    assert_close(out["disentangle"], l_d, "disentangle")
    reference = l_r + 0.37 * l_d
    assert_close(out["loss"], reference, "loss")
    assert_gradients(m, out["loss"], [(params_of(m.encoder, m.field), reference), (params_of(m.ddpm), 0 * reference)])


# ---- the papers' default weights ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name,expected", [
    ("beta_vae", {"beta": 4.0}),
    ("annealed_vae", {"gamma": 1000.0, "c_max": 25.0, "capacity_steps": 100_000}),
    ("dip_vae_i", {"lambda_od": 10.0, "lambda_d": 100.0}),
    ("dip_vae_ii", {"lambda_od": 10.0, "lambda_d": 10.0}),
    ("factor_vae", {"gamma": 40.0}),
    ("beta_tcvae", {"alpha": 1.0, "beta": 6.0, "gamma": 1.0}),
    ("joint_vae", {"gamma": 150.0, "cont_capacity": 40.0, "temperature": 0.67}),
    ("rf_vae", {"lambda_min": 0.1, "lambda_max": 10.0, "gamma": 6.4, "eta_s": 1.0, "eta_h": 100.0}),
    ("infogan", {"lambda_info": 0.05, "code_dim": 5, "noise_dim": 5}),
    ("disdiff", {"lambda_d": 0.05, "timesteps": 1000}),
])
def test_default_weights_are_the_papers(name, expected):
    m = models.get(name, WORLD)
    assert {k: getattr(m, k) for k in expected} == expected
