"""The circle group SO(2) and the torus SO(2)^k, elements as angles."""
from __future__ import annotations

import math

import torch

from groupdrl.groups._escnn import import_escnn
from groupdrl.groups.base import TensorGroup, angle_diff, check_float_batch
from groupdrl.groups.representation import Representation, _block_diag, rotation_2d


class Torus(TensorGroup):
    """T^k = SO(2)^k; a batch of elements is a float tensor ``(m, k)`` of angles.

    Any finite angle is an element (read modulo 2π); results of the group law lie in ``[0, 2π)``.

    Real irreps: ``irrep:(w_1,…,w_k)`` = ``R(Σ w_i θ_i)`` (2-D, 1-D trivial when w = 0);
    ``standard`` = ⊕_i ``R(θ_i)``. A disentangled representation uses only irreps with one
    non-zero frequency (Higgins et al. 2018, §6).
    """

    def __init__(self, k: int) -> None:
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise ValueError(f"k: expected a positive int, got {k!r}")
        self.k = k
        self.max_frequency = 2

    def __repr__(self) -> str:
        return f"Torus({self.k})"

    def _shape(self) -> tuple[int, ...]:
        return (self.k,)

    def _angles(self, a: torch.Tensor) -> torch.Tensor:
        """Angles as ``(m, k)`` float64."""
        return a.to(torch.float64).reshape(a.shape[0], self.k)

    def validate(self, a, name: str = "g") -> None:
        check_float_batch(a, name, self._shape())

    def _identity(self, n: int) -> torch.Tensor:
        return torch.zeros((n, *self._shape()))

    def _compose(self, a, b):
        return torch.remainder(a + b, 2 * math.pi)

    def _inverse(self, a):
        return torch.remainder(-a, 2 * math.pi)

    def _sample(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        return torch.rand((n, *self._shape()), generator=generator) * (2 * math.pi)

    def generators(self) -> torch.Tensor:
        # rotation by 1 rad (an irrational turn) generates a dense subgroup of each circle
        return torch.eye(self.k).reshape(self.k, *self._shape())

    def _equal(self, a, b, atol: float) -> torch.Tensor:
        d = angle_diff(self._angles(a), self._angles(b))
        return (d <= atol).all(1)

    def irreps(self) -> list[Representation]:
        freqs = torch.cartesian_prod(*[torch.arange(-self.max_frequency, self.max_frequency + 1)] * self.k)
        freqs = freqs.reshape(-1, self.k)
        keep = [w for w in freqs.tolist() if w == [0] * self.k or next(x for x in w if x != 0) > 0]
        return [self._irrep(tuple(w)) for w in keep]

    def _irrep(self, w: tuple[int, ...]) -> Representation:
        if len(w) != self.k:
            raise ValueError(f"spec: {self!r} irreps need {self.k} frequencies, got {w}")
        name = "irrep:" + ",".join(map(str, w)) if self.k > 1 else f"irrep:{w[0]}"
        if all(x == 0 for x in w):
            return Representation(self, lambda g, dtype: torch.ones(len(g), 1, 1, dtype=dtype), 1, name)
        wt = torch.tensor(w, dtype=torch.float64)
        return Representation(self, lambda g, dtype: rotation_2d(self._angles(g) @ wt).to(dtype), 2, name)

    def _representation(self, kind: str, arg: str | None) -> Representation:
        if kind == "trivial":
            return self._irrep((0,) * self.k)
        if kind == "standard":
            if self.k == 1:
                return self._irrep((1,))

            def fn(g, dtype):
                th = self._angles(g)
                return _block_diag([rotation_2d(th[:, i]) for i in range(self.k)]).to(dtype)

            return Representation(self, fn, 2 * self.k, "standard")
        if kind == "irrep" and arg is not None:
            try:
                w = tuple(int(x) for x in arg.strip("()").split(","))
            except ValueError:
                w = ()
            if w:
                return self._irrep(w)
        raise ValueError(f"spec: unknown representation {kind + (':' + arg if arg else '')!r} of {self!r}; "
                         "expected 'trivial', 'standard' or 'irrep:w' with integer frequencies")


class SO2(Torus):
    """SO(2); a batch of elements is a float tensor ``(m,)`` of finite angles (read modulo 2π).

    Real irreps: ``irrep:0`` trivial, ``irrep:k`` = ``R(kθ)`` (2-D); ``standard`` = ``irrep:1``.
    """

    def __init__(self) -> None:
        super().__init__(1)
        self.max_frequency = 3

    def __repr__(self) -> str:
        return "SO2()"

    def _shape(self) -> tuple[int, ...]:
        return ()

    def generators(self) -> torch.Tensor:
        return torch.ones(1)

    @property
    def escnn(self):
        return import_escnn(f"{self!r}.escnn").group.so2_group()
