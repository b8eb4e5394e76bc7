"""Coverage and antigen results over the API (/api/v1/screening/): a round's coverage (summary,
by grid and building), a building's doors, the missing list, exemptions, and antigen results
entered by staff. The rules are in `coverage`, `exemptions` and `antigen`, as for the pages."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from ninja import Router, Schema, Status

from shouwang.accounts.permissions import require
from shouwang.accounts.scope import get_scoped
from shouwang.registry.selectors import building_get_for, households_for, resident_get_for
from shouwang.screening import antigen
from shouwang.screening import coverage as cov
from shouwang.screening import exemptions as exempt_services
from shouwang.screening.models import AntigenReport, Exemption, Round

router = Router()


class CountsOut(Schema):
    expected: int
    sampled: int
    missing: int
    exempt: int
    percent: float | None


class BuildingOut(CountsOut):
    building_id: int
    name: str


class GridOut(CountsOut):
    grid_id: int | None
    name: str
    leader: str
    buildings: list[BuildingOut]


class CoverageOut(CountsOut):
    round_id: int
    kind: str
    date: dt.date
    others: int
    grids: list[GridOut]


class DoorOut(CountsOut):
    dwelling_id: int
    door: str
    missing_names: list[str]


class MissingOut(Schema):
    resident_id: int
    name: str
    phone_masked: str
    household_id: int
    building_id: int
    place: str
    grid_id: int | None
    grid: str
    leader: str


class ExemptOut(Schema):
    resident_id: int
    name: str
    place: str
    reason: str
    note: str
    exemption_id: int | None


class ExemptIn(Schema):
    resident_id: int
    reason: str
    note: str = ""


class AntigenIn(Schema):
    resident_id: int
    result: str
    date: dt.date | None = None


class AntigenOut(Schema):
    id: int
    resident_id: int
    name: str
    date: dt.date
    result: str
    via: str
    has_photo: bool
    reported_at: dt.datetime


def _round(user, round_id) -> Round:
    return get_scoped(user, Round.objects.all(), round_id)


@router.get(
    "/rounds/{round_id}/coverage",
    response=CoverageOut,
    url_name="screening_coverage",
    summary="Expected, sampled, missing and exempt, by grid and building (grid leaders: theirs)",
)
def coverage(request, round_id: int):
    require(request.auth, "screening.coverage")
    return cov.coverage(_round(request.auth, round_id), request.auth).as_dict()


@router.get(
    "/rounds/{round_id}/coverage/buildings/{building_id}",
    response=list[DoorOut],
    url_name="screening_coverage_building",
    summary="A building's doors with their counts and the names still missing",
)
def coverage_building(request, round_id: int, building_id: int):
    require(request.auth, "screening.coverage")
    rnd = _round(request.auth, round_id)
    b = building_get_for(request.auth, building_id)
    return [
        {
            "dwelling_id": d.dwelling_id,
            "door": d.label,
            "missing_names": d.missing_names,
            **d.as_dict(),
        }
        for d in cov.building_doors(rnd, b)
    ]


@router.get(
    "/rounds/{round_id}/missing",
    response=list[MissingOut],
    url_name="screening_missing",
    summary="Everyone expected and not yet sampled, phones masked (grid leaders: their grid)",
)
def missing(request, round_id: int, grid_id: int | None = None, building_id: int | None = None):
    require(request.auth, "screening.coverage")
    rnd = _round(request.auth, round_id)
    rows = cov.missing(rnd, request.auth, grid_id=grid_id, building_id=building_id)
    return [
        {
            "resident_id": m.resident_id,
            "name": m.name,
            "phone_masked": m.phone_masked,
            "household_id": m.household_id,
            "building_id": m.building_id,
            "place": m.place,
            "grid_id": m.grid_id,
            "grid": m.grid,
            "leader": m.leader,
        }
        for m in rows
    ]


def _exempt_out(e) -> dict:
    return {
        "resident_id": e.resident_id,
        "name": e.name,
        "place": e.place,
        "reason": e.reason,
        "note": e.note,
        "exemption_id": e.exemption_id,
    }


@router.get(
    "/rounds/{round_id}/exemptions",
    response=list[ExemptOut],
    url_name="screening_exemptions",
    summary="Who is exempt and why: the ledger's presence, or the round's exemption",
)
def exemptions(request, round_id: int):
    require(request.auth, "screening.coverage")
    rnd = _round(request.auth, round_id)
    return [_exempt_out(e) for e in cov.exempt(rnd, request.auth)]


@router.post(
    "/rounds/{round_id}/exemptions",
    response={201: ExemptOut},
    url_name="screening_exemption_add",
    summary="Exempt a resident from the round, with a reason",
)
def exemption_add(request, round_id: int, payload: ExemptIn):
    require(request.auth, "screening.coverage")
    rnd = _round(request.auth, round_id)
    resident = resident_get_for(request.auth, payload.resident_id)
    e = exempt_services.exemption_add(
        actor=request.auth, round=rnd, resident=resident, reason=payload.reason, note=payload.note
    )
    return Status(
        201,
        {
            "resident_id": resident.pk,
            "name": resident.name,
            "place": f"{resident.household.building} {resident.household.dwelling}",
            "reason": e.reason,
            "note": e.note,
            "exemption_id": e.pk,
        },
    )


@router.delete(
    "/exemptions/{exemption_id}",
    response={204: None},
    url_name="screening_exemption_remove",
    summary="Expect the resident in the round again",
)
def exemption_remove(request, exemption_id: int):
    require(request.auth, "screening.coverage")
    e = get_scoped(
        request.auth,
        Exemption.objects.select_related("round", "resident"),
        exemption_id,
        grid_path="resident__household__building__grid_id",
    )
    exempt_services.exemption_remove(actor=request.auth, exemption=e)
    return Status(204, None)


def _antigen_out(r: AntigenReport) -> dict:
    return {
        "id": r.pk,
        "resident_id": r.resident_id,
        "name": r.resident.name,
        "date": r.date,
        "result": r.result,
        "via": r.via,
        "has_photo": bool(r.photo),
        "reported_at": r.reported_at,
    }


@router.get(
    "/antigen",
    response=list[AntigenOut],
    url_name="screening_antigen_list",
    summary="Antigen results of a day (default today) in a building or in the caller's scope",
)
def antigen_list(request, date: dt.date | None = None, building_id: int | None = None):
    require(request.auth, "screening.antigen")
    households = households_for(request.auth)
    if building_id is not None:
        households = households.filter(building=building_get_for(request.auth, building_id))
    qs = (
        AntigenReport.objects.filter(
            community_id=request.auth.community_id,
            date=date or timezone.localdate(),
            resident__household__in=households,
        )
        .select_related("resident")
        .order_by("resident__household_id", "resident_id")
    )
    return [_antigen_out(r) for r in qs[:5000]]


@router.post(
    "/antigen",
    response={200: AntigenOut},
    url_name="screening_antigen_record",
    summary="Enter a person's antigen result for a day (replaces that day's earlier one)",
)
def antigen_record(request, payload: AntigenIn):
    require(request.auth, "screening.antigen")
    resident = resident_get_for(request.auth, payload.resident_id)
    r = antigen.report_save(
        actor=request.auth,
        resident=resident,
        result=payload.result,
        date=payload.date,
        via=antigen.Via.STAFF,
    )
    return _antigen_out(r)
