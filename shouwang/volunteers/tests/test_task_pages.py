"""The staff's task and plan pages through the browser's requests: publish and edit, the task
page (people, check-in state, breaks, the waiting list, the leader's buttons), putting someone on
with the breaks shown first, no-show / excuse / remove / cancel, the poster, the plan grid and
its print."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from shouwang.volunteers import plans, tasks
from shouwang.volunteers.models import Signup, SignupStatus, Task, Team
from shouwang.volunteers.selectors import teams_for
from shouwang.volunteers.testing import make_task, make_volunteer


@pytest.fixture
def team(community):
    return teams_for(community.pk).get(kind="supplies")


def local(day, hhmm):
    h, m = map(int, hhmm.split(":"))
    return timezone.make_aware(dt.datetime.combine(day, dt.time(h, m)))


def on(task, volunteer, status=SignupStatus.TAKEN, **kw):
    s = Signup.objects.create(
        community_id=task.community_id,
        task=task,
        volunteer=volunteer,
        status=status,
        how="grabbed",
        **kw,
    )
    Task.objects.filter(pk=task.pk).update(taken=task.signups.filter(status="taken").count())
    return s


def text(resp) -> str:
    return re.sub(r"\s+", " ", resp.content.decode())


def test_staff_publish_a_task(client, personas, team):
    client.force_login(personas["staff"])
    start = timezone.localtime() + dt.timedelta(days=1)
    start = start.replace(hour=9, minute=0, second=0, microsecond=0)
    r = client.post(
        reverse("volunteers:task_new"),
        {
            "title": "搬运物资",
            "place": "3号楼",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
            "places": "4",
            "team": team.pk,
            "skills": ["lifting"],
            "grabbable": "on",
        },
    )
    task = Task.objects.get(title="搬运物资")
    assert r.status_code == 302 and r["Location"] == reverse("volunteers:task", args=[task.pk])
    assert (task.places, task.team_id, task.skills, task.grabbable) == (
        4,
        team.pk,
        ["lifting"],
        True,
    )
    assert task.ends_at - task.starts_at == dt.timedelta(hours=3)
    # cancel_until empty: the policy's two hours before the start.
    assert task.cancel_until == task.starts_at - dt.timedelta(hours=2)
    page = text(client.get(r["Location"]))
    assert "搬运物资" in page and task.code in page and "0/4" in page
    assert "Lifting and carrying" in page


def test_a_task_that_ends_before_it_starts_is_refused_on_the_form(client, personas):
    client.force_login(personas["staff"])
    start = (timezone.localtime() + dt.timedelta(days=1)).replace(hour=9, minute=0)
    r = client.post(
        reverse("volunteers:task_new"),
        {
            "title": "x",
            "place": "y",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "places": "2",
        },
    )
    assert r.status_code == 200 and Task.objects.count() == 0
    assert "The end must be after the start." in text(r)


def test_edit_cannot_drop_places_below_those_taken(client, personas, community):
    task = make_task(community, places=3)
    for _ in range(2):
        on(task, make_volunteer(community))
    client.force_login(personas["admin"])
    url = reverse("volunteers:task_edit", args=[task.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data["starts_at"] = form.initial["starts_at"].strftime("%Y-%m-%dT%H:%M")
    data["ends_at"] = form.initial["ends_at"].strftime("%Y-%m-%dT%H:%M")
    data["cancel_until"] = form.initial["cancel_until"].strftime("%Y-%m-%dT%H:%M")
    data["grabbable"] = "on"
    data.pop("team", None)
    data["places"] = "1"
    r = client.post(url, data)
    assert r.status_code == 200
    assert "2 people already have a place" in text(r)
    data["places"] = "5"
    data["title"] = "改名任务"
    r = client.post(url, data)
    assert r.status_code == 302
    task.refresh_from_db()
    assert (task.places, task.title) == (5, "改名任务")


def test_the_task_page_shows_people_state_breaks_and_the_waiting_list(client, personas, community):
    start = (timezone.now() + dt.timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    task = make_task(community, starts_at=start, hours=4, places=2, title="核酸引导")
    a = make_volunteer(community, name="张一", phone="13900001111")
    b = make_volunteer(community, name="李二", phone="13900002222")
    c = make_volunteer(community, name="王三", phone="13900003333")
    other = make_task(community, starts_at=start + dt.timedelta(hours=2), hours=2, title="别的")
    on(other, b)
    on(task, a)
    on(task, b, override_reason="人手不够")
    on(task, c, SignupStatus.WAITING)
    client.force_login(personas["grid_leader"])
    page = text(client.get(reverse("volunteers:task", args=[task.pk])))
    assert "张一" in page and "李二" in page and "王三" in page
    # Viewers see masked phones; b's overlap with the other task is shown as it is.
    assert "139****1111" in page and "13900001111" not in page
    assert 'class="vp-break small"' in page and "Overlaps 别的" in page
    assert "人手不够" in page
    assert "Waiting list: 1" in page
    # A viewer who is not a leader gets no buttons.
    assert "Check in</button>" not in page and "Take off" not in page
    client.force_login(personas["staff"])
    page = text(client.get(reverse("volunteers:task", args=[task.pk])))
    assert "13900001111" in page
    assert page.count("Check in</button>") == 2
    assert "Did not come" not in page  # not started yet
    assert "Put someone on" in page


def test_a_team_leader_sees_their_teams_task_and_checks_people_in(
    client, personas, community, team
):
    leader = make_volunteer(community, user=personas["volunteer"], team=team, name="组长")
    Team.objects.filter(pk=team.pk).update(leader=leader)
    task = make_task(community, team=team, starts_at=timezone.now() - dt.timedelta(minutes=10))
    s = on(task, make_volunteer(community, team=team, name="组员"))
    other_task = make_task(community, team=teams_for(community.pk).get(kind="testing"))
    client.force_login(personas["volunteer"])
    r = client.get(reverse("volunteers:task", args=[task.pk]))
    assert r.status_code == 200
    page = text(r)
    assert "Check in</button>" in page and "Did not come" in page
    assert "Put someone on" not in page and "Take off" not in page
    assert client.get(reverse("volunteers:task", args=[other_task.pk])).status_code == 403
    assert client.get(reverse("volunteers:tasks")).status_code == 403
    # The leader's check-in button (H3's view) brings them back to this page.
    here = reverse("volunteers:task", args=[task.pk])
    r = client.post(reverse("volunteers:signup_in", args=[s.pk]), {"next": here})
    assert r.status_code == 302 and r["Location"] == here
    s.refresh_from_db()
    assert s.checked_in_at is not None


def test_a_plain_volunteer_and_a_resident_may_not_open_task_pages(client, personas, community):
    task = make_task(community)
    make_volunteer(community, user=personas["volunteer"])
    for who in ("volunteer", "resident"):
        client.force_login(personas[who])
        assert client.get(reverse("volunteers:task", args=[task.pk])).status_code == 403
        assert client.get(reverse("volunteers:task_poster", args=[task.pk])).status_code == 403


def test_assign_shows_the_breaks_first_and_needs_a_reason(
    client, personas, community, team, django_assert_max_num_queries
):
    start = (timezone.now() + dt.timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    task = make_task(community, starts_at=start, hours=4, places=2, team=team)
    busy = make_volunteer(community, team=team, name="忙人")
    free = make_volunteer(community, team=team, name="闲人")
    make_volunteer(community, name="别队的人")  # not in the team: not offered at first
    on(make_task(community, starts_at=start + dt.timedelta(hours=3), hours=2, title="早班"), busy)
    client.force_login(personas["staff"])
    url = reverse("volunteers:task_assign", args=[task.pk])
    for _ in range(10):
        make_volunteer(community, team=team)
    with django_assert_max_num_queries(15):  # not one look-up per candidate
        page = text(client.get(url))
    assert "忙人" in page and "闲人" in page and "别队的人" not in page
    assert "Overlaps 早班" in page and "breaks no rest rule" in page
    assert "别队的人" in text(client.get(url + "?all=1"))
    r = client.post(url, {"volunteer": busy.pk})
    assert r.status_code == 200
    assert not Signup.objects.filter(task=task, volunteer=busy).exists()
    assert "Overlaps 早班" in text(r)
    r = client.post(url, {"volunteer": busy.pk, "override_reason": "只有他会开车"})
    assert r.status_code == 302 and r["Location"] == reverse("volunteers:task", args=[task.pk])
    s = Signup.objects.get(task=task, volunteer=busy)
    assert (s.status, s.how, s.override_reason) == ("taken", "assigned", "只有他会开车")
    r = client.post(url + "?next=/volunteers/plans/", {"volunteer": free.pk})
    assert r.status_code == 302 and r["Location"] == "/volunteers/plans/"
    assert Signup.objects.get(task=task, volunteer=free).override_reason == ""
    task.refresh_from_db()
    assert task.taken == 2


def test_no_show_excuse_remove_and_cancel(client, personas, community):
    started = make_task(community, starts_at=timezone.now() - dt.timedelta(hours=1), places=3)
    a, b, c = (make_volunteer(community) for _ in range(3))
    sa, sb = on(started, a), on(started, b)
    sc = on(started, c, SignupStatus.WAITING)
    client.force_login(personas["staff"])
    here = reverse("volunteers:task", args=[started.pk])
    r = client.post(reverse("volunteers:signup_no_show", args=[sa.pk]), {"next": here})
    assert r.status_code == 302 and r["Location"] == here
    sa.refresh_from_db()
    assert sa.status == SignupStatus.NO_SHOW and not sa.excused
    client.post(reverse("volunteers:signup_excuse", args=[sa.pk]))
    sa.refresh_from_db()
    assert sa.excused
    r = client.post(reverse("volunteers:signup_remove", args=[sb.pk]), {"reason": "生病"})
    assert r.status_code == 302
    sb.refresh_from_db()
    assert sb.status == SignupStatus.CANCELLED
    page = text(client.get(here))
    assert "excused" in page
    # A task still to come: no-show is refused with a message, the place stays.
    later = make_task(community, places=1)
    sl = on(later, a)
    r = client.post(reverse("volunteers:signup_no_show", args=[sl.pk]), follow=True)
    assert r.status_code == 200 and "mark people missing after that" in text(r)
    sl.refresh_from_db()
    assert sl.status == SignupStatus.TAKEN
    # Cancelling needs a reason.
    r = client.post(reverse("volunteers:task_cancel", args=[later.pk]), {"reason": " "})
    later.refresh_from_db()
    assert later.cancelled_at is None
    r = client.post(reverse("volunteers:task_cancel", args=[later.pk]), {"reason": "下雨"})
    later.refresh_from_db()
    sl.refresh_from_db()
    assert later.cancelled_at is not None and later.cancel_reason == "下雨"
    assert sl.status == SignupStatus.CANCELLED and later.taken == 0
    assert sc.task_id == started.pk


def test_a_grid_leader_cannot_act_on_people(client, personas, community):
    started = make_task(community, starts_at=timezone.now() - dt.timedelta(hours=1))
    s = on(started, make_volunteer(community))
    client.force_login(personas["grid_leader"])
    assert client.post(reverse("volunteers:signup_no_show", args=[s.pk])).status_code == 403
    assert client.post(reverse("volunteers:signup_remove", args=[s.pk])).status_code == 403
    s.refresh_from_db()
    assert s.status == SignupStatus.TAKEN


def test_the_poster_has_the_qr_of_the_check_in_link_and_the_code(client, personas, community):
    task = make_task(community, title="消杀", place="5号楼")
    client.force_login(personas["staff"])
    page = client.get(reverse("volunteers:task_poster", args=[task.pk])).content.decode()
    link = "http://testserver" + reverse("volunteers:check_code", args=[task.code])
    assert link in page and "<svg" in page and "poster-qr" in page
    assert f"{task.code[:4]} {task.code[4:]}" in page
    assert "消杀" in page and "5号楼" in page and "size: A4" in page


def test_the_task_list_by_day_with_filters(client, personas, community, team):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    a = make_task(community, starts_at=local(tomorrow, "08:00"), places=3, team=team, title="甲")
    make_task(community, starts_at=local(tomorrow, "10:00"), places=1, title="乙")
    make_task(community, starts_at=local(tomorrow + dt.timedelta(days=9), "10:00"), title="远")
    on(a, make_volunteer(community))
    client.force_login(personas["grid_leader"])
    page = text(client.get(reverse("volunteers:tasks")))
    assert "甲" in page and "乙" in page and "远" not in page and "1/3" in page
    page = text(client.get(reverse("volunteers:tasks") + f"?team={team.pk}"))
    assert "甲" in page and "乙" not in page
    page = text(client.get(reverse("volunteers:tasks") + "?state=short"))
    assert "甲" in page and "乙" in page
    later = (tomorrow + dt.timedelta(days=8)).isoformat()
    assert "远" in text(client.get(reverse("volunteers:tasks") + f"?day={later}"))


def test_make_a_plan_on_the_page_and_see_the_breaks_in_the_grid(client, personas, community, team):
    client.force_login(personas["staff"])
    first = timezone.localdate() + dt.timedelta(days=2)
    data = {
        "team": team.pk,
        "title": "包裹三班",
        "place": "快递点",
        "first_day": first.isoformat(),
        "last_day": (first + dt.timedelta(days=6)).isoformat(),
        "places": "2",
        "from_0": "07:00",
        "until_0": "15:00",
        "from_1": "15:00",
        "until_1": "23:00",
        "from_2": "23:00",
        "until_2": "07:00",
    }
    r = client.post(reverse("volunteers:plan_new"), data)
    assert r.status_code == 302
    plan = plans.plans_for(personas["staff"]).get()
    assert plan.tasks.count() == 21 and not plan.tasks.filter(grabbable=True).exists()
    v = make_volunteer(community, team=team, name="连班人")
    early = plan.tasks.get(starts_at=local(first, "07:00"))
    late = plan.tasks.get(starts_at=local(first, "15:00"))
    tasks.assign(actor=personas["staff"], task=early, volunteer=v)
    tasks.assign(actor=personas["staff"], task=late, volunteer=v, override_reason="顶班")
    page = text(client.get(r["Location"]))
    assert "2 places filled / 42" in page and "21 shifts short" in page
    assert "2 rules broken" in page
    assert page.count('<span class="vp-break">⚠') == 2 and "顶班" in page
    assert f"#t{late.pk}" in page and "put on" in page
    printed = text(client.get(reverse("volunteers:plan_print", args=[plan.pk])))
    assert "size: A4 landscape" in printed and printed.count("☐ 连班人") == 2
    assert printed.count('class="vp-br"') == 2
    # A half-given shift is refused on the form.
    bad = {**data, "from_3": "09:00"}
    r = client.post(reverse("volunteers:plan_new"), bad)
    assert r.status_code == 200 and "Give both times" in text(r)


def test_plan_extend_and_delete_on_the_page(client, personas, community, team):
    first = timezone.localdate() + dt.timedelta(days=2)
    plan = plans.make_plan(
        actor=personas["admin"],
        team=team,
        title="消杀",
        place="",
        first_day=first,
        last_day=first,
        shifts=[("08:00", "12:00")],
        places=1,
    )
    client.force_login(personas["staff"])
    client.post(reverse("volunteers:plan_extend", args=[plan.pk]), {"days": "2"})
    plan.refresh_from_db()
    assert plan.last_day == first + dt.timedelta(days=2) and plan.tasks.count() == 3
    r = client.post(reverse("volunteers:plan_delete", args=[plan.pk]))
    assert r.status_code == 302 and r["Location"] == reverse("volunteers:plans")
    assert not Task.objects.exists()


def test_a_team_leader_sees_their_teams_plan(client, personas, community, team):
    leader = make_volunteer(community, user=personas["volunteer"], team=team)
    first = timezone.localdate() + dt.timedelta(days=2)
    plan = plans.make_plan(
        actor=personas["admin"],
        team=team,
        title="消杀",
        place="",
        first_day=first,
        last_day=first,
        shifts=[("08:00", "12:00")],
        places=1,
    )
    client.force_login(personas["volunteer"])
    assert client.get(reverse("volunteers:plan", args=[plan.pk])).status_code == 403
    Team.objects.filter(pk=team.pk).update(leader=leader)
    assert client.get(reverse("volunteers:plan", args=[plan.pk])).status_code == 200
    assert client.get(reverse("volunteers:plan_print", args=[plan.pk])).status_code == 200
    assert client.get(f"/api/v1/volunteers/plans/{plan.pk}").status_code == 200
    assert client.get(reverse("volunteers:plans")).status_code == 403


def test_the_outsider_gets_404_on_our_rows(client, personas, community, team):
    first = timezone.localdate() + dt.timedelta(days=2)
    plan = plans.make_plan(
        actor=personas["admin"],
        team=team,
        title="消杀",
        place="",
        first_day=first,
        last_day=first,
        shifts=[("08:00", "12:00")],
        places=1,
    )
    task = make_task(community)
    client.force_login(personas["outsider"])
    assert client.get(reverse("volunteers:plan", args=[plan.pk])).status_code == 404
    assert client.get(reverse("volunteers:task", args=[task.pk])).status_code == 404
    assert client.get(f"/api/v1/volunteers/plans/{plan.pk}").status_code == 404
    assert "消杀" not in text(client.get(reverse("volunteers:plans")))


def test_pages_fit_a_phone(client, personas, community, team):
    """No fixed widths that would overflow 360 px: wide tables scroll inside .table-wrap and
    reflow into cards."""
    first = timezone.localdate() + dt.timedelta(days=2)
    plan = plans.make_plan(
        actor=personas["admin"],
        team=team,
        title="消杀",
        place="",
        first_day=first,
        last_day=first + dt.timedelta(days=6),
        shifts=[("07:00", "15:00"), ("15:00", "23:00"), ("23:00", "07:00")],
        places=1,
    )
    client.force_login(personas["staff"])
    page = client.get(reverse("volunteers:plan", args=[plan.pk])).content.decode()
    assert 'class="table-wrap"' in page and "data reflow vp-grid" in page
    assert 'data-label="23:00–07:00 (+1)"' in page
