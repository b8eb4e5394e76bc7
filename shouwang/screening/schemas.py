"""Request and response shapes of the rounds, points, results and visit-list API
(/api/v1/screening/)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from ninja import Field, Schema


class RoundIn(Schema):
    kind: str = Field("mass", description="mass | door | antigen")
    number: int | None = Field(None, description="Omitted: the next number of this kind.")
    date: date
    starts_at: time
    ends_at: time
    pool_size: int = 10
    compound_ids: list[int] = []
    building_ids: list[int] = []
    grid_ids: list[int] = Field([], description="No area chosen: the whole community.")
    control_levels: list[str] = Field(
        [],
        description="Only the homes under one of these control levels (sealed | close_contact "
        "| controlled | precaution), within the areas; empty: every home in the areas.",
    )
    point_ids: list[int] = []
    note: str = ""


class RoundOut(Schema):
    id: int
    kind: str
    number: int
    date: date
    starts_at: time
    ends_at: time
    pool_size: int
    compound_ids: list[int]
    building_ids: list[int]
    grid_ids: list[int]
    control_levels: list[str]
    point_ids: list[int]
    note: str
    closed_at: datetime | None
    sampled: int


class CloseOut(Schema):
    id: int
    closed_at: datetime | None
    already: bool


class LaneOut(Schema):
    id: int
    kind: str
    starts_at: time
    ends_at: time
    note: str


class PointIn(Schema):
    name: str
    kind: str = "compound"
    place: str = ""
    opens_at: time
    closes_at: time
    staff_ids: list[int] = []
    active: bool = True
    note: str = ""


class PointOut(Schema):
    id: int
    name: str
    kind: str
    place: str
    opens_at: time
    closes_at: time
    staff_ids: list[int]
    active: bool
    note: str
    lanes: list[LaneOut]


class LaneIn(Schema):
    kind: str
    starts_at: time
    ends_at: time
    note: str = ""


class RowErrorOut(Schema):
    line: int
    column: str
    message: str


class ImportOut(Schema):
    round_id: int
    filename: str
    rows: int
    negatives: int
    positives: int
    invalid: int
    unchanged: int = Field(..., description="Rows giving the result the tube already has.")
    already: bool = Field(..., description="This file was imported into the round before.")
    committed: bool
    import_id: int | None
    flagged: int = Field(..., description="People flagged for a single-tube re-test.")
    visit_lists: list[int]
    positive_tubes: list[str]
    errors: list[RowErrorOut] = Field(..., description="Every wrong row; nothing is imported.")


class TubeResultIn(Schema):
    result: str = Field(..., description="negative | positive | invalid")
    ct_value: Decimal | None = None
    at: datetime | None = None


class TubeOut(Schema):
    id: int
    round_id: int
    code: str
    capacity: int
    result: str
    ct_value: Decimal | None
    result_at: datetime | None
    people: int


class TubeResultOut(Schema):
    tube: TubeOut
    changed: bool
    flagged: int
    positives: int
    cleared: int
    visit_list_id: int | None


class VisitListIn(Schema):
    reason: str = Field(..., description="bedridden | requested | sealed")
    name: str = ""
    team: str = ""
    assignee_ids: list[int] = []
    household_ids: list[int] = Field([], description="For reason requested.")


class VisitListOut(Schema):
    id: int
    round_id: int
    name: str
    reason: str
    team: str
    assignee_ids: list[int]
    source_tube_id: int | None
    total: int
    visited: int
    not_home: int
    refused: int
    pending: int


class VisitOut(Schema):
    id: int
    household_id: int
    compound: str
    building: str
    unit: str
    door: str
    phone_masked: str
    people: list[str]
    status: str
    note: str
    at: datetime | None


class VisitListDetailOut(VisitListOut):
    visits: list[VisitOut]


class VisitRecordIn(Schema):
    status: str = Field(..., description="visited | not_home | refused | pending")
    note: str | None = Field(None, description="Omitted: the note there is stays.")
