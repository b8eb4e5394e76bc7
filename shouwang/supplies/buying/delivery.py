"""The delivery chain (issue 5 §4): a closed window's goods go dispatched → arrived at the
checkpoint → disinfected → resting until `rest_until` → released (the batch), then to each
building (its building volunteer), to each door, and the household's receipt is confirmed on its
page or with its pickup code at the door (核销). Problems become a note on the order and an open
request for the staff (the help line's requests ledger is issue 9).

Rules: steps only in order (skipping is refused with what must happen first); doing a done step
again returns it unchanged (retries, two volunteers pressing at once); release is refused before
`rest_until`. A receipt is taken with a conditional UPDATE … WHERE receipt_at IS NULL: two
confirmations at once give one, and the second caller gets the first back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouwang.core.audit import audit, signed_in
from shouwang.core.errors import Conflict, DomainError, NotFound
from shouwang.core.masking import mask_name
from shouwang.supplies.buying.models import (
    BatchBuilding,
    DeliveryBatch,
    Order,
    OrderProblem,
    OrderWindow,
    Receipt,
)

MAX_REST_MINUTES = 24 * 60

STEP_LABELS = {
    "dispatched": gettext_lazy("Dispatched by the merchant"),
    "arrived": gettext_lazy("Arrived at the checkpoint"),
    "disinfected": gettext_lazy("Disinfected"),
    "released": gettext_lazy("Released after resting"),
}
# What the big button says for the next step.
STEP_ACTIONS = {
    "dispatched": gettext_lazy("Dispatched"),
    "arrived": gettext_lazy("Arrived at the checkpoint"),
    "disinfected": gettext_lazy("Disinfected now"),
    "released": gettext_lazy("Release"),
}


def _hm(t) -> str:
    return timezone.localtime(t).strftime("%m-%d %H:%M")


# --- the batch ------------------------------------------------------------------------------


def batch_of(window: OrderWindow) -> DeliveryBatch | None:
    return DeliveryBatch.objects.filter(window_id=window.pk).first()


def _locked_batch(window: OrderWindow, *, create: bool) -> DeliveryBatch | None:
    qs = DeliveryBatch.objects.select_for_update()
    b = qs.filter(window_id=window.pk).first()
    if b is None and create:
        try:
            with transaction.atomic():
                b = DeliveryBatch.objects.create(
                    community_id=window.community_id,
                    window_id=window.pk,
                    rest_minutes=window.merchant.rest_minutes,
                )
        except IntegrityError:  # another press made it just now: one batch per window
            b = qs.get(window_id=window.pk)
    return b


def batch_step(
    *, actor, window: OrderWindow, step: str, checkpoint: str = "", now=None
) -> DeliveryBatch:
    """Do the batch's `step` (dispatched, arrived, disinfected, released). A done step is
    returned unchanged; a step whose previous one is not done is refused."""
    now = now or timezone.now()
    if step not in DeliveryBatch.STEPS:
        raise DomainError("invalid", _("Unknown step."), fields={"step": _("Unknown step.")})
    if step == "dispatched":
        state = window.state(now)
        if state == "cancelled":
            raise Conflict("window_cancelled", _("This window was cancelled: nothing to deliver."))
        if state != "closed":
            raise Conflict(
                "window_open",
                _("The window is still taking orders until %(t)s: dispatch after it closes.")
                % {"t": _hm(window.closes_at)},
            )
    with transaction.atomic():
        b = _locked_batch(window, create=step == "dispatched")
        if b is None:
            raise Conflict(
                "step_order",
                _("The merchant has not dispatched this batch yet: it must be dispatched first."),
            )
        if getattr(b, f"{step}_at") is not None:
            return b
        i = DeliveryBatch.STEPS.index(step)
        if i and getattr(b, f"{DeliveryBatch.STEPS[i - 1]}_at") is None:
            raise Conflict(
                "step_order",
                _("Not yet: first “%(first)s”, then “%(step)s”.")
                % {"first": STEP_LABELS[b.next_step], "step": STEP_LABELS[step]},
            )
        if step == "released" and now < b.rest_until:
            raise Conflict(
                "resting",
                _("The goods are resting after disinfection: they may be released at %(t)s.")
                % {"t": _hm(b.rest_until)},
            )
        setattr(b, f"{step}_at", now)
        setattr(b, f"{step}_by", signed_in(actor))
        fields = [f"{step}_at", f"{step}_by"]
        if step == "arrived":
            b.checkpoint = " ".join(str(checkpoint or "").split())[:100]
            fields.append("checkpoint")
        if step == "disinfected":
            b.rest_until = now + dt.timedelta(minutes=b.rest_minutes)
            fields.append("rest_until")
        b.save(update_fields=fields)
        audit(
            actor=actor,
            action=f"buying.delivery.{step}",
            community=b.community_id,
            target=b,
            summary=str(window)
            + (f" @ {b.checkpoint}" if step == "arrived" and b.checkpoint else ""),
        )
    return b


def batch_rest_set(*, actor, batch: DeliveryBatch, minutes: int) -> DeliveryBatch:
    """Change how long the batch rests after disinfection (staff), until it is released."""
    try:
        minutes = int(minutes)
    except (TypeError, ValueError):
        minutes = -1
    if not 0 <= minutes <= MAX_REST_MINUTES:
        msg = _("The rest must be between 0 and 1,440 minutes (24 hours).")
        raise DomainError("invalid", msg, fields={"minutes": msg})
    with transaction.atomic():
        b = DeliveryBatch.objects.select_for_update().get(pk=batch.pk)
        if b.released_at is not None:
            raise Conflict("released", _("The batch is released already: the rest is over."))
        if b.rest_minutes == minutes:
            return b
        b.rest_minutes = minutes
        if b.disinfected_at is not None:
            b.rest_until = b.disinfected_at + dt.timedelta(minutes=minutes)
        b.save(update_fields=["rest_minutes", "rest_until"])
        audit(
            actor=actor,
            action="buying.delivery.rest",
            community=b.community_id,
            target=b,
            summary=f"{minutes} min",
        )
    return b


# --- buildings and doors --------------------------------------------------------------------


def _need_released(b: DeliveryBatch | None) -> DeliveryBatch:
    if b is None or b.released_at is None:
        raise Conflict(
            "step_order",
            _("The batch has not been released from the checkpoint yet: release it first."),
        )
    return b


def building_arrived(
    *, actor, window: OrderWindow, building, volunteer=None, now=None
) -> BatchBuilding:
    """The batch's goods for `building` are at the building, with its building volunteer (the
    one named, else the person pressing). Twice: the first stays."""
    now = now or timezone.now()
    if building.community_id != window.community_id:
        raise NotFound("not_found", _("Not found."))
    volunteer = volunteer or signed_in(actor)
    with transaction.atomic():
        b = _need_released(_locked_batch(window, create=False))
        try:
            with transaction.atomic():
                bb, _created = BatchBuilding.objects.get_or_create(
                    batch=b, building=building, defaults={"community_id": b.community_id}
                )
        except IntegrityError:
            bb = BatchBuilding.objects.get(batch=b, building=building)
        bb = BatchBuilding.objects.select_for_update().get(pk=bb.pk)
        if bb.at_building_at is not None:
            return bb
        bb.at_building_at, bb.at_building_by = now, signed_in(actor)
        bb.volunteer = bb.volunteer or volunteer
        bb.save(update_fields=["at_building_at", "at_building_by", "volunteer"])
        audit(
            actor=actor,
            action="buying.delivery.building",
            community=b.community_id,
            target=bb,
            summary=f"{building.name}" + (f" → {bb.volunteer}" if bb.volunteer_id else ""),
        )
    return bb


def _at_building(order: Order) -> BatchBuilding:
    """The order's building reached by the batch, or a Conflict saying what comes first."""
    if order.status != Order.Status.PLACED:
        raise Conflict("cancelled", _("This order was cancelled: nothing to deliver."))
    b = _need_released(batch_of(order.window))
    bb = (
        BatchBuilding.objects.select_related("building")
        .filter(batch=b, building_id=order.household.building_id, at_building_at__isnull=False)
        .first()
    )
    if bb is None:
        raise Conflict(
            "step_order",
            _("The goods have not reached the building yet: mark the building first."),
        )
    return bb


