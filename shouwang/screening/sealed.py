"""Which buildings are sealed (封控) today.

Area control — control levels per building, approved by four eyes — comes with issue 7. Until
then no building is recorded as sealed, and this says so: an empty set. The sampling flag
"someone from a sealed building at a street point" and the "sealed building" visit reason read
this one function, so area control only has to answer it.
"""

from __future__ import annotations


def sealed_building_ids(community_id: int) -> frozenset[int]:
    return frozenset()
