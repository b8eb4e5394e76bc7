"""The sweep (cron, every 15 minutes) with a frozen clock: overdue requests escalated to the
community admin, a shift nobody handed over handed over automatically, and the day's close after
midnight (每日清) — so nothing ages silently."""

import datetime as dt

import pytest
from django.utils import timezone

from shouwang.core.models import AuditEvent
from shouwang.core.testing import make_user
from shouwang.helpline import selectors, shifts
from shouwang.helpline.models import EventKind, Handover, HelpRequest, RequestEvent, Status, Urgency
from shouwang.helpline.testing import make_request

pytestmark = pytest.mark.django_db


def at(day: int, hh: int, mm: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2021, 12, day, hh, mm))


def test_overdue_requests_go_to_the_admin_once(community, personas):
    policy = selectors.policy_for(community.pk)
    policy.escalate_after_minutes = 30
    policy.save()
    # Logged 22:00, life-threatening: due 22:30, escalated after 23:00.
    urgent = make_request(community, owner=personas["staff"], urgency=Urgency.LIFE, at=at(24, 22))
    calm = make_request(community, at=at(24, 22))  # due tomorrow 22:00
    done = make_request(community, urgency=Urgency.LIFE, at=at(24, 22))
    HelpRequest.objects.filter(pk=done.pk).update(
        status=Status.RESOLVED, resolved_at=at(24, 22, 20)
    )
    assert shifts.sweep(community.pk, now=at(24, 22, 59)).escalated == []
    out = shifts.sweep(community.pk, now=at(24, 23, 1))
    assert [r.pk for r in out.escalated] == [urgent.pk]
    urgent.refresh_from_db()
    assert (urgent.escalated_at, urgent.escalated_to) == (at(24, 23, 1), personas["admin"])
    assert urgent.owner == personas["staff"]  # still theirs: the admin is told, not given it
    e = RequestEvent.objects.get(kind=EventKind.ESCALATED)
    assert (e.request, e.to_user, e.from_user) == (urgent, personas["admin"], personas["staff"])
    assert "31 minutes" in e.text
    assert shifts.sweep(community.pk, now=at(24, 23, 16)).escalated == []
    assert RequestEvent.objects.filter(kind=EventKind.ESCALATED).count() == 1
    calm.refresh_from_db()
    assert calm.escalated_at is None


def test_escalated_without_an_admin_is_still_marked(community):
    make_user("staff", community, username="only_staff")
    req = make_request(community, urgency=Urgency.LIFE, at=at(24, 8))
    out = shifts.sweep(community.pk, now=at(24, 9))
    assert [r.pk for r in out.escalated] == [req.pk]
    req.refresh_from_db()
    assert req.escalated_at == at(24, 9) and req.escalated_to is None
    assert "nobody (no admin)" in out.lines()[0]


def test_a_shift_nobody_handed_over_is_handed_over_automatically(community, personas):
    req = make_request(community, owner=personas["staff"], at=at(24, 17))
    # 00:15: the evening shift ended a quarter of an hour ago; the operator may still hand over.
    assert shifts.sweep(community.pk, now=at(25, 0, 15)).handovers == []
    out = shifts.sweep(community.pk, now=at(25, 0, 30))
    (h,) = out.handovers
    assert (h.shift_start, h.shift_end, h.automatic) == (at(24, 16), at(25, 0), True)
    assert (h.handed_by, h.received_by) == (None, None)
    item = h.items.get()
    assert (item.request, item.owner_before, item.owner_after) == (
        req,
        personas["staff"],
        personas["staff"],
    )
    req.refresh_from_db()
    assert req.owner == personas["staff"]  # nobody named: nothing moves
    assert shifts.sweep(community.pk, now=at(25, 0, 45)).handovers == []
    assert AuditEvent.objects.filter(action="helpline.handover_auto").count() == 1


