from django.db.models import Count, Q, QuerySet

from shouwang.accounts.scope import get_scoped, scope_queryset
from shouwang.grids.models import Grid
from shouwang.registry.models import Presence


def grids_for(user) -> QuerySet[Grid]:
    return scope_queryset(user, Grid.objects.all(), grid_path="id")


def grid_get_for(user, pk) -> Grid:
    return get_scoped(user, Grid.objects.select_related("leader"), pk, grid_path="id")


def grids_with_counts(user) -> QuerySet[Grid]:
    return (
        grids_for(user)
        .select_related("leader")
        .annotate(
            building_count=Count("buildings", distinct=True),
            household_count=Count("buildings__households", distinct=True),
            people=Count(
                "buildings__households__members",
                filter=~Q(buildings__households__members__presence=Presence.MOVED_OUT),
            ),
        )
        .order_by("sort", "name")
    )
