"""Publishing, grabbing, the waiting list, cancelling, staff assigning and no-shows (tasks.py),
and the volunteer's pages and API over them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from shouwang.checkpoints.roster import local
from shouwang.core import testing as t
from shouwang.core.errors import DomainError
from shouwang.volunteers import tasks
from shouwang.volunteers.models import Signup, Task, Team
from shouwang.volunteers.testing import make_task, make_volunteer

HOUR = dt.timedelta(hours=1)


def soon(hours=24):
    return (timezone.now() + dt.timedelta(hours=hours)).replace(second=0, microsecond=0)


@pytest.fixture
def admin(personas):
    return personas["admin"]


@pytest.fixture
def me(personas, community):
    return make_volunteer(community, user=personas["volunteer"], name="王志愿")


def vols(community, n, **kw):
    return [
        make_volunteer(community, user=t.make_user("volunteer", community), **kw) for _ in range(n)
    ]


def counted(task):
    task.refresh_from_db()
    return task.taken, Signup.objects.filter(task=task, status="taken").count()


def code_of(fn):
    with pytest.raises(DomainError) as e:
        fn()
    return e.value.code


# --- publish ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_publish_defaults_and_validation(admin, community):
    s = soon(48)
    task = tasks.publish(
        actor=admin,
        community=community,
        title="搬运物资",
        place="3号楼",
        starts_at=s,
        ends_at=s + 3 * HOUR,
        places=10,
        skills=["lifting"],
    )
    assert task.cancel_until == s - 2 * HOUR  # the policy's 2 hours
    assert len(task.code) == 8 and task.taken == 0 and task.kind == "task"
    bad = dict(actor=admin, community=community, title="x", place="y", places=1)
    assert code_of(lambda: tasks.publish(**bad, starts_at=s, ends_at=s)) == "invalid"
    assert (
        code_of(lambda: tasks.publish(**{**bad, "places": 0}, starts_at=s, ends_at=s + HOUR))
        == "invalid"
    )
    with pytest.raises(DomainError) as e:
        tasks.publish(**bad, starts_at=s, ends_at=s + HOUR, skills=["flying"])
    assert "flying" in str(e.value.message)
    past = timezone.now() - 5 * HOUR
    assert code_of(lambda: tasks.publish(**bad, starts_at=past, ends_at=past + HOUR)) == "invalid"


# --- grab -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_grab_gives_places_then_the_waiting_list(community):
    task = make_task(community, places=2)
    a, b, c, d = vols(community, 4)
    assert tasks.grab(volunteer=a, task=task).status == "taken"
    again = tasks.grab(volunteer=a, task=task)  # a retry
    assert again.status == "taken" and Signup.objects.filter(volunteer=a).count() == 1
    assert tasks.grab(volunteer=b, task=task).status == "taken"
    wc = tasks.grab(volunteer=c, task=task)
    wd = tasks.grab(volunteer=d, task=task)
    assert (wc.status, wd.status) == ("waiting", "waiting")
    assert (tasks.waiting_position(wc), tasks.waiting_position(wd)) == (1, 2)
    assert counted(task) == (2, 2)


@pytest.mark.django_db
def test_grab_refusals(community, personas):
    team = Team.objects.create(community=community, name="消杀队", kind="disinfection")
    v = make_volunteer(community)
    pending = make_volunteer(community, status="pending")
    assert (
        code_of(lambda: tasks.grab(volunteer=pending, task=make_task(community))) == "not_approved"
    )
    assert (
        code_of(lambda: tasks.grab(volunteer=v, task=make_task(community, team=team)))
        == "team_only"
    )
    assert (
        code_of(lambda: tasks.grab(volunteer=v, task=make_task(community, skills=["medical"])))
        == "skill"
    )
    assert (
        code_of(lambda: tasks.grab(volunteer=v, task=make_task(community, grabbable=False)))
        == "not_grabbable"
    )
    started = make_task(community, starts_at=timezone.now() - HOUR, hours=3)
    assert code_of(lambda: tasks.grab(volunteer=v, task=started)) == "started"
    gone = make_task(community)
    tasks.cancel_task(actor=personas["admin"], task=gone, reason="下雨")
    assert code_of(lambda: tasks.grab(volunteer=v, task=gone)) == "cancelled"
    # the team's member and the skilled may
    member = make_volunteer(community, team=team, skills=["medical"])
    assert (
        tasks.grab(
            volunteer=member, task=make_task(community, team=team, skills=["medical"])
        ).status
        == "taken"
    )
    assert Signup.objects.filter(volunteer=v).count() == 0


@pytest.mark.django_db
def test_grab_refuses_a_rest_rule_with_the_reason(community):
    v = make_volunteer(community)
    s = soon(30)
    first = make_task(community, starts_at=s, hours=6, title="上午分拣")
    tasks.grab(volunteer=v, task=first)
    overlapping = make_task(community, starts_at=s + 5 * HOUR, hours=2)
    with pytest.raises(DomainError) as e:
        tasks.grab(volunteer=v, task=overlapping)
    assert e.value.code == "rest_rule" and "上午分拣" in str(e.value.message)
    assert [b.code for b in e.value.breaks] == ["overlap"]
    overlapping.refresh_from_db()
    assert overlapping.taken == 0
    assert (
        tasks.grab(volunteer=v, task=make_task(community, starts_at=s + 6 * HOUR, hours=2)).status
        == "taken"
    )


@pytest.mark.django_db
def test_no_shows_stop_grabbing_until_excused(community, admin):
    v = make_volunteer(community)
    for _ in range(2):
        past = make_task(community, starts_at=soon(0.2), hours=1)
        tasks.grab(volunteer=v, task=past)
        signup = Signup.objects.get(volunteer=v, task=past)
        later = past.starts_at + dt.timedelta(minutes=20)
        with pytest.raises(DomainError) as e:
            tasks.mark_no_show(
                actor=admin, signup=signup, now=past.starts_at - dt.timedelta(minutes=1)
            )
        assert e.value.code == "not_started"
        assert tasks.mark_no_show(actor=admin, signup=signup, now=later).status == "no_show"
        assert counted(past) == (0, 0)
    assert tasks.grab_block(v) is not None
    assert code_of(lambda: tasks.grab(volunteer=v, task=make_task(community))) == "no_show_limit"
    tasks.excuse(actor=admin, signup=Signup.objects.filter(volunteer=v, status="no_show").first())
    assert tasks.grab_block(v) is None
    assert tasks.grab(volunteer=v, task=make_task(community)).status == "taken"


# --- cancel and the waiting list --------------------------------------------------------------


@pytest.mark.django_db
def test_cancel_moves_the_waiting_list_up(community, personas):
    task = make_task(community, places=1)
    a, b, c = vols(community, 3)
    sa = tasks.grab(volunteer=a, task=task)
    sb = tasks.grab(volunteer=b, task=task)
    sc = tasks.grab(volunteer=c, task=task)
    tasks.cancel(actor=a.user, signup=sa)
    sb.refresh_from_db()
    sc.refresh_from_db()
    assert (sb.status, sb.how) == ("taken", "promoted") and sc.status == "waiting"
    assert tasks.waiting_position(sc) == 1
    assert counted(task) == (1, 1)
    # twice is once
    assert tasks.cancel(actor=a.user, signup=sa).status == "cancelled"
    assert counted(task) == (1, 1)
    # someone else's place
    assert code_of(lambda: tasks.cancel(actor=c.user, signup=sb)) == "forbidden"


@pytest.mark.django_db
def test_cancel_deadline_for_volunteers_not_for_staff(community, admin):
    task = make_task(community, places=2, cancel_until=timezone.now() - HOUR, starts_at=soon(1))
    a, b = vols(community, 2)
    sa = tasks.grab(volunteer=a, task=task)
    assert code_of(lambda: tasks.cancel(actor=a.user, signup=sa)) == "too_late"
    tasks.remove(actor=admin, signup=sa, reason="生病")
    sa.refresh_from_db()
    assert sa.status == "cancelled" and sa.cancelled_by == admin
    assert counted(task) == (0, 0)
    assert code_of(lambda: tasks.remove(actor=b.user, signup=sa)) == "forbidden"


@pytest.mark.django_db
def test_promotion_skips_whom_a_rule_would_break(community):
    s = soon(30)
    task = make_task(community, starts_at=s, hours=2, places=1)
    a, b, c = vols(community, 3)
    sa = tasks.grab(volunteer=a, task=task)
    sb = tasks.grab(volunteer=b, task=task)
    sc = tasks.grab(volunteer=c, task=task)
    # b meanwhile took something overlapping
    tasks.grab(volunteer=b, task=make_task(community, starts_at=s + HOUR, hours=2))
    tasks.cancel(actor=a.user, signup=sa)
    sb.refresh_from_db()
    sc.refresh_from_db()
    assert (sb.status, sc.status, sc.how) == ("waiting", "taken", "promoted")
    assert counted(task) == (1, 1)


@pytest.mark.django_db
def test_more_places_promote_fewer_than_taken_refused(community, admin):
    task = make_task(community, places=1)
    a, b, c = vols(community, 3)
    for v in (a, b, c):
        tasks.grab(volunteer=v, task=task)
    tasks.update(actor=admin, task=task, places=2)
    assert counted(task) == (2, 2)
    assert Signup.objects.get(volunteer=b).status == "taken"
    assert code_of(lambda: tasks.update(actor=admin, task=task, places=1)) == "invalid"
    tasks.update(actor=admin, task=task, title="新标题")
    task.refresh_from_db()
    assert task.title == "新标题" and task.places == 2


@pytest.mark.django_db
def test_cancel_task_cancels_everyone(community, admin):
    task = make_task(community, places=1)
    for v in vols(community, 2):
        tasks.grab(volunteer=v, task=task)
    assert code_of(lambda: tasks.cancel_task(actor=admin, task=task, reason="")) == "invalid"
    tasks.cancel_task(actor=admin, task=task, reason="取消")
    task.refresh_from_db()
    assert task.taken == 0 and task.cancelled_at is not None
    assert set(Signup.objects.filter(task=task).values_list("status", flat=True)) == {"cancelled"}


# --- staff assign -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_assign_refuses_a_rule_break_unless_overridden(community, admin):
    day = timezone.localdate() + dt.timedelta(days=2)
    s = local(day, dt.time(8))
    v = make_volunteer(community)
    tasks.assign(actor=admin, task=make_task(community, starts_at=s, hours=4), volunteer=v)
    second = make_task(community, starts_at=s + 5 * HOUR, hours=5, places=1)
    with pytest.raises(DomainError) as e:
        tasks.assign(actor=admin, task=second, volunteer=v)
    assert e.value.code == "rest_rule" and "override_reason" in e.value.fields
    assert [b.code for b in e.value.breaks] == ["daily_cap", "rest"]
    signup = tasks.assign(actor=admin, task=second, volunteer=v, override_reason="人手不够")
    assert (signup.status, signup.how, signup.override_reason) == ("taken", "assigned", "人手不够")
    # full now
    other = make_volunteer(community)
    assert code_of(lambda: tasks.assign(actor=admin, task=second, volunteer=other)) == "full"
    helper = t.make_user("volunteer", community)
    assert code_of(lambda: tasks.assign(actor=helper, task=second, volunteer=other)) == "forbidden"


@pytest.mark.django_db
def test_assign_someone_on_the_waiting_list(community, admin):
    task = make_task(community, places=1)
    a, b = vols(community, 2)
    tasks.grab(volunteer=a, task=task)
    sb = tasks.grab(volunteer=b, task=task)
    assert code_of(lambda: tasks.assign(actor=admin, task=task, volunteer=b)) == "full"
    tasks.update(actor=admin, task=task, places=2)  # promotes b already
    sb.refresh_from_db()
    assert sb.status == "taken"
    c = make_volunteer(community)
    tasks.grab(volunteer=c, task=task)
    tasks.update(actor=admin, task=task, places=3)
    assert counted(task) == (3, 3)


# --- reads ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_open_tasks_and_my_signups(community, me, django_assert_max_num_queries):
    team = Team.objects.create(community=community, name="运输队", kind="transport")
    mine = make_task(community, places=1, starts_at=soon(10))
    make_task(community, team=team, starts_at=soon(12))  # not my team
    needs = make_task(community, skills=["driving"], starts_at=soon(14))
    make_task(community, starts_at=timezone.now() - HOUR)  # started
    full = make_task(community, places=1, starts_at=soon(40))
    tasks.grab(volunteer=make_volunteer(community), task=full)
    tasks.grab(volunteer=me, task=mine)
    tasks.policy_for(community.pk)
    tasks.rest_rules(community.pk)
    with django_assert_max_num_queries(8):
        views = tasks.open_tasks(me)
    by = {v.task.pk: v for v in views}
    assert list(by) == [mine.pk, needs.pk, full.pk]
    assert by[mine.pk].mine is not None and by[mine.pk].free == 0
    assert "driving" in by[needs.pk].refusal.lower()
    assert by[full.pk].refusal == "" and by[full.pk].free == 0
    assert [s.task_id for s in tasks.my_signups(me)] == [mine.pk]


# --- pages ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_open_page_grab_and_cancel(client, personas, me, community):
    task = make_task(community, places=1, title="送药上门")
    client.force_login(personas["volunteer"])
    page = client.get(reverse("volunteers:open"))
    assert page.status_code == 200 and "送药上门" in page.content.decode()
    assert "Grab a place" in page.content.decode()
    resp = client.post(reverse("volunteers:grab", args=[task.pk]), follow=True)
    assert "You have a place" in resp.content.decode()
    signup = Signup.objects.get(task=task, volunteer=me)
    assert signup.status == "taken"
    resp = client.post(
        reverse("volunteers:cancel_signup", args=[signup.pk]), {"next": "/volunteers/me/"}
    )
    assert resp.status_code == 302 and resp["Location"] == "/volunteers/me/"
    signup.refresh_from_db()
    assert signup.status == "cancelled"
    resp = client.post(
        reverse("volunteers:cancel_signup", args=[signup.pk]), {"next": "https://evil.example/"}
    )
    assert resp["Location"] == reverse("volunteers:open")


@pytest.mark.django_db
def test_open_page_without_a_profile_explains(client, personas):
    client.force_login(personas["resident"])
    page = client.get(reverse("volunteers:open"))
    assert page.status_code == 200 and "sign up" in page.content.decode().lower()
    task = make_task(personas["resident"].community)
    assert client.post(reverse("volunteers:grab", args=[task.pk])).status_code == 403


@pytest.mark.django_db
def test_grab_page_full_goes_to_the_waiting_list(client, personas, me, community):
    task = make_task(community, places=1)
    tasks.grab(volunteer=make_volunteer(community), task=task)
    client.force_login(personas["volunteer"])
    resp = client.post(reverse("volunteers:grab", args=[task.pk]), follow=True)
    assert "number 1 on the waiting list" in resp.content.decode()


# --- API --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_publish_grab_and_list(client, personas, me, community):
    client.force_login(personas["staff"])
    s = soon(50)
    resp = client.post(
        "/api/v1/volunteers/tasks",
        {
            "title": "测温",
            "place": "东门",
            "starts_at": s.isoformat(),
            "ends_at": (s + 2 * HOUR).isoformat(),
            "places": 1,
        },
        content_type="application/json",
    )
    assert resp.status_code == 201, resp.content
    task_id = resp.json()["id"]
    assert len(resp.json()["code"]) == 8
    client.force_login(personas["volunteer"])
    listed = client.get("/api/v1/volunteers/me/tasks").json()
    assert [x["task"]["id"] for x in listed] == [task_id] and listed[0]["task"]["code"] is None
    got = client.post(f"/api/v1/volunteers/tasks/{task_id}/grab")
    assert got.status_code == 200 and got.json()["status"] == "taken"
    assert client.post(f"/api/v1/volunteers/tasks/{task_id}/grab").json()["id"] == got.json()["id"]
    assert [x["task_id"] for x in client.get("/api/v1/volunteers/me/signups").json()] == [task_id]
    detail = client.get(f"/api/v1/volunteers/tasks/{task_id}").json()
    assert detail["mine"]["status"] == "taken" and detail["signups"] is None
    client.force_login(personas["staff"])
    detail = client.get(f"/api/v1/volunteers/tasks/{task_id}").json()
    assert [x["volunteer"] for x in detail["signups"]] == ["王志愿"]
    patched = client.patch(
        f"/api/v1/volunteers/tasks/{task_id}", {"places": 0}, content_type="application/json"
    )
    assert patched.status_code == 400 and patched.json()["error"]["code"] == "invalid"
    listed = client.get("/api/v1/volunteers/tasks").json()
    assert [x["id"] for x in listed] == [task_id]


@pytest.mark.django_db
def test_api_assign_rule_break(client, personas, community):
    s = soon(50)
    v = make_volunteer(community)
    tasks.assign(
        actor=personas["admin"], task=make_task(community, starts_at=s, hours=2), volunteer=v
    )
    task = make_task(community, starts_at=s + HOUR, hours=2)
    client.force_login(personas["staff"])
    url = f"/api/v1/volunteers/tasks/{task.pk}/assign"
    resp = client.post(url, {"volunteer_id": v.pk}, content_type="application/json")
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "rest_rule"
    resp = client.post(
        url, {"volunteer_id": v.pk, "override_reason": "急需"}, content_type="application/json"
    )
    assert resp.status_code == 200 and resp.json()["override_reason"] == "急需"
    assert Task.objects.get(pk=task.pk).taken == 1
