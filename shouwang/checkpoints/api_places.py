"""/api/v1/checkpoints/: checkpoints, gates, the policy, rosters, duties and check-in. The rules
are in places.py and roster.py, as for the HTML pages.

    GET  /checkpoints          POST /checkpoints          PUT /checkpoints/{id}
    POST /checkpoints/{id}/retire                         POST /checkpoints/{id}/gates (merge)
    GET  /gates                POST /gates                PUT /gates/{id}
    GET  /policy               PUT  /policy
    GET  /roster?start=&days=&checkpoint_ids=             POST /roster/generate
    POST /duties               PUT  /duties/{id}          DELETE /duties/{id}
    POST /duties/{id}/check-in                            POST /duties/{id}/check-out
    GET  /my/duties            GET  /availability         POST /availability
    DELETE /availability/{id}
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from shouwang.accounts.models import User
from shouwang.accounts.permissions import can, require
from shouwang.accounts.scope import scope_queryset
from shouwang.checkpoints import places, roster
from shouwang.checkpoints.models import Gate
from shouwang.checkpoints.services import policy_for
from shouwang.core.errors import Forbidden, NotFound, invalid
from shouwang.registry.models import Compound

router = Router()

# --- shapes -----------------------------------------------------------------------------------


class CheckpointIn(Schema):
    name: str
    compound_id: int | None = None
    note: str = ""
    gate_ids: list[int] | None = Field(
        None, description="The gates merged into it (omitted: unchanged)."
    )


class CheckpointOut(Schema):
    id: int
    name: str
    compound_id: int | None
    note: str
    is_active: bool
    gate_ids: list[int]
    staffed_now: bool


class MergeIn(Schema):
    gate_ids: list[int]


class RetireIn(Schema):
    restore: bool = False


class GateIn(Schema):
    compound_id: int
    name: str
    is_open: bool = True
    opens_at: dt.time | None = Field(None, description="Both empty: round the clock.")
    closes_at: dt.time | None = Field(None, description="Before opens_at: through midnight.")
    checkpoint_id: int | None = None
    note: str = ""


class GateOut(Schema):
    id: int
    compound_id: int
    compound: str
    name: str
    is_open: bool
    opens_at: dt.time | None
    closes_at: dt.time | None
    open_now: bool
    checkpoint_id: int | None
    note: str


class PolicyIO(Schema):
    fever_at: Decimal = Decimal("37.3")
    test_hours: int = 48
    antigen_counts: bool = False
    positive_days: int = 14
    ask_health_code: bool = False
    shift_hours: int = 8
    first_shift_at: dt.time = dt.time(8)
    committee_per_shift: int = 1
    rotation_hours: int = 2
    guards_per_rotation: int = 1
    max_hours_per_day: int = 8
    min_rest_hours: int = 8


class DutyOut(Schema):
    id: int
    shift_id: int
    checkpoint_id: int
    checkpoint: str
    user_id: int
    user: str
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    generated: bool
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None


class ShiftOut(Schema):
    id: int
    checkpoint_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime


class ProblemOut(Schema):
    code: str
    label: str
    message: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    checkpoint_id: int | None
    shift_id: int | None
    user_id: int | None
    duty_ids: list[int]
    missing: int


class RosterOut(Schema):
    start: dt.date
    days: int
    shifts: list[ShiftOut]
    duties: list[DutyOut]
    problems: list[ProblemOut]


class GenerateIn(Schema):
    start: dt.date
    days: int = 7
    checkpoint_ids: list[int] = Field([], description="Empty: every checkpoint in use.")
    replace: bool = Field(False, description="Remove generated duties nobody checked in to.")


class GenerateOut(RosterOut):
    made: int
    removed: int


class DutyIn(Schema):
    shift_id: int
    user_id: int
    kind: str = "rotation"
    starts_at: dt.datetime | None = Field(None, description="Omitted: the shift's start.")
    ends_at: dt.datetime | None = Field(None, description="Omitted: the shift's end.")


class DutyPut(Schema):
    shift_id: int | None = None
    user_id: int | None = None
    kind: str | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None


class DutyChanged(Schema):
    duty: DutyOut
    problems: list[ProblemOut]


class AvailabilityIn(Schema):
    weekday: int | None = Field(None, description="0 Monday … 6 Sunday (every week).")
    date: dt.date | None = Field(None, description="Or one date.")
    starts_at: dt.time
    ends_at: dt.time = Field(..., description="Before starts_at: through midnight.")
    user_id: int | None = Field(None, description="Someone else's (checkpoints.roster only).")


class AvailabilityOut(Schema):
    id: int
    user_id: int
    weekday: int | None
    date: dt.date | None
    starts_at: dt.time
    ends_at: dt.time


class Empty(Schema):
    ok: bool = True


class RosterQuery(Schema):
    start: dt.date | None = None
    days: int = 7
    checkpoint_ids: list[int] = []


# --- helpers ----------------------------------------------------------------------------------


def _cp_out(cp, staffed: set[int]) -> dict:
    return {
        "id": cp.pk,
        "name": cp.name,
        "compound_id": cp.compound_id,
        "note": cp.note,
        "is_active": cp.is_active,
        "gate_ids": [g.pk for g in cp.gates.all()],
        "staffed_now": cp.pk in staffed,
    }


def _staffed(user) -> set[int]:
    return set(
        places.on_duty_now(user.community_id, timezone.now()).values_list(
            "shift__checkpoint_id", flat=True
        )
    )


def _gate_out(g: Gate, now) -> dict:
    return {
        "id": g.pk,
        "compound_id": g.compound_id,
        "compound": g.compound.name,
        "name": g.name,
        "is_open": g.is_open,
        "opens_at": g.opens_at,
        "closes_at": g.closes_at,
        "open_now": places.gate_is_open_at(g, now),
        "checkpoint_id": g.checkpoint_id,
        "note": g.note,
    }


def _compound(user, pk):
    if pk is None:
        return None
    c = scope_queryset(user, Compound.objects.all()).filter(pk=pk).first()
    if c is None:
        raise NotFound("not_found", "No such compound in your community.")
    return c


def _gates(user, ids):
    ids = list(dict.fromkeys(ids or []))
    gates = list(places.gates_for(user).filter(pk__in=ids))
    if len(gates) != len(ids):
        raise NotFound("not_found", "Some gates are not of your community.")
    return gates


def _duty_out(d) -> dict:
    return {
        "id": d.pk,
        "shift_id": d.shift_id,
        "checkpoint_id": d.shift.checkpoint_id,
        "checkpoint": d.shift.checkpoint.name,
        "user_id": d.user_id,
        "user": d.user.display_name or d.user.username,
        "kind": d.kind,
        "starts_at": d.starts_at,
        "ends_at": d.ends_at,
        "generated": d.generated,
        "checked_in_at": d.checked_in_at,
        "checked_out_at": d.checked_out_at,
    }


def _problem_out(p) -> dict:
    return {
        "code": p.code,
        "label": p.label,
        "message": p.message,
        "starts_at": p.starts_at,
        "ends_at": p.ends_at,
        "checkpoint_id": p.checkpoint_id,
        "shift_id": p.shift_id,
        "user_id": p.user_id,
        "duty_ids": list(p.duty_ids),
        "missing": p.missing,
    }


def _person(user, pk) -> User:
    u = User.objects.filter(pk=pk, community_id=user.community_id).first()
    if u is None:
        raise NotFound("not_found", "No such person in your community.")
    return u


def _checkpoints(user, ids):
    chosen = roster.roster_checkpoints(user, ids or None)
    if ids and len(chosen) != len(set(ids)):
        raise NotFound("not_found", "Some checkpoints are not of your community, or are retired.")
    return chosen


def _roster(user, start, days, cps) -> dict:
    data = roster.week(community=user.community, checkpoints=cps, start=start, days=days)
    return {
        "start": start,
        "days": days,
        "shifts": [
            {
                "id": s.pk,
                "checkpoint_id": s.checkpoint_id,
                "starts_at": s.starts_at,
                "ends_at": s.ends_at,
            }
            for s in data["shifts"]
        ],
        "duties": [_duty_out(d) for d in data["duties"]],
        "problems": [_problem_out(p) for p in data["problems"]],
    }


def _changed(user, duty) -> dict:
    found = roster.problems(community=user.community, shifts=[duty.shift])
    return {
        "duty": _duty_out(duty),
        "problems": [_problem_out(p) for p in found if duty.pk in p.duty_ids or p.is_gap],
    }


# --- checkpoints and gates --------------------------------------------------------------------


@router.get("/checkpoints", response=list[CheckpointOut], summary="Checkpoints")
def checkpoints_list(request):
    require(request.auth, "checkpoints.duty")
    staffed = _staffed(request.auth)
    qs = places.checkpoints_for(request.auth).prefetch_related("gates")
    return [_cp_out(cp, staffed) for cp in qs]


@router.post("/checkpoints", response={201: CheckpointOut}, summary="Create a checkpoint")
def checkpoint_create(request, payload: CheckpointIn):
    require(request.auth, "checkpoints.manage")
    user = request.auth
    cp = places.checkpoint_save(
        actor=user,
        community=user.community,
        name=payload.name,
        compound=_compound(user, payload.compound_id),
        note=payload.note,
        gates=_gates(user, payload.gate_ids) if payload.gate_ids is not None else None,
    )
    return Status(201, _cp_out(cp, _staffed(user)))


@router.put("/checkpoints/{checkpoint_id}", response=CheckpointOut, summary="Change a checkpoint")
def checkpoint_update(request, checkpoint_id: int, payload: CheckpointIn):
    require(request.auth, "checkpoints.manage")
    user = request.auth
    cp = places.checkpoint_get_for(user, checkpoint_id)
    cp = places.checkpoint_save(
        actor=user,
        community=user.community,
        checkpoint=cp,
        name=payload.name,
        compound=_compound(user, payload.compound_id),
        note=payload.note,
        gates=_gates(user, payload.gate_ids) if payload.gate_ids is not None else None,
    )
    return _cp_out(cp, _staffed(user))


@router.post(
    "/checkpoints/{checkpoint_id}/retire", response=CheckpointOut, summary="Retire (or restore)"
)
def checkpoint_retire(request, checkpoint_id: int, payload: RetireIn):
    require(request.auth, "checkpoints.manage")
    cp = places.checkpoint_get_for(request.auth, checkpoint_id)
    places.checkpoint_retire(actor=request.auth, checkpoint=cp, retire=not payload.restore)
    return _cp_out(cp, _staffed(request.auth))


@router.post(
    "/checkpoints/{checkpoint_id}/gates",
    response=CheckpointOut,
    summary="Merge gates into a checkpoint",
)
def checkpoint_merge(request, checkpoint_id: int, payload: MergeIn):
    require(request.auth, "checkpoints.manage")
    user = request.auth
    cp = places.checkpoint_get_for(user, checkpoint_id)
    places.gates_merge(actor=user, checkpoint=cp, gates=_gates(user, payload.gate_ids))
    return _cp_out(cp, _staffed(user))


@router.get("/gates", response=list[GateOut], summary="Every compound's gates")
def gates_list(request):
    require(request.auth, "checkpoints.duty")
    now = timezone.now()
    return [_gate_out(g, now) for g in places.gates_for(request.auth)]


def _gate_fields(user, payload: GateIn) -> dict:
    cp = None
    if payload.checkpoint_id is not None:
        cp = places.checkpoints_for(user).filter(pk=payload.checkpoint_id).first()
        if cp is None:
            raise NotFound("not_found", "No such checkpoint in your community.")
    return {
        "compound": _compound(user, payload.compound_id),
        "name": payload.name,
        "is_open": payload.is_open,
        "opens_at": payload.opens_at,
        "closes_at": payload.closes_at,
        "checkpoint": cp,
        "note": payload.note,
    }


@router.post("/gates", response={201: GateOut}, summary="Add a gate")
def gate_create(request, payload: GateIn):
    require(request.auth, "checkpoints.manage")
    user = request.auth
    g = places.gate_save(actor=user, community=user.community, **_gate_fields(user, payload))
    return Status(201, _gate_out(g, timezone.now()))


@router.put("/gates/{gate_id}", response=GateOut, summary="Change a gate (open, hours, merge)")
def gate_update(request, gate_id: int, payload: GateIn):
    require(request.auth, "checkpoints.manage")
    user = request.auth
    g = places.gate_get_for(user, gate_id)
    g = places.gate_save(
        actor=user, community=user.community, gate=g, **_gate_fields(user, payload)
    )
    return _gate_out(g, timezone.now())


# --- policy -----------------------------------------------------------------------------------


def _policy_out(p) -> dict:
    return {f: getattr(p, f) for f in places.POLICY_FIELDS}


@router.get("/policy", response=PolicyIO, summary="The gate and roster policy")
def policy_get(request):
    require(request.auth, "checkpoints.duty")
    return _policy_out(policy_for(request.auth.community_id))


@router.put("/policy", response=PolicyIO, summary="Change the policy")
def policy_put(request, payload: PolicyIO):
    require(request.auth, "checkpoints.manage")
    user = request.auth
    p = places.policy_save(actor=user, community=user.community, **payload.dict())
    return _policy_out(p)


# --- roster -----------------------------------------------------------------------------------


@router.get("/roster", response=RosterOut, summary="The roster over a range, with its problems")
def roster_get(request, q: Query[RosterQuery]):
    require(request.auth, "checkpoints.duty")
    user = request.auth
    if not 1 <= q.days <= roster.MAX_DAYS:
        raise invalid("days", f"Between 1 and {roster.MAX_DAYS} days at a time.")
    return _roster(
        user, q.start or timezone.localdate(), q.days, _checkpoints(user, q.checkpoint_ids)
    )


@router.post("/roster/generate", response=GenerateOut, summary="Generate from availability")
def roster_generate(request, payload: GenerateIn):
    require(request.auth, "checkpoints.roster")
    user = request.auth
    cps = _checkpoints(user, payload.checkpoint_ids)
    result = roster.generate(
        actor=user,
        community=user.community,
        checkpoints=cps,
        start=payload.start,
        days=payload.days,
        replace=payload.replace,
    )
    return {
        **_roster(user, payload.start, payload.days, cps),
        "made": result.made,
        "removed": result.removed,
    }


@router.post("/duties", response={201: DutyChanged}, summary="Put someone on a shift by hand")
def duty_create(request, payload: DutyIn):
    require(request.auth, "checkpoints.roster")
    user = request.auth
    d = roster.duty_add(
        actor=user,
        shift=roster.shift_get_for(user, payload.shift_id),
        user=_person(user, payload.user_id),
        kind=payload.kind,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
    )
    return Status(201, _changed(user, d))


@router.put("/duties/{duty_id}", response=DutyChanged, summary="Move a duty")
def duty_update(request, duty_id: int, payload: DutyPut):
    require(request.auth, "checkpoints.roster")
    user = request.auth
    d = roster.duty_move(
        actor=user,
        duty=roster.duty_get_for(user, duty_id),
        shift=roster.shift_get_for(user, payload.shift_id) if payload.shift_id else None,
        user=_person(user, payload.user_id) if payload.user_id else None,
        kind=payload.kind,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
    )
    return _changed(user, d)


@router.delete("/duties/{duty_id}", response=Empty, summary="Remove a duty")
def duty_delete(request, duty_id: int):
    require(request.auth, "checkpoints.roster")
    roster.duty_remove(actor=request.auth, duty=roster.duty_get_for(request.auth, duty_id))
    return {"ok": True}


@router.post("/duties/{duty_id}/check-in", response=DutyOut, summary="Check in for a duty")
def duty_check_in(request, duty_id: int):
    require(request.auth, "checkpoints.duty")
    d = roster.check_in(actor=request.auth, duty=roster.duty_get_for(request.auth, duty_id))
    return _duty_out(d)


@router.post("/duties/{duty_id}/check-out", response=DutyOut, summary="Check out of a duty")
def duty_check_out(request, duty_id: int):
    require(request.auth, "checkpoints.duty")
    d = roster.check_out(actor=request.auth, duty=roster.duty_get_for(request.auth, duty_id))
    return _duty_out(d)


@router.get("/my/duties", response=list[DutyOut], summary="My current and next duties")
def my_duties(request):
    require(request.auth, "checkpoints.duty")
    return [_duty_out(d) for d in roster.my_duties(request.auth)]


# --- availability -----------------------------------------------------------------------------


def _avail_out(a) -> dict:
    return {
        "id": a.pk,
        "user_id": a.user_id,
        "weekday": a.weekday,
        "date": a.date,
        "starts_at": a.starts_at,
        "ends_at": a.ends_at,
    }


@router.get("/availability", response=list[AvailabilityOut], summary="My availability")
def availability_list(request, user_id: int | None = None):
    require(request.auth, "checkpoints.duty")
    user = request.auth
    who = user
    if user_id is not None and user_id != user.pk:
        require(user, "checkpoints.roster")
        who = _person(user, user_id)
    return [_avail_out(a) for a in roster.availability_of(who)]


@router.post("/availability", response={201: AvailabilityOut}, summary="Add availability")
def availability_create(request, payload: AvailabilityIn):
    require(request.auth, "checkpoints.duty")
    user = request.auth
    who = user
    if payload.user_id is not None and payload.user_id != user.pk:
        require(user, "checkpoints.roster")
        who = _person(user, payload.user_id)
    a = roster.availability_add(
        actor=user,
        user=who,
        weekday=payload.weekday,
        date=payload.date,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
    )
    return Status(201, _avail_out(a))


@router.delete("/availability/{availability_id}", response=Empty, summary="Remove availability")
def availability_delete(request, availability_id: int):
    require(request.auth, "checkpoints.duty")
    user = request.auth
    a = roster.availability_get_for(user, availability_id)
    if a.user_id != user.pk and not can(user, "checkpoints.roster"):
        raise Forbidden("forbidden", "This is someone else's availability.")
    roster.availability_remove(actor=user, availability=a)
    return {"ok": True}