def order_delivered(*, actor, order: Order, now=None) -> Order:
    """Ticked: delivered to the door. Twice: the first tick stays."""
    now = now or timezone.now()
    _at_building(order)
    with transaction.atomic():
        with connection.cursor() as c:
            c.execute(
                "UPDATE buying_order SET delivered_at = %s, delivered_by_id = %s "
                "WHERE id = %s AND delivered_at IS NULL",
                [now, getattr(signed_in(actor), "pk", None), order.pk],
            )
            done = c.rowcount == 1
        if done:
            audit(
                actor=actor,
                action="buying.delivery.door",
                community=order.community_id,
                target=order,
            )
    return Order.objects.select_related("window__merchant").get(pk=order.pk)


@dataclass
class Confirmed:
    order: Order
    first: bool  # False: it had been confirmed before; this is that first confirmation


def receipt_confirm(*, order: Order, how: str, actor=None, consent=None, now=None) -> Confirmed:
    """The household has its goods (核销). Confirmed once: a second confirmation (a double tap,
    the volunteer and the resident at once) changes nothing and returns the first. Confirming
    completes "delivered to the door" if nobody ticked it."""
    now = now or timezone.now()
    if how not in Receipt.values:
        raise DomainError("invalid", _("Unknown way of confirming."))
    first = Order.objects.filter(pk=order.pk, receipt_at__isnull=False).first()
    if first is not None:
        return Confirmed(first, False)
    _at_building(order)
    user_id = getattr(signed_in(actor), "pk", None)
    with transaction.atomic():
        with connection.cursor() as c:
            c.execute(
                "UPDATE buying_order SET receipt_at = %s, receipt_how = %s, receipt_by_id = %s, "
                "receipt_consent_id = %s, delivered_at = COALESCE(delivered_at, %s), "
                "delivered_by_id = COALESCE(delivered_by_id, %s) "
                "WHERE id = %s AND receipt_at IS NULL",
                [
                    now,
                    how,
                    user_id,
                    getattr(consent, "pk", None),
                    now,
                    user_id if how == Receipt.CODE else None,
                    order.pk,
                ],
            )
            won = c.rowcount == 1
        if won:
            audit(
                actor=actor,
                action="buying.delivery.receipt",
                community=order.community_id,
                target=order,
                summary=how,
            )
            if consent is not None:
                from shouwang.residents.services import behalf_record

                behalf_record(
                    consent=consent,
                    action="buying.receipt",
                    summary=f"{order.window.merchant.name} {order.pickup_code}",
                    target=order,
                )
    return Confirmed(Order.objects.select_related("window__merchant").get(pk=order.pk), won)


