"""/api/v1/helpline/stats?from=&to=: the period's figures as the stats page shows them — shares
pooled and averaged over the days (stats.py explains both), resolution, time to close, overdue,
and each day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from shouwang.accounts.permissions import require
from shouwang.core.errors import invalid
from shouwang.helpline import stats

router = Router()


class GroupOut(Schema):
    group: str
    label: str
    count: int
    share: Decimal | None
    daily_share: Decimal | None


class DayOut(Schema):
    day: dt.date
    requests: int
    by_group: dict[str, int]
    resolved: int
    rate: Decimal | None
    overdue: int
    median_minutes: int | None


class StatsOut(Schema):
    first: dt.date
    last: dt.date
    days: int
    busy_days: int
    requests: int
    per_day: Decimal
    groups: list[GroupOut]
    resolved: int
    unresolved: int
    live: int
    rate: Decimal | None
    daily_rate: Decimal | None
    median_minutes: int | None
    average_minutes: int | None
    overdue: int
    called_back: int
    satisfaction: dict[str, int]
    satisfied_share: Decimal | None
    by_day: list[DayOut]


def _date(value, field):
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise invalid(field, _("Give the date as YYYY-MM-DD.")) from None


@router.get("/stats", response=StatsOut, summary="Figures for a period")
def stats_get(request, from_: str | None = Query(None, alias="from"), to: str | None = None):
    """`from` and `to` are local dates, both included (default: the last 14 days)."""
    user = request.auth
    require(user, "helpline.stats")
    a, b = stats.default_period()
    first = _date(from_, "from") or a
    last = _date(to, "to") or max(first, b)
    if last < first:
        raise invalid("to", _("`to` is before `from`."))
    if (last - first).days >= 366:
        raise invalid("from", _("A year at the most."))
    days, s = stats.report(user.community_id, first, last)
    out = {k: getattr(s, k) for k in StatsOut.model_fields if k not in ("groups", "by_day")}
    out["groups"] = [g.__dict__ for g in s.groups]
    out["by_day"] = [d.__dict__ for d in days]
    return out
