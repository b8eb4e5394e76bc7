"""After the day: what happened at a sale day, and how many tickets the next one should have.

Everything is computed from the tickets' timestamps (one query) so the figures can be rechecked
from the export. Definitions, as the report page states them:

- *Wait for the call*: from taking the ticket to its first call. A ticket taken before the sale
  started is measured from the sale start: waiting at home overnight is not queueing.
- *Call to served*: from the first call to being served (walking over, then the counter).
- *No-show*: called and did not come (skipped, and lost). Tickets still waiting when the day was
  closed were never called; they count as *not reached*, not as no-shows — counting them would
  make a day that ran out of time look like a day of absentees and inflate the suggestion.
- *Service rate*: customers served per hour between the first call and the last one served.
- *Suggested tickets*: rate × sale hours = capacity; capacity ÷ (1 − no-show rate), rounded
  down, because that share of numbers will not turn up.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import statistics
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.core.audit import audit
from shouwang.core.charts import nice_max, tick_label
from shouwang.queues.models import Channel, Goods, Registration, SaleDay, Ticket

# Below this many customers served, the observed rate says more about chance than about the
# counter: fall back to the day's expected seconds per customer.
MIN_SERVED_FOR_RATE = 10
# A no-show rate above this would multiply the tickets beyond reason (a thin or odd day).
MAX_NO_SHOW_RATE = 0.5
MAX_HOURS_SHOWN = 48

S = Ticket.Status


@dataclass
class Wait:
    count: int = 0
    mean_min: float | None = None
    median_min: float | None = None

    @classmethod
    def of(cls, seconds: list[float]) -> Wait:
        if not seconds:
            return cls()
        return cls(
            count=len(seconds),
            mean_min=round(statistics.fmean(seconds) / 60, 1),
            median_min=round(statistics.median(seconds) / 60, 1),
        )


@dataclass
class Hour:
    start: dt.datetime  # local
    served: int = 0
    called: int = 0
    wait_mean_min: float | None = None

    @property
    def label(self) -> str:
        return self.start.strftime("%H:%M")


@dataclass
class Suggestion:
    tickets: int
    capacity: float
    rate_per_hour: float
    sale_hours: float
    no_show_rate: float
    thin: bool
    capped: bool
    steps: list[str] = field(default_factory=list)


@dataclass
class DayReport:
    day: SaleDay
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
    wait_call: Wait
    wait_serve: Wait
    taken_before_start: int
    hours: list[Hour]
    rate_per_hour: float | None
    first_call: dt.datetime | None
    last_served: dt.datetime | None
    no_show_rate: float | None
    goods: list[dict]
    suggestion: Suggestion
    by_channel: dict[str, int]

    @property
    def served_pct(self) -> float | None:
        return round(100 * self.served / self.issued, 1) if self.issued else None

    @property
    def no_show_pct(self) -> float | None:
        return None if self.no_show_rate is None else round(100 * self.no_show_rate, 1)

    def as_dict(self) -> dict:
        """The summary in JSON terms (the API and `queue_report --json`)."""
        d = self.day

        def iso(t):
            return timezone.localtime(t).isoformat(timespec="seconds") if t else None

        def wait(w: Wait):
            return {"count": w.count, "mean_min": w.mean_min, "median_min": w.median_min}

        s = self.suggestion
        return {
            "day_id": d.pk,
            "point": d.point.name,
            "date": d.date.isoformat(),
            "sale_starts_at": iso(d.sale_starts_at),
            "sale_ends_at": iso(d.sale_ends_at),
            "closed": d.closed_at is not None,
            "tickets_total": self.tickets_total,
            "issued": self.issued,
            "served": self.served,
            "no_show": self.no_show,
            "not_reached": self.not_reached,
            "cancelled": self.cancelled,
            "waiting": self.waiting,
            "called_now": self.called_now,
            "registrations": self.registrations,
            "draw_winners": self.draw_winners,
            "by_channel": self.by_channel,
            "wait_call": wait(self.wait_call),
            "wait_serve": wait(self.wait_serve),
            "taken_before_start": self.taken_before_start,
            "rate_per_hour": self.rate_per_hour,
            "first_call": iso(self.first_call),
            "last_served": iso(self.last_served),
            "no_show_rate": None if self.no_show_rate is None else round(self.no_show_rate, 4),
            "hours": [
                {
                    "start": iso(h.start),
                    "served": h.served,
                    "called": h.called,
                    "wait_mean_min": h.wait_mean_min,
                }
                for h in self.hours
            ],
            "goods": [
                {
                    "name": g["name"],
                    "sold_out_at": iso(g["sold_out_at"]),
                    "after_start_min": g["after_start_min"],
                }
                for g in self.goods
            ],
            "suggestion": {
                "tickets": s.tickets,
                "capacity": round(s.capacity, 1),
                "rate_per_hour": round(s.rate_per_hour, 1),
                "sale_hours": round(s.sale_hours, 2),
                "no_show_rate": round(s.no_show_rate, 4),
                "thin": s.thin,
                "capped": s.capped,
                "steps": s.steps,
            },
        }


def _minutes(seconds: float) -> float:
    return round(seconds / 60, 1)


def _hm(t: dt.datetime) -> str:
    return timezone.localtime(t).strftime("%H:%M")


def _pct(rate: float) -> str:
    return f"{100 * rate:.1f} %"


def _num(x: float) -> str:
    return f"{x:.1f}"


def _hour_floor(t: dt.datetime) -> dt.datetime:
    return timezone.localtime(t).replace(minute=0, second=0, microsecond=0)


def _hours(day: SaleDay, rows: list[tuple]) -> list[Hour]:
    """Served per local hour across the sale (and any hour served outside it), with the mean
    wait for the call of the tickets first called in that hour."""
    served_at = [r[5] for r in rows if r[1] == S.SERVED and r[5]]
    start = _hour_floor(min([day.sale_starts_at, *served_at]))
    end_marks = [day.sale_ends_at - dt.timedelta(microseconds=1), *served_at]
    end = _hour_floor(max(end_marks))
    hours: list[Hour] = []
    index: dict[dt.datetime, Hour] = {}
    t = start
    while t <= end and len(hours) < MAX_HOURS_SHOWN:
        h = Hour(start=t)
        hours.append(h)
        index[t] = h
        # Add an hour in UTC terms, then back to local: DST-proof (Shanghai has none today).
        t = timezone.localtime(t + dt.timedelta(hours=1))
    waits: dict[dt.datetime, list[float]] = {}
    for _n, status, _c, taken, first_called, served, _e in rows:
        if status == S.SERVED and served:
            h = index.get(_hour_floor(served))
            if h:
                h.served += 1
        if first_called:
            key = _hour_floor(first_called)
            if key in index:
                index[key].called += 1
                waits.setdefault(key, []).append(_wait_call_seconds(day, taken, first_called))
    for key, values in waits.items():
        index[key].wait_mean_min = _minutes(statistics.fmean(values))
    return hours


def _wait_call_seconds(day: SaleDay, taken: dt.datetime, first_called: dt.datetime) -> float:
    start = max(taken, day.sale_starts_at)
    return max((first_called - start).total_seconds(), 0.0)


def day_report(day: SaleDay) -> DayReport:
    rows = list(
        Ticket.objects.filter(day=day)
        .order_by("number")
        .values_list(
            "number", "status", "channel", "taken_at", "first_called_at", "served_at", "ended_at"
        )
    )
    served = [r for r in rows if r[1] == S.SERVED]
    no_show = [r for r in rows if r[1] == S.NO_SHOW and r[4] is not None]
    not_reached = [r for r in rows if r[1] == S.NO_SHOW and r[4] is None]
    counts = {s: sum(1 for r in rows if r[1] == s) for s in S.values}
    by_channel = {c: sum(1 for r in rows if r[2] == c) for c in Channel.values}

    wait_call = Wait.of([_wait_call_seconds(day, r[3], r[4]) for r in rows if r[4] is not None])
    wait_serve = Wait.of(
        [max((r[5] - r[4]).total_seconds(), 0.0) for r in served if r[4] is not None and r[5]]
    )
    taken_before_start = sum(1 for r in rows if r[4] is not None and r[3] < day.sale_starts_at)

    first_call = min((r[4] for r in rows if r[4] is not None), default=None)
    last_served = max((r[5] for r in served if r[5] is not None), default=None)
    rate = None
    if first_call and last_served and last_served > first_call and served:
        rate = round(len(served) / ((last_served - first_call).total_seconds() / 3600), 1)
    decided = len(served) + len(no_show)
    no_show_rate = len(no_show) / decided if decided else None

    registrations = draw_winners = None
    if day.mode == SaleDay.Mode.DRAW:
        regs = Registration.objects.filter(day=day)
        registrations = regs.count()
        draw_winners = regs.filter(won=True).count()

    goods = []
    for name, sold_out_at in (
        Goods.objects.filter(day=day).order_by("position", "pk").values_list("name", "sold_out_at")
    ):
        after = None
        if sold_out_at:
            after = int((sold_out_at - day.sale_starts_at).total_seconds() // 60)
        goods.append({"name": name, "sold_out_at": sold_out_at, "after_start_min": after})

    return DayReport(
        day=day,
        tickets_total=day.tickets_total,
        issued=day.issued,
        served=len(served),
        no_show=len(no_show),
        not_reached=len(not_reached),
        cancelled=counts[S.CANCELLED],
        waiting=counts[S.WAITING],
        called_now=counts[S.CALLED],
        registrations=registrations,
        draw_winners=draw_winners,
        wait_call=wait_call,
        wait_serve=wait_serve,
        taken_before_start=taken_before_start,
        hours=_hours(day, rows),
        rate_per_hour=rate,
        first_call=first_call,
        last_served=last_served,
        no_show_rate=no_show_rate,
        goods=goods,
        suggestion=suggest(
            day=day,
            served=len(served),
            first_call=first_call,
            last_served=last_served,
            no_shows=len(no_show),
        ),
        by_channel=by_channel,
    )


def suggest(
    *,
    day: SaleDay,
    served: int,
    first_call: dt.datetime | None,
    last_served: dt.datetime | None,
    no_shows: int,
) -> Suggestion:
    """The next sale's ticket count, with the reasoning in words and numbers."""
    steps: list[str] = []
    sale_hours = (day.sale_ends_at - day.sale_starts_at).total_seconds() / 3600
    span = (last_served - first_call).total_seconds() if first_call and last_served else 0
    thin = served < MIN_SERVED_FOR_RATE or span <= 0
    if thin:
        rate = 3600 / day.expected_service_seconds
        steps.append(
            _(
                "Only %(n)d customers were served: too few to measure the counter. Using the "
                "day's expected %(s)d s per customer instead: 3600 ÷ %(s)d = %(rate)s per hour."
            )
            % {"n": served, "s": day.expected_service_seconds, "rate": _num(rate)}
        )
    else:
        rate = served / (span / 3600)
        steps.append(
            _(
                "Service rate: %(n)d served between the first call at %(a)s and the last served "
                "at %(b)s (%(min)s min) = %(rate)s per hour."
            )
            % {
                "n": served,
                "a": _hm(first_call),
                "b": _hm(last_served),
                "min": _num(span / 60),
                "rate": _num(rate),
            }
        )
    capacity = rate * sale_hours
    steps.append(
        _("Sale hours: %(a)s–%(b)s = %(h)s h. Capacity = %(rate)s × %(h)s = %(cap)s customers.")
        % {
            "a": _hm(day.sale_starts_at),
            "b": _hm(day.sale_ends_at),
            "h": f"{sale_hours:.2f}".rstrip("0").rstrip("."),
            "rate": _num(rate),
            "cap": _num(capacity),
        }
    )
    decided = served + no_shows
    observed = no_shows / decided if decided else 0.0
    capped = observed > MAX_NO_SHOW_RATE
    used = min(observed, MAX_NO_SHOW_RATE)
    if decided:
        steps.append(
            _("No-show rate: %(k)d of %(n)d numbers called did not come = %(pct)s.")
            % {"k": no_shows, "n": decided, "pct": _pct(observed)}
        )
    else:
        steps.append(_("No number was called yet: no no-shows to allow for (0 %)."))
    if capped:
        steps.append(
            _("That is unusually high; %(pct)s is used so the sale is not flooded.")
            % {"pct": _pct(MAX_NO_SHOW_RATE)}
        )
    tickets = math.floor(capacity / (1 - used) + 1e-9)
    steps.append(
        _(
            "Suggested tickets = %(cap)s ÷ (1 − %(rate)s) = %(exact)s, rounded down: %(n)d "
            "(this sale had %(total)d)."
        )
        % {
            "cap": _num(capacity),
            "rate": f"{used:.3f}".rstrip("0").rstrip(".") if used else "0",
            "exact": _num(capacity / (1 - used)),
            "n": tickets,
            "total": day.tickets_total,
        }
    )
    return Suggestion(
        tickets=tickets,
        capacity=capacity,
        rate_per_hour=rate,
        sale_hours=sale_hours,
        no_show_rate=used,
        thin=thin,
        capped=capped,
        steps=steps,
    )


