"""/api/v1/checkpoints/: the desk — visitors and couriers, parcels at the gate shelf and the
dashboard's figures. The rules are in visitors.py, parcels.py and dashboard.py, as for the pages.

    GET  /visitors?date=&checkpoint_id=     POST /visitors       POST /visitors/{id}/left
    GET  /parcels?status=&building_id=      POST /parcels        POST /parcels/{id}/steps
    GET  /dashboard?date=
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.utils import timezone
from ninja import Router, Schema, Status

from shouwang.accounts.models import User
from shouwang.accounts.permissions import require
from shouwang.accounts.scope import get_scoped, scope_queryset
from shouwang.checkpoints import dashboard as dash
from shouwang.checkpoints import parcels as parcel_svc
from shouwang.checkpoints import visitors as svc
from shouwang.checkpoints.decision import reason_label
from shouwang.checkpoints.models import Parcel, Visitor
from shouwang.core.errors import invalid

router = Router()
LIST_LIMIT = 200


class VisitorIn(Schema):
    checkpoint_id: int
    kind: str = "visitor"
    name: str = ""
    phone: str = ""
    company: str = ""
    purpose: str = ""
    host_household_id: int | None = None
    temperature: str | None = None
    proof: str = "none"
    proof_note: str = ""
    uid: uuid.UUID | None = None


class ReasonOut(Schema):
    code: str
    text: str


class VisitorOut(Schema):
    id: int
    kind: str
    name: str
    phone_masked: str
    company: str
    purpose: str
    host_household_id: int | None
    checkpoint_id: int | None
    temperature: Decimal | None
    proof: str
    decision: str
    reasons: list[ReasonOut]
    arrived_at: dt.datetime
    left_at: dt.datetime | None


class ParcelIn(Schema):
    checkpoint_id: int
    household_id: int
    courier: str = ""
    description: str = ""
    shelf: str = ""


class StepIn(Schema):
    step: str
    volunteer_id: int | None = None


class ParcelOut(Schema):
    id: int
    household_id: int
    checkpoint_id: int | None
    courier: str
    description: str
    shelf: str
    status: str
    next_step: str | None
    logged_at: dt.datetime
    disinfected_at: dt.datetime | None
    held_until: dt.datetime | None
    handed_at: dt.datetime | None
    handed_to_id: int | None
    delivered_at: dt.datetime | None
    confirmed_by_household: bool
    sms_sent: bool


def _visitor_out(v: Visitor) -> dict:
    return {
        "id": v.pk,
        "kind": v.kind,
        "name": v.name,
        "phone_masked": v.phone_masked,
        "company": v.company,
        "purpose": v.purpose,
        "host_household_id": v.host_id,
        "checkpoint_id": v.checkpoint_id,
        "temperature": v.temperature,
        "proof": v.proof,
        "decision": v.decision,
        "reasons": [{"code": c, "text": reason_label(c)} for c in v.reasons.split(",") if c],
        "arrived_at": v.arrived_at,
        "left_at": v.left_at,
    }


def _parcel_out(p: Parcel) -> dict:
    return {
        "id": p.pk,
        "household_id": p.household_id,
        "checkpoint_id": p.checkpoint_id,
        "courier": p.courier,
        "description": p.description,
        "shelf": p.shelf,
        "status": p.status,
        "next_step": parcel_svc.next_step(p),
        "logged_at": p.logged_at,
        "disinfected_at": p.disinfected_at,
        "held_until": p.held_until,
        "handed_at": p.handed_at,
        "handed_to_id": p.handed_to_id,
        "delivered_at": p.delivered_at,
        "confirmed_by_household": p.confirmed_by_household,
        "sms_sent": p.sms_sent_at is not None,
    }


def _date(value: str | None) -> dt.date:
    if not value:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise invalid("date", "Give the date as YYYY-MM-DD.") from None


# --- visitors -------------------------------------------------------------------------------


@router.get("/visitors", response=list[VisitorOut], summary="Visitors and couriers of a day")
def visitors_list(request, date: str | None = None, checkpoint_id: int | None = None):
    require(request.auth, "checkpoints.guard")
    user = request.auth
    cp = svc.checkpoint_get_for(user, checkpoint_id) if checkpoint_id else None
    return [_visitor_out(v) for v in svc.visitors_on(user, _date(date), checkpoint=cp)[:LIST_LIMIT]]


@router.post("/visitors", response={201: VisitorOut}, summary="Register a visitor or courier")
def visitor_create(request, payload: VisitorIn):
    require(request.auth, "checkpoints.guard")
    user = request.auth
    host = None
    if payload.host_household_id is not None:
        host = get_scoped(user, svc.households_at_gate(user), payload.host_household_id)
    v = svc.visitor_register(
        actor=user,
        checkpoint=svc.checkpoint_get_for(user, payload.checkpoint_id),
        kind=payload.kind,
        name=payload.name,
        phone=payload.phone,
        company=payload.company,
        purpose=payload.purpose,
        host=host,
        temperature=payload.temperature,
        proof=payload.proof,
        proof_note=payload.proof_note,
        uid=payload.uid,
    )
    return Status(201, _visitor_out(v))


@router.post("/visitors/{visitor_id}/left", response=VisitorOut, summary="A visitor left")
def visitor_left(request, visitor_id: int):
    require(request.auth, "checkpoints.guard")
    v = svc.visitor_get_for(request.auth, visitor_id)
    return _visitor_out(svc.visitor_left(actor=request.auth, visitor=v))


# --- parcels --------------------------------------------------------------------------------


@router.get("/parcels", response=list[ParcelOut], summary="Parcels not yet delivered")
def parcels_list(request, status: str | None = None, building_id: int | None = None):
    require(request.auth, "checkpoints.guard")
    qs = parcel_svc.parcels_for(request.auth)
    if building_id is not None:
        qs = parcel_svc.for_building(qs, building_id)
    else:
        qs = qs.filter(status__in=parcel_svc.OPEN).order_by("logged_at", "pk")
    if status:
        qs = qs.filter(status=status)
    return [_parcel_out(p) for p in qs[:LIST_LIMIT]]


@router.post("/parcels", response={201: ParcelOut}, summary="Log a parcel at the gate shelf")
def parcel_create(request, payload: ParcelIn):
    require(request.auth, "checkpoints.guard")
    user = request.auth
    checkpoint = svc.checkpoint_get_for(user, payload.checkpoint_id)
    household = get_scoped(user, svc.households_at_gate(user), payload.household_id)
    p = parcel_svc.parcel_log(
        actor=user,
        checkpoint=checkpoint,
        household=household,
        courier=payload.courier,
        description=payload.description,
        shelf=payload.shelf,
    )
    return Status(201, _parcel_out(p))


@router.post("/parcels/{parcel_id}/steps", response=ParcelOut, summary="The parcel's next step")
def parcel_step(request, parcel_id: int, payload: StepIn):
    require(request.auth, "checkpoints.guard")
    user = request.auth
    p = parcel_svc.parcel_get_for(user, parcel_id)
    volunteer = None
    if payload.volunteer_id is not None:
        volunteer = (
            scope_queryset(user, User.objects.filter(is_active=True))
            .filter(pk=payload.volunteer_id)
            .first()
        )
        if volunteer is None:
            raise invalid("volunteer_id", "No such person in your community.")
    p = parcel_svc.parcel_step(actor=user, parcel=p, step=payload.step, volunteer=volunteer)
    return _parcel_out(p)


# --- dashboard ------------------------------------------------------------------------------


class HourRowOut(Schema):
    checkpoint_id: int | None
    checkpoint: str
    counts: list[int]
    total: int
    denied: int


class ReasonCountOut(Schema):
    decision: str
    code: str
    label: str
    n: int


class ParcelCountOut(Schema):
    status: str
    n: int
    oldest: dt.datetime | None


class DutyOut(Schema):
    checkpoint_id: int
    checkpoint: str
    user_id: int
    username: str
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    checked_in_at: dt.datetime | None


class DashboardOut(Schema):
    date: dt.date
    hours: list[HourRowOut]
    totals: list[int]
    reasons: list[ReasonCountOut]
    parcels: list[ParcelCountOut]
    on_duty: list[DutyOut]


@router.get("/dashboard", response=DashboardOut, summary="The checkpoint dashboard's figures")
def dashboard(request, date: str | None = None):
    require(request.auth, "checkpoints.dashboard")
    f = dash.figures(request.auth.community_id, day=_date(date))
    return {
        "date": f["day"],
        "hours": [
            {
                "checkpoint_id": r["checkpoint"].pk if r["checkpoint"] else None,
                "checkpoint": r["checkpoint"].name if r["checkpoint"] else "",
                "counts": r["counts"],
                "total": r["total"],
                "denied": r["denied"],
            }
            for r in f["hourly"]["rows"]
        ],
        "totals": f["hourly"]["totals"],
        "reasons": f["reasons"],
        "parcels": [
            {"status": c["status"], "n": c["n"], "oldest": c["oldest"]} for c in f["parcels"]
        ],
        "on_duty": [
            {
                "checkpoint_id": d.shift.checkpoint_id,
                "checkpoint": d.shift.checkpoint.name,
                "user_id": d.user_id,
                "username": d.user.username,
                "kind": d.kind,
                "starts_at": d.starts_at,
                "ends_at": d.ends_at,
                "checked_in_at": d.checked_in_at,
            }
            for d in f["on_duty"]
        ],
    }
