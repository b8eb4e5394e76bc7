from ninja import Router, Schema

from shouwang.accounts.permissions import require
from shouwang.grids.selectors import grids_with_counts

router = Router(tags=["grids"])


class GridOut(Schema):
    id: int
    name: str
    leader: str | None
    buildings: int
    households: int
    people: int


@router.get(
    "/", response=list[GridOut], summary="Grids with their buildings, households and people"
)
def grid_list(request):
    require(request.auth, "ledger.view")
    return [
        {
            "id": g.id,
            "name": g.name,
            "leader": g.leader.label if g.leader else None,
            "buildings": g.building_count,
            "households": g.household_count,
            "people": g.people,
        }
        for g in grids_with_counts(request.auth)
    ]