# --- the chart --------------------------------------------------------------------------------

CHART_W, CHART_H = 400, 230
PAD_L, PAD_R, PAD_T, PAD_B = 30, 34, 16, 30


def served_chart(hours: list[Hour]) -> dict | None:
    """Geometry of the served-per-hour bars and the wait line, in SVG user units (the template
    draws it; no JavaScript)."""
    if not hours:
        return None
    plot_w = CHART_W - PAD_L - PAD_R
    plot_h = CHART_H - PAD_T - PAD_B
    top_served = nice_max(max(h.served for h in hours))
    waits = [h.wait_mean_min for h in hours if h.wait_mean_min is not None]
    top_wait = nice_max(max(waits)) if waits else None
    slot = plot_w / len(hours)
    bar_w = max(slot * 0.62, 2)
    base = PAD_T + plot_h
    bars, points = [], []
    label_every = max(1, math.ceil(len(hours) / 8))
    for i, h in enumerate(hours):
        x = PAD_L + i * slot + (slot - bar_w) / 2
        height = plot_h * h.served / top_served
        bars.append(
            {
                "x": round(x, 1),
                "y": round(base - height, 1),
                "w": round(bar_w, 1),
                "h": round(height, 1),
                "cx": round(x + bar_w / 2, 1),
                "value": h.served,
                "value_y": round(base - height - 4, 1),
                "label": h.label if i % label_every == 0 else "",
                "full_label": h.label,
                "wait": h.wait_mean_min,
            }
        )
        if top_wait and h.wait_mean_min is not None:
            points.append(
                {
                    "x": round(x + bar_w / 2, 1),
                    "y": round(base - plot_h * h.wait_mean_min / top_wait, 1),
                    "value": h.wait_mean_min,
                }
            )
    ticks = [
        {"y": round(base - plot_h * k / 4, 1), "label": tick_label(top_served * k / 4)}
        for k in range(5)
    ]
    wait_ticks = []
    if top_wait:
        wait_ticks = [
            {"y": round(base - plot_h * k / 4, 1), "label": tick_label(top_wait * k / 4)}
            for k in range(5)
        ]
    return {
        "w": CHART_W,
        "h": CHART_H,
        "left": PAD_L,
        "right": CHART_W - PAD_R,
        "top": PAD_T,
        "base": base,
        "label_y": base + 16,
        "bars": bars,
        "ticks": ticks,
        "wait_ticks": wait_ticks,
        "wait_line": " ".join(f"{p['x']},{p['y']}" for p in points),
        "wait_points": points,
        "wait_label_x": CHART_W - PAD_R + 4,
    }


