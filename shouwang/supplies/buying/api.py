"""Group buying over the API (/api/v1/buying/): a household's windows and catalogue, orders
placed, changed and cancelled for a household by staff (phoned in, at the desk), payment
records, and the merchant's picking list. The rules are in services.py, as for the pages."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils import timezone
from ninja import Router, Status

from shouwang.accounts.permissions import require
from shouwang.accounts.scope import scope_queryset
from shouwang.registry.selectors import household_get_for
from shouwang.supplies.buying import selectors, services
from shouwang.supplies.buying.models import Channel, Order, OrderWindow
from shouwang.supplies.buying.schemas import (
    HouseholdWindowsOut,
    OrderChangeIn,
    OrderIn,
    OrderOut,
    PaymentIn,
    PickingOut,
    WindowOut,
)
from shouwang.supplies.buying.sections import photo_url

router = Router(tags=["buying"])

LIST_LIMIT = 200


def _window(w: OrderWindow, now=None) -> dict:
    return {
        "id": w.pk,
        "merchant": {"id": w.merchant_id, "name": w.merchant.name},
        "title": w.title,
        "opens_at": w.opens_at,
        "closes_at": w.closes_at,
        "delivery_date": w.delivery_date,
        "state": w.state(now),
    }


def _order(o: Order, created: bool | None = None) -> dict:
    lines = selectors.lines_light().filter(order=o)
    return {
        **_order_head(o),
        "lines": [_line(ln) for ln in lines] if o.status == Order.Status.PLACED else [],
        "created": created,
    }


def _line(ln) -> dict:
    return {
        "product_id": ln.product_id,
        "name": ln.product.name,
        "quantity": ln.quantity,
        "unit_price": ln.unit_price,
    }


def _lines(payload) -> list[tuple[int, int]]:
    return [(ln.product_id, ln.quantity) for ln in payload.lines]


@router.get(
    "/windows",
    response=list[WindowOut],
    url_name="buying_windows",
    summary="Order windows of the caller's community, latest first",
)
def windows_list(request, open_only: bool = False):
    require(request.auth, "buying.order")
    now = timezone.now()
    qs = scope_queryset(request.auth, OrderWindow.objects.select_related("merchant"))
    if open_only:
        qs = qs.filter(status=OrderWindow.Status.OPEN, opens_at__lte=now, closes_at__gt=now)
    return [_window(w, now) for w in qs.order_by("-opens_at", "pk")[:LIST_LIMIT]]


@router.get(
    "/households/{household_id}/windows",
    response=HouseholdWindowsOut,
    url_name="buying_household_windows",
    summary="What a household can order now: windows of the merchants serving it, their "
    "catalogue with stock left, and the household's orders",
)
def household_windows(request, household_id: int):
    require(request.auth, "buying.order")
    household = household_get_for(request.auth, household_id)
    now = timezone.now()
    windows = selectors.windows_for_household(household, now=now)
    orders = selectors.household_orders(household, [w.pk for w in windows])
    return {
        "household_id": household.pk,
        "windows": [
            {
                **_window(w, now),
                "products": [
                    {
                        "id": p.pk,
                        "name": p.name,
                        "specification": p.specification,
                        "unit": p.unit,
                        "price": p.price,
                        "stock": p.stock,
                        "limit": p.limit,
                        "is_bundle": p.is_bundle,
                        "bundle_contents": p.bundle_contents,
                        "photo_url": photo_url(p) or None,
                    }
                    for p in w.merchant.products.all()
                ],
            }
            for w in windows
        ],
        "orders": [_order(o) for o in orders],
    }


@router.post(
    "/windows/{window_id}/orders",
    response={200: OrderOut, 201: OrderOut},
    url_name="buying_order_place",
    summary="Place a household's order (phoned in or at the desk)",
)
def order_place(request, window_id: int, payload: OrderIn):
    """201 with a new order; 200 when the household already had one for the window — it is
    changed to these quantities, so a retry never makes two. 409 `sold_out` (with the product
    in `fields`) when the stock is short; 409 `window_closed`; 403 `not_served`."""
    require(request.auth, "buying.order")
    window = selectors.window_get_for(request.auth, window_id)
    household = household_get_for(request.auth, payload.household_id)
    placed = services.order_place(
        window=window,
        household=household,
        lines=_lines(payload),
        channel=Channel.STAFF,
        actor=request.auth,
        note=payload.note,
    )
    return Status(201 if placed.created else 200, _order(placed.order, placed.created))


@router.get(
    "/windows/{window_id}/orders",
    response=list[OrderOut],
    url_name="buying_window_orders",
    summary="A window's orders (a grid leader's: their grid)",
)
def window_orders(request, window_id: int, offset: int = 0):
    require(request.auth, "buying.order")
    window = selectors.window_get_for(request.auth, window_id)
    qs = (
        selectors.orders_for(request.auth)
        .filter(window=window)
        .prefetch_related(Prefetch("lines", queryset=selectors.lines_light()))
        .order_by("pk")[max(offset, 0) : max(offset, 0) + LIST_LIMIT]
    )
    return [
        {
            **_order_head(o),
            "lines": [_line(ln) for ln in o.lines.all()] if o.status == Order.Status.PLACED else [],
        }
        for o in qs
    ]


def _order_head(o: Order) -> dict:
    return {
        "id": o.pk,
        "window_id": o.window_id,
        "household_id": o.household_id,
        "status": o.status,
        "channel": o.channel,
        "pickup_code": o.pickup_code,
        "total": o.total,
        "payment_status": o.payment_status,
        "payment_method": o.payment_method,
        "note": o.note,
    }


@router.put(
    "/orders/{order_id}",
    response=OrderOut,
    url_name="buying_order_change",
    summary="Change an order's quantities until the window closes (none at all cancels it)",
)
def order_change(request, order_id: int, payload: OrderChangeIn):
    require(request.auth, "buying.order")
    order = selectors.order_get_for(request.auth, order_id)
    o = services.order_change(
        order=order, lines=_lines(payload), actor=request.auth, note=payload.note
    )
    return _order(o)


@router.post(
    "/orders/{order_id}/cancel",
    response=OrderOut,
    url_name="buying_order_cancel",
    summary="Cancel an order until the window closes; its stock goes back",
)
def order_cancel(request, order_id: int):
    require(request.auth, "buying.order")
    o = services.order_cancel(
        order=selectors.order_get_for(request.auth, order_id), actor=request.auth
    )
    return _order(o)


@router.post(
    "/orders/{order_id}/payment",
    response=OrderOut,
    url_name="buying_order_payment",
    summary="Record whether and how an order was paid (Shouwang takes no payments)",
)
def order_payment(request, order_id: int, payload: PaymentIn):
    require(request.auth, "buying.order")
    o = services.payment_record(
        actor=request.auth,
        order=selectors.order_get_for(request.auth, order_id),
        status=payload.payment_status,
        method=payload.payment_method,
    )
    return _order(o)


@router.get(
    "/merchant/windows/{window_id}/picking",
    response=PickingOut,
    url_name="buying_merchant_picking",
    summary="The merchant's picking list for one of its windows: by product and by building",
)
def merchant_picking(request, window_id: int):
    require(request.auth, "buying.merchant")
    w = selectors.merchant_window(request.auth, window_id)
    table = selectors.picking_by_building(w)
    return {
        "window": _window(w),
        "orders": Order.objects.filter(window=w, status=Order.Status.PLACED).count(),
        "products": table["products"],
        "buildings": table["buildings"],
    }
