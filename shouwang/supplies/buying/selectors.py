"""Reads of group buying: windows and catalogues for a household, scoped getters, and the
merchant's picking list and delivery slips.

The picking list is aggregated by the database (GROUP BY product, and building × product):
a window of 3,000 orders is a few thousand lines, summed in one query each, never walked in
Python. The merchant's pages show doors, masked names and masked phones only — no health data,
no ID numbers.
"""

from __future__ import annotations

import re
from collections import defaultdict

from django.db.models import Count, Prefetch, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.accounts.scope import get_scoped, scope_queryset
from shouwang.core.errors import NotFound
from shouwang.core.masking import mask_name
from shouwang.supplies.buying import services
from shouwang.supplies.buying.models import (
    Merchant,
    MerchantMember,
    Order,
    OrderLine,
    OrderWindow,
    Product,
)

ORDER_GRID = "household__building__grid_id"


def products_light():
    """Products without their photo bytes (pages link to the photo URL)."""
    return Product.objects.defer("photo", "thumb")


def lines_light():
    """Order lines with their product's name and unit, not its photo bytes."""
    return (
        OrderLine.objects.select_related("product")
        .defer("product__photo", "product__thumb")
        .order_by("product__position", "product_id")
    )


# --- staff scope ----------------------------------------------------------------------------


def merchants_for(user):
    return scope_queryset(user, Merchant.objects.all())


def merchant_get_for(user, pk) -> Merchant:
    return get_scoped(user, Merchant.objects.all(), pk)


def window_get_for(user, pk) -> OrderWindow:
    return get_scoped(user, OrderWindow.objects.select_related("merchant"), pk)


def product_get_for(user, pk) -> Product:
    return get_scoped(user, products_light().select_related("merchant"), pk)


def orders_for(user):
    """Orders the user may see: the community's; a grid leader's grid only."""
    return scope_queryset(user, Order.objects.all(), grid_path=ORDER_GRID)


def order_get_for(user, pk) -> Order:
    return get_scoped(
        user, Order.objects.select_related("window__merchant"), pk, grid_path=ORDER_GRID
    )


# --- the merchant's own scope ---------------------------------------------------------------


def member_or_404(user) -> MerchantMember:
    m = services.member_of(user)
    if m is None:
        raise NotFound(
            "no_merchant",
            _("Your account is not linked to a merchant yet. Ask the community office."),
        )
    return m


def merchant_window(user, pk) -> OrderWindow:
    """A window of the user's own merchant; 404 for any other (even in the same community)."""
    m = member_or_404(user)
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("not_found", _("Not found.")) from None
    w = (
        OrderWindow.objects.select_related("merchant")
        .filter(pk=pk, merchant_id=m.merchant_id, community_id=user.community_id)
        .first()
    )
    if w is None:
        raise NotFound("not_found", _("Not found."))
    return w


def merchant_order(user, pk) -> Order:
    m = member_or_404(user)
    o = (
        Order.objects.select_related("window__merchant")
        .filter(pk=pk, window__merchant_id=m.merchant_id, community_id=user.community_id)
        .first()
    )
    if o is None:
        raise NotFound("not_found", _("Not found."))
    return o


# --- the household's side -------------------------------------------------------------------


def windows_for_household(household, *, now=None) -> list[OrderWindow]:
    """Windows not closed (open, or opening later) of merchants that deliver to the household,
    with their catalogue (no photo bytes)."""
    now = now or timezone.now()
    ids = [m.pk for m in services.merchants_serving(household)]
    if not ids:
        return []
    return list(
        OrderWindow.objects.filter(
            merchant_id__in=ids, status=OrderWindow.Status.OPEN, closes_at__gt=now
        )
        .select_related("merchant")
        .prefetch_related(
            Prefetch(
                "merchant__products",
                queryset=products_light().filter(active=True).order_by("position", "pk"),
            )
        )
        .order_by("closes_at", "pk")
    )


def household_orders(household, window_ids=None, *, recent_days: int = 7) -> list[Order]:
    """The household's orders for these windows, and those of windows closed lately (their
    pickup codes are still needed at the door)."""
    since = timezone.now() - timezone.timedelta(days=recent_days)
    q = Q(window__closes_at__gte=since)
    if window_ids:
        q |= Q(window_id__in=window_ids)
    return list(
        Order.objects.filter(q, household=household)
        .select_related("window__merchant")
        .prefetch_related(Prefetch("lines", queryset=lines_light()))
        .order_by("-window__closes_at", "pk")
    )


# --- the picking list and the slips ---------------------------------------------------------


