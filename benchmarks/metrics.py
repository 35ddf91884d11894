"""Benchmark of groupdrl.verify.metrics: time of each metric and DCI agreement with the reference.

Run ``.venv/bin/python benchmarks/metrics.py [--quick] [--out DIR]`` (5-15 minutes on 2 cores); writes
``DIR/metrics.md`` (default benchmarks/results). ``--quick``: 600 / 300 points, the 'partial' code only, small
BetaVAE / FactorVAE samples (a smoke run). Setting: 10,000 training points (5,000 test) of a 10-d code
of a world with 5 factors of sizes (2, 3, 4, 4, 5). The reference DCI is disentanglement_lib's
``compute_importance_gbt`` + D/C formulas, with ``GradientBoostingClassifier()`` per factor.
"""
from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import scipy.stats
import sklearn
import torch
from sklearn.ensemble import GradientBoostingClassifier

from groupdrl.verify.metrics import beta_vae_score, dci, factor_vae_score, mig, modularity_explicitness, sap

SIZES = (2, 3, 4, 4, 5)
D = 10
N_TRAIN, N_TEST = 10000, 5000


class Grid:
    """A world whose observation is the vector of factor indices."""

    sizes = SIZES
    factor_names = tuple(f"f{i}" for i in range(len(SIZES)))

    def sample_states(self, n, generator=None):
        return torch.stack([torch.randint(s, (n,), generator=generator) for s in self.sizes], 1)

    def render(self, states):
        return states.double()


_STRIDES = torch.tensor(np.cumprod((1,) + SIZES[:0:-1])[::-1].copy())
_NOISE = torch.from_numpy(np.random.default_rng(123).uniform(-0.5, 0.5, size=(int(np.prod(SIZES)), D)))


def encoder(obs):
    """10-d code: five noisy factor coordinates and five noise coordinates (a fixed function of the state)."""
    noise = _NOISE[(obs.long() * _STRIDES).sum(dim=1)]
    return torch.cat([obs + 0.3 * noise[:, :5], noise[:, 5:]], dim=1)


def codes(kind, factors, rng):
    """Hand-made (n, 10) codes of the given factors."""
    n = factors.shape[0]
    scaled = factors / (np.array(SIZES) - 1)
    noise = rng.normal(size=(n, D))
    if kind == "perfect":
        return np.concatenate([scaled + 0.05 * noise[:, :5], noise[:, 5:]], axis=1)
    if kind == "rotated":
        q, _ = np.linalg.qr(np.random.default_rng(7).normal(size=(D, D)))
        return codes("perfect", factors, rng) @ q.T
    if kind == "noise":
        return noise
    if kind == "partial":  # factors 0-1 and 2-3 mixed pairwise, factor 4 clean, noisy readout
        mix = scaled.copy()
        mix[:, 0] += 0.7 * scaled[:, 1]
        mix[:, 2] += 0.5 * scaled[:, 3]
        return np.concatenate([mix + 0.15 * noise[:, :5], noise[:, 5:]], axis=1)
    raise ValueError(kind)


