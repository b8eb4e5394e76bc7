"""/volunteers/: the staff's overview of today, hand-counted; everyone else goes to their own
page."""

from __future__ import annotations

import datetime as dt
import re

from django.urls import reverse
from django.utils import timezone

from shouwang.volunteers.models import Signup, Task, VolunteerStatus
from shouwang.volunteers.testing import make_task, make_volunteer


def local(day, hhmm):
    h, m = map(int, hhmm.split(":"))
    return timezone.make_aware(dt.datetime.combine(day, dt.time(h, m)))


def served(task, volunteer, minutes=None, *, out=True):
    start = task.starts_at
    s = Signup.objects.create(
        community_id=task.community_id,
        task=task,
        volunteer=volunteer,
        status="taken",
        how="grabbed",
        checked_in_at=start,
        checked_out_at=start + dt.timedelta(minutes=minutes) if out else None,
        minutes=minutes if out else None,
    )
    Task.objects.filter(pk=task.pk).update(taken=task.signups.filter(status="taken").count())
    return s


def text(resp) -> str:
    return re.sub(r"\s+", " ", resp.content.decode())


def test_the_staff_overview_counts_today(client, personas, community):
    today = timezone.localdate()
    past = today - dt.timedelta(days=3)
    a = make_volunteer(community, name="张一")
    b = make_volunteer(community, name="李二")
    c = make_volunteer(community, name="王三")
    make_volunteer(community, name="待批", status=VolunteerStatus.PENDING)
    # Served earlier: 张一 120 + 35 min, 李二 60 min → 2 volunteers, 215 min = 3.58 h,
    # 1.79 h on average, the top 155 min = 2.58 h.
    t1 = make_task(community, starts_at=local(past, "08:00"), hours=3, places=3, title="旧一")
    t2 = make_task(community, starts_at=local(past, "14:00"), hours=1, places=3, title="旧二")
    served(t1, a, 120)
    served(t1, b, 60)
    served(t2, a, 35)
    # Today: 3 places, 2 taken, 1 checked in (and not out); a cancelled task does not count.
    now_task = make_task(
        community, starts_at=local(today, "00:01"), hours=20, places=3, title="今日岗"
    )
    served(now_task, c, out=False)
    Signup.objects.create(
        community=community, task=now_task, volunteer=b, status="taken", how="assigned"
    )
    Task.objects.filter(pk=now_task.pk).update(taken=2)
    gone = make_task(community, starts_at=local(today, "00:02"), hours=2, places=5, title="取消岗")
    Task.objects.filter(pk=gone.pk).update(cancelled_at=timezone.now(), cancel_reason="雨")

    client.force_login(personas["staff"])
    r = client.get(reverse("volunteers:index"))
    assert r.status_code == 200
    s = r.context["summary"]
    assert (s.volunteers, str(s.hours), str(s.average_hours), str(s.top_hours), s.top_name) == (
        2,
        "3.58",
        "1.79",
        "2.58",
        "张一",
    )
    assert (r.context["needed"], r.context["filled"], r.context["arrived"]) == (3, 2, 1)
    assert r.context["pending"] == 1 and r.context["active"] == 3
    page = text(r)
    assert "1 sign-up is waiting for approval" in page
    assert "?status=pending" in page
    assert "2/3" in page and "今日岗" in page and "取消岗" in page
    assert "1 checked in now" in page and "王三" in page
    for figure in ("3.58", "1.79", "2.58"):
        assert figure in page


def test_viewers_see_it_and_others_go_to_their_own_page(client, personas, community):
    client.force_login(personas["grid_leader"])
    r = client.get(reverse("volunteers:index"))
    assert r.status_code == 200 and "Publish a task" not in text(r)
    for who in ("volunteer", "resident", "guard"):
        client.force_login(personas[who])
        r = client.get(reverse("volunteers:index"))
        assert r.status_code == 302 and r["Location"] == reverse("volunteers:me")
    client.force_login(personas["district"])
    assert client.get(reverse("volunteers:index")).status_code == 403


def test_an_empty_community_shows_zeros(client, personas):
    client.force_login(personas["admin"])
    r = client.get(reverse("volunteers:index"))
    page = text(r)
    assert r.status_code == 200
    assert "No task or shift today." in page and "Nobody is checked in" in page
    assert r.context["summary"].volunteers == 0
