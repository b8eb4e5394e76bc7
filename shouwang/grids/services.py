"""Grids: proposing a balanced partition and assigning buildings."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from shouwang.core.audit import audit
from shouwang.core.errors import DomainError
from shouwang.grids.models import Grid
from shouwang.registry.models import Building, Community, Presence


def grids_propose(*, community: Community, count: int) -> list[list[int]]:
    """Split the community's buildings into `count` grids of similar resident counts.

    Huamei cut 14 compounds into 10 grids "of similar size". Buildings are never split and
    stay in compound order, so a compound is kept together unless it is larger than a grid.
    The cut points are chosen on the running total, which keeps every grid within one
    building of the ideal size.
    """
    if count < 1:
        raise DomainError("grid_count_invalid", _("Ask for at least one grid."))
    buildings = list(
        Building.objects.filter(community=community)
        .annotate(
            people=Count(
                "households__members", filter=~Q(households__members__presence=Presence.MOVED_OUT)
            )
        )
        .order_by("compound__name", "compound_id", "id")
        .values_list("id", "people")
    )
    if len(buildings) < count:
        raise DomainError(
            "grid_count_invalid",
            _("There are fewer buildings (%(n)s) than grids asked for.") % {"n": len(buildings)},
        )
    total = sum(p for _, p in buildings) or len(buildings)
    groups: list[list[int]] = [[] for _ in range(count)]
    running = 0
    for i, (bid, people) in enumerate(buildings):
        remaining_buildings = len(buildings) - i
        # The grid this building's midpoint falls in, but never leave a later grid empty.
        index = min(int((running + people / 2) * count / total), count - 1)
        index = max(index, count - remaining_buildings)
        groups[index].append(bid)
        running += people or (total / len(buildings))
    return groups


@transaction.atomic
def grids_apply(
    *, actor, community: Community, groups: list[list[int]], name_format: str = "第{}网格"
) -> list[Grid]:
    grids = []
    for i, building_ids in enumerate(groups, 1):
        grid, _created = Grid.objects.get_or_create(
            community=community, name=name_format.format(i), defaults={"sort": i}
        )
        Building.objects.filter(community=community, pk__in=building_ids).update(grid=grid)
        grids.append(grid)
    audit(
        actor=actor,
        action="grids.apply",
        community=community,
        target_type="grids.grid",
        summary=f"{len(groups)} grids",
    )
    return grids