def receipt_by_code(
    *, actor, window: OrderWindow, code: str, building_id: int | None = None, now=None
) -> Confirmed:
    """The volunteer types the pickup code the household reads out; it is looked up in this
    window only (codes repeat across windows)."""
    digits = "".join(ch for ch in str(code or "") if ch.isdigit())
    if not digits:
        msg = _("Type the household's 6-digit pickup code.")
        raise DomainError("invalid", msg, fields={"code": msg})
    order = (
        Order.objects.select_related("window__merchant", "household")
        .filter(window_id=window.pk, pickup_code=digits, status=Order.Status.PLACED)
        .first()
    )
    if order is None:
        msg = _(
            "No order of this window has the pickup code %(c)s. Check the digits with the "
            "household, or look the door up in the list."
        ) % {"c": digits}
        raise DomainError("wrong_code", msg, fields={"code": msg})
    if building_id is not None and order.household.building_id != building_id:
        msg = _("Code %(c)s belongs to an order in another building.") % {"c": digits}
        raise DomainError("wrong_building", msg, fields={"code": msg})
    return receipt_confirm(order=order, how=Receipt.CODE, actor=actor, now=now)


# --- problems -------------------------------------------------------------------------------


def problem_report(
    *, order: Order, kind: str, note: str = "", via: str, actor=None, consent=None
) -> OrderProblem:
    """A missing, damaged or wrong item: an open problem for the staff, and a note on the
    order (kept short there; the problem keeps the whole text)."""
    if kind not in OrderProblem.Kind.values:
        msg = _("Choose what is wrong: missing, damaged, wrong item or other.")
        raise DomainError("invalid", msg, fields={"kind": msg})
    note = " ".join(str(note or "").split())[:300]
    if kind == OrderProblem.Kind.OTHER and not note:
        msg = _("Say in a few words what is wrong.")
        raise DomainError("invalid", msg, fields={"note": msg})
    if order.status != Order.Status.PLACED:
        raise Conflict("cancelled", _("This order was cancelled."))
    if order.window.state() == "open":
        raise Conflict(
            "window_open",
            _("The window is still open: change the order instead of reporting a problem."),
        )
    with transaction.atomic():
        p = OrderProblem.objects.create(
            community_id=order.community_id,
            order=order,
            kind=kind,
            note=note,
            via=via,
            reported_by=signed_in(actor),
            consent=consent,
        )
        o = Order.objects.select_for_update().get(pk=order.pk)
        line = f"[{OrderProblem.Kind(kind).label}] {note}".strip()
        o.note = (f"{o.note} · {line}" if o.note else line)[:200]
        o.save(update_fields=["note", "updated_at"])
        audit(
            actor=actor,
            action="buying.problem.report",
            community=order.community_id,
            target=p,
            summary=f"{order.pickup_code} {kind} {note}"[:200],
        )
        if consent is not None:
            from shouwang.residents.services import behalf_record

            behalf_record(consent=consent, action="buying.problem", summary=line, target=order)
    return p


