"""The rotation group SO(3), elements as 3x3 rotation matrices."""
from __future__ import annotations


import numpy as np
import torch
import torch.nn.functional as F

from groupdrl.groups import _geomstats
from groupdrl.groups._escnn import import_escnn
from groupdrl.groups.base import TensorGroup, check_float_batch
from groupdrl.groups.representation import Representation


def quaternion_to_matrix(q: torch.Tensor) -> torch.Tensor:
    """Unit quaternions ``(n, 4)`` (w, x, y, z) -> rotation matrices ``(n, 3, 3)``."""
    q = q / q.norm(dim=-1, keepdim=True)
    w, x, y, z = q.unbind(-1)
    return torch.stack(
        [
            1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
            2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
            2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
        ],
        -1,
    ).reshape(*q.shape[:-1], 3, 3)


def hat(w: torch.Tensor) -> torch.Tensor:
    """Axis-angle vectors ``(n, 3)`` -> skew-symmetric matrices ``(n, 3, 3)``."""
    z = torch.zeros_like(w[:, 0])
    return torch.stack(
        [z, -w[:, 2], w[:, 1], w[:, 2], z, -w[:, 0], -w[:, 1], w[:, 0], z], -1
    ).reshape(-1, 3, 3)


def so3_log(r: torch.Tensor) -> torch.Tensor:
    """Axis-angle vectors ``(n, 3)`` (angle θ ∈ [0, π]) of rotation matrices ``(n, 3, 3)``, unchecked.

    With v = (R₃₂ − R₂₃, R₁₃ − R₃₁, R₂₁ − R₁₂) = 2 sin θ a: θ = atan2(‖v‖/2, (tr R − 1)/2) (accurate at every
    angle, unlike arccos near π) and a = v/‖v‖, except near θ = π (cos θ < −0.9), where v vanishes and a is
    read off the symmetric part (R + Rᵀ)/2 = cos θ I + (1 − cos θ) a aᵀ (the column of its largest diagonal
    entry), with the sign of v. Pure torch and batched: fast enough to featurise elements in a training step.
    """
    v = torch.stack([r[:, 2, 1] - r[:, 1, 2], r[:, 0, 2] - r[:, 2, 0], r[:, 1, 0] - r[:, 0, 1]], -1)
    norm = v.norm(dim=-1)
    cos = (r.diagonal(dim1=-2, dim2=-1).sum(-1) - 1) / 2
    theta = torch.atan2(norm / 2, cos)
    # θ/‖v‖ → ½ as θ → 0 (where ‖v‖ = 2 sin θ ≈ 2θ)
    w = v * torch.where(norm > 1e-12, theta / norm.clamp_min(1e-12), torch.full_like(norm, 0.5))[:, None]
    near_pi = cos < -0.9
    if bool(near_pi.any()):
        eye = torch.eye(3, dtype=r.dtype, device=r.device)
        outer = ((r + r.transpose(-1, -2)) / 2 - cos[:, None, None] * eye) / (1 - cos)[:, None, None]
        j = outer.diagonal(dim1=-2, dim2=-1).argmax(-1)
        col = outer.gather(2, j[:, None, None].expand(-1, 3, 1))[..., 0]
        axis = F.normalize(col, dim=-1)
        sign = torch.where((axis * v).sum(-1) < 0, -1.0, 1.0).to(r.dtype)
        w = torch.where(near_pi[:, None], axis * (sign * theta)[:, None], w)
    return w


