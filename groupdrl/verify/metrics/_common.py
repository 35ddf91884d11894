"""Shared parts of the intuitive-definition metrics: input checks, sampling, discretisation, MI, scaling.

Conventions (as in disentanglement_lib, Locatello et al. 2019): ``codes`` is an (n, d) float
array of encoder means, ``factors`` an (n, k) integer array of ground-truth factor indices.
A metric takes either an ``encoder`` and a ``world`` (states are sampled with an explicit
``torch.Generator`` seeded by ``seed``) or precomputed ``codes=``/``factors=`` arrays.

Degenerate codes: a code column is *constant* when its range is at most ``CONSTANT_RTOL`` times its
largest magnitude (a purely relative test, so a uniform rescaling of the code changes nothing). Codes
are first divided by a power of two that brings their largest magnitude into [0.5, 1) (:func:`unit_scale`,
exact in floating point), so codes of any scale up to float64's maximum give finite answers.
Time bounds: every count of sampled points is at most ``MAX_POINTS`` and a metric encodes at most
``MAX_ENCODED`` observations; larger requests are refused with an error naming the argument.
"""
from __future__ import annotations

import warnings
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from groupdrl._checks import check_int
from groupdrl.verify.encode import as_codes, encode

Encoder = Callable[[torch.Tensor], Any]

#: Relative range below which a code column counts as constant.
CONSTANT_RTOL = 1e-12
#: Largest number of points (rows) a metric samples or accepts for one set.
MAX_POINTS = 1_000_000
#: Largest number of observations one metric call encodes (defaults use at most 1.92 million).
MAX_ENCODED = 20_000_000


def fit_quietly(model: Any, x: np.ndarray, y: np.ndarray) -> Any:
    """``model.fit(x, y)`` without scikit-learn's ``ConvergenceWarning`` (the iteration caps are the
    reference's; a classifier short of convergence still gives the score the reference reports)."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(x, y)


def check_codes(codes: Any, name: str = "codes", n: int | None = None, min_rows: int = 2) -> np.ndarray:
    """Return ``codes`` as a finite float64 (n, d) array or raise naming ``name`` (see :func:`as_codes`)."""
    arr = as_codes(codes, name, n, min_rows)
    if arr.shape[0] > MAX_POINTS:
        raise ValueError(f"{name}: at most {MAX_POINTS} rows (the metrics' time bound), got {arr.shape[0]}; "
                         "pass a random subsample")
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


def check_count(value: Any, name: str, minimum: int = 2, maximum: int = MAX_POINTS) -> int:
    """Return ``value`` as an int in ``[minimum, maximum]`` or raise naming ``name``."""
    return check_int(value, name, minimum, maximum)


def seeded(seed: Any) -> torch.Generator:
    """``torch.Generator().manual_seed(seed)`` for a seed in ``[0, 2**32)`` (the range scikit-learn accepts)."""
    return torch.Generator().manual_seed(check_int(seed, "seed", 0, 2**32 - 1))


def check_encoded(total: int, names: str) -> None:
    """Refuse a call that would encode more than ``MAX_ENCODED`` observations."""
    if total > MAX_ENCODED:
        raise ValueError(f"{names}: this call would encode {total:.3g} observations, above the time bound of "
                         f"{MAX_ENCODED:.0e}; lower them")


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


def encode_states(encoder: Encoder, world: Any, states: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """Render ``states`` and encode them (:func:`groupdrl.verify.encode.encode`); (n, d) float64 codes."""
    return encode(encoder, world, states, batch_size, "encoder output")


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
    gen = seeded(seed)
    if encoder is not None or world is not None:
        _only_one_form(encoder, world, codes, factors, codes_test, factors_test)
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
        return sample_codes(encoder, world, check_count(n, "n_train"), seeded(seed), batch_size)
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


def unit_scale(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """The arrays divided by one power of two ``2^e`` bringing their largest magnitude into [0.5, 1).

    Exact (no rounding) wherever the result stays normal, so scale-invariant quantities are unchanged,
    and no square or difference of the results can overflow.
    """
    top = max((float(np.abs(a).max()) for a in arrays if a.size), default=0.0)
    if top == 0.0:
        return arrays
    e = np.frexp(top)[1]
    return tuple(np.ldexp(a, -e) for a in arrays)


def constant_columns(codes: np.ndarray) -> np.ndarray:
    """Bool (d,): columns whose range is at most ``CONSTANT_RTOL`` times their largest magnitude."""
    if codes.shape[0] == 0:
        return np.ones(codes.shape[1], dtype=bool)
    with np.errstate(over="ignore"):  # a range beyond float64's maximum is inf: not constant
        return np.ptp(codes, axis=0) <= CONSTANT_RTOL * np.abs(codes).max(axis=0)


def standardise(train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per column ``(x − mean) / std`` with the training statistics; a constant column becomes 0.

    Each column is first brought to unit scale (:func:`unit_scale`), so no input overflows; values
    beyond ``1 / CONSTANT_RTOL`` training stds (a test column far outside its training range) are
    clipped there.
    """
    arrays = (train, *others)
    scaled = [np.empty(a.shape) for a in arrays]
    for j in range(train.shape[1]):
        for dst, col in zip(scaled, unit_scale(*(a[:, j] for a in arrays))):
            dst[:, j] = col
    mean, std = scaled[0].mean(axis=0), scaled[0].std(axis=0)
    std = np.where(constant_columns(train) | (std == 0), np.inf, std)
    return tuple(np.clip((z - mean) / std, -1 / CONSTANT_RTOL, 1 / CONSTANT_RTOL) for z in scaled)


