"""Group buying's sections of the household pages (see shouwang.core.sections).

Residents see the open windows of the merchants that deliver to them, with the catalogue and a
form of quantities, and their orders with the pickup code; staff who take phone orders see the
household's recent orders."""

from __future__ import annotations

from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone

from shouwang.accounts.permissions import can
from shouwang.core import sections
from shouwang.core.sections import Section
from shouwang.supplies.buying import delivery, selectors
from shouwang.supplies.buying.models import BatchBuilding, DeliveryBatch, Order, OrderProblem


def photo_url(p, *, thumb: bool = False) -> str:
    if not p.photo_hash:
        return ""
    url = reverse("buying:photo", args=[p.pk, p.photo_hash])
    return url + "?thumb=1" if thumb else url


def _resident(request, household, viewer):
    now = timezone.now()
    windows = selectors.windows_for_household(household, now=now)
    orders = selectors.household_orders(household, [w.pk for w in windows])
    if not windows and not orders:
        return None
    by_window = {o.window_id: o for o in orders}
    rows = []
    for w in windows:
        o = by_window.pop(w.pk, None)
        mine = (
            {ln.product_id: ln.quantity for ln in o.lines.all()}
            if o is not None and o.status == Order.Status.PLACED
            else {}
        )
        products = []
        for p in w.merchant.products.all():
            top = p.stock + mine.get(p.pk, 0)  # what this household could have
            if p.limit:
                top = min(top, p.limit)
            products.append(
                {
                    "p": p,
                    "thumb": photo_url(p, thumb=True),
                    "photo": photo_url(p),
                    "mine": mine.get(p.pk, 0),
                    "max": top,
                    "sold_out": top == 0,
                }
            )
        rows.append(
            {
                "window": w,
                "state": w.state(now),
                "order": o if o is not None and o.status == Order.Status.PLACED else None,
                "products": products,
            }
        )
    past = [o for o in by_window.values() if o.status == Order.Status.PLACED]
    if past:
        batches = {
            b.window_id: b
            for b in DeliveryBatch.objects.filter(window_id__in=[o.window_id for o in past])
        }
        at = {
            bb.batch_id: bb
            for bb in BatchBuilding.objects.filter(
                batch__in=batches.values(), building_id=household.building_id
            )
        }
        for o in past:
            b = batches.get(o.window_id)
            o.chain = delivery.order_chain(o, b, at.get(b.pk) if b is not None else None)
    return {"windows": rows, "past": past, "kinds": OrderProblem.Kind.choices}


def _staff(request, household, viewer):
    if not can(request.user, "buying.order"):
        return None
    orders = list(
        Order.objects.filter(household=household)
        .select_related("window__merchant")
        .prefetch_related(Prefetch("lines", queryset=selectors.lines_light()))
        .order_by("-created_at")[:5]
    )
    open_windows = [w for w in selectors.windows_for_household(household) if w.state() == "open"]
    if not orders and not open_windows:
        return None
    return {"orders": orders, "open_windows": open_windows}


sections.register(
    sections.RESIDENT, Section("buying", "buying/sections/resident.html", _resident, order=25)
)
sections.register(sections.STAFF, Section("buying", "buying/sections/staff.html", _staff, order=35))