def test_the_sweep_leaves_a_handed_over_shift_alone(community, personas):
    op2 = make_user("staff", community, username="op2")
    shifts.handover(personas["staff"], community.pk, received_by=op2, now=at(24, 15, 58))
    out = shifts.sweep(community.pk, now=at(24, 16, 45))
    assert out.handovers == []
    assert Handover.objects.filter(automatic=True).count() == 0


def test_a_sweep_that_missed_runs_catches_up(community):
    assert [h.shift_end for h in shifts.sweep(community.pk, now=at(24, 8, 40)).handovers] == [
        at(24, 8)
    ]
    # Nothing ran from 08:40 to 09:00 the next day: three shifts ended unhanded since.
    out = shifts.sweep(community.pk, now=at(25, 9))
    ends = [h.shift_end for h in out.handovers]
    assert ends == [at(24, 16), at(25, 0), at(25, 8)]


def test_the_day_is_closed_after_midnight(community, personas):
    staff = personas["staff"]
    early = make_request(community, owner=staff, at=at(23, 20))  # carried into the 24th
    a = make_request(community, owner=staff, at=at(24, 9))
    b = make_request(community, owner=staff, urgency=Urgency.LIFE, at=at(24, 10))  # due 10:30
    c = make_request(community, at=at(24, 23, 30))
    make_request(community, at=at(25, 0, 10))  # the next day
    HelpRequest.objects.filter(pk=a.pk).update(status=Status.CLOSED, resolved_at=at(24, 12))
    HelpRequest.objects.filter(pk=early.pk).update(status=Status.RESOLVED, resolved_at=at(24, 9))
    # Resolved after midnight: still open when the day closed.
    HelpRequest.objects.filter(pk=b.pk).update(status=Status.RESOLVED, resolved_at=at(25, 0, 5))
    close = shifts.day_close(community.pk, dt.date(2021, 12, 24))
    assert (close.logged, close.closed, close.carried, close.overdue) == (3, 2, 2, 1)
    assert {r.pk for r in close.carried_requests} == {b.pk, c.pk}

    out = shifts.sweep(community.pk, now=at(25, 0, 31))
    assert out.closed_day is not None and out.closed_day.day == dt.date(2021, 12, 24)
    assert "closed the day 2021-12-24: logged 3, closed 2, carried over 2, overdue 1" in out.lines()
    row = AuditEvent.objects.get(action=shifts.DAY_CLOSE)
    assert row.target_id == "2021-12-24"
    assert shifts.sweep(community.pk, now=at(25, 0, 46)).closed_day is None


def test_the_day_page(client, monkeypatch, community, personas):
    monkeypatch.setattr(timezone, "now", lambda: at(25, 8, 30))
    req = make_request(community, at=at(24, 9), summary="还没办完")
    client.force_login(personas["staff"])
    page = client.get("/helpline/shifts/day/").content.decode()  # yesterday by default
    assert "The day&#x27;s close: 2021-12-24" in page or "The day's close: 2021-12-24" in page
    assert req.reference in page
    resp = client.get("/api/v1/helpline/day-close?day=2021-12-24").json()
    assert (resp["logged"], resp["carried"], resp["overdue"]) == (1, 1, 0)
    assert resp["carried_requests"][0]["reference"] == req.reference


def test_the_shift_page_lists_the_overdue_with_owners(client, monkeypatch, community, personas):
    monkeypatch.setattr(timezone, "now", lambda: at(24, 12))
    late = make_request(
        community, owner=personas["staff"], urgency=Urgency.LIFE, at=at(24, 9), summary="氧气瓶"
    )
    shifts.sweep(community.pk, now=at(24, 12))
    client.force_login(personas["admin"])
    page = client.get("/helpline/shifts/").content.decode()
    section = page.split('id="hd-late"')[1].split("</section>")[0]
    assert late.reference in section and "staff" in section and "12-24 09:30" in section
    assert "12-24 12:00 → admin" in section
    overdue = client.get("/api/v1/helpline/overdue").json()
    assert [r["reference"] for r in overdue] == [late.reference]
    assert overdue[0]["owner"] == "staff" and overdue[0]["escalated_to"] == "admin"
