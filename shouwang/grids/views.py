from django.shortcuts import render

from shouwang.core.views import capability_required
from shouwang.grids.selectors import grid_get_for, grids_with_counts
from shouwang.registry.selectors import buildings_overview


@capability_required("ledger.view")
def grid_list(request):
    return render(request, "grids/list.html", {"grids": grids_with_counts(request.user)})


@capability_required("ledger.view")
def grid_detail(request, pk: int):
    grid = grid_get_for(request.user, pk)
    buildings = buildings_overview(request.user, grid_id=grid.pk)
    return render(
        request,
        "grids/detail.html",
        {"grid": grid, "buildings": buildings, "members": grid.members.all()},
    )
