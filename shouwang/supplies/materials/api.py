"""The materials store over the API (/api/v1/materials/): items with their stock, places,
low-stock alerts, the movement history, and receipts / issues / transfers. The rules are in
services.py, as for the pages."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from ninja import Router, Status

from shouwang.accounts.models import User
from shouwang.accounts.permissions import require
from shouwang.accounts.scope import get_scoped, scope_queryset
from shouwang.core.errors import invalid
from shouwang.supplies.materials import selectors, services
from shouwang.supplies.materials.models import Item, Location, Movement
from shouwang.supplies.materials.schemas import (
    ItemStockOut,
    LocationOut,
    LowStockOut,
    MovementIn,
    MovementOut,
)

router = Router(tags=["materials"])

LIST_LIMIT = 500


def _cells(cells) -> list[dict]:
    return [
        {
            "location_id": c.location.pk,
            "location": c.location.name,
            "quantity": c.quantity,
            "threshold": c.threshold,
            "low": c.low,
        }
        for c in cells
    ]


def _movement(m: Movement, created: bool = True) -> dict:
    return {
        "id": m.pk,
        "kind": m.kind,
        "item_id": m.item_id,
        "item": m.item.name,
        "unit": m.item.unit,
        "quantity": m.quantity,
        "from_location_id": m.from_location_id,
        "to_location_id": m.to_location_id,
        "recipient_kind": m.recipient_kind,
        "recipient": m.recipient,
        "recipient_user_id": m.recipient_user_id,
        "reference": m.reference,
        "note": m.note,
        "stock_take_id": m.stock_take_id,
        "actor": m.actor.username if m.actor_id else "",
        "at": m.at,
        "created": created,
    }


@router.get(
    "/items",
    response=list[ItemStockOut],
    url_name="materials_items",
    summary="Items with their stock at each place and in total",
)
def items(request, include_inactive: bool = False):
    require(request.auth, "materials.view")
    m = selectors.stock_matrix(request.auth.community_id, include_inactive=include_inactive)
    return [
        {
            "id": r.item.pk,
            "name": r.item.name,
            "unit": r.item.unit,
            "category": r.item.category,
            "low_stock_threshold": r.item.low_stock_threshold,
            "active": r.item.active,
            "total": r.total,
            "low": r.low,
            "stock": _cells(r.cells),
        }
        for r in m.rows
    ]


@router.get(
    "/locations",
    response=list[LocationOut],
    url_name="materials_locations",
    summary="Places that hold stock (office, checkpoints, warehouses)",
)
def locations(request):
    require(request.auth, "materials.view")
    return list(scope_queryset(request.auth, Location.objects.all()))


@router.get(
    "/low-stock",
    response=list[LowStockOut],
    url_name="materials_low_stock",
    summary="Items at or below their low-stock threshold, in total or at a place",
)
def low_stock(request):
    require(request.auth, "materials.view")
    return [
        {
            "item_id": r.item.pk,
            "name": r.item.name,
            "unit": r.item.unit,
            "total": r.total,
            "low_stock_threshold": r.item.low_stock_threshold,
            "low_total": r.low_total,
            "places": _cells(r.low_places),
        }
        for r in selectors.low_stock(request.auth.community_id)
    ]


@router.get(
    "/movements",
    response=list[MovementOut],
    url_name="materials_movements",
    summary="The movement ledger, latest first",
)
def movements(
    request,
    item_id: int | None = None,
    location_id: int | None = None,
    kind: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: int = 100,
):
    require(request.auth, "materials.view")
    f = selectors.MovementFilter(
        item=item_id, location=location_id, kind=kind, since=since, until=until
    )
    qs = selectors.movements(request.auth.community_id, f)
    return [_movement(m) for m in qs[: max(1, min(limit, LIST_LIMIT))]]


def _place(request, pk: int | None, field: str) -> Location:
    if pk is None:
        raise invalid(field, _("Say which place (%(field)s).") % {"field": field})
    return get_scoped(request.auth, Location.objects.all(), pk)


@router.post(
    "/movements",
    response={200: MovementOut, 201: MovementOut},
    url_name="materials_movement_create",
    summary="Record a receipt, an issue or a transfer",
)
def movement_create(request, payload: MovementIn):
    """201 with the new movement; 200 with the earlier one when `request_key` was used before.
    409 `insufficient_stock` (with what is in stock in the message) when an issue or transfer
    asks for more than the place holds."""
    require(request.auth, "materials.manage")
    item = get_scoped(request.auth, Item.objects.all(), payload.item_id)
    common = {
        "actor": request.auth,
        "item": item,
        "quantity": payload.quantity,
        "note": payload.note,
        "request_key": payload.request_key,
    }
    if payload.kind == "receipt":
        posted = services.receipt(
            location=_place(request, payload.to_location_id, "to_location_id"),
            reference=payload.reference,
            **common,
        )
    elif payload.kind == "issue":
        user = None
        if payload.recipient_user_id is not None:
            user = get_scoped(request.auth, User.objects.all(), payload.recipient_user_id)
        posted = services.issue(
            location=_place(request, payload.from_location_id, "from_location_id"),
            recipient_kind=payload.recipient_kind or "",
            recipient_text=payload.recipient_text,
            recipient_user=user,
            **common,
        )
    else:
        posted = services.transfer(
            from_location=_place(request, payload.from_location_id, "from_location_id"),
            to_location=_place(request, payload.to_location_id, "to_location_id"),
            **common,
        )
    m = Movement.objects.select_related("item", "actor", "recipient_user").get(
        pk=posted.movement.pk
    )
    return Status(201 if posted.created else 200, _movement(m, posted.created))