def histogram_discretize(codes: np.ndarray, num_bins: int = 20) -> np.ndarray:
    """Bin each code column into ``num_bins`` equal-width bins (disentanglement_lib's discretizer).

    ``np.digitize(z, np.histogram(z, num_bins)[1][:-1])``: bins 1..num_bins, on each column divided
    by :func:`unit_scale` (equal-width bins do not change under a rescaling of the column); a
    constant column (see :func:`constant_columns`) falls into a single bin.
    """
    num_bins = check_count(num_bins, "num_bins", 1, 100_000)
    const = constant_columns(codes)
    cols = []
    for z, flat in zip(codes.T, const):
        (z,) = unit_scale(z)
        cols.append(np.ones(len(z), dtype=np.int64) if flat else np.digitize(z, np.histogram(z, num_bins)[1][:-1]))
    return np.stack(cols, axis=1)


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


def share_factor(world: Any, states: torch.Tensor, like: torch.Tensor, labels: torch.Tensor,
                 generator: torch.Generator) -> torch.Tensor:
    """States ``(m, k)`` that take factor ``labels[r]``'s value from ``like[r]``, the other factors drawn at random.

    On a complete grid: ``states`` (drawn uniformly) with that factor replaced. On a world with a
    ``support`` (an incomplete grid) that combination may not exist, so every row is drawn anew,
    uniformly among the existing states that share the value (the data's conditional distribution).
    """
    k = like.shape[1]
    mask = torch.arange(k) == labels[:, None]
    if getattr(world, "support", None) is None:
        return torch.where(mask, like, states)
    table = _SHARED.get(world)
    if table is None:
        table = _SHARED[world] = _support_table(world)
    grid, order, start, count = table
    value = like[mask]  # the fixed factor's value in each row
    n = count[labels, value]
    pick = (torch.rand(len(labels), generator=generator, dtype=torch.float64) * n).long().clamp_(max=n - 1)
    return grid[order[labels, start[labels, value] + pick]]


def _support_table(world: Any) -> tuple[torch.Tensor, ...]:
    """The existing states and, per factor, their order by that factor with each value's first row and count."""
    grid = world.all_states()
    sizes = world.sizes
    order = torch.stack([torch.argsort(grid[:, j], stable=True) for j in range(len(sizes))])
    count = torch.zeros(len(sizes), max(sizes), dtype=torch.long)
    for j, s in enumerate(sizes):
        count[j, :s] = torch.bincount(grid[:, j], minlength=s)
    start = torch.cumsum(count, 1) - count
    return grid, order, start, count


_SHARED: "weakref.WeakKeyDictionary[Any, tuple[torch.Tensor, ...]]" = weakref.WeakKeyDictionary()


def grouped_states(world: Any, n_points: int, group_size: int, generator: torch.Generator,
                   chunk: int = 64) -> Any:
    """Yield (labels (m,), states (m, group_size, k)) chunks for the fixed-factor metrics.

    Each point draws one varying factor uniformly (with ``generator``) and ``group_size``
    states; callers tie the drawn factor inside the group (:func:`share_factor`). Chunks of ``chunk`` points keep
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