def reference_dci(x, y, xt, yt):
    """disentanglement_lib dci.compute_importance_gbt + disentanglement/completeness."""
    r = np.zeros((x.shape[1], y.shape[1]))
    train, test = [], []
    for j in range(y.shape[1]):
        model = GradientBoostingClassifier().fit(x, y[:, j])
        r[:, j] = np.abs(model.feature_importances_)
        train.append(np.mean(model.predict(x) == y[:, j]))
        test.append(np.mean(model.predict(xt) == yt[:, j]))
    d_code = 1 - scipy.stats.entropy(r.T + 1e-11, base=r.shape[1])
    c_fac = 1 - scipy.stats.entropy(r + 1e-11, base=r.shape[0])
    return {"disentanglement": float(np.sum(d_code * r.sum(1) / r.sum())),
            "completeness": float(np.sum(c_fac * r.sum(0) / r.sum())),
            "informativeness_train": float(np.mean(train)), "informativeness_test": float(np.mean(test))}


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the benchmark, write ``metrics.md``; return the reference / suite time ratio and the DCI gap."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results", help="directory of metrics.md")
    parser.add_argument("--kinds", default="partial,perfect,rotated,noise")
    parser.add_argument("--quick", action="store_true", help="smoke run: 600 / 300 points, the 'partial' code only")
    args = parser.parse_args(argv)
    n_train, n_test, sampled = N_TRAIN, N_TEST, {}
    if args.quick:
        n_train, n_test, args.kinds = 600, 300, "partial"
        sampled = {"n_train": 500, "n_eval": 250, "group_size": 16}
    threads_before = torch.get_num_threads()
    torch.set_num_threads(2)
    world = Grid()
    rng = np.random.default_rng(0)
    f_train = np.stack([rng.integers(0, s, n_train) for s in SIZES], axis=1)
    f_test = np.stack([rng.integers(0, s, n_test) for s in SIZES], axis=1)
    data = {kind: (codes(kind, f_train, rng), codes(kind, f_test, rng)) for kind in args.kinds.split(",")}
    first = next(iter(data))
    arrays = {"codes": data[first][0], "factors": f_train, "codes_test": data[first][1], "factors_test": f_test}
    lines = ["# groupdrl.verify.metrics benchmark", "",
             f"Machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), **shared with other "
             f"helpers' jobs** (load average given per row; a load above 2 means the 2 cores were oversubscribed "
             f"and every time, ours and the reference's, is inflated); torch threads 2, sklearn "
             f"{sklearn.__version__}, numpy {np.__version__}.",
             f"World: {len(SIZES)} factors of sizes {SIZES}; {n_train} train / {n_test} test points of a 10-d code; "
             "disentanglement_lib defaults otherwise. BetaVAE / FactorVAE sample the world through an encoder "
             "(5 noisy factor coordinates + 5 noise dims); MIG, SAP, DCI and modularity take the precomputed "
             f"'{first}' code below (continuous values, as a real encoder gives on a large world).", "",
             "## Time of each metric (seed 0)", "",
             "| metric | time (s) | load avg (1 min) | result |", "|---|---|---|---|"]
    total = 0.0
    runs = [("beta_vae_score", beta_vae_score, (encoder, world), sampled),
            ("factor_vae_score", factor_vae_score, (encoder, world),
             {**sampled, "n_variance": sampled["n_train"]} if sampled else {}),
            ("mig", mig, (), {"codes": arrays["codes"], "factors": f_train}),
            ("sap", sap, (), arrays), ("dci (hist, n_jobs=2)", dci, (), {**arrays, "n_jobs": 2}),
            ("modularity_explicitness", modularity_explicitness, (), arrays)]
    for name, fn, pos, kw in runs:
        out, sec = timed(fn, *pos, seed=0, **kw)
        total += sec
        shown = ", ".join(f"{k}={v:.3f}" for k, v in out.items() if isinstance(v, float))
        lines.append(f"| {name} | {sec:.1f} | {os.getloadavg()[0]:.1f} | {shown} |")
        print(name, f"{sec:.1f}s", shown, flush=True)
    out, sec = timed(dci, **arrays)
    lines.append(f"| dci (hist, n_jobs=1) | {sec:.1f} | {os.getloadavg()[0]:.1f} | not counted in the suite |")
    refs = {}
    for kind, (c_train, c_test) in data.items():
        refs[kind] = timed(reference_dci, c_train, f_train, c_test, f_test)
        print(kind, "reference", f"{refs[kind][1]:.1f}s", refs[kind][0], flush=True)
        if kind == first:
            ref_load = os.getloadavg()[0]
    ref, ref_sec = refs[first]
    lines += [f"| **suite of six** | **{total:.1f}** | | |",
              f"| reference DCI alone (GradientBoostingClassifier per factor) | {ref_sec:.1f} | {ref_load:.1f} | "
              + ", ".join(f"{k}={v:.3f}" for k, v in ref.items()) + " |", "",
              f"Reference DCI / suite of six: **{ref_sec / total:.1f}x** (target >= 3x).", "",
              "## DCI agreement with the reference (same train/test points)", "",
              "| code | estimator | D | C | I (test) | time (s) |", "|---|---|---|---|---|---|"]
    worst = 0.0
    keys = ("disentanglement", "completeness", "informativeness_test")
    for kind, (c_train, c_test) in data.items():
        r, r_sec = refs[kind]
        fast, sec = timed(dci, codes=c_train, factors=f_train, codes_test=c_test, factors_test=f_test, n_jobs=2)
        worst = max(worst, *(abs(fast[k] - r[k]) for k in keys))
        lines.append(f"| {kind} | reference | " + " | ".join(f"{r[k]:.3f}" for k in keys) + f" | {r_sec:.1f} |")
        lines.append(f"| {kind} | groupdrl hist | " + " | ".join(f"{fast[k]:.3f}" for k in keys)
                     + f" | {sec:.1f} |")
        print(kind, "hist", f"{sec:.1f}s", {k: round(fast[k], 4) for k in keys}, flush=True)
    lines += ["", f"Largest |difference| over D, C, I: {worst:.3f} (target <= 0.02).", "", NOTES]
    torch.set_num_threads(threads_before)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "metrics.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return {"metrics_reference_over_suite": ref_sec / total, "metrics_dci_max_difference": worst}


#: Appended to metrics.md: how to read the numbers and how DCI is made fast.
NOTES = """## Notes

- **Shared machine.** The 2 cores may be shared with other jobs: the 1-minute load average is given
  per row, and above 2 every absolute time here, ours and the reference's, is inflated (by roughly
  3-5x at a load of 6-11; on an idle machine `GradientBoostingClassifier()` took 11 s for one 3-class
  factor of 10,000 x 10 points, i.e. about 60-70 s for the five factors above). The ratio is what this
  benchmark measures: reference and suite run back to back under the same load. `n_jobs=2` cannot
  help while the cores are oversubscribed; on a free machine it fits two factors at once.
- **How DCI is made fast.** `dci(estimator="hist")` (default) runs sklearn's boosting algorithm
  (log-loss, 100 stages, learning rate 0.1, depth-3 squared-error trees on the negative gradient,
  Newton leaf values, importances = summed squared-error reductions, random tie-break between equal
  features) on codes binned into quantile bins (exact up to 1,024 training points, 512 bins up to
  4,096, 256 above); a node's histograms for all classes come from one sparse product, right
  children by subtraction. Only candidate thresholds differ from sklearn's. `estimator="sklearn"`
  reproduces the reference exactly (tested to 1e-12).
- **Agreement at other sizes** (partially entangled 3-factor code, same points, measured while
  developing under similar load): 600 training points (exact bins) within 0.002; 2,000 points
  within 0.012 with 256 bins and 0.007 with 1,024 bins; 5,000 points (256 bins) within 0.002;
  10,000 points within 0.005. The test suite checks a 600-point case against an inline copy of
  disentanglement_lib's DCI (GradientBoostingClassifier) to ±0.02.
- MIG, SAP, modularity, BetaVAE and FactorVAE run disentanglement_lib's algorithms unchanged
  (MIG's MI matrix is computed from contingency tables, equal to sklearn's `mutual_info_score`,
  which the tests check).
"""


if __name__ == "__main__":
    main()
