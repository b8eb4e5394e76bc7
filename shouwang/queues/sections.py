"""The queue's sections of the household pages (see shouwang.core.sections).

Residents see the coming sale days at the points that serve them, their own numbers and a form
to take one; staff who hand out tickets see the household's recent numbers.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone

from shouwang.accounts.permissions import can
from shouwang.core import sections
from shouwang.core.sections import Section
from shouwang.queues import services
from shouwang.queues.models import Goods, Registration, SaleDay, Ticket
from shouwang.registry.models import Resident

# Goods names listed under a day on the household page; the ticket page shows them all.
GOODS_SHOWN = 6
STAFF_TICKETS_SHOWN = 10


def goods_light():
    """Goods rows without their photo bytes (pages link to the photo URL instead)."""
    return Goods.objects.defer("photo", "thumb")


def days_for(household, *, today=None) -> list[SaleDay]:
    """Sale days not closed, from today on, at the points that serve the household."""
    today = today or timezone.localdate()
    point_ids = [p.pk for p in services.points_serving(household)]
    if not point_ids:
        return []
    days = (
        SaleDay.objects.filter(point_id__in=point_ids, closed_at__isnull=True, date__gte=today)
        .select_related("point")
        .prefetch_related(Prefetch("goods", queryset=goods_light()))
        .order_by("date", "sale_starts_at", "pk")
    )
    out = []
    for d in days:
        due = services.draw_if_due(d)
        if due is not d:
            # The draw ran just now: the returned row has the new counts but not the prefetch.
            d.issued, d.drawn_at, d.version, d.snapshot = (
                due.issued,
                due.drawn_at,
                due.version,
                due.snapshot,
            )
        out.append(d)
    return out


def sms_choices(household, consent=None) -> list[Resident]:
    """Members a text message may go to: their own mobile phones, shown masked. A consent for
    one member offers only that member's phone."""
    qs = (
        Resident.objects.filter(household=household)
        .exclude(presence="moved_out")
        .exclude(phone_enc="")
        .order_by("pk")
    )
    if consent is not None and consent.resident_id:
        qs = qs.filter(pk=consent.resident_id)
    members = list(qs)
    members.sort(key=lambda m: (m.relation != "head", m.pk))
    return members


def _ticket_row(day: SaleDay, t: Ticket) -> dict:
    active = t.status in (Ticket.Status.WAITING, Ticket.Status.CALLED)
    state = services.day_state(day, t.number) if active else None
    return {
        "ticket": t,
        "url": reverse("queues:ticket", args=[t.follow_key]),
        "state": state,
        "can_cancel": t.status == Ticket.Status.WAITING,
    }


def _day_row(day: SaleDay, tickets: list[Ticket], registration, now) -> dict:
    is_draw = day.mode == SaleDay.Mode.DRAW
    before_draw = is_draw and day.drawn_at is None
    taking = day.closed_at is None and day.take_opens_at <= now < day.take_closes_at
    if before_draw:
        may_ask = registration is None
    else:
        may_ask = len(tickets) < day.per_household and day.left > 0
    goods = list(day.goods.all())
    return {
        "day": day,
        "goods": goods[:GOODS_SHOWN],
        "goods_more": max(len(goods) - GOODS_SHOWN, 0),
        "is_draw": is_draw,
        "before_draw": before_draw,
        "taking": taking,
        "not_yet": day.closed_at is None and now < day.take_opens_at,
        "can_take": taking and may_ask,
        "sold_out": not before_draw and day.left == 0,
        "tickets": [_ticket_row(day, t) for t in tickets],
        "registration": registration,
        "registration_url": (
            reverse("queues:ticket", args=[registration.follow_key]) if registration else ""
        ),
        "public_url": reverse("queues:public", args=[day.public_key]),
    }


def _resident(request, household, viewer):
    days = days_for(household)
    if not days:
        return None
    now = timezone.now()
    ids = [d.pk for d in days]
    tickets: dict[int, list[Ticket]] = {}
    for t in Ticket.objects.filter(day_id__in=ids, household=household).order_by("slot"):
        tickets.setdefault(t.day_id, []).append(t)
    regs = {r.day_id: r for r in Registration.objects.filter(day_id__in=ids, household=household)}
    rows = [_day_row(d, tickets.get(d.pk, []), regs.get(d.pk), now) for d in days]
    consent = (viewer or {}).get("consent") if isinstance(viewer, dict) else None
    phones = sms_choices(household, consent) if any(r["can_take"] for r in rows) else []
    return {
        "days": rows,
        "phones": phones,
    }


def _staff(request, household, viewer):
    if not can(request.user, "queue.issue"):
        return None
    tickets = list(
        Ticket.objects.filter(household=household)
        .select_related("day__point")
        .order_by("-taken_at", "-pk")[:STAFF_TICKETS_SHOWN]
    )
    registrations = list(
        Registration.objects.filter(
            household=household, day__drawn_at__isnull=True, day__closed_at__isnull=True
        ).select_related("day__point")
    )
    days = [
        d
        for d in days_for(household)
        if d.closed_at is None and d.take_opens_at <= timezone.now() < d.take_closes_at
    ]
    if not (tickets or registrations or days):
        return None
    return {"tickets": tickets, "registrations": registrations, "open_days": days}


sections.register(
    sections.RESIDENT, Section("queue", "queues/sections/resident.html", _resident, order=20)
)
sections.register(sections.STAFF, Section("queue", "queues/sections/staff.html", _staff, order=30))
