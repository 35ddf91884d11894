"""Shared parts of the intuitive-definition metrics: input checks, sampling, discretisation, MI.

Conventions (as in disentanglement_lib, Locatello et al. 2019): ``codes`` is an (n, d) float
array of encoder means, ``factors`` an (n, k) integer array of ground-truth factor indices.
A metric takes either an ``encoder`` and a ``world`` (states are sampled with an explicit
``torch.Generator`` seeded by ``seed``) or precomputed ``codes=``/``factors=`` arrays.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

Encoder = Callable[[torch.Tensor], Any]


def check_codes(codes: Any, name: str = "codes", n: int | None = None, min_rows: int = 2) -> np.ndarray:
    """Return ``codes`` as a finite float64 (n, d) array or raise ValueError naming ``name``."""
    if isinstance(codes, torch.Tensor):
        codes = codes.detach().cpu()
        codes = (codes.double() if codes.is_floating_point() else codes).numpy()
    arr = np.asarray(codes)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected a real numeric array, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim != 2 or arr.shape[0] < min_rows or arr.shape[1] < 1:
        raise ValueError(f"{name}: expected an (n, d) array with n >= {min_rows} and d >= 1, "
                         f"got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name}: expected {n} rows (one per point), got {arr.shape[0]}")
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name}: expected finite values, got {arr[tuple(bad)]} at index {tuple(bad)}")
    return arr


def check_factors(factors: Any, n: int, name: str = "factors") -> np.ndarray:
    """Return ``factors`` as an int64 (n, k) array of discrete factor indices or raise."""
    if isinstance(factors, torch.Tensor):
        factors = factors.detach().cpu().numpy()
    arr = np.asarray(factors)
    if arr.dtype.kind == "f" and np.isfinite(arr).all() and (arr == np.round(arr)).all():
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "biu":
        raise TypeError(f"{name}: expected integer factor indices, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise ValueError(f"{name}: expected an (n, k) array with k >= 1, got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"{name}: expected {n} rows (one per code), got {arr.shape[0]}")
    return arr.astype(np.int64)


def check_count(value: Any, name: str, minimum: int = 2) -> int:
    """Return ``value`` as an int >= ``minimum`` or raise ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def varying(factors: np.ndarray) -> np.ndarray:
    """Indices of the factors that take more than one value (a constant factor carries no information)."""
    keep = np.flatnonzero((factors != factors[:1]).any(axis=0))
    if keep.size == 0:
        raise ValueError("factors: every factor is constant; a metric needs at least one varying factor")
    return keep


def check_world(world: Any) -> tuple[int, ...]:
    """Check the duck-typed World contract the metrics use; return ``world.sizes``."""
    for attr in ("sizes", "sample_states", "render"):
        if not hasattr(world, attr):
            raise TypeError(f"world: expected a groupdrl World (with .sizes, .sample_states, .render), "
                            f"got {type(world).__name__} without .{attr}")
    return tuple(int(s) for s in world.sizes)


def _device(encoder: Encoder) -> torch.device | None:
    if isinstance(encoder, torch.nn.Module):
        for p in encoder.parameters():
            return p.device
    return None