def problem_resolve(*, actor, problem: OrderProblem, resolution: str = "") -> OrderProblem:
    """Staff close the request, saying what was done. Twice: the first resolution stays."""
    resolution = " ".join(str(resolution or "").split())[:300]
    with transaction.atomic():
        p = OrderProblem.objects.select_for_update().get(pk=problem.pk)
        if p.status == OrderProblem.Status.RESOLVED:
            return p
        p.status, p.resolved_by, p.resolved_at = (
            OrderProblem.Status.RESOLVED,
            signed_in(actor),
            timezone.now(),
        )
        p.resolution = resolution
        p.save(update_fields=["status", "resolved_by", "resolved_at", "resolution"])
        audit(
            actor=actor,
            action="buying.problem.resolve",
            community=p.community_id,
            target=p,
            summary=resolution[:200],
        )
    return p


# --- reads ----------------------------------------------------------------------------------


def batch_steps(b: DeliveryBatch | None) -> list[dict]:
    """The batch's steps with their time and who did them, for the pages and the API."""
    rows = []
    for s in DeliveryBatch.STEPS:
        at = getattr(b, f"{s}_at") if b is not None else None
        by = getattr(b, f"{s}_by") if b is not None and at else None
        rows.append(
            {
                "step": s,
                "label": STEP_LABELS[s],
                "at": at,
                "by": str(by) if by else "",  # the display name, else the username
            }
        )
    return rows


