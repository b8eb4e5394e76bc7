"""Request and response shapes of the materials API (/api/v1/materials/)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema


class LocationOut(Schema):
    id: int
    name: str
    kind: str
    active: bool


class CellOut(Schema):
    location_id: int
    location: str
    quantity: int
    threshold: int | None = Field(None, description="This place's own alert level, if any.")
    low: bool


class ItemStockOut(Schema):
    id: int
    name: str
    unit: str
    category: str
    low_stock_threshold: int
    active: bool
    total: int
    low: bool = Field(..., description="At or below the threshold in total or at a place.")
    stock: list[CellOut]


class LowStockOut(Schema):
    item_id: int
    name: str
    unit: str
    total: int
    low_stock_threshold: int
    low_total: bool
    places: list[CellOut] = Field(..., description="Places at or below their own level.")


class MovementOut(Schema):
    id: int
    kind: str
    item_id: int
    item: str
    unit: str
    quantity: int
    from_location_id: int | None
    to_location_id: int | None
    recipient_kind: str
    recipient: str
    recipient_user_id: int | None
    reference: str
    note: str
    stock_take_id: int | None
    actor: str
    at: datetime
    created: bool = Field(
        True, description="False when the request key had been used: the earlier movement."
    )


class MovementIn(Schema):
    kind: Literal["receipt", "issue", "transfer"]
    item_id: int
    quantity: int = Field(..., ge=1)
    from_location_id: int | None = Field(None, description="issue and transfer")
    to_location_id: int | None = Field(None, description="receipt and transfer")
    recipient_kind: Literal["team", "checkpoint", "volunteer", "person"] | None = None
    recipient_text: str = Field("", max_length=100)
    recipient_user_id: int | None = None
    reference: str = Field("", max_length=200, description="Supplier or donation note.")
    note: str = Field("", max_length=200)
    request_key: str = Field(
        "",
        max_length=64,
        description="Send the same key when retrying: the movement is made once (200 with the "
        "first one instead of 201).",
    )