def encode_states(encoder: Encoder, world: Any, states: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """Render ``states`` and encode them in batches under ``torch.no_grad``; (n, d) float64 codes.

    The encoder is called as given (put a model in eval mode first); its output must be an
    (batch, d) tensor or array of finite numbers.
    """
    batch_size = check_count(batch_size, "batch_size", 1)
    device = _device(encoder)
    out = []
    with torch.no_grad():
        for start in range(0, states.shape[0], batch_size):
            obs = world.render(states[start:start + batch_size])
            if device is not None:
                obs = obs.to(device)
            out.append(check_codes(encoder(obs), "encoder output", n=obs.shape[0], min_rows=1))
    if len({c.shape[1] for c in out}) != 1:
        raise ValueError("encoder output: expected the same latent dimension for every batch")
    return np.concatenate(out)


def sample_states(world: Any, n: int, generator: torch.Generator) -> torch.Tensor:
    """``world.sample_states(n, generator=generator)`` checked to be an int64 (n, k) tensor."""
    states = torch.as_tensor(world.sample_states(n, generator=generator))
    k = len(check_world(world))
    if states.shape != (n, k) or states.is_floating_point():
        raise ValueError(f"world.sample_states: expected an integer ({n}, {k}) tensor, "
                         f"got {states.dtype} {tuple(states.shape)}")
    return states.long()


def sample_codes(encoder: Encoder, world: Any, n: int, generator: torch.Generator,
                 batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``n`` states of ``world``, encode them; return (codes (n, d) float64, factors (n, k) int64)."""
    states = sample_states(world, n, generator)
    return encode_states(encoder, world, states, batch_size), states.numpy().astype(np.int64)


def train_test(encoder: Encoder | None, world: Any, codes: Any, factors: Any, codes_test: Any,
               factors_test: Any, n_train: int, n_test: int, seed: int,
               batch_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Resolve the two calling forms into (codes, factors, codes_test, factors_test).

    With an encoder and a world, ``n_train`` then ``n_test`` states are sampled from one
    generator seeded by ``seed``. With arrays and no test arrays, a seeded random
    ``n_test / (n_train + n_test)`` share of the points is held out for testing.
    """
    n_train, n_test = check_count(n_train, "n_train"), check_count(n_test, "n_test", 1)
    if encoder is not None or world is not None:
        _only_one_form(encoder, world, codes, factors, codes_test, factors_test)
        gen = torch.Generator().manual_seed(seed)
        train = sample_codes(encoder, world, n_train, gen, batch_size)
        return (*train, *sample_codes(encoder, world, n_test, gen, batch_size))
    c, f = arrays(codes, factors)
    if codes_test is None and factors_test is None:
        n = c.shape[0]
        held = int(round(n * n_test / (n_train + n_test)))
        if held < 1 or held >= n - 1:
            raise ValueError(f"codes: too few points ({n}) to hold out a test share")
        order = np.random.default_rng(seed).permutation(n)
        return c[order[held:]], f[order[held:]], c[order[:held]], f[order[:held]]
    if codes_test is None or factors_test is None:
        raise ValueError("codes_test/factors_test: give both or neither")
    ct = check_codes(codes_test, "codes_test")
    ft = check_factors(factors_test, ct.shape[0], "factors_test")
    if ct.shape[1] != c.shape[1] or ft.shape[1] != f.shape[1]:
        raise ValueError(f"codes_test/factors_test: expected {c.shape[1]} code and {f.shape[1]} factor "
                         f"columns like codes/factors, got {ct.shape[1]} and {ft.shape[1]}")
    return c, f, ct, ft


def arrays(codes: Any, factors: Any) -> tuple[np.ndarray, np.ndarray]:
    """Check a precomputed (codes, factors) pair."""
    if codes is None or factors is None:
        raise ValueError("codes/factors: give an encoder and a world, or both codes= and factors=")
    c = check_codes(codes)
    return c, check_factors(factors, c.shape[0])


def codes_factors(encoder: Encoder | None, world: Any, codes: Any, factors: Any, n: int, seed: int,
                  batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Resolve the two calling forms into one (codes, factors) pair of ``n`` points."""
    if encoder is not None or world is not None:
        _only_one_form(encoder, world, codes, factors)
        return sample_codes(encoder, world, check_count(n, "n_train"), torch.Generator().manual_seed(seed),
                            batch_size)
    return arrays(codes, factors)


def _only_one_form(encoder: Any, world: Any, *arrays_given: Any) -> None:
    if encoder is None or world is None:
        raise ValueError("encoder/world: give both an encoder and a world (or codes= and factors= instead)")
    if isinstance(encoder, (np.ndarray, torch.Tensor)):
        raise TypeError("encoder: expected a callable, got an array; pass precomputed codes as codes=")
    if not callable(encoder):
        raise TypeError(f"encoder: expected a callable obs -> (n, d) codes, got {type(encoder).__name__}")
    check_world(world)
    if any(a is not None for a in arrays_given):
        raise ValueError("codes/factors: give either an encoder and a world or precomputed arrays, not both")


def histogram_discretize(codes: np.ndarray, num_bins: int = 20) -> np.ndarray:
    """Bin each code column into ``num_bins`` equal-width bins (disentanglement_lib's discretizer).

    ``np.digitize(z, np.histogram(z, num_bins)[1][:-1])``: bins 1..num_bins; a constant
    column falls into a single bin.
    """
    num_bins = check_count(num_bins, "num_bins", 1)
    return np.stack([np.digitize(z, np.histogram(z, num_bins)[1][:-1]) for z in codes.T], axis=1)


def mutual_info_matrix(discrete: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """(d, k) matrix of I(z_i; v_j) in nats between discrete columns (= sklearn's ``mutual_info_score``)."""
    n = discrete.shape[0]
    out = np.zeros((discrete.shape[1], factors.shape[1]))
    zs = [np.unique(z, return_inverse=True)[1] for z in discrete.T]
    vs = [np.unique(v, return_inverse=True)[1] for v in factors.T]
    for i, z in enumerate(zs):
        pz = np.bincount(z) / n
        for j, v in enumerate(vs):
            nv = v.max() + 1
            joint = np.bincount(z * nv + v, minlength=(z.max() + 1) * nv).reshape(-1, nv) / n
            pv = joint.sum(axis=0)
            nz = joint > 0
            mi = np.sum(joint[nz] * (np.log(joint[nz]) - np.log(np.outer(pz, pv)[nz])))
            out[i, j] = max(mi, 0.0)
    return out


def discrete_entropy(factors: np.ndarray) -> np.ndarray:
    """Entropy H(v_j) in nats of each factor column (= I(v_j; v_j))."""
    h = []
    for v in factors.T:
        p = np.unique(v, return_counts=True)[1] / v.size
        h.append(float(-(p * np.log(p)).sum()))
    return np.array(h)


def top_two_gap(matrix: np.ndarray) -> np.ndarray:
    """Per column: largest minus second-largest entry (second = 0 when there is one row)."""
    ordered = np.sort(matrix, axis=0)[::-1]
    second = ordered[1] if matrix.shape[0] > 1 else np.zeros(matrix.shape[1])
    return ordered[0] - second


def fixed_mask(labels: torch.Tensor, k: int) -> torch.Tensor:
    """(m, 1, k) bool mask that is True at each point's drawn factor (for ``torch.where``)."""
    return (torch.arange(k) == labels[:, None])[:, None, :]


def grouped_states(world: Any, n_points: int, group_size: int, generator: torch.Generator,
                   chunk: int = 64) -> Any:
    """Yield (labels (m,), states (m, group_size, k)) chunks for the fixed-factor metrics.

    Each point draws one varying factor uniformly (with ``generator``) and ``group_size``
    states; callers tie the drawn factor inside the group. Chunks of ``chunk`` points keep
    memory bounded and make results independent of the encoding ``batch_size``.
    """
    sizes = check_world(world)
    candidates = torch.tensor([i for i, s in enumerate(sizes) if s > 1], dtype=torch.long)
    if candidates.numel() == 0:
        raise ValueError(f"world: every factor has size 1 (sizes {sizes}); nothing to fix or vary")
    labels = candidates[torch.randint(candidates.numel(), (n_points,), generator=generator)]
    for start in range(0, n_points, chunk):
        lab = labels[start:start + chunk]
        states = sample_states(world, lab.numel() * group_size, generator)
        yield lab, states.view(lab.numel(), group_size, len(sizes))
