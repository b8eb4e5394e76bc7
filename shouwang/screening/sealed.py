"""Which buildings are sealed (封控) today, for the sampling flag "someone from a sealed building
at a street point" and the "sealed building" door-to-door list.

Area control keeps the levels (shouwang/control): a building counts when it, its compound or one
of its units is sealed or a close-contact building. The answer is cached per process for a few
seconds (the scan path asks on every scan); see control/levels.py.
"""

from __future__ import annotations

from shouwang.control.levels import sealed_building_ids

__all__ = ["sealed_building_ids"]