def buildings(window: OrderWindow, *, orders=None) -> list[dict]:
    """Per building with placed orders: the orders, delivered, received, open problems, and the
    batch's arrival there with its volunteer (one GROUP BY and the batch's building rows)."""
    from shouwang.supplies.buying.selectors import natural

    orders = orders if orders is not None else Order.objects.all()
    rows = (
        orders.filter(window=window, status=Order.Status.PLACED)
        .values(
            "household__building_id",
            "household__building__name",
            "household__building__compound__name",
        )
        .annotate(
            n=Count("pk", distinct=True),
            delivered=Count("pk", filter=Q(delivered_at__isnull=False), distinct=True),
            received=Count("pk", filter=Q(receipt_at__isnull=False), distinct=True),
            problems=Count("problems", filter=Q(problems__status="open"), distinct=True),
        )
    )
    at = {
        bb.building_id: bb
        for bb in BatchBuilding.objects.filter(batch__window=window).select_related("volunteer")
    }
    out = []
    for r in rows:
        bb = at.get(r["household__building_id"])
        v = bb.volunteer if bb is not None else None
        out.append(
            {
                "id": r["household__building_id"],
                "name": r["household__building__name"],
                "compound": r["household__building__compound__name"],
                "orders": r["n"],
                "delivered": r["delivered"],
                "received": r["received"],
                "problems": r["problems"],
                "at_building_at": bb.at_building_at if bb is not None else None,
                "volunteer": str(v) if v is not None else "",
            }
        )
    out.sort(key=lambda b: (b["compound"], natural(b["name"])))
    return out


def doors(window: OrderWindow, building_id: int) -> list[dict]:
    """A building's orders sorted by unit and door, for the volunteer's phone: masked head name,
    the lines, delivered and received. No pickup code: the household reads it out."""
    from shouwang.supplies.buying.selectors import lines_light, natural

    orders = list(
        Order.objects.filter(
            window=window, status=Order.Status.PLACED, household__building_id=building_id
        )
        .select_related("household__dwelling__unit", "household__head")
        .only(
            "pk",
            "delivered_at",
            "receipt_at",
            "receipt_how",
            "note",
            "payment_status",
            "total",
            "household__id",
            "household__contact_phone_masked",
            "household__dwelling__door",
            "household__dwelling__unit__name",
            "household__head__name",
        )
    )
    lines: dict[int, list] = {}
    for ln in lines_light().filter(order__in=[o.pk for o in orders]):
        lines.setdefault(ln.order_id, []).append(ln)
    out = []
    for o in orders:
        h = o.household
        unit = h.dwelling.unit.name if h.dwelling.unit_id else ""
        out.append(
            {
                "order": o,
                "unit": unit,
                "door": h.dwelling.door,
                "head": mask_name(h.head.name) if h.head_id else "",
                "phone": h.contact_phone_masked,
                "lines": lines.get(o.pk, []),
                "_key": (natural(unit), natural(h.dwelling.door), o.pk),
            }
        )
    out.sort(key=lambda x: x["_key"])
    return out


def order_chain(order: Order, batch: DeliveryBatch | None, bb: BatchBuilding | None) -> dict:
    """Where one household's order is: the steps with their times, for its page."""
    steps = [
        {"label": _("Ordered"), "at": order.created_at},
        *(
            {"label": s["label"], "at": s["at"]}
            for s in batch_steps(batch)
            if s["step"] != "released"
        ),
    ]
    if batch is not None and batch.rest_until and batch.released_at is None:
        steps.append({"label": _("Resting until %(t)s") % {"t": _hm(batch.rest_until)}, "at": None})
    steps += [
        {"label": STEP_LABELS["released"], "at": batch.released_at if batch else None},
        {"label": _("At your building"), "at": bb.at_building_at if bb else None},
        {"label": _("Delivered to your door"), "at": order.delivered_at},
        {"label": _("Received"), "at": order.receipt_at},
    ]
    current = max((i for i, s in enumerate(steps) if s["at"]), default=0)
    for i, s in enumerate(steps):
        s["done"] = s["at"] is not None
        s["current"] = i == current
    return {
        "steps": steps,
        "can_confirm": order.receipt_at is None and bb is not None and bb.at_building_at,
        "received": order.receipt_at is not None,
    }


def open_problems(orders_qs) -> list[OrderProblem]:
    """Open problems on the orders the caller may see (oldest first)."""
    return list(
        OrderProblem.objects.filter(
            status=OrderProblem.Status.OPEN, order__in=orders_qs.values("pk")
        )
        .select_related(
            "order__window__merchant",
            "order__household__building__compound",
            "order__household__dwelling",
            "reported_by",
        )
        .order_by("created_at", "pk")[:500]
    )
