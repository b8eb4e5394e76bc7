"""Request and response shapes of the group buying API (/api/v1/buying/)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from ninja import Field, Schema


class ProductOut(Schema):
    id: int
    name: str
    specification: str
    unit: str
    price: Decimal
    stock: int
    limit: int
    is_bundle: bool
    bundle_contents: str
    photo_url: str | None = None


class MerchantOut(Schema):
    id: int
    name: str


class WindowOut(Schema):
    id: int
    merchant: MerchantOut
    title: str
    opens_at: datetime
    closes_at: datetime
    delivery_date: date | None
    state: str


class WindowCatalogueOut(WindowOut):
    products: list[ProductOut]


class LineIn(Schema):
    product_id: int
    quantity: int = Field(..., ge=0, le=999)


class OrderIn(Schema):
    household_id: int
    lines: list[LineIn]
    note: str = ""


class OrderChangeIn(Schema):
    lines: list[LineIn]
    note: str = ""


class LineOut(Schema):
    product_id: int
    name: str
    quantity: int
    unit_price: Decimal


class OrderOut(Schema):
    id: int
    window_id: int
    household_id: int
    status: str
    channel: str
    pickup_code: str
    total: Decimal
    payment_status: str
    payment_method: str
    note: str
    lines: list[LineOut]
    created: bool | None = None


class HouseholdWindowsOut(Schema):
    household_id: int
    windows: list[WindowCatalogueOut]
    orders: list[OrderOut]


class PaymentIn(Schema):
    payment_status: str
    payment_method: str


class PickProductOut(Schema):
    product_id: int
    name: str
    specification: str
    unit: str
    is_bundle: bool
    quantity: int
    orders: int


class PickBuildingOut(Schema):
    id: int
    compound: str
    name: str
    orders: int
    quantities: list[int]


class PickingOut(Schema):
    window: WindowOut
    orders: int
    products: list[PickProductOut]
    buildings: list[PickBuildingOut]


# --- the delivery chain ---------------------------------------------------------------------


class StepOut(Schema):
    step: str
    label: str
    at: datetime | None
    by: str


class DeliveryBuildingOut(Schema):
    id: int
    compound: str
    name: str
    orders: int
    delivered: int
    received: int
    problems: int
    at_building_at: datetime | None
    volunteer: str


class DeliveryOut(Schema):
    window: WindowOut
    dispatched: bool
    step: str
    next_step: str
    checkpoint: str
    rest_minutes: int | None
    rest_until: datetime | None
    steps: list[StepOut]
    buildings: list[DeliveryBuildingOut]


class StepIn(Schema):
    step: str
    checkpoint: str = ""


class AtBuildingIn(Schema):
    volunteer_id: int | None = None


class AtBuildingOut(Schema):
    building_id: int
    at_building_at: datetime | None
    volunteer_id: int | None


class CodeIn(Schema):
    code: str
    building_id: int | None = None


class ReceiptOut(Schema):
    order_id: int
    household_id: int
    first: bool
    delivered_at: datetime | None
    receipt_at: datetime | None
    receipt_how: str


class ProblemIn(Schema):
    kind: str
    note: str = ""


class ProblemOut(Schema):
    id: int
    order_id: int
    window_id: int
    household_id: int
    kind: str
    note: str
    via: str
    status: str
    created_at: datetime
    resolution: str


class ResolveIn(Schema):
    note: str = ""
