"""Rounds, sampling points, results and door-to-door lists over the API (/api/v1/screening/).
The rules are in services.py, results.py and visits.py, as for the HTML pages.

    GET  /rounds                       POST /rounds            GET/PUT /rounds/{id}
    POST /rounds/{id}/close
    GET  /points                       POST /points            PUT /points/{id}
    POST /points/{id}/lanes            DELETE /lanes/{id}
    POST /rounds/{id}/results          (multipart: file, commit)
    POST /tubes/{id}/result            {"result": "positive", "ct_value": 28.5}
    GET  /rounds/{id}/visit-lists      POST /rounds/{id}/visit-lists
    GET  /visit-lists/{id}             POST /visits/{id}/record
"""

from __future__ import annotations

from django.db.models import Count, Q
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from shouwang.accounts.models import User
from shouwang.accounts.permissions import require
from shouwang.accounts.scope import scope_queryset
from shouwang.control import levels
from shouwang.core.errors import invalid
from shouwang.grids.models import Grid
from shouwang.registry.models import Building, Compound
from shouwang.screening import results as results_svc
from shouwang.screening import services, visits
from shouwang.screening.models import Round, SamplingPoint, Tube
from shouwang.screening.schemas import (
    CloseOut,
    ImportOut,
    LaneIn,
    LaneOut,
    PointIn,
    PointOut,
    RoundIn,
    RoundOut,
    TubeResultIn,
    TubeResultOut,
    VisitListDetailOut,
    VisitListIn,
    VisitListOut,
    VisitRecordIn,
)

router = Router(tags=["screening"])

LIST_LIMIT = 100


def _round_out(r: Round) -> dict:
    return {
        "id": r.pk,
        "kind": r.kind,
        "number": r.number,
        "date": r.date,
        "starts_at": r.starts_at,
        "ends_at": r.ends_at,
        "pool_size": r.pool_size,
        "compound_ids": [c.pk for c in r.compounds.all()],
        "building_ids": [b.pk for b in r.buildings.all()],
        "grid_ids": [g.pk for g in r.grids.all()],
        "control_levels": list(levels.parse(r.control_levels)),
        "point_ids": [p.pk for p in r.points.all()],
        "note": r.note,
        "closed_at": r.closed_at,
        "sampled": getattr(r, "n_samples", None)
        if getattr(r, "n_samples", None) is not None
        else r.samples.filter(counted=True, voided_at=None).count(),
    }


def _ids(user, model, ids, field):
    ids = list(dict.fromkeys(ids or []))
    objs = list(scope_queryset(user, model.objects.all()).filter(pk__in=ids))
    if len(objs) != len(ids):
        raise invalid(field, "Some ids are not of your community.")
    return objs


def _round_fields(user, payload: RoundIn) -> dict:
    number = payload.number or services.round_next_number(user.community_id, payload.kind)
    return {
        "kind": payload.kind,
        "number": number,
        "date": payload.date,
        "starts_at": payload.starts_at,
        "ends_at": payload.ends_at,
        "pool_size": payload.pool_size,
        "compounds": _ids(user, Compound, payload.compound_ids, "compound_ids"),
        "buildings": _ids(user, Building, payload.building_ids, "building_ids"),
        "grids": _ids(user, Grid, payload.grid_ids, "grid_ids"),
        "control_levels": payload.control_levels,
        "points": _ids(user, SamplingPoint, payload.point_ids, "point_ids"),
        "note": payload.note,
    }


def _prefetched(qs):
    return qs.prefetch_related("compounds", "buildings", "grids", "points").annotate(
        n_samples=Count("samples", filter=Q(samples__counted=True, samples__voided_at=None))
    )


@router.get("/rounds", response=list[RoundOut], url_name="screening_rounds", summary="Rounds")
def rounds_list(request, kind: str | None = None):
    require(request.auth, "screening.sample")
    qs = services.rounds_for(request.auth)
    if kind:
        qs = qs.filter(kind=kind)
    return [_round_out(r) for r in _prefetched(qs.order_by("-date", "-number"))[:LIST_LIMIT]]


@router.post("/rounds", response={201: RoundOut}, summary="Plan a round")
def round_create(request, payload: RoundIn):
    require(request.auth, "screening.manage")
    user = request.auth
    r = services.round_save(actor=user, community=user.community, **_round_fields(user, payload))
    return Status(201, _round_out(r))


