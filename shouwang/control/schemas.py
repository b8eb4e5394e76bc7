"""Request and response shapes of the area-control API (/api/v1/control/)."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Schema


class PlaceOut(Schema):
    kind: str = Field(description="compound | building | unit")
    id: int
    label: str


class ControlOut(Schema):
    id: int
    place: PlaceOut
    level: str
    reason: str
    starts_at: datetime
    planned_end: datetime | None
    ended_at: datetime | None = Field(description="Set when a release is approved for later.")
    overdue: bool = Field(description="The planned end has passed.")
    days_left: int | None
    households: int
    people: int
    last_positive: date | None
    proposal_id: int


class ProposalIn(Schema):
    kind: str = Field(description="compound | building | unit")
    place_id: int
    level: str = Field(description="sealed | close_contact | controlled | precaution | none")
    reason: str
    evidence: str = ""
    starts_at: datetime | None = Field(None, description="Omitted: when approved.")
    planned_end: datetime | None = Field(
        None, description="Omitted: 14 days for sealed, close_contact, controlled."
    )
    expires_at: datetime | None = Field(None, description="Omitted: in 24 hours.")


class ProposalOut(Schema):
    id: int
    place: PlaceOut
    level: str
    reason: str
    evidence: str
    source: str = Field(description="manual | positive | pooled")
    status: str = Field(description="pending | approved | rejected | withdrawn | expired")
    starts_at: datetime
    planned_end: datetime | None
    proposed_by: int | None = Field(description="Null: proposed by the system from a result.")
    proposed_at: datetime
    expires_at: datetime
    decided_by: int | None
    decided_at: datetime | None
    decision_note: str


class DecisionIn(Schema):
    note: str = ""


class HistoryOut(Schema):
    id: int
    at: datetime
    event: str
    place: PlaceOut
    level_before: str
    level: str
    reason: str
    evidence: str
    starts_at: datetime | None
    planned_end: datetime | None
    proposal_id: int | None
    actor_id: int | None
    actor_name: str
    note: str
