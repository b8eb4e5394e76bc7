"""The help line's figures, as the Xi'an committee reported them: requests per day and per period,
the share of each group (31.15 % livelihood, 26.23 % special needs, 21.32 % policy questions),
the resolution rate (办结率, 93 %), the time to close, overdue requests and what residents said
when called back.

A request counts on the local day it was logged. Two shares are shown for a period:

* the pooled share — the group's requests over all requests of the period;
* the daily average — each day's share, averaged over the days that had requests. This is how
  the committee reported it ("已解答反馈办结率平均为93%"); a busy day weighs as much as a quiet one,
  so the two differ when the days differ in size.

Resolved (办结) means RESOLVED or CLOSED; the time to close runs from intake to resolution. A
request is overdue if it was finished after its due time, or is still live past it. Everything
is counted from the ledger's rows: nothing is cached that could drift from what staff corrected.
"""

from __future__ import annotations

import datetime as dt
import io
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.core.charts import nice_max, tick_label
from shouwang.helpline.models import DONE, LIVE, Group, HelpRequest, Satisfaction

CENT = Decimal("0.01")
TENTH = Decimal("0.1")
# The three groups the Xi'an ledger reported, first in every table.
XIAN = (Group.LIVELIHOOD, Group.SPECIAL, Group.POLICY)


def percent(value: Fraction | None) -> Decimal | None:
    """A fraction as a percentage with two places, half up (0.31145… → 31.15)."""
    if value is None:
        return None
    exact = Decimal(value.numerator) * 100 / Decimal(value.denominator)
    return exact.quantize(CENT, rounding=ROUND_HALF_UP)


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(0)))


@dataclass
class Row:
    """One request, as the figures need it."""

    day: dt.date
    group: str
    status: str
    minutes: int | None  # intake to resolution
    overdue: bool
    satisfaction: str