def picking_by_product(window: OrderWindow) -> list[dict]:
    """Per product: the quantity to pick and the number of orders, in catalogue order."""
    rows = (
        OrderLine.objects.filter(order__window=window, order__status=Order.Status.PLACED)
        .values(
            "product_id",
            "product__name",
            "product__specification",
            "product__unit",
            "product__is_bundle",
            "product__position",
        )
        .annotate(quantity=Sum("quantity"), orders=Count("order_id"))
        .order_by("product__position", "product_id")
    )
    return [
        {
            "product_id": r["product_id"],
            "name": r["product__name"],
            "specification": r["product__specification"],
            "unit": r["product__unit"],
            "is_bundle": r["product__is_bundle"],
            "quantity": r["quantity"],
            "orders": r["orders"],
        }
        for r in rows
    ]


def picking_by_building(window: OrderWindow) -> dict:
    """{"products": [...], "buildings": [{"id", "name", "orders", "quantities": [q per product]}]}
    — a building × product table, summed by the database."""
    products = picking_by_product(window)
    col = {p["product_id"]: i for i, p in enumerate(products)}
    cells = (
        OrderLine.objects.filter(order__window=window, order__status=Order.Status.PLACED)
        .values(
            "order__household__building_id",
            "order__household__building__compound__name",
            "order__household__building__name",
            "product_id",
        )
        .annotate(quantity=Sum("quantity"))
    )
    counts = dict(
        Order.objects.filter(window=window, status=Order.Status.PLACED)
        .values_list("household__building_id")
        .annotate(n=Count("pk"))
    )
    buildings: dict[int, dict] = {}
    for c in cells:
        bid = c["order__household__building_id"]
        b = buildings.get(bid)
        if b is None:
            b = buildings[bid] = {
                "id": bid,
                "compound": c["order__household__building__compound__name"],
                "name": c["order__household__building__name"],
                "orders": counts.get(bid, 0),
                "quantities": [0] * len(products),
            }
        b["quantities"][col[c["product_id"]]] += c["quantity"]
    ordered = sorted(buildings.values(), key=lambda b: (b["compound"], natural(b["name"])))
    return {"products": products, "buildings": ordered}


_DIGITS = re.compile(r"(\d+)")


def natural(text: str) -> tuple:
    """'2号楼' before '10号楼', door '302' before '1201'."""
    return tuple(int(p) if p.isdigit() else p for p in _DIGITS.split(text or ""))


def slips(window: OrderWindow, *, building_id: int | None = None) -> list[dict]:
    """Delivery slips: per building, its orders sorted by door, each with the label the
    volunteer reads at the door — door, masked head name, masked phone, lines, pickup code."""
    orders = (
        Order.objects.filter(window=window, status=Order.Status.PLACED)
        .select_related(
            "household__building__compound",
            "household__dwelling__unit",
            "household__head",
        )
        .only(
            "pk",
            "pickup_code",
            "total",
            "note",
            "payment_status",
            "payment_method",
            "household__id",
            "household__contact_phone_masked",
            "household__building__id",
            "household__building__name",
            "household__building__compound__name",
            "household__dwelling__door",
            "household__dwelling__unit__name",
            "household__head__name",
        )
    )
    if building_id is not None:
        orders = orders.filter(household__building_id=building_id)
    orders = list(orders)
    lines = defaultdict(list)
    for ln in (
        OrderLine.objects.filter(order__in=[o.pk for o in orders])
        if len(orders) < 900
        else OrderLine.objects.filter(order__window=window, order__status=Order.Status.PLACED)
    ).values("order_id", "quantity", "product__name", "product__unit", "product__position"):
        lines[ln["order_id"]].append(ln)
    by_building: dict[int, dict] = {}
    for o in orders:
        h = o.household
        b = h.building
        entry = by_building.setdefault(
            b.pk, {"id": b.pk, "compound": b.compound.name, "name": b.name, "labels": []}
        )
        unit = h.dwelling.unit.name if h.dwelling.unit_id else ""
        entry["labels"].append(
            {
                "order_id": o.pk,
                "unit": unit,
                "door": h.dwelling.door,
                "head": mask_name(h.head.name) if h.head_id else "",
                "phone": h.contact_phone_masked,
                "code": o.pickup_code,
                "total": o.total,
                "paid": o.payment_status == Order.Payment.PAID,
                "method": o.get_payment_method_display(),
                "note": o.note,
                "lines": [
                    {"name": x["product__name"], "unit": x["product__unit"], "qty": x["quantity"]}
                    for x in sorted(lines[o.pk], key=lambda x: x["product__position"])
                ],
                "_key": (natural(unit), natural(h.dwelling.door), o.pk),
            }
        )
    out = sorted(by_building.values(), key=lambda b: (b["compound"], natural(b["name"])))
    for b in out:
        b["labels"].sort(key=lambda x: x["_key"])
        for x in b["labels"]:
            del x["_key"]
    return out


def problem_get_for(user, pk):
    """An order problem the user may see (a grid leader: their grid's orders)."""
    from shouwang.supplies.buying.models import OrderProblem

    return get_scoped(
        user,
        OrderProblem.objects.select_related("order"),
        pk,
        grid_path="order__" + ORDER_GRID,
    )
