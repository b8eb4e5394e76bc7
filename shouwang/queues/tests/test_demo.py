"""The queue demo: yesterday's finished sale, today's under way, tomorrow's draw — built through
the services, deterministic, and safe to run twice."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from PIL import Image

from shouwang.core import testing as t
from shouwang.queues import report
from shouwang.queues.demo import POINT_LOCATION, POINT_NAME, demo_queue
from shouwang.queues.models import Goods, QueuePoint, Registration, SaleDay, Ticket

S = Ticket.Status


def small_ledger(community, n=160):
    """n households in four buildings, each with a head; every fifth has no mobile phone.
    (Bulk inserts: the demo needs a ledger, not the builders' one-by-one checks.)"""
    from shouwang.registry.models import Dwelling, Household, Resident, Unit
    from shouwang.registry.services import households_refresh

    units = []
    for k in range(4):
        b = t.make_building(community, "三村", f"{k + 1}号楼")
        units.append(Unit.objects.create(community=community, building=b, name="1单元"))
    dwellings = Dwelling.objects.bulk_create(
        [
            Dwelling(
                community=community,
                building_id=units[i % 4].building_id,
                unit=units[i % 4],
                door=f"{i // 4 + 101}",
            )
            for i in range(n)
        ]
    )
    households = Household.objects.bulk_create(
        [Household(community=community, dwelling=d, building_id=d.building_id) for d in dwellings]
    )
    people = []
    for i, h in enumerate(households):
        r = Resident(community=community, household=h, name=f"居民{i}", relation="head")
        r.set_id_number(t.unique_id())
        r.set_phone("" if i % 5 == 0 else f"+86139{i:08d}")
        people.append(r)
    Resident.objects.bulk_create(people)
    households_refresh(household_ids=[h.pk for h in households])


def fingerprint(day: SaleDay) -> list[tuple]:
    """Everything about a day's tickets except ids: to compare two runs."""
    start = day.sale_starts_at
    out = []
    for tk in Ticket.objects.filter(day=day).order_by("number"):
        out.append(
            (
                tk.number,
                tk.status,
                tk.channel,
                tk.notify,
                tk.taken_at - start,
                tk.first_called_at and tk.first_called_at - start,
                tk.served_at and tk.served_at - start,
            )
        )
    return out


@pytest.fixture
def demo_community(db):
    c = t.make_community("SC", "三村社区")
    small_ledger(c)
    admin = t.make_user("admin", c, username="sc-admin")
    t.make_user("staff", c, username="sc-staff")
    t.make_user("volunteer", c, username="sc-volunteer")
    return c, admin


def test_demo_builds_the_three_days(demo_community):
    community, admin = demo_community
    now = timezone.now()
    lines = []
    today_day = demo_queue(community, admin, now=now, log=lines.append)
    today = timezone.localdate(now)
    point = QueuePoint.objects.get(community=community)
    assert (point.name, point.location) == (POINT_NAME, POINT_LOCATION)
    days = {d.date: d for d in SaleDay.objects.filter(point=point)}
    assert sorted(days) == [today - dt.timedelta(days=1), today, today + dt.timedelta(days=1)]

    # Today: first come, 300 tickets, three hours under way for the last 75 minutes (whenever the
    # demo is built, the counter's morning is in the past), come when 10 ahead.
    d = days[today]
    assert d.pk == today_day.pk and d.mode == "first_come" and d.tickets_total == 300
    assert d.come_when == 10 and d.closed_at is None
    assert d.sale_ends_at - d.sale_starts_at == dt.timedelta(hours=3)
    assert d.sale_starts_at <= now
    tickets = list(Ticket.objects.filter(day=d))
    assert all((x.called_at or now) <= now and (x.served_at or now) <= now for x in tickets), (
        "the demo's counter must not be in the future"
    )
    assert d.issued == len(tickets) == 120
    counts = {s: sum(1 for x in tickets if x.status == s) for s in S.values}
    assert counts[S.SERVED] == 40 and counts[S.CALLED] == 2 and 1 <= counts[S.NO_SHOW] <= 10
    assert counts[S.WAITING] == 120 - 40 - 2 - counts[S.NO_SHOW]
    assert {x.channel for x in tickets} == {"household", "staff", "proxy"}
    assert {x.notify for x in tickets} == {"page", "sms", "knock"}
    for x in tickets:
        if x.first_called_at:
            assert x.first_called_at >= x.taken_at
            assert timezone.localtime(x.first_called_at).date() == today
        if x.served_at:
            assert x.served_at > x.first_called_at
    serving = sorted(x.number for x in tickets if x.status == S.CALLED)
    assert (
        sorted(d.snapshot["serving"]) == serving and len(d.snapshot["waiting"]) == counts[S.WAITING]
    )
    goods = list(Goods.objects.filter(day=d))
    assert len(goods) == 5 and sum(1 for g in goods if g.sold_out_at) == 1
    for g in goods:
        assert len(g.photo_hash) == 16
        assert max(Image.open(io.BytesIO(bytes(g.thumb))).size) <= 360

    # Yesterday: closed, a full morning for the report.
    y = days[today - dt.timedelta(days=1)]
    assert y.closed_at is not None and y.issued == 150
    assert not Ticket.objects.filter(day=y, status__in=[S.WAITING, S.CALLED]).exists()
    rep = report.day_report(y)
    assert rep.served > 80 and rep.no_show > 0 and rep.rate_per_hour
    assert not rep.suggestion.thin and 0 < rep.suggestion.tickets
    assert sum(1 for g in rep.goods if g["sold_out_at"]) == 3
    assert all(h.served > 0 for h in rep.hours)

    # Tomorrow: the draw, registration until 20:00 today.
    n = days[today + dt.timedelta(days=1)]
    assert n.mode == "draw" and n.drawn_at is None
    assert timezone.localtime(n.draw_at) == timezone.make_aware(
        dt.datetime.combine(today, dt.time(20))
    )
    assert n.registered == Registration.objects.filter(day=n).count() == 30
    assert not Ticket.objects.filter(day=n).exists()
    assert lines and "120 taken and 40 served" in lines[0]


def test_demo_runs_twice_and_is_deterministic(demo_community):
    community, admin = demo_community
    now = timezone.now()
    first = demo_queue(community, admin, now=now, log=lambda s: None)
    counts = (SaleDay.objects.count(), Ticket.objects.count(), Goods.objects.count())
    lines = []
    assert demo_queue(community, admin, now=now, log=lines.append) is None
    assert "exists, skipped" in lines[0]
    assert (SaleDay.objects.count(), Ticket.objects.count(), Goods.objects.count()) == counts
    # The same ledger elsewhere gives the same queue.
    twin = t.make_community("SC2", "三村社区二")
    small_ledger(twin)
    twin_day = demo_queue(twin, t.make_user("admin", twin, username="sc2"), now=now, log=print)
    assert fingerprint(twin_day) == fingerprint(first)
