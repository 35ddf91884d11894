"""The cyclic group C_n = Z/nZ, elements k ↦ rotation by 2πk/n."""
from __future__ import annotations

import math

import torch

from groupdrl.groups._escnn import import_escnn
from groupdrl.groups.base import OrderNGroup, check_int_batch
from groupdrl.groups.representation import Representation, rotation_2d, scalar


class Cyclic(OrderNGroup):
    """C_n; a batch of elements is an int64 tensor ``(m,)`` with entries in ``[0, n)``.

    Real irreps: ``irrep:0`` trivial (1-D), ``irrep:n/2`` the sign (1-D, n even), and for
    0 < k < n/2 the rotation ``R(2πk g / n)`` (2-D). ``standard`` = ``irrep:1``.
    """

    @property
    def order(self) -> int:
        return self.n

    @property
    def escnn(self):
        return import_escnn(f"{self!r}.escnn").group.cyclic_group(self.n)

    def validate(self, a, name: str = "g") -> None:
        check_int_batch(a, name, (), (self.n,))

    def _identity(self, n: int) -> torch.Tensor:
        return torch.zeros(n, dtype=torch.long)

    def _compose(self, a, b):
        return torch.remainder(a.long() + b.long(), self.n)

    def _inverse(self, a):
        return torch.remainder(-a.long(), self.n)

    def _sample(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        return torch.randint(self.n, (n,), generator=generator)

    def generators(self) -> torch.Tensor:
        return torch.tensor([1 % self.n], dtype=torch.long)

    def _equal(self, a, b, atol: float) -> torch.Tensor:
        return a.long() == b.long()

    def elements(self) -> torch.Tensor:
        return torch.arange(self.n)

    def _index(self, a) -> torch.Tensor:
        return a.long()

    def angle(self, a) -> torch.Tensor:
        """The rotation angle ``2πk/n`` of each element (float64)."""
        self.validate(a, "a")
        return self._angle(a)

    def _angle(self, a) -> torch.Tensor:
        return a.to(torch.float64) * (2 * math.pi / self.n)

    def irreps(self) -> list[Representation]:
        return [self.representation(f"irrep:{k}") for k in range(self.n // 2 + 1)]

    def _representation(self, kind: str, arg: str | None) -> Representation:
        if kind == "trivial":
            return self._irrep(0)
        if kind == "standard":
            return self._irrep(1)
        if kind == "irrep" and arg is not None and arg.lstrip("-").isdigit():
            return self._irrep(int(arg))
        if kind == "regular":
            n = self.n

            def regular(g, dtype):
                # rho(g) e_h = e_{g+h}: column h has its one in row (g + h) mod n
                rows = torch.remainder(g.long()[:, None] + torch.arange(n), n)
                return torch.nn.functional.one_hot(rows, n).to(dtype).transpose(1, 2)

            return Representation(self, regular, n, "regular")
        raise ValueError(f"spec: unknown representation {kind + (':' + arg if arg else '')!r} of {self!r}; "
                         "expected 'trivial', 'standard', 'regular' or 'irrep:k'")

    def _irrep(self, k: int) -> Representation:
        k = k % self.n
        if k == 0:
            return Representation(self, lambda g, dtype: torch.ones(len(g), 1, 1, dtype=dtype), 1, "irrep:0")
        if 2 * k == self.n:
            return Representation(
                self, lambda g, dtype: scalar((1 - 2 * (g.long() % 2)).to(dtype)), 1, f"irrep:{k}"
            )
        return Representation(
            self, lambda g, dtype: rotation_2d(self._angle(g) * k).to(dtype), 2, f"irrep:{k}"
        )
