"""The queue over the API (/api/v1/queue/): sale days, taking a ticket for a household, the
counter, and the after-the-day summary. The rules are in services.py, as for the HTML pages."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Router, Status

from shouwang.accounts.permissions import require
from shouwang.accounts.scope import get_scoped, scope_queryset
from shouwang.core.errors import NotFound
from shouwang.queues import links, services
from shouwang.queues.models import Channel, SaleDay, Ticket
from shouwang.queues.report import day_report
from shouwang.queues.schemas import (
    CallIn,
    CallOut,
    DayOut,
    DaySummaryOut,
    ReportOut,
    TakenOut,
    TicketIn,
)
from shouwang.registry.selectors import household_get_for

router = Router(tags=["queue"])

LIST_LIMIT = 200


def _day(request, day_id: int) -> SaleDay:
    return get_scoped(request.auth, SaleDay.objects.select_related("point"), day_id)


def _summary(d: SaleDay) -> dict:
    p = d.point
    return {
        "id": d.pk,
        "point": {"id": p.pk, "name": p.name, "kind": p.kind, "location": p.location},
        "date": d.date,
        "title": d.title,
        "mode": d.mode,
        "tickets_total": d.tickets_total,
        "issued": d.issued,
        "left": d.left,
        "sale_starts_at": d.sale_starts_at,
        "sale_ends_at": d.sale_ends_at,
        "closed": d.closed_at is not None,
        "version": d.version,
    }


@router.get(
    "/days",
    response=list[DaySummaryOut],
    url_name="queue_days",
    summary="Sale days of the caller's community, latest first",
)
def days_list(request, date: dt.date | None = None, point_id: int | None = None):
    require(request.auth, "queue.call")
    qs = scope_queryset(request.auth, SaleDay.objects.select_related("point")).defer("snapshot")
    if date is not None:
        qs = qs.filter(date=date)
    if point_id is not None:
        qs = qs.filter(point_id=point_id)
    return [_summary(d) for d in qs.order_by("-date", "point__name", "pk")[:LIST_LIMIT]]


@router.get(
    "/days/{day_id}",
    response=DayOut,
    url_name="queue_day",
    summary="A sale day: its settings and the live state",
)
def day_detail(request, day_id: int):
    require(request.auth, "queue.call")
    # A draw whose registration has closed runs at the first look (as on the pages).
    day = services.draw_if_due(_day(request, day_id))
    return {
        **_summary(day),
        "take_opens_at": day.take_opens_at,
        "take_closes_at": day.take_closes_at,
        "per_household": day.per_household,
        "come_when": day.come_when,
        "skip_policy": day.skip_policy,
        "grace_seconds": day.grace_seconds,
        "expected_service_seconds": day.expected_service_seconds,
        "draw_at": day.draw_at,
        "drawn_at": day.drawn_at,
        "draw_seed_hash": day.draw_seed_hash,
        "draw_seed": day.draw_seed if day.drawn_at else None,
        "registered": day.registered,
        "public_url": links.absolute(reverse("queues:public", args=[day.public_key]), request),
        "state": services.day_state(day),
    }


@router.post(
    "/days/{day_id}/tickets",
    response={200: TakenOut, 201: TakenOut},
    url_name="queue_ticket_take",
    summary="Take a ticket for a household (phoned in or at the desk)",
)
def ticket_take(request, day_id: int, payload: TicketIn):
    """201 with a new ticket (or a place in the draw before it runs); 200 with the one the
    household already has — asking twice never makes two. 409 `sold_out` when none are left;
    403 `not_served` when the point does not serve the household's building."""
    require(request.auth, "queue.issue")
    day = _day(request, day_id)
    household = household_get_for(request.auth, payload.household_id)
    # The service checks the mobile number (field "sms_phone" in the error).
    phone = payload.sms_phone if payload.notify == "sms" else ""
    taken = services.ticket_take(
        day=day,
        household=household,
        channel=Channel.STAFF,
        actor=request.auth,
        notify=payload.notify,
        sms_phone=phone,
    )
    t, r = taken.ticket, taken.registration
    body = {
        "created": taken.created,
        "kind": "ticket" if t is not None else "registration",
        "ticket_id": t.pk if t is not None else None,
        "number": t.number if t is not None else None,
        "registration_code": r.code if r is not None else None,
        "status": t.status if t is not None else "registered",
        "follow_url": links.absolute(reverse("queues:ticket", args=[taken.follow_key]), request),
    }
    return Status(201 if taken.created else 200, body)


@router.post(
    "/days/{day_id}/call",
    response=CallOut,
    url_name="queue_call",
    summary="The counter: call next, served and next, recall, served, skip, undo",
)
def call(request, day_id: int, payload: CallIn):
    """Send the `version` from the last state you showed: if the queue changed since (another
    volunteer pressed first, a double tap), nothing is done and the answer is 409 `stale`."""
    require(request.auth, "queue.call")
    day = _day(request, day_id)
    ticket = None
    if payload.ticket_id is not None and payload.action in ("recall", "serve", "skip"):
        ticket = Ticket.objects.filter(day=day, pk=payload.ticket_id).first()
        if ticket is None:
            raise NotFound("not_found", _("No such ticket on this day."))
    kw = {"day": day, "actor": request.auth, "version": payload.version}
    action = payload.action
    if action == "next":
        result = services.call_next(**kw)
    elif action == "serve_next":
        result = services.call_next(serve_current=True, **kw)
    elif action == "recall":
        result = services.recall(ticket=ticket, **kw)
    elif action == "serve":
        result = services.serve(ticket=ticket, **kw)
    elif action == "skip":
        result = services.skip(ticket=ticket, **kw)
    else:
        result = services.undo(**kw).ticket
    if result is not None:
        result.refresh_from_db(fields=["status", "number"])
    day = _day(request, day_id)
    return {
        "action": action,
        "ticket": (
            None
            if result is None
            else {"id": result.pk, "number": result.number, "status": result.status}
        ),
        "version": day.version,
        "state": services.day_state(day),
    }


@router.get(
    "/days/{day_id}/report",
    response=ReportOut,
    url_name="queue_report",
    summary="After the day: figures and the suggested ticket count, with the reasoning",
)
def report(request, day_id: int):
    require(request.auth, "queue.report")
    return day_report(_day(request, day_id)).as_dict()