class SO3(TensorGroup):
    """SO(3); a batch of elements is a float tensor ``(m, 3, 3)`` of rotation matrices.

    Haar samples come from uniform unit quaternions. Irreps: ``irrep:0`` trivial,
    ``irrep:1`` = ``standard`` (the matrix itself), ``irrep:l`` (l >= 2) the Wigner-D matrices
    from escnn (real basis). Geometry (``exp``, ``log``, ``distance``, ``frechet_mean``) uses
    geomstats' bi-invariant metric, imported lazily.
    SO(3) is not the direct product of its axis rotations: it is one block of a decomposition.
    """

    max_degree = 2

    def __repr__(self) -> str:
        return "SO3()"

    @property
    def escnn(self):
        return import_escnn(f"{self!r}.escnn").group.so3_group()

    def validate(self, a, name: str = "g") -> None:
        """Finite ``(n, 3, 3)`` float matrices with ``det R > 0`` and ``max |R Rᵀ − I| <= √ε`` (3.5e-4, the
        float32 ε, also for float64 matrices that were float32 before; half precision: its own ε): thousands
        of float32 compositions' rounding, far below any non-rotation a user would pass by mistake."""
        check_float_batch(a, name, (3, 3))
        if a.numel():
            # in the input's precision (at least float32): its rounding, ~1e-7, is far below the tolerance
            r = a if a.dtype in (torch.float32, torch.float64) else a.float()
            err = float((r @ r.transpose(1, 2) - torch.eye(3, dtype=r.dtype, device=r.device)).abs().amax())
            tol = max(torch.finfo(a.dtype).eps, torch.finfo(torch.float32).eps) ** 0.5
            det = (torch.linalg.cross(r[:, 0], r[:, 1], dim=-1) * r[:, 2]).sum(-1)
            if err > tol or bool((det <= 0).any()):
                raise ValueError(f"{name}: not rotation matrices (max |R Rᵀ - I| = {err:.2e}, tolerance {tol:.1e} "
                                 f"for {a.dtype}; det must be +1)")

    def _identity(self, n: int) -> torch.Tensor:
        return torch.eye(3).expand(n, 3, 3).clone()

    def _compose(self, a, b):
        dtype = torch.promote_types(a.dtype, b.dtype)
        return a.to(dtype) @ b.to(dtype)

    def _inverse(self, a):
        return a.transpose(-1, -2)

    def _sample(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        return quaternion_to_matrix(torch.randn(n, 4, generator=generator))

    def generators(self) -> torch.Tensor:
        # rotations by 1 rad about x and about y generate a dense subgroup of SO(3)
        return self.exp(torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))

    def _equal(self, a, b, atol: float) -> torch.Tensor:
        return (a.to(torch.float64) - b.to(torch.float64)).abs().flatten(1).amax(1) <= atol

    # ---- geometry -------------------------------------------------------------------------
    def exp(self, w: torch.Tensor) -> torch.Tensor:
        """Axis-angle ``(n, 3)`` -> rotation matrices, ``exp(ŵ)`` (Rodrigues; differentiable)."""
        check_float_batch(w, "w", (3,))
        return torch.linalg.matrix_exp(hat(w))

    def log(self, r: torch.Tensor) -> torch.Tensor:
        """Rotation matrices -> axis-angle ``(n, 3)`` with angle in [0, π] (closed form, see :func:`so3_log`)."""
        self.validate(r, "r")
        return so3_log(r)

    def distance(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Geodesic distance ``‖log(aᵀ b)‖`` (rotation angle between a and b, in [0, π])."""
        self._check_pair(a, b)
        so3 = _geomstats.special_orthogonal_3()
        d = so3.metric.dist(_geomstats.to_backend(a), _geomstats.to_backend(b))
        return _geomstats.from_backend(d, a).reshape(-1)

    def frechet_mean(self, r: torch.Tensor) -> torch.Tensor:
        """Fréchet (Karcher) mean of a non-empty batch of rotations, ``(3, 3)`` (geomstats)."""
        self.validate(r, "r")
        if len(r) == 0:
            raise ValueError("r: the Fréchet mean of an empty batch is undefined")
        with _geomstats.keep_default_dtype():
            from geomstats.learning.frechet_mean import FrechetMean

            so3 = _geomstats.special_orthogonal_3()
            est = FrechetMean(so3).set(max_iter=100, epsilon=1e-10).fit(_geomstats.to_backend(r))
        return _geomstats.from_backend(est.estimate_, r)

    # ---- representations ------------------------------------------------------------------
    def irreps(self) -> list[Representation]:
        return [self.representation(f"irrep:{l}") for l in range(self.max_degree + 1)]

    def _representation(self, kind: str, arg: str | None) -> Representation:
        if kind == "trivial" or (kind == "irrep" and arg == "0"):
            return Representation(self, lambda g, dtype: torch.ones(len(g), 1, 1, dtype=dtype), 1, "irrep:0")
        if kind == "standard" or (kind == "irrep" and arg == "1"):
            return Representation(self, lambda g, dtype: g.to(dtype), 3, "irrep:1")
        if kind == "irrep" and arg is not None and arg.isdigit():
            return self._wigner(int(arg))
        raise ValueError(f"spec: unknown representation {kind + (':' + arg if arg else '')!r} of {self!r}; "
                         "expected 'trivial', 'standard' or 'irrep:l'")

    def _wigner(self, l: int) -> Representation:
        def fn(g, dtype):
            group = self.escnn
            irrep = group.irrep(l)
            mats = [irrep(group.element(m.numpy(), param="MAT")) for m in g.detach().to(torch.float64).cpu()]
            return torch.as_tensor(np.stack(mats)).to(dtype).reshape(len(g), 2 * l + 1, 2 * l + 1)

        return Representation(self, fn, 2 * l + 1, f"irrep:{l}")


__all__ = ["SO3", "quaternion_to_matrix", "hat"]
