"""Request and response shapes of the queue API (/api/v1/queue/)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from ninja import Field, Schema


class PointOut(Schema):
    id: int
    name: str
    kind: str
    location: str


class DaySummaryOut(Schema):
    id: int
    point: PointOut
    date: date
    title: str
    mode: str
    tickets_total: int
    issued: int
    left: int
    sale_starts_at: datetime
    sale_ends_at: datetime
    closed: bool
    version: int


class DayOut(DaySummaryOut):
    take_opens_at: datetime
    take_closes_at: datetime
    per_household: int
    come_when: int
    skip_policy: str
    grace_seconds: int
    expected_service_seconds: int
    draw_at: datetime | None
    drawn_at: datetime | None
    draw_seed_hash: str = Field(
        ..., description="SHA-256 of the draw seed, public before the draw."
    )
    draw_seed: str | None = Field(None, description="Published once the draw has run.")
    registered: int
    public_url: str = Field(..., description="The public page (no login, numbers only).")
    state: dict[str, Any] = Field(
        ..., description="What the public pages show: serving, next, waiting, left, spt …"
    )


class TicketIn(Schema):
    household_id: int
    notify: Literal["page", "sms", "knock"] = "page"
    sms_phone: str = Field("", max_length=30, description="Mobile number for notify=sms.")


class TakenOut(Schema):
    created: bool
    kind: Literal["ticket", "registration"]
    ticket_id: int | None
    number: int | None = Field(None, description="The ticket number (None while in the draw).")
    registration_code: int | None = Field(None, description="R-code in the draw, before it runs.")
    status: str
    follow_url: str = Field(..., description="The page that follows this number (print its QR).")


class CallIn(Schema):
    action: Literal["next", "serve_next", "recall", "serve", "skip", "undo"]
    ticket_id: int | None = Field(None, description="recall/serve/skip: which called number.")
    version: int | None = Field(
        None, description="The day's version the staff saw; a stale one is refused with 409."
    )


class TicketOut(Schema):
    id: int
    number: int
    status: str


class CallOut(Schema):
    action: str
    ticket: TicketOut | None
    version: int
    state: dict[str, Any]


class ReportOut(Schema):
    """The after-the-day summary; see shouwang/queues/report.py for the definitions."""

    day_id: int
    point: str
    date: str
    sale_starts_at: str
    sale_ends_at: str
    closed: bool
    tickets_total: int
    issued: int
    served: int
    no_show: int
    not_reached: int
    cancelled: int
    waiting: int
    called_now: int
    registrations: int | None
    draw_winners: int | None
    by_channel: dict[str, int]
    wait_call: dict[str, Any]
    wait_serve: dict[str, Any]
    taken_before_start: int
    rate_per_hour: float | None
    first_call: str | None
    last_served: str | None
    no_show_rate: float | None
    hours: list[dict[str, Any]]
    goods: list[dict[str, Any]]
    suggestion: dict[str, Any]
