"""Abstract batched group interface shared by every built-in group.

Every public operation validates its arguments once at the boundary (``validate``: dtype, shape, range,
finiteness, batch agreement; see each group) and then runs the unchecked law (``_compose``, ``_inverse``,
…), which the groups use internally, so loops such as :meth:`Group.power` check their input once.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

import networkx as nx
import torch

from groupdrl._checks import check_float, check_generator, check_int, show
from groupdrl.groups.representation import Representation, parse_spec


#: Largest batch ``identity``/``sample`` create (a bigger one needs gigabytes: build it in parts).
MAX_BATCH = 10**7


class Group(ABC):
    """A group whose elements come in batches held as torch tensors.

    Subclasses define the element encoding and ``validate`` (see each class), the unchecked group law on
    batches (``_identity``, ``_compose``, ``_inverse``, ``_sample``, ``_equal``, ``_take``, ``_cat``) and
    their representations. Finite groups also enumerate ``elements()`` and give ``_index``.
    """

    is_finite: bool = False

    # ---- the group law (batched, validated) ---------------------------------------------
    def identity(self, n: int = 1) -> Any:
        """Batch of ``0 <= n <= MAX_BATCH`` identity elements."""
        return self._identity(check_int(n, "n", 0, MAX_BATCH))

    def compose(self, a: Any, b: Any) -> Any:
        """Element-wise product ``a · b`` of two batches of equal size."""
        self._check_pair(a, b)
        return self._compose(a, b)

    def inverse(self, a: Any) -> Any:
        """Element-wise inverse ``a⁻¹``."""
        self.validate(a, "a")
        return self._inverse(a)

    def sample(self, n: int, generator: torch.Generator | None = None) -> Any:
        """``0 <= n <= MAX_BATCH`` elements drawn from the Haar (uniform) measure with ``generator``."""
        return self._sample(check_int(n, "n", 0, MAX_BATCH), check_generator(generator))

    def equal(self, a: Any, b: Any, atol: float = 1e-6) -> torch.Tensor:
        """Bool tensor ``(n,)``: whether ``a[i]`` and ``b[i]`` are the same element (continuous groups: up to
        ``atol``)."""
        self._check_pair(a, b)
        return self._equal(a, b, check_float(atol, "atol", 0.0))

    def take(self, a: Any, idx: Any) -> Any:
        """Sub-batch ``a[idx]`` for a 1-D integer (positions in ``[-n, n)``) or boolean (mask of length n) index."""
        self.validate(a, "a")
        return self._take(a, _index_tensor(idx, self._batch_size(a)))

    def cat(self, batches: list[Any]) -> Any:
        """Concatenate a non-empty list of batches."""
        if not isinstance(batches, (list, tuple)) or not batches:
            raise TypeError(f"batches: expected a non-empty list of element batches, got {show(batches)}")
        for i, b in enumerate(batches):
            self.validate(b, f"batches[{i}]")
        return self._cat(list(batches))

    def batch_size(self, a: Any) -> int:
        """Number of elements in the batch ``a``."""
        self.validate(a, "a")
        return self._batch_size(a)

    def power(self, a: Any, k: int) -> Any:
        """``a^k`` for an integer ``k`` (``a^{-k} = (a⁻¹)^k``) by repeated squaring."""
        self.validate(a, "a")
        k = check_int(k, "k")
        base = self._inverse(a) if k < 0 else a
        k = abs(k)
        result = self._identity(self._batch_size(a))
        while k > 0:
            if k & 1:
                result = self._compose(result, base)
            base = self._compose(base, base)
            k >>= 1
        return result

    @abstractmethod
    def validate(self, a: Any, name: str = "g") -> None:
        """Raise ``TypeError``/``ValueError`` naming ``name`` if ``a`` is not a batch of elements."""

    @abstractmethod
    def generators(self) -> Any:
        """Batch of generators (topological generators for continuous groups)."""

    # ---- the unchecked law (inputs already validated) -------------------------------------
    @abstractmethod
    def _identity(self, n: int) -> Any: ...

    @abstractmethod
    def _compose(self, a: Any, b: Any) -> Any: ...

    @abstractmethod
    def _inverse(self, a: Any) -> Any: ...

    @abstractmethod
    def _sample(self, n: int, generator: torch.Generator | None) -> Any: ...

    @abstractmethod
    def _equal(self, a: Any, b: Any, atol: float) -> torch.Tensor: ...

    @abstractmethod
    def _batch_size(self, a: Any) -> int: ...

    @abstractmethod
    def _take(self, a: Any, idx: torch.Tensor) -> Any: ...

    @abstractmethod
    def _cat(self, batches: list[Any]) -> Any: ...

    def _check_pair(self, a: Any, b: Any) -> None:
        """Validate two batches that are combined element-wise: same size (and device)."""
        self.validate(a, "a")
        self.validate(b, "b")
        na, nb = self._batch_size(a), self._batch_size(b)
        if na != nb:
            raise ValueError(f"b: expected a batch of {na} elements like a, got {nb}")

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

    # ---- finite groups -------------------------------------------------------------------
    @property
    def order(self) -> int:
        raise ValueError(f"order: {self!r} is not finite")

    def elements(self) -> Any:
        """All elements in a fixed order (finite groups only)."""
        raise ValueError(f"elements: {self!r} is not finite")

    def index(self, a: Any) -> torch.Tensor:
        """Position of each element of ``a`` in ``elements()`` (finite groups only)."""
        if not self.is_finite:
            raise ValueError(f"index: {self!r} is not finite")
        self.validate(a, "a")
        return self._index(a)

    def _index(self, a: Any) -> torch.Tensor:
        raise ValueError(f"index: {self!r} is not finite")

    def cayley_graph(self) -> nx.DiGraph:
        """Cayley graph: node ``i`` is ``elements()[i]``; an edge ``i -> j`` labelled
        ``generator=s`` when ``elements()[j] = elements()[i] · generators()[s]``."""
        if not self.is_finite:
            raise ValueError(f"cayley_graph: {self!r} is not finite")
        elems = self.elements()
        gens = self.generators()
        n, m = self.order, self._batch_size(gens)
        graph = nx.DiGraph(group=repr(self))
        graph.add_nodes_from(range(n))
        for s in range(m):
            gs = self._take(gens, torch.full((n,), s, dtype=torch.long))
            targets = self._index(self._compose(elems, gs))
            graph.add_edges_from((i, int(t), {"generator": s}) for i, t in enumerate(targets.tolist()))
        return graph

    def element_orders(self) -> torch.Tensor:
        """Order of every element of ``elements()`` (finite groups only), via the Cayley table."""
        elems = self.elements()
        n = self.order
        orders = torch.zeros(n, dtype=torch.long)
        current = elems
        ident = self._identity(n)
        for k in range(1, n + 1):
            hit = self._equal(current, ident, 0.0) & (orders == 0)
            orders[hit] = k
            if bool((orders > 0).all()):
                break
            current = self._compose(current, elems)
        return orders


def _index_tensor(idx: Any, n: int) -> torch.Tensor:
    """A 1-D int64 index into a batch of ``n`` (positions in ``[-n, n)`` or a boolean mask of length n)."""
    if isinstance(idx, (bool, int)) or (isinstance(idx, torch.Tensor) and idx.dim() == 0):
        raise TypeError(f"idx: expected a 1-D index (a list or tensor of positions; [i] for one element), "
                        f"got the scalar {show(idx)}")
    try:
        t = torch.as_tensor(idx)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"idx: expected a 1-D tensor or list of integer positions, got {type(idx).__name__}") from None
    if t.numel() == 0:
        t = t.reshape(0).long()
    if t.dtype == torch.bool:
        if t.shape != (n,):
            raise ValueError(f"idx: a boolean mask must have shape ({n},), got {tuple(t.shape)}")
        return torch.nonzero(t).flatten()
    if t.dtype.is_floating_point or t.dtype.is_complex:
        raise TypeError(f"idx: expected integer positions, got dtype {t.dtype}")
    if t.dim() != 1:
        raise ValueError(f"idx: expected a 1-D index, got shape {tuple(t.shape)}")
    t = t.long()
    if t.numel() and (int(t.min()) < -n or int(t.max()) >= n):
        raise ValueError(f"idx: positions must lie in [-{n}, {n}) for a batch of {n}, got range "
                         f"[{int(t.min())}, {int(t.max())}]")
    return t


def _check_tensor(a: Any, name: str, shape_tail: tuple[int, ...]) -> None:
    if not isinstance(a, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor of group elements, got {type(a).__name__}")
    if a.dim() != 1 + len(shape_tail) or tuple(a.shape[1:]) != shape_tail:
        want = "(n" + "".join(f", {s}" for s in shape_tail) + ")"
        raise ValueError(f"{name}: expected shape {want}, got {tuple(a.shape)}")


def check_int_batch(a: Any, name: str, shape_tail: tuple[int, ...], high: tuple[int, ...]) -> None:
    """Validate an integer element batch of shape ``(n, *shape_tail)`` with entries in ``[0, high)``.

    Floats are refused rather than truncated (``1.5`` is not an element of C_n); so are bools.
    """
    if isinstance(a, torch.Tensor) and a.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8,
                                                       torch.uint8):
        raise TypeError(f"{name}: expected an integer tensor (element indices), got dtype {a.dtype}")
    _check_tensor(a, name, shape_tail)
    if a.numel():
        flat = a.reshape(a.shape[0], -1)
        low, top = flat.amin(0).tolist(), flat.amax(0).tolist()
        for j, h in enumerate(high):
            if low[j] < 0 or top[j] >= h:
                col = f" of column {j}" if shape_tail else ""
                raise ValueError(f"{name}: entries{col} must lie in [0, {h}), got range [{low[j]}, {top[j]}]")


def check_float_batch(a: Any, name: str, shape_tail: tuple[int, ...]) -> None:
    """Validate a finite real floating element batch of shape ``(n, *shape_tail)``."""
    if isinstance(a, torch.Tensor) and not a.dtype.is_floating_point:
        raise TypeError(f"{name}: expected a real floating tensor, got dtype {a.dtype}")
    _check_tensor(a, name, shape_tail)
    if not bool(torch.isfinite(a).all()):
        raise ValueError(f"{name}: contains NaN or inf")


def angle_diff(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Absolute angular distance in ``[0, π]``."""
    d = torch.remainder(a - b, 2 * math.pi)
    return torch.minimum(d, 2 * math.pi - d)


class TensorGroup(Group):
    """A group whose element batch is a single tensor with the batch on dim 0."""

    def _batch_size(self, a: torch.Tensor) -> int:
        return int(a.shape[0])

    def _take(self, a: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        return a[idx.to(a.device)]

    def _cat(self, batches: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(batches, 0)

    def _check_pair(self, a: torch.Tensor, b: torch.Tensor) -> None:
        super()._check_pair(a, b)
        if a.device != b.device:
            raise ValueError(f"b: on device {b.device}, a on {a.device}; put both batches on one device")

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
