"""`shouwang queue_draw` (cron) and `shouwang queue_report <day> [--xlsx FILE]`."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from openpyxl import load_workbook

from shouwang.core import testing as t
from shouwang.core.models import AuditEvent
from shouwang.queues import services
from shouwang.queues.models import SaleDay, Ticket


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def make_day(actor, **kw) -> SaleDay:
    now = timezone.now()
    point = services.point_save(actor=actor, name="松林超市 三村摊位")
    fields = {
        "date": timezone.localdate(),
        "take_opens_at": now - dt.timedelta(hours=3),
        "take_closes_at": now + dt.timedelta(hours=4),
        "sale_starts_at": now + dt.timedelta(hours=1),
        "sale_ends_at": now + dt.timedelta(hours=3),
        "tickets_total": 2,
        **kw,
    }
    return services.day_create(actor=actor, point=point, **fields)


def test_queue_draw_runs_due_draws_once(personas, community):
    now = timezone.now()
    due = make_day(personas["staff"], mode="draw", draw_at=now - dt.timedelta(minutes=1))
    later = make_day(personas["staff"], mode="draw", draw_at=now + dt.timedelta(hours=1))
    b = t.make_building(community, "三村", "1号楼")
    for i in range(3):
        h = t.make_household(community, building=b, door=f"{i + 1}01")
        services.ticket_take(day=due, household=h, now=now - dt.timedelta(hours=1))
        services.ticket_take(day=later, household=h, now=now - dt.timedelta(hours=1))
    out = run("queue_draw")
    due.refresh_from_db()
    later.refresh_from_db()
    assert due.drawn_at is not None and later.drawn_at is None
    assert f"Day {due.pk} (松林超市 三村摊位" in out
    assert "3 registrations, 2 of 2 tickets" in out and f"seed {due.draw_seed}" in out
    assert "1 draw(s) done." in out
    assert sorted(Ticket.objects.filter(day=due).values_list("number", flat=True)) == [1, 2]
    # Run again (cron every minute): nothing more to do, nothing changes.
    assert run("queue_draw").strip() == "No draws due."
    assert Ticket.objects.filter(day=due).count() == 2


def test_queue_draw_with_nothing_due(db):
    assert run("queue_draw").strip() == "No draws due."


@pytest.fixture
def served_day(personas, community):
    day = make_day(personas["staff"], tickets_total=20)
    b = t.make_building(community, "三村", "2号楼")
    start = day.sale_starts_at
    for i in range(12):
        h = t.make_household(community, building=b, door=f"{i + 1}02")
        tk = services.ticket_take(day=day, household=h).ticket
        called = start + dt.timedelta(minutes=6 * i)
        Ticket.objects.filter(pk=tk.pk).update(
            status="served", first_called_at=called, served_at=called + dt.timedelta(minutes=1)
        )
    return day


def test_queue_report_prints_the_summary_and_suggestion(served_day, tmp_path):
    out = run("queue_report", str(served_day.pk))
    assert "松林超市 三村摊位" in out
    assert "Tickets: 12 issued of 20" in out
    assert "Served 12 · no-shows 0" in out
    # 12 served in 67 min → 10.7 per hour × 2 h = 21.5, no no-shows → 21.
    assert "Service rate: 10.7 per hour" in out
    assert "Suggested tickets next time: 21" in out
    assert "Suggested tickets = 21.5 ÷ (1 − 0) = 21.5, rounded down: 21 (this sale had 20)." in out


def test_queue_report_json_and_xlsx(served_day, tmp_path):
    data = json.loads(run("queue_report", str(served_day.pk), "--json"))
    assert data["served"] == 12 and data["suggestion"]["tickets"] == 21
    path = tmp_path / "day.xlsx"
    out = run("queue_report", str(served_day.pk), "--xlsx", str(path))
    assert f"Wrote {path}." in out
    wb = load_workbook(path)
    assert len(list(wb["Tickets"].iter_rows(values_only=True))) == 13
    assert AuditEvent.objects.filter(
        action="queue.report.export", actor=None, target_id=str(served_day.pk)
    ).exists()


def test_queue_report_unknown_day_and_unwritable_file(served_day, tmp_path):
    with pytest.raises(CommandError, match="No sale day has the id 999999"):
        run("queue_report", "999999")
    with pytest.raises(CommandError, match="Cannot write"):
        run("queue_report", str(served_day.pk), "--xlsx", str(tmp_path / "no" / "such" / "x.xlsx"))
