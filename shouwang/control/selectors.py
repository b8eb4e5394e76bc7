"""Reads for the area-control pages and API: the places under a level now, with what lives
there and the countdown to their planned end; the proposals awaiting a decision; the history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from shouwang.control import places as pl
from shouwang.control import services
from shouwang.control.meaning import MEANING
from shouwang.control.models import (
    SEVERITY,
    Control,
    HistoryEntry,
    Level,
    Proposal,
    ProposalStatus,
)


@dataclass
class PlaceRow:
    control: Control
    label: str
    households: int
    people: int
    last_positive: dt.date | None
    days_since_positive: int | None
    days_left: int | None  # to the planned end (negative: passed)
    overdue: bool
    pending_release: bool  # a release approved for a later moment

    @property
    def days_overdue(self) -> int:
        return -(self.days_left or 0)


def _days(a: dt.date, b: dt.date) -> int:
    return (b - a).days


def place_rows(controls, *, now=None) -> list[PlaceRow]:
    now = now or timezone.now()
    controls = list(controls)
    stats = pl.counts([(c.kind, c.place_id) for c in controls])
    today = timezone.localdate(now)
    out = []
    for c in controls:
        s = stats[(c.kind, c.place_id)]
        end = c.planned_end
        days_left = _days(today, timezone.localdate(end)) if end else None
        out.append(
            PlaceRow(
                control=c,
                label=pl.label(c.place),
                households=s["households"],
                people=s["people"],
                last_positive=s["last_positive"],
                days_since_positive=_days(s["last_positive"], today)
                if s["last_positive"]
                else None,
                days_left=days_left,
                overdue=end is not None and end <= now,
                pending_release=c.ended_at is not None,
            )
        )
    return out


def under_control(user, *, now=None) -> list[dict]:
    """[{"level", "label", "meaning", "rows"}] strictest level first."""
    now = now or timezone.now()
    qs = services.with_place(services.current(services.controls_for(user), now=now))
    rows = place_rows(qs.order_by("starts_at", "pk"), now=now)
    groups = []
    for level in sorted({r.control.level for r in rows}, key=lambda v: -SEVERITY[v]):
        groups.append(
            {
                "level": level,
                "label": Level(level).label,
                "meaning": MEANING.get(level, ""),
                "rows": [r for r in rows if r.control.level == level],
            }
        )
    return groups


def pending(user, *, now=None):
    now = now or timezone.now()
    return (
        services.with_place(services.proposals_for(user))
        .filter(status=ProposalStatus.PENDING, expires_at__gt=now)
        .select_related("proposed_by")
        .order_by("proposed_at", "pk")
    )


def recent_decisions(user, limit: int = 10):
    return (
        services.with_place(services.proposals_for(user))
        .exclude(status=ProposalStatus.PENDING)
        .select_related("proposed_by", "decided_by")
        .order_by("-decided_at", "-pk")[:limit]
    )


def history_for(user, *, kind=None, place_id=None, date_from=None, date_to=None):
    from shouwang.accounts.scope import scope_queryset

    qs = scope_queryset(user, HistoryEntry.objects.all())
    if kind and place_id:
        qs = qs.filter(kind=kind, place_id=place_id)
    tz = timezone.get_current_timezone()
    if date_from:
        qs = qs.filter(at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=tz))
    if date_to:
        qs = qs.filter(
            at__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        )
    return qs.order_by("-at", "-pk")


def place_proposals(user, kind: str, place_id: int):
    return (
        services.proposals_for(user)
        .filter(kind=kind, **{pl.FIELD[kind] + "_id": place_id})
        .select_related("proposed_by", "decided_by")
        .order_by("-proposed_at", "-pk")
    )


def place_controls(user, kind: str, place_id: int):
    return (
        services.controls_for(user)
        .filter(kind=kind, **{pl.FIELD[kind] + "_id": place_id})
        .order_by("-starts_at", "-pk")
    )


def proposal_label(p: Proposal) -> str:
    return pl.label(p.place)
