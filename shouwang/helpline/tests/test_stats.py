"""The figures on a small ledger: time to close, overdue, call-backs, the chart and the export."""

import datetime as dt
import io

import pytest
from django.utils import timezone

from shouwang.helpline import stats
from shouwang.helpline.models import Group, HelpRequest, Status, Urgency
from shouwang.helpline.testing import make_request

pytestmark = pytest.mark.django_db
DAY = dt.date(2022, 1, 5)


def at(day: int, hh: int, mm: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2022, 1, day, hh, mm))


def finish(req, status, minutes, satisfaction=""):
    HelpRequest.objects.filter(pk=req.pk).update(
        status=status,
        resolved_at=req.created_at + dt.timedelta(minutes=minutes),
        satisfaction=satisfaction,
    )


@pytest.fixture
def small(community):
    a = make_request(community, group=Group.LIVELIHOOD, at=at(5, 9))
    b = make_request(community, group=Group.POLICY, at=at(5, 10))
    c = make_request(community, group=Group.SPECIAL, urgency=Urgency.LIFE, at=at(5, 11))
    d = make_request(community, group=Group.LIVELIHOOD, at=at(6, 9))
    make_request(community, group=Group.REPAIRS, at=at(6, 23, 59))
    make_request(community, group=Group.REPAIRS, at=at(7, 0, 0))  # the next day: not counted
    finish(a, Status.CLOSED, 60, "satisfied")
    finish(b, Status.RESOLVED, 30)
    finish(c, Status.CLOSED, 90, "dissatisfied")  # due in 30 minutes: overdue
    finish(d, Status.UNRESOLVED, 600, "unreachable")
    return community


def test_summary(small):
    s = stats.summary(small.pk, DAY, DAY + dt.timedelta(days=1))
    assert (s.requests, s.days, s.busy_days, str(s.per_day)) == (5, 2, 2, "2.5")
    # Overdue: c, resolved an hour after its 30 minutes, and the repair still open years later.
    assert (s.resolved, s.unresolved, s.live, s.overdue) == (3, 1, 1, 2)
    assert str(s.rate) == "60.00"
    # Day 1: 3 of 3; day 2: 0 of 2 → the average of the days is 50 %.
    assert str(s.daily_rate) == "50.00"
    assert (s.median_minutes, s.average_minutes) == (60, 60)  # 30, 60, 90 (not the unresolved)
    assert s.group(Group.LIVELIHOOD).count == 2
    assert str(s.group(Group.LIVELIHOOD).share) == "40.00"
    # Day 1: 1/3; day 2: 1/2 → (33.33… + 50) / 2.
    assert str(s.group(Group.LIVELIHOOD).daily_share) == "41.67"
    assert s.called_back == 3 and str(s.satisfied_share) == "50.00"
    assert stats.duration(s.median_minutes) == "1 h 00 min" and stats.duration(45) == "45 min"


def test_by_day_has_every_day(small):
    days = stats.by_day(small.pk, DAY - dt.timedelta(days=1), DAY + dt.timedelta(days=1))
    assert [d.requests for d in days] == [0, 3, 2]
    assert days[0].rate is None and str(days[1].rate) == "100.00"
    assert days[1].xian == [1, 1, 1] and days[2].xian == [1, 0, 0]


def test_chart_stacks_groups(small):
    days = stats.by_day(small.pk, DAY, DAY + dt.timedelta(days=1))
    chart = stats.chart(days)
    first = chart["bars"][0]
    assert first["requests"] == 3 and [p["group"] for p in first["parts"]] == [
        "livelihood",
        "special",
        "policy",
    ]
    assert [p["group"] for p in chart["bars"][1]["parts"]] == ["livelihood", "rest"]
    assert (
        stats.chart(stats.by_day(small.pk, DAY - dt.timedelta(days=9), DAY - dt.timedelta(days=1)))
        is None
    )


def test_export(client, personas, small):
    from openpyxl import load_workbook

    client.force_login(personas["admin"])
    resp = client.get("/helpline/stats.xlsx?first=2022-01-05&last=2022-01-06")
    assert resp.status_code == 200
    assert 'filename="helpline-2022-01-05-2022-01-06.xlsx"' in resp["Content-Disposition"]
    wb = load_workbook(io.BytesIO(resp.content))
    assert wb.sheetnames == ["Summary", "By group", "By day"]
    groups = {r[0]: r[1:] for r in wb["By group"].iter_rows(min_row=2, values_only=True)}
    assert groups["Livelihood (medicine, gas, food)"] == (2, 40.0, 41.67)
    days = list(wb["By day"].iter_rows(min_row=2, values_only=True))
    assert [r[1] for r in days] == [3, 2]


def test_page_and_who_may_see_it(client, personas, small):
    client.force_login(personas["staff"])
    page = client.get("/helpline/stats/?first=2022-01-05&last=2022-01-06").content.decode()
    assert '<b id="st-requests">5</b>' in page and "<svg" in page
    assert "41.67 %" in page
    client.force_login(personas["grid_leader"])
    assert client.get("/helpline/stats/").status_code == 403
    assert client.get("/api/v1/helpline/stats").status_code == 403


def test_bad_periods(client, personas):
    client.force_login(personas["admin"])
    resp = client.get("/api/v1/helpline/stats?from=2022-01-06&to=2022-01-05")
    assert resp.status_code == 400 and "to" in resp.json()["error"]["fields"]
    page = client.get("/helpline/stats/?first=2022-01-06&last=2022-01-05").content.decode()
    assert "The end is before the start." in page
