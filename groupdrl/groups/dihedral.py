"""The dihedral group D_n of the regular n-gon (order 2n)."""
from __future__ import annotations

import math

import torch

from groupdrl.groups._escnn import import_escnn
from groupdrl.groups.base import OrderNGroup, check_int_batch
from groupdrl.groups.representation import Representation, rotation_2d, scalar


class Dihedral(OrderNGroup):
    """D_n; a batch of elements is an int64 tensor ``(m, 2)`` of ``(flip, rot)`` meaning
    ``r^rot · s^flip`` with ``r`` the rotation by 2π/n and ``s`` a reflection, ``s r s = r⁻¹``.

    Law: ``(r^a s^f)(r^b s^h) = r^(a + (-1)^f b) s^(f + h)``.
    Real irreps: ``trivial``, ``flip`` (sign of the reflection), for even n ``rot`` ((-1)^rot)
    and ``rotflip``, and the 2-D ``irrep:k`` (0 < k < n/2): ``R(2πk·rot/n) · diag(1, -1)^flip``.
    """

    @property
    def order(self) -> int:
        return 2 * self.n

    @property
    def escnn(self):
        return import_escnn(f"{self!r}.escnn").group.dihedral_group(self.n)

    def validate(self, a, name: str = "g") -> None:
        check_int_batch(a, name, (2,), (2, self.n))

    def _identity(self, n: int) -> torch.Tensor:
        return torch.zeros(n, 2, dtype=torch.long)

    def _compose(self, a, b):
        a, b = a.long(), b.long()
        sign = 1 - 2 * a[:, 0]
        rot = torch.remainder(a[:, 1] + sign * b[:, 1], self.n)
        return torch.stack([(a[:, 0] + b[:, 0]) % 2, rot], 1)

    def _inverse(self, a):
        a = a.long()
        rot = torch.where(a[:, 0] == 1, a[:, 1], torch.remainder(-a[:, 1], self.n))
        return torch.stack([a[:, 0], rot], 1)

    def _sample(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        return self.elements()[torch.randint(2 * self.n, (n,), generator=generator)]

    def generators(self) -> torch.Tensor:
        return torch.tensor([[0, 1 % self.n], [1, 0]], dtype=torch.long)

    def _equal(self, a, b, atol: float) -> torch.Tensor:
        return (a.long() == b.long()).all(1)

    def elements(self) -> torch.Tensor:
        flips = torch.arange(2).repeat_interleave(self.n)
        return torch.stack([flips, torch.arange(self.n).repeat(2)], 1)

    def _index(self, a) -> torch.Tensor:
        a = a.long()
        return a[:, 0] * self.n + a[:, 1]

    def irreps(self) -> list[Representation]:
        names = ["trivial", "flip"] + (["rot", "rotflip"] if self.n % 2 == 0 else [])
        names += [f"irrep:{k}" for k in range(1, (self.n + 1) // 2)]
        return [self.representation(s) for s in names]

    def _representation(self, kind: str, arg: str | None) -> Representation:
        def sign(col_weights: tuple[int, int]):
            def fn(g, dtype):
                parity = (g.long() * torch.tensor(col_weights)).sum(1) % 2
                return scalar((1 - 2 * parity).to(dtype))

            return fn

        one_d = {"trivial": (0, 0), "flip": (1, 0), "rot": (0, 1), "rotflip": (1, 1)}
        if kind in one_d and (kind in ("trivial", "flip") or self.n % 2 == 0):
            return Representation(self, sign(one_d[kind]), 1, kind)
        if kind == "standard" or (kind == "irrep" and arg is not None and arg.isdigit()):
            k = 1 if kind == "standard" else int(arg)
            if not 0 < k < self.n / 2 and not (k == 1 and self.n <= 2):
                raise ValueError(f"spec: irrep:k of {self!r} needs 0 < k < {self.n / 2}, got k={k}")

            def fn(g, dtype):
                g = g.long()
                rot = rotation_2d(g[:, 1].to(torch.float64) * (2 * math.pi * k / self.n))
                flip = torch.ones(len(g), 2, dtype=torch.float64)
                flip[:, 1] = 1 - 2 * g[:, 0]
                return (rot * flip[:, None, :]).to(dtype)

            return Representation(self, fn, 2, f"irrep:{k}")
        if kind == "regular":
            n2 = self.order
            elems = self.elements()

            def regular(g, dtype):
                m = len(g)
                prod = self._compose(g.repeat_interleave(n2, 0), elems.repeat(m, 1))
                rows = self._index(prod).reshape(m, n2)
                return torch.nn.functional.one_hot(rows, n2).to(dtype).transpose(1, 2)

            return Representation(self, regular, n2, "regular")
        raise ValueError(f"spec: unknown representation {kind + (':' + arg if arg else '')!r} of {self!r}; "
                         "expected 'trivial', 'flip', 'rot', 'rotflip', 'standard', 'regular' or 'irrep:k'")
