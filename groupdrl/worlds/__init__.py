"""Ground-truth worlds (``groupdrl.worlds``)."""
from __future__ import annotations

from groupdrl.worlds.world import Factor, World

__all__ = ["Factor", "World"]
