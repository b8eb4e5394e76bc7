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
from shouwang.supplies.buying import delivery, selectors, services
from shouwang.supplies.buying.models import Channel, Order, OrderWindow
from shouwang.supplies.buying.schemas import (
    AtBuildingIn,
    AtBuildingOut,
    CodeIn,
    DeliveryOut,
    HouseholdWindowsOut,
    OrderChangeIn,
    OrderIn,
    OrderOut,
    PaymentIn,
    PickingOut,
    ProblemIn,
    ProblemOut,
    ReceiptOut,
    ResolveIn,
    StepIn,
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


# --- the delivery chain ---------------------------------------------------------------------


def _delivery(w: OrderWindow) -> dict:
    b = delivery.batch_of(w)
    return {
        "window": _window(w),
        "dispatched": b is not None and b.dispatched_at is not None,
        "step": b.step if b is not None else "",
        "next_step": b.next_step if b is not None else "dispatched",
        "checkpoint": b.checkpoint if b is not None else "",
        "rest_minutes": b.rest_minutes if b is not None else None,
        "rest_until": b.rest_until if b is not None else None,
        "steps": [{**s, "label": str(s["label"])} for s in delivery.batch_steps(b)],
        "buildings": delivery.buildings(w),
    }


@router.get(
    "/windows/{window_id}/delivery",
    response=DeliveryOut,
    url_name="buying_delivery",
    summary="Where a window's delivery is: the batch's steps and each building's progress",
)
def delivery_state(request, window_id: int):
    require(request.auth, "buying.deliver")
    return _delivery(selectors.window_get_for(request.auth, window_id))


@router.post(
    "/windows/{window_id}/delivery/steps",
    response=DeliveryOut,
    url_name="buying_delivery_step",
    summary="Do the batch's next step: dispatched, arrived (with checkpoint), disinfected, "
    "released. A done step returns unchanged; 409 `step_order` when one is skipped, "
    "409 `resting` before the rest is over",
)
def delivery_step(request, window_id: int, payload: StepIn):
    require(request.auth, "buying.deliver")
    w = selectors.window_get_for(request.auth, window_id)
    delivery.batch_step(
        actor=request.auth, window=w, step=payload.step, checkpoint=payload.checkpoint
    )
    return _delivery(w)


@router.post(
    "/windows/{window_id}/delivery/buildings/{building_id}",
    response=AtBuildingOut,
    url_name="buying_delivery_building",
    summary="The goods are at the building, with its building volunteer (default: the caller)",
)
def delivery_building(request, window_id: int, building_id: int, payload: AtBuildingIn):
    from shouwang.accounts.models import User
    from shouwang.registry.selectors import building_get_for

    require(request.auth, "buying.deliver")
    w = selectors.window_get_for(request.auth, window_id)
    building = building_get_for(request.auth, building_id)
    volunteer = None
    if payload.volunteer_id:
        volunteer = User.objects.filter(
            pk=payload.volunteer_id, community_id=request.auth.community_id
        ).first()
    bb = delivery.building_arrived(
        actor=request.auth, window=w, building=building, volunteer=volunteer
    )
    return {
        "building_id": bb.building_id,
        "at_building_at": bb.at_building_at,
        "volunteer_id": bb.volunteer_id,
    }


def _receipt(c) -> dict:
    o = c.order
    return {
        "order_id": o.pk,
        "household_id": o.household_id,
        "first": c.first,
        "delivered_at": o.delivered_at,
        "receipt_at": o.receipt_at,
        "receipt_how": o.receipt_how,
    }


@router.post(
    "/windows/{window_id}/delivery/confirm",
    response=ReceiptOut,
    url_name="buying_delivery_confirm",
    summary="Confirm receipt with the pickup code the household reads out (核销); a confirmed "
    "order returns its first confirmation (`first`: false); 400 `wrong_code`",
)
def delivery_confirm(request, window_id: int, payload: CodeIn):
    require(request.auth, "buying.deliver")
    w = selectors.window_get_for(request.auth, window_id)
    return _receipt(
        delivery.receipt_by_code(
            actor=request.auth, window=w, code=payload.code, building_id=payload.building_id
        )
    )


@router.post(
    "/orders/{order_id}/delivered",
    response=ReceiptOut,
    url_name="buying_order_delivered",
    summary="Delivered to the door (once the goods are at the building)",
)
def order_delivered(request, order_id: int):
    from shouwang.supplies.buying.delivery import Confirmed

    require(request.auth, "buying.deliver")
    o = delivery.order_delivered(
        actor=request.auth, order=selectors.order_get_for(request.auth, order_id)
    )
    return _receipt(Confirmed(o, False))


@router.post(
    "/orders/{order_id}/receipt",
    response=ReceiptOut,
    url_name="buying_order_receipt",
    summary="Staff confirm the household's receipt (e.g. it phoned the office)",
)
def order_receipt(request, order_id: int):
    require(request.auth, "buying.order")
    order = selectors.order_get_for(request.auth, order_id)
    return _receipt(delivery.receipt_confirm(order=order, how="staff", actor=request.auth))


def _problem(p) -> dict:
    return {
        "id": p.pk,
        "order_id": p.order_id,
        "window_id": p.order.window_id,
        "household_id": p.order.household_id,
        "kind": p.kind,
        "note": p.note,
        "via": p.via,
        "status": p.status,
        "created_at": p.created_at,
        "resolution": p.resolution,
    }


@router.post(
    "/orders/{order_id}/problems",
    response={201: ProblemOut},
    url_name="buying_order_problem",
    summary="Report a problem (missing, damaged, wrong, other): a note on the order and an open "
    "request for the staff",
)
def order_problem(request, order_id: int, payload: ProblemIn):
    require(request.auth, "buying.deliver")
    order = selectors.order_get_for(request.auth, order_id)
    p = delivery.problem_report(
        order=order, kind=payload.kind, note=payload.note, via="staff", actor=request.auth
    )
    return Status(201, _problem(p))


@router.get(
    "/problems",
    response=list[ProblemOut],
    url_name="buying_problems",
    summary="Open delivery problems (a grid leader's: their grid), oldest first",
)
def problems_open(request):
    require(request.auth, "buying.order")
    return [_problem(p) for p in delivery.open_problems(selectors.orders_for(request.auth))]


@router.post(
    "/problems/{problem_id}/resolve",
    response=ProblemOut,
    url_name="buying_problem_resolve",
    summary="Resolve a problem, saying what was done (twice: the first resolution stays)",
)
def problem_resolve(request, problem_id: int, payload: ResolveIn):
    require(request.auth, "buying.order")
    p = selectors.problem_get_for(request.auth, problem_id)
    return _problem(
        delivery.problem_resolve(actor=request.auth, problem=p, resolution=payload.note)
    )


@router.post(
    "/merchant/windows/{window_id}/dispatch",
    response=DeliveryOut,
    url_name="buying_merchant_dispatch",
    summary="The merchant dispatches a closed window's goods (the chain's first step)",
)
def merchant_dispatch(request, window_id: int):
    require(request.auth, "buying.merchant")
    w = selectors.merchant_window(request.auth, window_id)
    delivery.batch_step(actor=request.auth, window=w, step="dispatched")
    return _delivery(w)
