"""Abstract batched group interface shared by every built-in group."""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

import networkx as nx
import torch

from groupdrl.groups.representation import Representation, parse_spec


class Group(ABC):
    """A group whose elements come in batches held as torch tensors.

    Subclasses define the element encoding (see each class), the group law on batches and
    their representations. Finite groups also enumerate ``elements()`` and give ``index``.
    """

    is_finite: bool = False

    # ---- the group law (batched) -------------------------------------------------------
    @abstractmethod
    def identity(self, n: int = 1) -> Any:
        """Batch of ``n`` identity elements."""

    @abstractmethod
    def compose(self, a: Any, b: Any) -> Any:
        """Element-wise product ``a · b`` of two batches of equal size."""

    @abstractmethod
    def inverse(self, a: Any) -> Any:
        """Element-wise inverse ``a⁻¹``."""

    @abstractmethod
    def sample(self, n: int, generator: torch.Generator | None = None) -> Any:
        """``n`` elements drawn from the Haar (uniform) measure with ``generator``."""

    @abstractmethod
    def generators(self) -> Any:
        """Batch of generators (topological generators for continuous groups)."""

    @abstractmethod
    def equal(self, a: Any, b: Any, atol: float = 1e-6) -> torch.Tensor:
        """Bool tensor ``(n,)``: whether ``a[i]`` and ``b[i]`` are the same element."""

    @abstractmethod
    def validate(self, a: Any, name: str = "g") -> None:
        """Raise ``TypeError``/``ValueError`` naming ``name`` if ``a`` is not a batch of elements."""

    @abstractmethod
    def batch_size(self, a: Any) -> int:
        """Number of elements in the batch ``a``."""

    @abstractmethod
    def take(self, a: Any, idx: torch.Tensor) -> Any:
        """Sub-batch ``a[idx]``."""

    @abstractmethod
    def cat(self, batches: list[Any]) -> Any:
        """Concatenate batches."""

    @abstractmethod
    def _representation(self, kind: str, arg: str | None) -> Representation:
        """Build the representation named ``kind[:arg]``; raise ``ValueError`` if unknown."""

    @abstractmethod
    def irreps(self) -> list[Representation]:
        """The real irreducible representations (up to a maximal frequency for Lie groups)."""

    # ---- shared machinery ----------------------------------------------------------------
    @property
    def escnn(self) -> Any:
        """The escnn counterpart of this group, or ``None`` where escnn has none (needs the ``escnn`` extra)."""
        return None

    def representation(self, spec: str | Representation) -> Representation:
        """Representation from a spec string (``"trivial"``, ``"irrep:k"``, ``"standard"``, ``"regular"``)."""
        if isinstance(spec, Representation):
            if spec.group != self:
                raise ValueError(f"spec: representation of {spec.group!r}, expected one of {self!r}")
            return spec
        kind, arg = parse_spec(spec)
        return self._representation(kind, arg)

    def power(self, a: Any, k: int) -> Any:
        """``a^k`` for an integer ``k >= 0`` by repeated squaring."""
        result = self.identity(self.batch_size(a))
        base = a
        while k > 0:
            if k & 1:
                result = self.compose(result, base)
            base = self.compose(base, base)
            k >>= 1
        return result

    # ---- finite groups -------------------------------------------------------------------
    @property
    def order(self) -> int:
        raise ValueError(f"order: {self!r} is not finite")

    def elements(self) -> Any:
        """All elements in a fixed order (finite groups only)."""
        raise ValueError(f"elements: {self!r} is not finite")

    def index(self, a: Any) -> torch.Tensor:
        """Position of each element of ``a`` in ``elements()`` (finite groups only)."""
        raise ValueError(f"index: {self!r} is not finite")

    def cayley_graph(self) -> nx.DiGraph:
        """Cayley graph: node ``i`` is ``elements()[i]``; an edge ``i -> j`` labelled
        ``generator=s`` when ``elements()[j] = elements()[i] · generators()[s]``."""
        if not self.is_finite:
            raise ValueError(f"cayley_graph: {self!r} is not finite")
        elems = self.elements()
        gens = self.generators()
        n, m = self.order, self.batch_size(gens)
        graph = nx.DiGraph(group=repr(self))
        graph.add_nodes_from(range(n))
        for s in range(m):
            gs = self.take(gens, torch.full((n,), s, dtype=torch.long))
            targets = self.index(self.compose(elems, gs))
            graph.add_edges_from((i, int(t), {"generator": s}) for i, t in enumerate(targets.tolist()))
        return graph

    def element_orders(self) -> torch.Tensor:
        """Order of every element of ``elements()`` (finite groups only), via the Cayley table."""
        elems = self.elements()
        n = self.order
        orders = torch.zeros(n, dtype=torch.long)
        current = elems
        ident = self.identity(n)
        for k in range(1, n + 1):
            hit = self.equal(current, ident) & (orders == 0)
            orders[hit] = k
            if bool((orders > 0).all()):
                break
            current = self.compose(current, elems)
        return orders


def check_int_batch(a: Any, name: str, shape_tail: tuple[int, ...], high: tuple[int, ...]) -> None:
    """Validate an int64 element batch of shape ``(n, *shape_tail)`` with entries in ``[0, high)``."""
    if not isinstance(a, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor of group elements, got {type(a).__name__}")
    if a.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        raise TypeError(f"{name}: expected an integer tensor (element indices), got dtype {a.dtype}")
    if a.dim() != 1 + len(shape_tail) or tuple(a.shape[1:]) != shape_tail:
        want = "(n" + "".join(f", {s}" for s in shape_tail) + ")"
        raise ValueError(f"{name}: expected shape {want}, got {tuple(a.shape)}")
    if a.numel():
        flat = a.reshape(a.shape[0], -1)
        for j, h in enumerate(high):
            col = flat[:, j]
            if int(col.min()) < 0 or int(col.max()) >= h:
                raise ValueError(f"{name}: entries of column {j} must lie in [0, {h}), got range "
                                 f"[{int(col.min())}, {int(col.max())}]")


def check_float_batch(a: Any, name: str, shape_tail: tuple[int, ...]) -> None:
    """Validate a finite floating element batch of shape ``(n, *shape_tail)``."""
    if not isinstance(a, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor of group elements, got {type(a).__name__}")
    if not a.dtype.is_floating_point:
        raise TypeError(f"{name}: expected a floating tensor, got dtype {a.dtype}")
    if a.dim() != 1 + len(shape_tail) or tuple(a.shape[1:]) != shape_tail:
        want = "(n" + "".join(f", {s}" for s in shape_tail) + ")"
        raise ValueError(f"{name}: expected shape {want}, got {tuple(a.shape)}")
    if not bool(torch.isfinite(a).all()):
        raise ValueError(f"{name}: contains NaN or inf")


def angle_diff(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Absolute angular distance in ``[0, π]``."""
    d = torch.remainder(a - b, 2 * math.pi)
    return torch.minimum(d, 2 * math.pi - d)


class TensorGroup(Group):
    """A group whose element batch is a single tensor with the batch on dim 0."""

    def batch_size(self, a: torch.Tensor) -> int:
        return int(a.shape[0])

    def take(self, a: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        return a[idx]

    def cat(self, batches: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(batches, 0)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and repr(other) == repr(self)

    def __hash__(self) -> int:
        return hash(repr(self))


class OrderNGroup(TensorGroup):
    """A finite group indexed by a positive integer ``n`` (C_n, D_n)."""

    is_finite = True

    def __init__(self, n: int) -> None:
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n: expected a positive int, got {n!r}")
        self.n = n

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.n})"
