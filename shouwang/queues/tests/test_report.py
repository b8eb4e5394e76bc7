"""After the day: figures from known timestamps, the suggested ticket count with its reasoning,
the chart, the page and the export (no personal data)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from shouwang.core import testing as t
from shouwang.core.models import AuditEvent
from shouwang.queues import report, services
from shouwang.queues.goods import goods_save, goods_sold_out
from shouwang.queues.models import Channel, Goods, Notify, SaleDay, Ticket

D = dt.date(2022, 4, 10)


def at(h, m=0, s=0, day=D) -> dt.datetime:
    return timezone.make_aware(dt.datetime(day.year, day.month, day.day, h, m, s))


def make_day(actor, *, tickets_total=50, start=(9, 0), end=(12, 0), spc=60, mode="first_come"):
    point = services.point_save(actor=actor, name="松林超市 三村摊位", location="三村高层边小广场")
    fields = {
        "date": D,
        "take_opens_at": at(20, day=D - dt.timedelta(days=1)),
        "take_closes_at": at(*end),
        "sale_starts_at": at(*start),
        "sale_ends_at": at(*end),
        "tickets_total": tickets_total,
        "expected_service_seconds": spc,
        "mode": mode,
    }
    if mode == "draw":
        fields["draw_at"] = at(7)
    return services.day_create(actor=actor, point=point, **fields)


def take(day, community, n, *, channel=Channel.HOUSEHOLD, notify=Notify.PAGE, phone=""):
    """n tickets for n new households (each with a named resident and a phone)."""
    b = t.make_building(community, "三村", "7号楼")
    out = []
    for i in range(n):
        h = t.make_household(community, building=b, door=f"门{1100 + Ticket.objects.count() + i}")
        t.make_resident(h, name=f"李秘密{i}", phone=f"+861391234{5000 + i:04d}")
        taken = services.ticket_take(
            day=day,
            household=h,
            channel=channel,
            notify=notify,
            sms_phone=phone or f"+861391234{5000 + i:04d}",
            now=at(8),
        )
        out.append(taken.ticket)
    return out


def setat(ticket, **fields):
    Ticket.objects.filter(pk=ticket.pk).update(**fields)


@pytest.fixture
def known_day(personas, community):
    """12 served (6 taken before the sale), 2 no-shows, 1 given back, 2 not reached, 2 goods.

    served i = 1…12: first called 09:00 + 5(i−1) min, served 2 min later.
      i = 1…6 taken at 08:00 → waits from the sale start: 0, 5, 10, 15, 20, 25 min.
      i = 7…11 taken 10 min before the call, i = 12 taken 13 min before.
    no-shows 13, 14: taken 08:30, called 10:00 and 10:05 → waits 60, 65 min.
    15 given back; 16, 17 still waiting when the day is closed (not reached)."""
    staff = personas["staff"]
    day = make_day(staff)
    tickets = take(day, community, 3, channel=Channel.STAFF)
    tickets += take(day, community, 12, notify=Notify.SMS)
    tickets += take(day, community, 2)
    assert [x.number for x in tickets] == list(range(1, 18))
    for i, tk in enumerate(tickets[:12], start=1):
        called = at(9) + dt.timedelta(minutes=5 * (i - 1))
        if i <= 6:
            taken = at(8)
        else:
            taken = called - dt.timedelta(minutes=13 if i == 12 else 10)
        setat(
            tk,
            status=Ticket.Status.SERVED,
            taken_at=taken,
            first_called_at=called,
            called_at=called,
            served_at=called + dt.timedelta(minutes=2),
            ended_at=called + dt.timedelta(minutes=2),
            call_count=1,
        )
    for tk, called in zip(tickets[12:14], (at(10), at(10, 5)), strict=True):
        setat(
            tk,
            status=Ticket.Status.NO_SHOW,
            taken_at=at(8, 30),
            first_called_at=called,
            called_at=called,
            ended_at=called + dt.timedelta(minutes=3),
            call_count=2,
        )
    services.ticket_cancel(ticket=tickets[14])
    setat(tickets[14], taken_at=at(8, 40))
    cabbage = goods_save(actor=staff, day=day, name="大白菜", price="3.5", unit="斤")
    goods_save(actor=staff, day=day, name="鸡蛋", price="15", unit="盒")
    goods_sold_out(actor=staff, goods=cabbage)
    Goods.objects.filter(pk=cabbage.pk).update(sold_out_at=at(9, 40))
    services.day_close(actor=staff, day=day)
    return SaleDay.objects.select_related("point").get(pk=day.pk)


@pytest.fixture
def en():
    c = Client()
    c.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


# --- the figures ----------------------------------------------------------------------------


def test_figures_from_known_timestamps(known_day):
    rep = report.day_report(known_day)
    assert (rep.tickets_total, rep.issued) == (50, 17)
    assert (rep.served, rep.no_show, rep.not_reached, rep.cancelled) == (12, 2, 2, 1)
    assert (rep.waiting, rep.called_now) == (0, 0)
    assert rep.registrations is None and rep.draw_winners is None
    assert rep.by_channel == {"household": 14, "staff": 3, "proxy": 0}
    # Waits for the call: 0 5 10 15 20 25 | 10 10 10 10 10 13 | 60 65 → mean 263/14, median 10.
    assert (rep.wait_call.count, rep.wait_call.mean_min, rep.wait_call.median_min) == (14, 18.8, 10)
    assert (rep.wait_serve.count, rep.wait_serve.mean_min, rep.wait_serve.median_min) == (12, 2, 2)
    assert rep.taken_before_start == 8
    # 12 served from the first call 09:00 to the last served 09:57: 12 / 0.95 h.
    assert rep.first_call == at(9) and rep.last_served == at(9, 57)
    assert rep.rate_per_hour == 12.6
    assert rep.no_show_rate == pytest.approx(2 / 14)
    assert rep.served_pct == 70.6 and rep.no_show_pct == 14.3
    assert [(h.label, h.served, h.called, h.wait_mean_min) for h in rep.hours] == [
        ("09:00", 12, 12, 11.5),
        ("10:00", 0, 2, 62.5),
        ("11:00", 0, 0, None),
    ]
    assert rep.goods == [
        {"name": "大白菜", "sold_out_at": at(9, 40), "after_start_min": 40},
        {"name": "鸡蛋", "sold_out_at": None, "after_start_min": None},
    ]


def test_suggestion_with_its_reasoning(known_day):
    s = report.day_report(known_day).suggestion
    # capacity = 12/0.95 × 3 = 37.89; ÷ (1 − 2/14) = 44.2 → 44.
    assert s.tickets == 44
    assert s.capacity == pytest.approx(12 / 0.95 * 3)
    assert s.rate_per_hour == pytest.approx(12 / 0.95)
    assert s.sale_hours == 3 and s.no_show_rate == pytest.approx(2 / 14)
    assert not s.thin and not s.capped
    assert s.steps == [
        "Service rate: 12 served between the first call at 09:00 and the last served at 09:57 "
        "(57.0 min) = 12.6 per hour.",
        "Sale hours: 09:00–12:00 = 3 h. Capacity = 12.6 × 3 = 37.9 customers.",
        "No-show rate: 2 of 14 numbers called did not come = 14.3 %.",
        "Suggested tickets = 37.9 ÷ (1 − 0.143) = 44.2, rounded down: 44 (this sale had 50).",
    ]


def test_thin_day_falls_back_to_the_expected_time(personas, community):
    day = make_day(personas["staff"], tickets_total=20, start=(9, 0), end=(11, 0), spc=90)
    tickets = take(day, community, 5)
    for i, tk in enumerate(tickets[:3]):
        called = at(9, 10 * i)
        setat(
            tk, status="served", first_called_at=called, served_at=called + dt.timedelta(minutes=1)
        )
    setat(tickets[3], status="no_show", first_called_at=at(9, 40), ended_at=at(9, 45))
    s = report.day_report(day).suggestion
    # 3600 / 90 = 40 per hour × 2 h = 80; no-shows 1 of 4 = 25 % → 80 / 0.75 = 106.7 → 106.
    assert s.thin and s.rate_per_hour == 40 and s.capacity == 80
    assert s.no_show_rate == 0.25 and s.tickets == 106
    assert s.steps[0].startswith("Only 3 customers were served: too few to measure the counter.")
    assert "expected 90 s per customer" in s.steps[0]


def test_a_very_high_no_show_rate_is_capped(personas, community):
    day = make_day(personas["staff"], tickets_total=30, spc=60)
    tickets = take(day, community, 30)
    for i, tk in enumerate(tickets[:10]):
        called = at(9, 6 * i)
        setat(
            tk, status="served", first_called_at=called, served_at=called + dt.timedelta(minutes=1)
        )
    for tk in tickets[10:30]:
        setat(tk, status="no_show", first_called_at=at(10, 30), ended_at=at(10, 35))
    s = report.day_report(day).suggestion
    # 10 served 09:00 → 09:55 = 10.9/h × 3 h = 32.7; no-shows 20/30 = 66.7 % → capped at 50 %.
    assert not s.thin and s.capped and s.no_show_rate == 0.5
    assert s.tickets == int(10 / (55 / 60) * 3 / 0.5)
    assert any("50.0 %" in step for step in s.steps)


def test_empty_day_reports_without_errors(personas):
    day = make_day(personas["staff"])
    rep = report.day_report(day)
    assert rep.issued == 0 and rep.wait_call.count == 0 and rep.wait_call.mean_min is None
    assert rep.rate_per_hour is None and rep.no_show_rate is None
    assert rep.suggestion.thin and rep.suggestion.tickets == 180  # 60/h × 3 h, no no-shows
    assert [h.served for h in rep.hours] == [0, 0, 0]
    chart = report.served_chart(rep.hours)
    assert chart["wait_points"] == [] and all(b["h"] == 0 for b in chart["bars"])


def test_chart_geometry(known_day):
    rep = report.day_report(known_day)
    chart = report.served_chart(rep.hours)
    plot_h = report.CHART_H - report.PAD_T - report.PAD_B
    # 12 served at most → the scale goes to 20.
    assert [tick["label"] for tick in chart["ticks"]] == ["0", "5", "10", "15", "20"]
    assert [b["h"] for b in chart["bars"]] == [round(plot_h * 12 / 20, 1), 0, 0]
    assert [b["label"] for b in chart["bars"]] == ["09:00", "10:00", "11:00"]
    assert [p["value"] for p in chart["wait_points"]] == [11.5, 62.5]
    # Both waits drawn on the right scale, 0 to 80 min in steps of 20.
    assert [tick["label"] for tick in chart["wait_ticks"]] == ["0", "20", "40", "60", "80"]
    assert chart["wait_points"][1]["y"] == round(chart["base"] - plot_h * 62.5 / 80, 1)


def test_as_dict_for_the_api(known_day):
    d = report.day_report(known_day).as_dict()
    assert d["served"] == 12 and d["suggestion"]["tickets"] == 44
    assert d["first_call"] == "2022-04-10T09:00:00+08:00"
    assert d["hours"][0] == {
        "start": "2022-04-10T09:00:00+08:00",
        "served": 12,
        "called": 12,
        "wait_mean_min": 11.5,
    }
    assert d["goods"][0]["after_start_min"] == 40


def test_draw_day_counts_registrations(personas, community):
    day = make_day(personas["staff"], tickets_total=2, mode="draw")
    b = t.make_building(community, "三村", "8号楼")
    for i in range(3):
        h = t.make_household(community, building=b, door=f"80{i}")
        services.ticket_take(day=day, household=h, now=at(6, 30))
    services.draw_run(day=day, now=at(7))
    rep = report.day_report(SaleDay.objects.get(pk=day.pk))
    assert rep.registrations == 3 and rep.draw_winners == 2 and rep.issued == 2


# --- the page and the export ----------------------------------------------------------------


def test_report_page(en, personas, known_day):
    en.force_login(personas["staff"])
    resp = en.get(f"/queue/days/{known_day.pk}/report/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "<svg" in html and '<title id="chart-svg-title">' in html and "<desc" in html
    assert "09:00: 12 served, wait 11.5 min." in html
    assert "8 tickets were taken before the sale started" in html
    assert "18.8 min" in html and "12.6 customers per hour" in html
    assert "Suggested tickets = 37.9 ÷ (1 − 0.143) = 44.2, rounded down: 44" in html
    assert "sold out at 09:40" in html and "40 minutes after the start" in html
    assert "李秘密" not in html


@pytest.mark.parametrize(
    "role,status",
    [
        ("admin", 200),
        ("staff", 200),
        ("grid_leader", 200),
        ("volunteer", 403),
        ("guard", 403),
        ("resident", 403),
        ("outsider", 404),
    ],
)
def test_report_permissions(en, personas, known_day, role, status):
    en.force_login(personas[role])
    assert en.get(f"/queue/days/{known_day.pk}/report/").status_code == status
    assert en.get(f"/queue/days/{known_day.pk}/report.xlsx").status_code == status


def test_xlsx_has_the_rows_and_no_personal_data(en, personas, known_day):
    en.force_login(personas["staff"])
    resp = en.get(f"/queue/days/{known_day.pk}/report.xlsx")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="queue-20220410-' in resp["Content-Disposition"]
    wb = load_workbook(io.BytesIO(resp.content))
    assert wb.sheetnames == ["Summary", "By hour", "Goods", "Tickets"]
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r[0]}
    assert summary["Tickets issued"] == 17 and summary["Served"] == 12
    assert summary["Suggested tickets next time"] == 44
    rows = list(wb["Tickets"].iter_rows(values_only=True))
    assert rows[0][:3] == ("Number", "Status", "Channel")
    assert [r[0] for r in rows[1:]] == list(range(1, 18))
    first = rows[1]
    assert first[1] == "served" and first[3] == dt.datetime(2022, 4, 10, 8, 0)
    assert first[4] == dt.datetime(2022, 4, 10, 9, 0) and first[6] == 0 and first[7] == 2
    assert rows[16][1] == "not reached" and rows[13][1] == "no-show" and rows[15][1] == "cancelled"
    assert list(wb["By hour"].iter_rows(values_only=True))[1] == ("09:00", 12, 12, 11.5)
    text = " ".join(
        str(c) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for c in r if c
    )
    assert "李秘密" not in text
    for phone in ("1391234", "139****", "+86"):
        assert phone not in text
    assert "门" not in text and "7号楼" not in text
    assert AuditEvent.objects.filter(
        action="queue.report.export", actor=personas["staff"], target_id=str(known_day.pk)
    ).exists()
