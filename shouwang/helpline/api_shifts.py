"""/api/v1/helpline/: shifts, handovers, overdue requests and the day's close — the same rules
(shifts.py) as the shift page.

    GET  /shift                     the current shift, what is open and overdue
    GET  /overdue                   live requests past their due time, with owners
    GET  /handovers                 the last handovers
    POST /handovers                 hand over to {received_by_id, note}
    GET  /handovers/{id}            one handover with its list
    POST /handovers/{id}/ack        the receiver acknowledges
    GET  /day-close?day=YYYY-MM-DD  the day's close (default yesterday)
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from shouwang.accounts.permissions import require
from shouwang.accounts.scope import get_scoped
from shouwang.core.errors import NotFound, invalid
from shouwang.helpline import selectors, shifts
from shouwang.helpline.models import LIVE, Handover

router = Router()


class RequestBrief(Schema):
    id: int
    reference: str
    summary: str
    group: str
    urgency: int
    status: str
    owner_id: int | None
    owner: str
    due_at: dt.datetime
    escalated_at: dt.datetime | None
    escalated_to: str


class ItemOut(Schema):
    request: RequestBrief
    status: str
    owner_before: str
    owner_after: str
    overdue: bool


class HandoverOut(Schema):
    id: int
    shift_start: dt.datetime
    shift_end: dt.datetime
    handed_by: str
    received_by_id: int | None
    received_by: str
    note: str
    automatic: bool
    acknowledged_at: dt.datetime | None
    created_at: dt.datetime
    items: list[ItemOut] | None = None


class ShiftOut(Schema):
    start: dt.datetime
    end: dt.datetime
    to_hand_end: dt.datetime
    handed_over: bool
    live: int
    overdue: int


class HandoverIn(Schema):
    received_by_id: int
    note: str = ""


class DayCloseOut(Schema):
    day: dt.date
    logged: int
    closed: int
    carried: int
    overdue: int
    by_group: dict[str, int]
    carried_requests: list[RequestBrief]


def _label(u) -> str:
    return u.label if u is not None else ""


def _brief(r) -> dict:
    return {
        "id": r.pk,
        "reference": r.reference,
        "summary": r.summary,
        "group": r.group,
        "urgency": r.urgency,
        "status": r.status,
        "owner_id": r.owner_id,
        "owner": _label(r.owner),
        "due_at": r.due_at,
        "escalated_at": r.escalated_at,
        "escalated_to": _label(r.escalated_to),
    }


def _handover_out(h: Handover, items=None) -> dict:
    out = {
        "id": h.pk,
        "shift_start": h.shift_start,
        "shift_end": h.shift_end,
        "handed_by": _label(h.handed_by),
        "received_by_id": h.received_by_id,
        "received_by": _label(h.received_by),
        "note": h.note,
        "automatic": h.automatic,
        "acknowledged_at": h.acknowledged_at,
        "created_at": h.created_at,
    }
    if items is not None:
        out["items"] = [
            {
                "request": _brief(i.request),
                "status": i.status,
                "owner_before": _label(i.owner_before),
                "owner_after": _label(i.owner_after),
                "overdue": i.overdue,
            }
            for i in items
        ]
    return out


@router.get("/shift", response=ShiftOut, summary="The current shift")
def shift_now(request):
    user = request.auth
    require(user, "helpline.take")
    now = timezone.now()
    start, end = shifts.shift_at(user.community_id, now)
    hand = shifts.shift_to_hand(user.community_id, now)
    live = selectors.requests_for(user).filter(status__in=LIVE)
    return {
        "start": start,
        "end": end,
        "to_hand_end": hand[1],
        "handed_over": Handover.objects.filter(
            community_id=user.community_id, shift_end=hand[1]
        ).exists(),
        "live": live.count(),
        "overdue": live.filter(due_at__lt=now).count(),
    }


@router.get("/overdue", response=list[RequestBrief], summary="Overdue requests with owners")
def overdue_list(request):
    user = request.auth
    require(user, "helpline.take")
    visible = selectors.requests_for(user).values("pk")
    return [_brief(r) for r in shifts.overdue(user.community_id).filter(pk__in=visible)[:500]]


@router.get("/handovers", response=list[HandoverOut], summary="The last handovers")
def handover_list(request):
    user = request.auth
    require(user, "helpline.take")
    return [_handover_out(h) for h in shifts.handovers_for(request.auth)[:50]]


@router.post("/handovers", response={201: HandoverOut, 200: HandoverOut}, summary="Hand over")
def handover_create(request, payload: HandoverIn):
    """Hand the shift over to `received_by_id` (one of the community's operators). A shift
    handed over already answers 200 with that handover."""
    user = request.auth
    require(user, "helpline.take")
    to = selectors.duty_users(user.community_id).filter(pk=payload.received_by_id).first()
    if to is None:
        raise NotFound("not_found", _("No such operator in your community."))
    h = shifts.handover(user, user.community_id, received_by=to, note=payload.note)
    return Status(201 if h.created else 200, _handover_out(h, shifts.handover_items(user, h)))


def _get(user, pk) -> Handover:
    return get_scoped(user, shifts.handovers_for(user), pk)


@router.get("/handovers/{handover_id}", response=HandoverOut, summary="One handover's list")
def handover_get(request, handover_id: int):
    user = request.auth
    require(user, "helpline.take")
    h = _get(user, handover_id)
    return _handover_out(h, shifts.handover_items(user, h))


@router.post("/handovers/{handover_id}/ack", response=HandoverOut, summary="Acknowledge")
def handover_ack(request, handover_id: int):
    user = request.auth
    require(user, "helpline.take")
    h = shifts.acknowledge(user, _get(user, handover_id))
    return _handover_out(h)


@router.get("/day-close", response=DayCloseOut, summary="The day's close (每日清)")
def day_close(request, day: str | None = None):
    user = request.auth
    require(user, "helpline.take")
    if day:
        try:
            d = dt.date.fromisoformat(day)
        except ValueError:
            raise invalid("day", _("Give the date as YYYY-MM-DD.")) from None
    else:
        d = timezone.localdate() - dt.timedelta(days=1)
    c = shifts.day_close(user.community_id, d, user=user)
    return {
        "day": c.day,
        "logged": c.logged,
        "closed": c.closed,
        "carried": c.carried,
        "overdue": c.overdue,
        "by_group": {str(k): v for k, v in c.by_group.items()},
        "carried_requests": [_brief(r) for r in c.carried_requests],
    }
