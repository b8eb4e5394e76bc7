from django.http import HttpResponse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from shouwang.accounts.permissions import require
from shouwang.registry import selectors, services
from shouwang.registry.exporter import registry_export
from shouwang.registry.importer import registry_import
from shouwang.registry.models import Household, Resident
from shouwang.registry.schemas import (
    HouseholdOut,
    ImportOut,
    OverviewOut,
    ResidentOut,
    RevealIn,
    RevealOut,
)

router = Router(tags=["registry"])


def place_of(h: Household) -> dict:
    b = h.building
    return {
        "compound": b.compound.name,
        "building": b.name,
        "unit": h.dwelling.unit.name if h.dwelling.unit else "",
        "door": h.dwelling.door,
        "grid": b.grid.name if b.grid else None,
    }


def resident_out(r: Resident) -> dict:
    # Always masked: a full value is only ever returned by the reveal endpoint, with a reason.
    return {
        "id": r.id,
        "household_id": r.household_id,
        "name": r.name,
        "id_type": r.id_type,
        "id_number": r.id_number_masked,
        "phone": r.phone_masked,
        "sex": r.sex,
        "birth_date": r.birth_date,
        "relation": r.relation,
        "residency": r.residency,
        "presence": r.presence,
        "tags": r.tag_labels,
        "place": place_of(r.household),
    }


@router.get(
    "/overview", response=OverviewOut, summary="People and households by compound, grid, tag"
)
def overview(request):
    require(request.auth, "ledger.view")
    data = selectors.community_overview(request.auth)
    data["by_compound"] = [
        {"id": c["cid"], "name": c["cname"], "people": c["people"], "households": c["households"]}
        for c in data["by_compound"]
    ]
    data["by_grid"] = [
        {"id": g["gid"], "name": g["gname"], "people": g["people"], "households": g["households"]}
        for g in data["by_grid"]
    ]
    return data


@router.get("/residents", response=list[ResidentOut], summary="Search residents")
def resident_list(
    request,
    q: str = "",
    grid: int | None = None,
    tag: int | None = None,
    compound: int | None = None,
    building: int | None = None,
    limit: int = 50,
):
    """`q`: a name (prefix), the last 4 digits of an ID or phone, a full mobile or ID number."""
    require(request.auth, "ledger.search")
    found = selectors.resident_search(
        request.auth,
        q=q,
        grid_id=grid,
        tag=tag,
        compound_id=compound,
        building_id=building,
        limit=max(1, min(limit, 200)),
    )
    return [resident_out(r) for r in found]


@router.get("/residents/{resident_id}", response=ResidentOut)
def resident_detail(request, resident_id: int):
    require(request.auth, "ledger.search")
    return resident_out(selectors.resident_get_for(request.auth, resident_id))


@router.post(
    "/residents/{resident_id}/reveal",
    response=RevealOut,
    summary="The full ID number or phone, with a reason (logged)",
)
def resident_reveal(request, resident_id: int, payload: RevealIn):
    resident = selectors.resident_get_for(request.auth, resident_id)
    value = services.resident_reveal(
        actor=request.auth, resident=resident, field=payload.field, reason=payload.reason
    )
    return {"field": payload.field, "value": value}


@router.get("/households/{household_id}", response=HouseholdOut, summary="A household (一户一档)")
def household_detail(request, household_id: int):
    require(request.auth, "ledger.view")
    h = selectors.household_get_for(request.auth, household_id)
    members = list(
        h.members.select_related(
            "household__dwelling__unit",
            "household__building__compound",
            "household__building__grid",
        )
    )
    return {
        "id": h.id,
        "place": place_of(h),
        "size": h.size,
        "large": h.size >= request.auth.community.large_household_threshold,
        "contact_phone": h.contact_phone_masked,
        "head_id": h.head_id,
        "members": [resident_out(m) for m in members],
    }


@router.post("/import", response=ImportOut, summary="Import a ledger file (.xlsx or .csv)")
def import_file(request, file: UploadedFile = File(...), commit: bool = Form(False)):
    """Without `commit` a dry run: every problem by row, column and code. With `commit=true`
    every accepted row is written in one transaction, or nothing."""
    require(request.auth, "ledger.import")
    report = registry_import(
        actor=request.auth,
        community=request.auth.community,
        source=file,
        filename=file.name or "upload",
        commit=commit,
    )
    return report.as_dict()


@router.get("/export", summary="Export residents (.xlsx or .csv), masked unless full=true")
def export(
    request, format: str = "xlsx", full: bool = False, reason: str = "", grid: int | None = None
):
    qs = selectors.residents_for(request.auth)
    if grid:
        qs = qs.filter(household__building__grid_id=grid)
    data, ctype = registry_export(
        actor=request.auth, residents=qs, fmt=format, full=full, reason=reason
    )
    response = HttpResponse(data, content_type=ctype)
    response["Content-Disposition"] = f'attachment; filename="residents.{format}"'
    return response


class PersonIn(Schema):
    name: str
    id_type: str = "resident_id"
    id_number: str
    phone: str = ""
    relation: str = "other"
    residency: str = "registered"
    presence: str = "present"
    tags: int = 0
    medicines: str = ""
    note: str = ""


class PersonPatch(Schema):
    name: str | None = None
    phone: str | None = None
    relation: str | None = None
    residency: str | None = None
    presence: str | None = None
    tags: int | None = None
    medicines: str | None = None
    note: str | None = None


@router.post(
    "/households/{household_id}/members",
    response={201: ResidentOut},
    summary="Add a person to a household",
)
def member_add(request, household_id: int, payload: PersonIn):
    h = selectors.household_get_for(request.auth, household_id)
    r = services.resident_create(actor=request.auth, household=h, data=payload.dict())
    return Status(201, resident_out(selectors.resident_get_for(request.auth, r.pk)))


@router.patch("/residents/{resident_id}", response=ResidentOut, summary="Change a person")
def resident_patch(request, resident_id: int, payload: PersonPatch):
    r = selectors.resident_get_for(request.auth, resident_id)
    data = payload.dict(exclude_none=True)
    services.resident_update(actor=request.auth, resident=r, data=data)
    return resident_out(selectors.resident_get_for(request.auth, r.pk))


class HouseholdIn(Schema):
    building_id: int
    unit: str = ""
    door: str
    head: PersonIn


@router.post("/households", response={201: HouseholdOut}, summary="Register a household")
def household_create(request, payload: HouseholdIn):
    """A new household at a door, with its head; the door is created if the building lacks it."""
    building = selectors.building_get_for(request.auth, payload.building_id)
    h = services.household_create(
        actor=request.auth,
        building=building,
        unit=payload.unit,
        door=payload.door,
        head=payload.head.dict(exclude={"relation"}),
    )
    return Status(201, household_detail(request, h.pk))
