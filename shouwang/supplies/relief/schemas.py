"""Request and response shapes of the relief API (/api/v1/relief/)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema


class BatchOut(Schema):
    id: int
    title: str
    contents: list[str]
    status: str
    portions_available: int
    per_household: int
    large_threshold: int
    large_portions: int
    tag_extras: dict[str, int] = Field(
        ..., description="CareTag value -> extra portions per member living here with the tag."
    )
    scope: str
    compound_ids: list[int]
    grid_ids: list[int]
    control_levels: list[str] = Field(..., description="Scope `control`: the levels.")
    partial: bool
    issued_at: datetime | None


class TotalsOut(Schema):
    households: int
    people: int
    portions: int
    large: int


class GroupOut(Schema):
    id: int | None
    name: str
    totals: TotalsOut


class LeftOutOut(Schema):
    household_id: int
    place: str
    portions: int


class PreviewOut(Schema):
    batch_id: int
    portions_available: int
    total: TotalsOut
    shortfall: int
    empty_households: int = Field(..., description="In scope, nobody living there: nothing.")
    by_compound: list[GroupOut]
    by_grid: list[GroupOut]
    by_building: list[GroupOut]
    left_out_count: int
    left_out_portions: int
    left_out: list[LeftOutOut] = Field(..., description="The first 200, in list order.")


class IssueIn(Schema):
    partial: bool = Field(
        False, description="Confirm issuing fewer portions than the rule gives (list order)."
    )


class IssueOut(Schema):
    batch_id: int
    status: str
    already: bool = Field(..., description="True when the batch was issued before: nothing done.")
    created: int
    portions: int
    left_out: int


class AllocationOut(Schema):
    id: int
    household_id: int
    building: str
    door: str
    head_masked: str
    phone_masked: str
    people: int
    portions: int
    status: str
    recorded_at: datetime | None
    note: str
    follow_up: str


class RecordIn(Schema):
    status: Literal["delivered", "not_home", "refused", "pending"]
    note: str = Field("", max_length=200)
