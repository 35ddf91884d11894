"""Direct products G = G_1 × … × G_k with named factors."""
from __future__ import annotations

import torch

from groupdrl.groups.base import Group
from groupdrl.groups.representation import Representation, _block_diag

Elements = dict[str, object]


class Product(Group):
    """G = G_1 × … × G_k with named factors, e.g. ``Product(x=Cyclic(8), r=SO2())``.

    A batch of elements is a plain ``dict`` ``{name: batch of that factor}`` in factor order.
    ``representation({name: rep, ...})`` builds ρ = ρ_1 ⊕ … ⊕ ρ_k, the form a linearly
    disentangled representation takes (Higgins et al. 2018, §6); ``.blocks`` records which
    coordinates each factor moves.
    """

    def __init__(self, **factors: Group) -> None:
        if not factors:
            raise ValueError("factors: a Product needs at least one named factor")
        for name, g in factors.items():
            if not isinstance(g, Group):
                raise TypeError(f"factors[{name!r}]: expected a Group, got {type(g).__name__}")
        self.factors: dict[str, Group] = dict(factors)
        self.is_finite = all(g.is_finite for g in factors.values())

    @property
    def factor_names(self) -> tuple[str, ...]:
        return tuple(self.factors)

    def factor(self, name: str) -> Group:
        """The factor group called ``name``."""
        if name not in self.factors:
            raise ValueError(f"name: unknown factor {name!r}; factors are {list(self.factors)}")
        return self.factors[name]

    def __repr__(self) -> str:
        return "Product(" + ", ".join(f"{k}={g!r}" for k, g in self.factors.items()) + ")"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Product) and list(other.factors.items()) == list(self.factors.items())

    def __hash__(self) -> int:
        return hash(repr(self))

    def _map(self, fn, *batches: Elements) -> Elements:
        return {k: fn(g, *(b[k] for b in batches)) for k, g in self.factors.items()}

    # ---- group law ----------------------------------------------------------------------
    def validate(self, a, name: str = "g") -> None:
        """A dict holding exactly the factor names, each a valid batch of its factor, all of one size."""
        if not isinstance(a, dict):
            raise TypeError(f"{name}: expected a dict {{factor name: elements}} for {self!r}, got {type(a).__name__}")
        unknown = [k for k in a if k not in self.factors]
        if unknown:
            raise ValueError(f"{name}: unknown factor name(s) {unknown}; factors are {list(self.factors)}")
        missing = [k for k in self.factors if k not in a]
        if missing:
            raise ValueError(f"{name}: missing factor(s) {missing}; factors are {list(self.factors)}")
        sizes = {}
        for k, g in self.factors.items():
            g.validate(a[k], f"{name}[{k!r}]")
            sizes[k] = g._batch_size(a[k])
        if len(set(sizes.values())) > 1:
            raise ValueError(f"{name}: factor batches have different sizes {sizes}")

    def _batch_size(self, a: Elements) -> int:
        k, g = next(iter(self.factors.items()))
        return g._batch_size(a[k])

    def _take(self, a: Elements, idx: torch.Tensor) -> Elements:
        return self._map(lambda g, x: g._take(x, idx), a)

    def _cat(self, batches: list[Elements]) -> Elements:
        return {k: g._cat([b[k] for b in batches]) for k, g in self.factors.items()}

    def _identity(self, n: int) -> Elements:
        return {k: g._identity(n) for k, g in self.factors.items()}

    def _compose(self, a: Elements, b: Elements) -> Elements:
        return self._map(lambda g, x, y: g._compose(x, y), a, b)

    def _check_pair(self, a: Elements, b: Elements) -> None:
        super()._check_pair(a, b)
        for k, g in self.factors.items():
            if isinstance(a[k], torch.Tensor) and a[k].device != b[k].device:
                raise ValueError(f"b[{k!r}]: on device {b[k].device}, a[{k!r}] on {a[k].device}")

    def _inverse(self, a: Elements) -> Elements:
        return self._map(lambda g, x: g._inverse(x), a)

    def _sample(self, n: int, generator: torch.Generator | None) -> Elements:
        return {k: g._sample(n, generator) for k, g in self.factors.items()}

    def embed(self, name: str, elems) -> Elements:
        """Elements of the subgroup G_name: ``elems`` in factor ``name``, identity elsewhere."""
        group = self.factor(name)
        group.validate(elems, "elems")
        n = group._batch_size(elems)
        return {k: (elems if k == name else g._identity(n)) for k, g in self.factors.items()}

    def generators(self) -> Elements:
        return self._cat([self.embed(k, g.generators()) for k, g in self.factors.items()])

    def generator_factors(self) -> list[str]:
        """The factor each entry of ``generators()`` belongs to."""
        return [k for k, g in self.factors.items() for _ in range(g._batch_size(g.generators()))]

    def _equal(self, a: Elements, b: Elements, atol: float) -> torch.Tensor:
        eqs = [g._equal(a[k], b[k], atol) for k, g in self.factors.items()]
        return torch.stack(eqs, 0).all(0)

    # ---- finite products -----------------------------------------------------------------
    @property
    def order(self) -> int:
        if not self.is_finite:
            raise ValueError(f"order: {self!r} is not finite")
        out = 1
        for g in self.factors.values():
            out *= g.order
        return out

    def elements(self) -> Elements:
        if not self.is_finite:
            raise ValueError(f"elements: {self!r} is not finite")
        idx = torch.cartesian_prod(*[torch.arange(g.order) for g in self.factors.values()])
        idx = idx.reshape(-1, len(self.factors))
        return {k: g._take(g.elements(), idx[:, i]) for i, (k, g) in enumerate(self.factors.items())}

    def _index(self, a: Elements) -> torch.Tensor:
        out = torch.zeros(self._batch_size(a), dtype=torch.long)
        for k, g in self.factors.items():
            out = out * g.order + g._index(a[k]).cpu()
        return out

    # ---- representations -----------------------------------------------------------------
    def irreps(self) -> list[Representation]:
        """Irreps with at most one non-trivial factor (ρ_i of G_i, trivial on the others)."""
        return [self.representation({k: rho}) for k, g in self.factors.items() for rho in g.irreps()
                if rho.name not in ("irrep:0", "trivial")]

    def representation(self, spec) -> Representation:
        """ρ = ⊕_i ρ_i from ``{factor name: Representation or spec string}``.

        Factors left out act trivially on a 0-dimensional block.
        """
        if isinstance(spec, Representation):
            return super().representation(spec)
        if not isinstance(spec, dict) or not spec:
            raise TypeError(f"spec: expected a non-empty dict {{factor name: representation}}, got {spec!r}")
        reps: dict[str, Representation] = {}
        for name in spec:
            if name not in self.factors:
                raise ValueError(f"spec: unknown factor name {name!r}; factors are {list(self.factors)}")
        for name in self.factors:
            if name in spec:
                reps[name] = self.factors[name].representation(spec[name])
        blocks, start = {}, 0
        for name, rho in reps.items():
            blocks[name] = slice(start, start + rho.dim)
            start += rho.dim

        def fn(g: Elements, dtype: torch.dtype) -> torch.Tensor:
            return _block_diag([rho(g[name], dtype) for name, rho in reps.items()])

        label = " ⊕ ".join(f"{k}:{r.name}" for k, r in reps.items())
        return Representation(self, fn, start, label, blocks=blocks)

    def _representation(self, kind: str, arg: str | None) -> Representation:
        raise TypeError("spec: a Product's representation is a dict {factor name: representation}")