# --- the export -----------------------------------------------------------------------------


def _local_naive(t: dt.datetime | None):
    # Excel has no time zones: write the committee's local time.
    return timezone.localtime(t).replace(tzinfo=None) if t else None


def report_xlsx(rep: DayReport) -> bytes:
    """Summary, by hour, goods and one row per ticket — numbers and times only: no household,
    name, door or phone, so the file can be shared with the shop and the street office."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    d = rep.day
    wb = Workbook()
    ws = wb.active
    ws.title = _("Summary")
    bold = Font(bold=True)

    def put(label, value, fmt=None):
        ws.append([label, value])
        if fmt:
            ws.cell(row=ws.max_row, column=2).number_format = fmt

    put(_("Point"), d.point.name)
    put(_("Date"), d.date, "yyyy-mm-dd")
    put(_("Sale"), f"{_hm(d.sale_starts_at)}–{_hm(d.sale_ends_at)}")
    put(_("Tickets set"), rep.tickets_total)
    put(_("Tickets issued"), rep.issued)
    if rep.registrations is not None:
        put(_("Draw registrations"), rep.registrations)
    put(_("Served"), rep.served)
    put(_("No-shows (called, did not come)"), rep.no_show)
    put(_("Not reached (still waiting at close)"), rep.not_reached)
    put(_("Cancelled"), rep.cancelled)
    put(_("Still waiting"), rep.waiting + rep.called_now)
    put(_("No-show rate"), rep.no_show_rate, "0.0%")
    put(_("Wait for the call, mean (min)"), rep.wait_call.mean_min)
    put(_("Wait for the call, median (min)"), rep.wait_call.median_min)
    put(_("Call to served, mean (min)"), rep.wait_serve.mean_min)
    put(_("Call to served, median (min)"), rep.wait_serve.median_min)
    put(_("Service rate (per hour)"), rep.rate_per_hour)
    put(_("Suggested tickets next time"), rep.suggestion.tickets)
    for step in rep.suggestion.steps:
        ws.append(["", step])
    for row in ws.iter_rows(min_col=1, max_col=1):
        row[0].font = bold
    ws.column_dimensions["A"].width = 36
    ws.column_dimensions["B"].width = 60

    wh = wb.create_sheet(_("By hour"))
    wh.append([_("Hour"), _("Served"), _("Called"), _("Mean wait for the call (min)")])
    for h in rep.hours:
        wh.append([h.label, h.served, h.called, h.wait_mean_min])

    if rep.goods:
        wg = wb.create_sheet(_("Goods"))
        wg.append([_("Item"), _("Sold out at"), _("Minutes after the sale started")])
        for g in rep.goods:
            wg.append([g["name"], _local_naive(g["sold_out_at"]), g["after_start_min"]])
            wg.cell(row=wg.max_row, column=2).number_format = "hh:mm"

    wt = wb.create_sheet(_("Tickets"))
    wt.append(
        [
            _("Number"),
            _("Status"),
            _("Channel"),
            _("Taken"),
            _("First called"),
            _("Served"),
            _("Wait for the call (min)"),
            _("Call to served (min)"),
        ]
    )
    status_label = dict(S.choices)
    channel_label = dict(Channel.choices)
    rows = (
        Ticket.objects.filter(day=d)
        .order_by("number")
        .values_list("number", "status", "channel", "taken_at", "first_called_at", "served_at")
    )
    for number, status, channel, taken, first_called, served_at in rows.iterator(chunk_size=2000):
        if status == S.NO_SHOW and first_called is None:
            label = _("not reached")
        else:
            label = str(status_label.get(status, status))
        wait = _minutes(_wait_call_seconds(d, taken, first_called)) if first_called else None
        serve = (
            _minutes(max((served_at - first_called).total_seconds(), 0))
            if first_called and served_at
            else None
        )
        wt.append(
            [
                number,
                label,
                str(channel_label.get(channel, channel)),
                _local_naive(taken),
                _local_naive(first_called),
                _local_naive(served_at),
                wait,
                serve,
            ]
        )
        r = wt.max_row
        for col in (4, 5, 6):
            wt.cell(row=r, column=col).number_format = "yyyy-mm-dd hh:mm:ss"
    for col, width in zip("ABCDEFGH", (8, 14, 22, 20, 20, 20, 14, 14), strict=True):
        wt.column_dimensions[col].width = width
    wt.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def report_export(*, actor, day: SaleDay) -> bytes:
    """The .xlsx for a day. Numbers and times only, but a file that leaves the system is logged
    like every export."""
    data = report_xlsx(day_report(day))
    audit(
        actor=actor,
        action="queue.report.export",
        community=day.community_id,
        target=day,
        summary=f"{day.point.name} {day.date} ({len(data)} bytes)",
    )
    return data


def report_text(rep: DayReport) -> list[str]:
    """The summary as lines of text (the `queue_report` command)."""
    d = rep.day
    lines = [
        f"{d.point.name} {d.date:%Y-%m-%d} ({_hm(d.sale_starts_at)}–{_hm(d.sale_ends_at)})",
        _("Tickets: %(issued)d issued of %(total)d")
        % {"issued": rep.issued, "total": rep.tickets_total},
    ]
    if rep.registrations is not None:
        lines.append(
            _("Draw: %(n)d registrations, %(w)d won a number")
            % {"n": rep.registrations, "w": rep.draw_winners or 0}
        )
    lines.append(
        _(
            "Served %(served)d · no-shows %(no_show)d · not reached %(nr)d · cancelled "
            "%(cancelled)d · still waiting %(waiting)d"
        )
        % {
            "served": rep.served,
            "no_show": rep.no_show,
            "nr": rep.not_reached,
            "cancelled": rep.cancelled,
            "waiting": rep.waiting + rep.called_now,
        }
    )

    def w(x: Wait) -> str:
        if not x.count:
            return "—"
        return _("mean %(mean)s min, median %(median)s min") % {
            "mean": x.mean_min,
            "median": x.median_min,
        }

    lines.append(_("Wait for the call: %(w)s") % {"w": w(rep.wait_call)})
    lines.append(_("Call to served: %(w)s") % {"w": w(rep.wait_serve)})
    if rep.rate_per_hour is not None:
        lines.append(_("Service rate: %(r)s per hour") % {"r": rep.rate_per_hour})
    if rep.no_show_rate is not None:
        lines.append(_("No-show rate: %(p)s") % {"p": _pct(rep.no_show_rate)})
    for h in rep.hours:
        wait = "" if h.wait_mean_min is None else f"  ({h.wait_mean_min} min)"
        lines.append(f"  {h.label}  {h.served:4d} {'█' * min(h.served, 60)}{wait}")
    for g in rep.goods:
        if g["sold_out_at"]:
            lines.append(
                _("%(name)s sold out at %(t)s") % {"name": g["name"], "t": _hm(g["sold_out_at"])}
            )
    lines.append(_("Suggested tickets next time: %(n)d") % {"n": rep.suggestion.tickets})
    lines.extend("  " + s for s in rep.suggestion.steps)
    return lines
