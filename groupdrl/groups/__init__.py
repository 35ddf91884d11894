"""Groups, batched elements and representations (``groupdrl.groups``)."""
from __future__ import annotations

from groupdrl.groups.base import Group
from groupdrl.groups.cyclic import Cyclic
from groupdrl.groups.dihedral import Dihedral
from groupdrl.groups.product import Product
from groupdrl.groups.representation import Representation
from groupdrl.groups.so2 import SO2, Torus
from groupdrl.groups.so3 import SO3

__all__ = ["Group", "Cyclic", "Dihedral", "SO2", "SO3", "Torus", "Product", "Representation"]
