"""/api/v1/medicine/: needs and runs — the same rules (services.py) as the pages.

    GET  /needs?stage=&kind=&source=&grid_id=     POST /needs          GET /needs/{id}
    PATCH /needs/{id}                             POST /needs/{id}/cancel
    POST /needs/{id}/advance   {"to": stage}      POST /needs/{id}/settle
    POST /needs/{id}/remove    (out of its run)
    GET  /runs                 POST /runs         GET /runs/{id}  (with its needs)
    POST /runs/{id}/needs      {"need_ids": []}   POST /runs/{id}/advance {"to": stage}
    GET  /hospital-days

A psychiatric or chemotherapy need's drug, dose, place and note come back as the kind (and
`hidden: true`) unless the caller has medicine.manage or drives the run it is on.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from shouwang.accounts.permissions import require
from shouwang.core.errors import invalid
from shouwang.helpline.selectors import request_for
from shouwang.medicine import selectors, services
from shouwang.medicine.models import Kind, Need, Run, Source
from shouwang.registry.selectors import resident_get_for

router = Router(tags=["medicine"])
LIST_LIMIT = 500


class NeedOut(Schema):
    id: int
    resident_id: int
    resident: str
    household_id: int
    door: str
    kind: str
    drug: str
    dose: str
    quantity: str
    prescription_needed: bool
    source: str
    place: str
    needed_by: dt.date | None
    note: str
    hidden: bool
    stage: str
    run_id: int | None
    request_id: int | None
    amount: Decimal | None
    paid_by: str
    reimbursed: bool
    created_at: dt.datetime


class EventOut(Schema):
    stage: str
    at: dt.datetime
    by: str
    text: str


class NeedDetailOut(NeedOut):
    events: list[EventOut]


class RunOut(Schema):
    id: int
    source: str
    place: str
    date: dt.date
    driver_id: int | None
    driver: str
    status: str
    note: str


class RunDetailOut(RunOut):
    needs: list[NeedOut]


class NeedIn(Schema):
    resident_id: int
    drug: str
    quantity: str
    dose: str = ""
    kind: str = Kind.CHRONIC
    prescription_needed: bool = False
    source: str = Source.CLINIC
    place: str = ""
    needed_by: dt.date | None = None
    note: str = ""
    request_id: int | None = None
    client_key: str = ""


class NeedPatch(Schema):
    drug: str | None = None
    quantity: str | None = None
    dose: str | None = None
    kind: str | None = None
    prescription_needed: bool | None = None
    source: str | None = None
    place: str | None = None
    needed_by: dt.date | None = None
    note: str | None = None


class ReasonIn(Schema):
    reason: str = ""


class StepIn(Schema):
    to: str
    text: str = ""


class SettleIn(Schema):
    amount: str
    paid_by: str
    reimbursed: bool = False
    text: str = ""


class RunIn(Schema):
    source: str
    place: str
    date: dt.date
    driver_id: int | None = None
    driver_name: str = ""
    note: str = ""
    extra: bool = False


class NeedIdsIn(Schema):
    need_ids: list[int]


class MovedOut(Schema):
    moved: int


def _need_out(user, n: Need, run: Run | None = None) -> dict:
    h = n.household
    shown = selectors.shown(n, selectors.shows_drug(user, n, run=run))
    return {
        "id": n.pk,
        "resident_id": n.resident_id,
        "resident": n.resident.name,
        "household_id": n.household_id,
        "door": f"{h.building.name} {h.dwelling.door}",
        "kind": n.kind,
        "quantity": n.quantity,
        "prescription_needed": n.prescription_needed,
        "source": n.source,
        "needed_by": n.needed_by,
        "stage": n.stage,
        "run_id": n.run_id,
        "request_id": n.request_id,
        "amount": n.amount,
        "paid_by": n.paid_by,
        "reimbursed": n.reimbursed,
        "created_at": n.created_at,
        **shown,
    }


def _run_out(r: Run) -> dict:
    return {
        "id": r.pk,
        "source": r.source,
        "place": r.place,
        "date": r.date,
        "driver_id": r.driver_id,
        "driver": r.driver.label if r.driver_id else r.driver_name,
        "status": r.status,
        "note": r.note,
    }


NEED_RELATED = ("resident", "household__dwelling", "household__building", "run")


def _need(user, need_id) -> Need:
    return selectors.need_for(user, need_id)


def _driver(user, driver_id):
    if driver_id is None:
        return None
    d = selectors.drivers_for(user.community_id).filter(pk=driver_id).first()
    if d is None:
        raise invalid("driver_id", _("The driver must be one of the community's deliverers."))
    return d


@router.get("/needs", response=list[NeedOut], summary="Needs (open ones unless a stage is given)")
def needs_list(
    request,
    stage: str = "",
    kind: str = "",
    source: str = "",
    grid_id: int | None = None,
):
    user = request.auth
    require(user, "medicine.register")
    qs = selectors.needs_for(user).select_related(*NEED_RELATED)
    qs = qs.filter(stage=stage) if stage else qs.filter(stage__in=selectors.OPEN_STAGES)
    if kind:
        qs = qs.filter(kind=kind)
    if source:
        qs = qs.filter(source=source)
    if grid_id:
        qs = qs.filter(household__building__grid_id=grid_id)
    return [_need_out(user, n) for n in qs.order_by("created_at", "pk")[:LIST_LIMIT]]


@router.post("/needs", response={201: NeedOut}, summary="Register a need")
def need_create(request, payload: NeedIn):
    user = request.auth
    require(user, "medicine.register")
    resident = resident_get_for(user, payload.resident_id)
    req = request_for(user, payload.request_id) if payload.request_id else None
    data = payload.dict(exclude={"resident_id", "request_id"})
    need = services.need_register(actor=user, resident=resident, request=req, **data)
    return Status(201, _need_out(user, need))


@router.get("/needs/{need_id}", response=NeedDetailOut, summary="A need with its history")
def need_detail(request, need_id: int):
    user = request.auth
    require(user, "medicine.register")
    n = _need(user, need_id)
    out = _need_out(user, n)
    out["events"] = [
        {
            "stage": e.stage,
            "at": e.at,
            "by": e.by.label if e.by_id else "",
            "text": "" if out["hidden"] else e.text,
        }
        for e in n.events.select_related("by")
    ]
    return out


@router.patch("/needs/{need_id}", response=NeedOut, summary="Change a need before it is bought")
def need_patch(request, need_id: int, payload: NeedPatch):
    user = request.auth
    require(user, "medicine.register")
    n = _need(user, need_id)
    selectors.require_may_change(user, n)
    values = {
        k: getattr(n, k)
        for k in (
            "drug",
            "quantity",
            "dose",
            "kind",
            "prescription_needed",
            "source",
            "place",
            "needed_by",
            "note",
        )
    }
    values.update(payload.dict(exclude_unset=True))
    n = services.need_change(actor=user, need=n, **values)
    return _need_out(user, _need(user, n.pk))


@router.post("/needs/{need_id}/cancel", response=NeedOut, summary="Cancel a need")
def need_cancel(request, need_id: int, payload: ReasonIn):
    user = request.auth
    require(user, "medicine.register")
    n = services.need_cancel(actor=user, need=_need(user, need_id), reason=payload.reason)
    return _need_out(user, _need(user, n.pk))


@router.post("/needs/{need_id}/advance", response=NeedOut, summary="One stage forward")
def need_advance(request, need_id: int, payload: StepIn):
    user = request.auth
    require(user, "medicine.deliver")
    n = services.need_advance(
        actor=user, need=_need(user, need_id), to=payload.to, text=payload.text
    )
    n = _need(user, n.pk)
    return _need_out(user, n, n.run)


@router.post("/needs/{need_id}/settle", response=NeedOut, summary="Settle a delivered need")
def need_settle(request, need_id: int, payload: SettleIn):
    user = request.auth
    require(user, "medicine.manage")
    n = services.need_settle(actor=user, need=_need(user, need_id), **payload.dict())
    return _need_out(user, _need(user, n.pk))


@router.post("/needs/{need_id}/remove", response=NeedOut, summary="Take a need out of its run")
def need_remove(request, need_id: int, payload: ReasonIn):
    user = request.auth
    require(user, "medicine.manage")
    n = services.run_remove(actor=user, need=_need(user, need_id), reason=payload.reason)
    return _need_out(user, _need(user, n.pk))


@router.get("/runs", response=list[RunOut], summary="Runs (a volunteer: the ones they drive)")
def runs_list(request, upcoming: bool = False):
    user = request.auth
    require(user, "medicine.deliver")
    return [_run_out(r) for r in selectors.runs_listed(user, upcoming_only=upcoming)[:LIST_LIMIT]]


@router.post("/runs", response={201: RunOut}, summary="Plan a run")
def run_create(request, payload: RunIn):
    user = request.auth
    require(user, "medicine.manage")
    data = payload.dict(exclude={"driver_id"})
    r = services.run_create(
        actor=user,
        community_id=user.community_id,
        driver=_driver(user, payload.driver_id),
        **data,
    )
    return Status(201, _run_out(r))


@router.get("/runs/{run_id}", response=RunDetailOut, summary="A run with its needs")
def run_detail(request, run_id: int):
    user = request.auth
    require(user, "medicine.deliver")
    r = selectors.run_for(user, run_id)
    out = _run_out(r)
    out["needs"] = [_need_out(user, n, r) for n in selectors.run_needs(user, r)]
    return out


@router.post("/runs/{run_id}/needs", response=MovedOut, summary="Put waiting needs into a run")
def run_add(request, run_id: int, payload: NeedIdsIn):
    user = request.auth
    require(user, "medicine.manage")
    r = selectors.run_for(user, run_id)
    ids = set(payload.need_ids)
    needs = list(selectors.needs_for(user).filter(pk__in=ids))
    if len(needs) != len(ids):
        raise invalid("need_ids", _("Some of these needs were not found."))
    return {"moved": services.run_add(actor=user, run=r, needs=needs)}


@router.post("/runs/{run_id}/advance", response=MovedOut, summary="Move a whole run on")
def run_advance(request, run_id: int, payload: StepIn):
    user = request.auth
    require(user, "medicine.deliver")
    r = selectors.run_for(user, run_id)
    return {"moved": services.run_advance(actor=user, run=r, to=payload.to)}


@router.get("/hospital-days", response=list[dt.date], summary="The next hospital run days")
def hospital_days(request):
    user = request.auth
    require(user, "medicine.register")
    return selectors.next_hospital_days(user.community_id)