@router.get("/rounds/{round_id}", response=RoundOut, summary="One round")
def round_get(request, round_id: int):
    require(request.auth, "screening.sample")
    return _round_out(services.round_get_for(request.auth, round_id))


@router.put("/rounds/{round_id}", response=RoundOut, summary="Change a round (not once closed)")
def round_update(request, round_id: int, payload: RoundIn):
    require(request.auth, "screening.manage")
    user = request.auth
    r = services.round_get_for(user, round_id)
    fields = _round_fields(user, payload)
    if payload.number is None:
        fields["number"] = r.number if r.kind == payload.kind else fields["number"]
    r = services.round_save(actor=user, community=user.community, rnd=r, **fields)
    return _round_out(r)


@router.post("/rounds/{round_id}/close", response=CloseOut, summary="Close a round")
def round_close(request, round_id: int):
    require(request.auth, "screening.manage")
    r = services.round_get_for(request.auth, round_id)
    closed = services.round_close(actor=request.auth, rnd=r)
    return {"id": r.pk, "closed_at": r.closed_at, "already": not closed}


# --- points ---------------------------------------------------------------------------------


def _point_out(p: SamplingPoint) -> dict:
    return {
        "id": p.pk,
        "name": p.name,
        "kind": p.kind,
        "place": p.place,
        "opens_at": p.opens_at,
        "closes_at": p.closes_at,
        "staff_ids": [u.pk for u in p.staff.all()],
        "active": p.active,
        "note": p.note,
        "lanes": [
            {
                "id": ln.pk,
                "kind": ln.kind,
                "starts_at": ln.starts_at,
                "ends_at": ln.ends_at,
                "note": ln.note,
            }
            for ln in p.lanes.all()
        ],
    }


def _point_fields(user, payload: PointIn) -> dict:
    d = payload.dict()
    d["staff"] = _ids(user, User, d.pop("staff_ids"), "staff_ids")
    return d


@router.get("/points", response=list[PointOut], summary="Sampling points")
def points_list(request):
    require(request.auth, "screening.sample")
    qs = services.points_for(request.auth).prefetch_related("staff", "lanes")
    return [_point_out(p) for p in qs]


@router.post("/points", response={201: PointOut}, summary="Add a sampling point")
def point_create(request, payload: PointIn):
    require(request.auth, "screening.manage")
    user = request.auth
    p = services.point_save(actor=user, community=user.community, **_point_fields(user, payload))
    return Status(201, _point_out(p))


@router.put("/points/{point_id}", response=PointOut, summary="Change a sampling point")
def point_update(request, point_id: int, payload: PointIn):
    require(request.auth, "screening.manage")
    user = request.auth
    p = services.point_get_for(user, point_id)
    p = services.point_save(
        actor=user, community=user.community, point=p, **_point_fields(user, payload)
    )
    return _point_out(p)


@router.post("/points/{point_id}/lanes", response={201: LaneOut}, summary="Add a priority lane")
def lane_create(request, point_id: int, payload: LaneIn):
    require(request.auth, "screening.manage")
    p = services.point_get_for(request.auth, point_id)
    ln = services.lane_add(actor=request.auth, point=p, **payload.dict())
    return Status(
        201,
        {
            "id": ln.pk,
            "kind": ln.kind,
            "starts_at": ln.starts_at,
            "ends_at": ln.ends_at,
            "note": ln.note,
        },
    )


@router.delete("/lanes/{lane_id}", response={204: None}, summary="Remove a priority lane")
def lane_remove(request, lane_id: int):
    require(request.auth, "screening.manage")
    services.lane_delete(actor=request.auth, lane=services.lane_get_for(request.auth, lane_id))
    return Status(204, None)


# --- results --------------------------------------------------------------------------------


@router.post(
    "/rounds/{round_id}/results",
    response=ImportOut,
    summary="Import the lab's file (.xlsx or .csv): a check, or with commit=true all or nothing",
)
def results_import(
    request, round_id: int, file: UploadedFile = File(...), commit: bool = Form(False)
):
    """Every wrong row is in `errors` (line, column, what to fix) and then nothing is imported.
    The same file imported again into the round does nothing (`already`)."""
    require(request.auth, "screening.results")
    r = services.round_get_for(request.auth, round_id)
    report = results_svc.results_import(
        actor=request.auth, rnd=r, source=file, filename=file.name or "upload", commit=commit
    )
    return report.as_dict()