def rows(community_id: int, first: dt.date, last: dt.date, *, now=None) -> list[Row]:
    now = now or timezone.now()
    qs = HelpRequest.objects.filter(
        community_id=community_id,
        created_at__gte=_midnight(first),
        created_at__lt=_midnight(last + dt.timedelta(days=1)),
    ).values_list("created_at", "group", "status", "resolved_at", "due_at", "satisfaction")
    out = []
    for created, group, status, resolved, due, satisfaction in qs.iterator(chunk_size=2000):
        if resolved is not None and status not in LIVE:
            minutes = int((resolved - created).total_seconds() // 60)
            late = resolved > due
        else:
            minutes = None
            late = due < now
        out.append(
            Row(timezone.localtime(created).date(), group, status, minutes, late, satisfaction)
        )
    return out


@dataclass
class GroupShare:
    group: str
    label: str
    count: int
    share: Decimal | None  # pooled, percent
    daily_share: Decimal | None  # the average of the daily shares, percent


@dataclass
class Day:
    day: dt.date
    requests: int
    by_group: dict[str, int]
    resolved: int
    rate: Decimal | None
    overdue: int
    median_minutes: int | None

    @property
    def xian(self) -> list[int]:
        """The day's requests of the three Xi'an groups, in order."""
        return [self.by_group.get(g, 0) for g in XIAN]


@dataclass
class Summary:
    first: dt.date
    last: dt.date
    days: int  # days in the period
    busy_days: int  # days with at least one request (the daily averages' denominator)
    requests: int
    per_day: Decimal  # requests over the days of the period
    groups: list[GroupShare]
    resolved: int
    unresolved: int
    live: int
    rate: Decimal | None  # pooled
    daily_rate: Decimal | None  # the average of the daily rates
    median_minutes: int | None
    average_minutes: int | None
    overdue: int
    called_back: int
    satisfaction: dict[str, int] = field(default_factory=dict)
    satisfied_share: Decimal | None = None  # of those reached

    def group(self, g: str) -> GroupShare:
        return next(s for s in self.groups if s.group == g)


def _median(values: list[int]) -> int | None:
    if not values:
        return None
    return int(Decimal(statistics.median(values)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _mean(values: list[int]) -> int | None:
    if not values:
        return None
    return int((Decimal(sum(values)) / len(values)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def by_day(community_id: int, first: dt.date, last: dt.date, *, data=None) -> list[Day]:
    """Every day of the period, zeros included."""
    data = rows(community_id, first, last) if data is None else data
    per: dict[dt.date, list[Row]] = defaultdict(list)
    for r in data:
        per[r.day].append(r)
    out = []
    day = first
    while day <= last:
        rs = per.get(day, [])
        resolved = sum(1 for r in rs if r.status in DONE)
        out.append(
            Day(
                day=day,
                requests=len(rs),
                by_group=dict(Counter(r.group for r in rs)),
                resolved=resolved,
                rate=percent(Fraction(resolved, len(rs))) if rs else None,
                overdue=sum(1 for r in rs if r.overdue),
                median_minutes=_median([r.minutes for r in rs if r.minutes is not None]),
            )
        )
        day += dt.timedelta(days=1)
    return out


def summary(community_id: int, first: dt.date, last: dt.date, *, data=None, days=None) -> Summary:
    data = rows(community_id, first, last) if data is None else data
    days = by_day(community_id, first, last, data=data) if days is None else days
    busy = [d for d in days if d.requests]
    n = len(data)
    count = Counter(r.group for r in data)

    def daily(fn) -> Decimal | None:
        # Exact fractions, rounded once at the end: the average of 31.1475 % and 31.1525 % is
        # 31.15 %, not the average of two rounded figures.
        if not busy:
            return None
        return percent(sum((fn(d) for d in busy), Fraction(0)) / len(busy))

    groups = [
        GroupShare(
            group=g,
            label=str(Group(g).label),
            count=count.get(g, 0),
            share=percent(Fraction(count.get(g, 0), n)) if n else None,
            daily_share=daily(lambda d, g=g: Fraction(d.by_group.get(g, 0), d.requests)),
        )
        for g in [*XIAN, *(g for g in Group.values if g not in XIAN)]
    ]
    resolved = sum(1 for r in data if r.status in DONE)
    minutes = [r.minutes for r in data if r.minutes is not None and r.status in DONE]
    sat = Counter(r.satisfaction for r in data if r.satisfaction)
    reached = sum(v for k, v in sat.items() if k != Satisfaction.UNREACHABLE)
    span = (last - first).days + 1
    return Summary(
        first=first,
        last=last,
        days=span,
        busy_days=len(busy),
        requests=n,
        per_day=(Decimal(n) / span).quantize(TENTH, rounding=ROUND_HALF_UP),
        groups=groups,
        resolved=resolved,
        unresolved=sum(1 for r in data if r.status == "unresolved"),
        live=sum(1 for r in data if r.status in LIVE),
        rate=percent(Fraction(resolved, n)) if n else None,
        daily_rate=daily(lambda d: Fraction(d.resolved, d.requests)),
        median_minutes=_median(minutes),
        average_minutes=_mean(minutes),
        overdue=sum(1 for r in data if r.overdue),
        called_back=sum(sat.values()),
        satisfaction={str(Satisfaction(k).label): v for k, v in sat.items()},
        satisfied_share=(
            percent(Fraction(sat.get(Satisfaction.SATISFIED, 0), reached)) if reached else None
        ),
    )


def default_period(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The last 14 days, today included."""
    today = today or timezone.localdate()
    return today - dt.timedelta(days=13), today


def duration(minutes: int | None) -> str:
    """Minutes as "2 h 05 min" (or "—")."""
    if minutes is None:
        return "—"
    h, m = divmod(minutes, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min"


# --- the chart ----------------------------------------------------------------------------------

CHART_DAYS = 62
CHART_GROUPS = (*XIAN, "rest")


def chart(days: list[Day]) -> dict | None:
    """Requests per day, each bar stacked by group (the three Xi'an groups, then the rest)."""
    shown = days[-CHART_DAYS:]
    if not any(d.requests for d in shown):
        return None
    w, h, left, right, top, bottom = 640, 220, 36, 632, 12, 190
    top_value = nice_max(max(d.requests for d in shown))
    scale = (bottom - top) / top_value
    slot = (right - left) / len(shown)
    bar_w = max(slot * 0.75, 1.0)
    step = max(1, round(len(shown) / 8))
    bars = []
    for i, d in enumerate(shown):
        x = left + i * slot + (slot - bar_w) / 2
        y = float(bottom)
        parts = []
        counts = [d.by_group.get(g, 0) for g in XIAN]
        counts.append(d.requests - sum(counts))
        for g, c in zip(CHART_GROUPS, counts, strict=True):
            if not c:
                continue
            hh = c * scale
            y -= hh
            parts.append({"group": g, "y": round(y, 1), "h": round(hh, 1), "count": c})
        bars.append(
            {
                "x": round(x, 1),
                "w": round(bar_w, 1),
                "lx": round(x + bar_w / 2, 1),
                "day": d.day,
                "requests": d.requests,
                "parts": parts,
                "label": d.day.strftime("%m-%d") if i % step == 0 else "",
            }
        )
    ticks = [
        {"y": round(bottom - top_value * k / 4 * scale, 1), "label": tick_label(top_value * k / 4)}
        for k in range(5)
    ]
    return {
        "w": w,
        "h": h,
        "left": left,
        "right": right,
        "label_y": bottom + 18,
        "bars": bars,
        "ticks": ticks,
        "shown": len(shown),
    }


# --- the table as the page, the CLI and the export show it --------------------------------------


def report(community_id: int, first: dt.date, last: dt.date) -> tuple[list[Day], Summary]:
    """A period's days and summary from one read of its requests: what the page, the API, the
    CLI and the export show."""
    data = rows(community_id, first, last)
    days = by_day(community_id, first, last, data=data)
    return days, summary(community_id, first, last, data=data, days=days)


def pct(v) -> str:
    """A percentage as shown, or a dash for none (no requests)."""
    return "—" if v is None else f"{v} %"


def table(s: Summary) -> list[tuple[str, str]]:
    """The summary's lines, label and value, in the page's order."""
    out = [
        (_("Period"), f"{s.first.isoformat()} – {s.last.isoformat()} ({s.days})"),
        (_("Requests"), str(s.requests)),
        (_("Requests per day"), str(s.per_day)),
        (_("Resolved"), str(s.resolved)),
        (_("Resolution rate (pooled)"), pct(s.rate)),
        (_("Resolution rate (average of the days)"), pct(s.daily_rate)),
        (_("Time to close, median"), duration(s.median_minutes)),
        (_("Time to close, average"), duration(s.average_minutes)),
        (_("Overdue"), str(s.overdue)),
        (_("Still open"), str(s.live)),
        (_("Called back"), str(s.called_back)),
        (_("Satisfied (of those reached)"), pct(s.satisfied_share)),
    ]
    return out


def xlsx(community_id: int, first: dt.date, last: dt.date) -> bytes:
    """Summary, by group (count, pooled share, average daily share) and by day."""
    return xlsx_of(*report(community_id, first, last))


def xlsx_of(days: list[Day], s: Summary) -> bytes:
    """The export of a report already made."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = _("Summary")
    bold = Font(bold=True)
    for label, value in table(s):
        ws.append([label, value])
    for row in ws.iter_rows(min_col=1, max_col=1):
        row[0].font = bold
    ws.column_dimensions["A"].width = 38
    ws.column_dimensions["B"].width = 28

    wg = wb.create_sheet(_("By group"))
    wg.append([_("Group"), _("Requests"), _("Share %"), _("Average daily share %")])
    for g in s.groups:
        wg.append(
            [
                g.label,
                g.count,
                float(g.share) if g.share is not None else None,
                float(g.daily_share) if g.daily_share is not None else None,
            ]
        )
    wg.column_dimensions["A"].width = 34

    wd = wb.create_sheet(_("By day"))
    groups = [g.group for g in s.groups]
    wd.append(
        [
            _("Date"),
            _("Requests"),
            *[str(Group(g).label) for g in groups],
            _("Resolved"),
            _("Resolution rate %"),
            _("Overdue"),
            _("Median minutes to close"),
        ]
    )
    for d in days:
        wd.append(
            [
                d.day,
                d.requests,
                *[d.by_group.get(g, 0) for g in groups],
                d.resolved,
                float(d.rate) if d.rate is not None else None,
                d.overdue,
                d.median_minutes,
            ]
        )
        wd.cell(row=wd.max_row, column=1).number_format = "yyyy-mm-dd"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