def _tube_out(t: Tube) -> dict:
    return {
        "id": t.pk,
        "round_id": t.round_id,
        "code": t.code,
        "capacity": t.capacity,
        "result": t.result,
        "ct_value": t.ct_value,
        "result_at": t.result_at,
        "people": t.samples.swabs().count(),
    }


@router.post("/tubes/{tube_id}/result", response=TubeResultOut, summary="Type a tube's result")
def tube_result(request, tube_id: int, payload: TubeResultIn):
    """The same result again changes nothing (`changed` false); a recorded negative or positive
    is never replaced (409 `screening_result_final`)."""
    require(request.auth, "screening.results")
    t = results_svc.tube_get_for(request.auth, tube_id)
    try:
        ct = results_svc.parse_ct(payload.ct_value)
    except ValueError:
        raise invalid("ct_value", "A Ct value is a number from 0 to 99.99.") from None
    out = results_svc.result_record(
        actor=request.auth, tube=t, result=payload.result, ct_value=ct, at=payload.at
    )
    return {
        "tube": _tube_out(out.tube),
        "changed": out.changed,
        "flagged": out.flagged,
        "positives": out.positives,
        "cleared": out.cleared,
        "visit_list_id": out.visit_list.pk if out.visit_list else None,
    }


# --- visit lists ----------------------------------------------------------------------------


def _list_out(vl) -> dict:
    return {
        "id": vl.pk,
        "round_id": vl.round_id,
        "name": vl.name,
        "reason": vl.reason,
        "team": vl.team,
        "assignee_ids": [u.pk for u in vl.assignees.all()],
        "source_tube_id": vl.source_tube_id,
        "total": vl.n_total,
        "visited": vl.n_visited,
        "not_home": vl.n_not_home,
        "refused": vl.n_refused,
        "pending": vl.n_pending,
    }


@router.get(
    "/rounds/{round_id}/visit-lists", response=list[VisitListOut], summary="A round's lists"
)
def visit_lists(request, round_id: int):
    require(request.auth, "screening.sample")
    r = services.round_get_for(request.auth, round_id)
    qs = visits.list_counts(visits.lists_for(request.auth).filter(round=r))
    return [_list_out(vl) for vl in qs.prefetch_related("assignees").order_by("-created_at")]


@router.post(
    "/rounds/{round_id}/visit-lists",
    response={201: VisitListOut},
    summary="Make a door-to-door list (bedridden, requested, sealed)",
)
def visit_list_create(request, round_id: int, payload: VisitListIn):
    require(request.auth, "screening.manage")
    user = request.auth
    r = services.round_get_for(user, round_id)
    vl = visits.visit_list_make(
        actor=user,
        rnd=r,
        reason=payload.reason,
        name=payload.name,
        team=payload.team,
        assignees=_ids(user, User, payload.assignee_ids, "assignee_ids"),
        households=payload.household_ids,
    )
    vl = visits.list_counts(visits.lists_for(user).filter(pk=vl.pk)).get()
    return Status(201, _list_out(vl))


@router.get(
    "/visit-lists/{list_id}", response=VisitListDetailOut, summary="A list, by building and door"
)
def visit_list_get(request, list_id: int):
    require(request.auth, "screening.sample")
    vl = visits.list_get_for(request.auth, list_id)
    counted = visits.list_counts(visits.lists_for(request.auth).filter(pk=vl.pk)).get()
    out = _list_out(counted)
    out["visits"] = [
        {
            "id": row["visit"].pk,
            "household_id": row["visit"].household_id,
            "compound": row["compound"],
            "building": row["building"],
            "unit": row["unit"],
            "door": row["door"],
            "phone_masked": row["phone"],
            "people": row["people"],
            "status": row["visit"].status,
            "note": row["visit"].note,
            "at": row["visit"].at,
        }
        for row in visits.list_rows(vl)
    ]
    return out


@router.post("/visits/{visit_id}/record", summary="Record a door: visited, not home, refused")
def visit_record(request, visit_id: int, payload: VisitRecordIn):
    require(request.auth, "screening.sample")
    v = visits.visit_get_for(request.auth, visit_id)
    v = visits.visit_record(actor=request.auth, visit=v, status=payload.status, note=payload.note)
    return {"id": v.pk, "status": v.status, "note": v.note, "at": v.at}
