"""Grabbing through the quick endpoint (POST /volunteers/grab/ with a grab key), once through
Django's full stack and once through the lean front (quick.py) that production puts before it:
the key, each refusal, retries, the answers — and, with many threads at once on both databases,
exactly `places` places."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from django.test import Client
from django.utils import timezone

from shouwang.core import testing as t
from shouwang.core.testing import FrontClientHandler, run_at_once
from shouwang.volunteers import grabkey, quick, tasks
from shouwang.volunteers.models import Signup, Task, Team
from shouwang.volunteers.testing import make_task, make_volunteer
from shouwang.volunteers.views import grab_quick

HOUR = dt.timedelta(hours=1)


class QuickHandler(FrontClientHandler):
    def match(self, environ):
        return quick.match(environ)

    def respond(self, request, matched):
        response = quick.QuickGrab(None).respond(request, matched)
        assert response is not None
        return response


class GrabClient:
    """Presses grab with a key, through Django or the front."""

    def __init__(self, front: bool):
        self.front = front
        self.client = Client()
        if front:
            self.client.handler = QuickHandler()

    def post(self, key, body, *, raw: bytes | None = None):
        resp = self.client.post(
            grab_quick.GRAB_PATH,
            raw if raw is not None else json.dumps(body),
            content_type="application/json",
            headers={grabkey.HEADER: key} if key else {},
        )
        assert getattr(resp, "quick", False) is self.front
        return resp

    def grab(self, volunteer, task, *, status=200):
        resp = self.post(grabkey.issue(volunteer, language="en"), {"task": task.pk})
        assert resp.status_code == status, resp.content
        return resp.json()


@pytest.fixture(params=["django", "front"])
def gc(request):
    return GrabClient(request.param == "front")


def vol(community, **kw):
    return make_volunteer(community, user=t.make_user("volunteer", community), **kw)


def refused(answer) -> str:
    assert answer["ok"] is False and answer["status"] == "refused", answer
    assert answer["message"]
    return answer["code"]


# --- the key ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_no_key_a_bad_key_and_an_expired_key(gc, community, monkeypatch):
    task = make_task(community)
    v = vol(community)
    for key in ("", "nonsense", grabkey.issue(v, language="en")[:-2] + "xx"):
        resp = gc.post(key, {"task": task.pk})
        assert resp.status_code == 401 and refused(resp.json()) == "grab_key"
    key = grabkey.issue(v, language="en")
    grabkey._VERIFIED.clear()
    later = time.time() + grabkey.MAX_AGE + 5
    monkeypatch.setattr(time, "time", lambda: later)
    resp = gc.post(key, {"task": task.pk})
    assert resp.status_code == 401 and refused(resp.json()) == "grab_key"
    assert Signup.objects.count() == 0


@pytest.mark.django_db
def test_a_key_whose_user_is_gone_or_moved(gc, community):
    task = make_task(community)
    v = vol(community)
    key = grabkey.issue(v, language="en")
    v.user.is_active = False
    v.user.save(update_fields=["is_active"])
    assert refused(gc.post(key, {"task": task.pk}).json()) == "grab_key"
    v.user.is_active = True
    v.user.save(update_fields=["is_active"])
    other = t.make_user("volunteer", community)
    type(v).objects.filter(pk=v.pk).update(user=other)
    assert refused(gc.post(key, {"task": task.pk}).json()) == "grab_key"
    assert Signup.objects.count() == 0


@pytest.mark.django_db
def test_a_task_of_another_community_is_not_found(gc, community, personas):
    elsewhere = make_task(personas["outsider"].community)
    v = vol(community)
    a = gc.grab(v, elsewhere, status=404)
    assert refused(a) == "not_found"
    assert Task.objects.get(pk=elsewhere.pk).taken == 0


@pytest.mark.django_db
def test_bad_bodies(gc, community):
    v = vol(community)
    key = grabkey.issue(v, language="en")
    for body in (b"not json", b"[]", b'{"task": "x"}', b'{"task": true}', b'{"task": -1}'):
        resp = gc.post(key, None, raw=body)
        assert resp.status_code == 400 and refused(resp.json()) == "bad_request"
    # unknown task
    resp = gc.post(key, {"task": 999999})
    assert resp.status_code == 404 and refused(resp.json()) == "not_found"


def test_the_front_leaves_other_requests_to_django(settings):
    env = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": grab_quick.GRAB_PATH,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": "12",
    }
    assert quick.match(env) == "grab"
    assert quick.match({**env, "REQUEST_METHOD": "GET"}) is None
    assert quick.match({**env, "CONTENT_TYPE": "text/plain"}) is None
    assert quick.match({**env, "CONTENT_LENGTH": str(grab_quick.MAX_BODY + 1)}) is None
    settings.QUICK_GRAB = False
    assert quick.match(env) is None


# --- the answers ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_places_then_the_waiting_list_then_a_retry(gc, community):
    task = make_task(community, places=2, title="搬物资")
    crowd = [vol(community) for _ in range(4)]
    answers = [gc.grab(v, task) for v in crowd]
    assert [a["status"] for a in answers] == ["taken", "taken", "waiting", "waiting"]
    assert [a["position"] for a in answers] == [None, None, 1, 2]
    assert "搬物资" in answers[0]["message"] and "Come on time" in answers[0]["message"]
    assert "number 2 on the waiting list" in answers[3]["message"]
    assert not any(a["replayed"] for a in answers)
    again = gc.grab(crowd[0], task)
    assert again["replayed"] and again["signup"] == answers[0]["signup"]
    again = gc.grab(crowd[3], task)
    assert (again["status"], again["position"], again["replayed"]) == ("waiting", 2, True)
    task.refresh_from_db()
    assert task.taken == 2 == Signup.objects.filter(task=task, status="taken").count()
    assert Signup.objects.filter(task=task, status="waiting").count() == 2
    s = Signup.objects.get(pk=answers[0]["signup"])
    assert (s.volunteer_id, s.how) == (crowd[0].pk, "grabbed")


@pytest.mark.django_db
def test_each_refusal(gc, community, personas):
    team = Team.objects.create(community=community, name="消杀队", kind="disinfection")
    v = vol(community)
    pending = vol(community, status="pending")
    paused = vol(community, status="paused")
    assert refused(gc.grab(pending, make_task(community), status=403)) == "not_approved"
    assert refused(gc.grab(paused, make_task(community), status=403)) == "not_active"
    a = gc.grab(v, make_task(community, team=team), status=403)
    assert refused(a) == "team_only" and "消杀队" in a["message"]
    a = gc.grab(v, make_task(community, skills=["medical"]), status=403)
    assert refused(a) == "skill"
    assert refused(gc.grab(v, make_task(community, grabbable=False), status=403)) == (
        "not_grabbable"
    )
    started = make_task(community, starts_at=timezone.now() - HOUR, hours=3)
    assert refused(gc.grab(v, started, status=409)) == "started"
    over = make_task(community, starts_at=timezone.now() - 3 * HOUR, hours=1)
    assert refused(gc.grab(v, over, status=409)) == "over"
    gone = make_task(community)
    tasks.cancel_task(actor=personas["admin"], task=gone, reason="下雨")
    a = gc.grab(v, gone, status=409)
    assert refused(a) == "cancelled" and "下雨" in a["message"]
    # a rest rule: overlapping a place already held
    s = (timezone.now() + 30 * HOUR).replace(second=0, microsecond=0)
    assert gc.grab(v, make_task(community, starts_at=s, hours=6, title="上午分拣"))["status"] == (
        "taken"
    )
    a = gc.grab(v, make_task(community, starts_at=s + 5 * HOUR, hours=2), status=400)
    assert refused(a) == "rest_rule" and "上午分拣" in a["message"]
    assert gc.grab(v, make_task(community, starts_at=s + 6 * HOUR, hours=2))["status"] == "taken"
    assert Signup.objects.filter(volunteer__in=[pending, paused]).count() == 0
    assert Signup.objects.filter(volunteer=v).count() == 2


@pytest.mark.django_db
def test_no_shows_stop_grabbing(gc, community, personas):
    v = vol(community)
    for _ in range(2):
        past = make_task(community, starts_at=timezone.now() - 3 * HOUR, hours=1)
        Signup.objects.create(
            community=community, task=past, volunteer=v, status="no_show", how="grabbed"
        )
    a = gc.grab(v, make_task(community), status=403)
    assert refused(a) == "no_show_limit"
    Signup.objects.filter(volunteer=v).update(excused=True)
    assert gc.grab(v, make_task(community))["status"] == "taken"


@pytest.mark.django_db
def test_the_answer_speaks_the_keys_language(community):
    gc = GrabClient(front=True)
    v = vol(community, status="pending")
    resp = gc.post(grabkey.issue(v, language="zh-hans"), {"task": make_task(community).pk})
    assert resp.status_code == 403 and resp["Content-Language"] == "zh-hans"
    assert refused(resp.json()) == "not_approved"


@pytest.mark.django_db
def test_the_open_page_holds_a_key_for_the_script(client, personas, community):
    v = make_volunteer(community, user=personas["volunteer"])
    task = make_task(community)
    client.force_login(personas["volunteer"])
    html = client.get("/volunteers/tasks/open/").content.decode()
    assert 'class="vgrab"' in html and "volunteer-grab.js" in html
    key = html.split('data-grab-key="', 1)[1].split('"', 1)[0]
    assert grabkey.verify(key).volunteer_id == v.pk
    assert f'data-task="{task.pk}"' in html


# --- at once, on both databases ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("front", [True, False])
def test_forty_press_at_once_for_eight_places(community, db_file, front):
    task = make_task(community, places=8)
    crowd = [
        make_volunteer(community, user=t.make_user("volunteer", community, username=f"q{i}"))
        for i in range(40)
    ]
    keys = [grabkey.issue(v, language="en") for v in crowd]

    def press(key):
        resp = GrabClient(front).post(key, {"task": task.pk})
        assert resp.status_code == 200, resp.content
        return resp.json()

    answers, refusals = run_at_once(db_file, press, keys)
    assert not refusals
    statuses = sorted(a["status"] for a in answers)
    assert statuses.count("taken") == 8 and statuses.count("waiting") == 32
    task.refresh_from_db()
    rows = Signup.objects.filter(task=task)
    assert task.taken == 8 == rows.filter(status="taken").count()
    assert rows.filter(status="waiting").count() == 32 and rows.count() == 40
    # Each answer's position is the line as it stood then; the list itself is numbered 1..32.
    assert all(1 <= a["position"] <= 32 for a in answers if a["status"] == "waiting")
    waiting = Signup.objects.filter(task=task, status="waiting")
    assert sorted(tasks.waiting_position(s) for s in waiting) == list(range(1, 33))


@pytest.mark.django_db(transaction=True)
def test_cancels_while_the_crowd_joins_the_waiting_list(community, db_file):
    """Places given up while others join the waiting list without holding the task's row: no
    place is left free beside someone waiting."""
    task = make_task(community, places=6)
    holders = [
        make_volunteer(community, user=t.make_user("volunteer", community, username=f"h{i}"))
        for i in range(6)
    ]
    signups = [tasks.grab(volunteer=v, task=task) for v in holders]
    crowd = [
        make_volunteer(community, user=t.make_user("volunteer", community, username=f"w{i}"))
        for i in range(16)
    ]
    work = [("cancel", s) for s in signups[:4]] + [("grab", v) for v in crowd]

    def act(item):
        kind, x = item
        if kind == "cancel":
            return tasks.cancel(actor=x.volunteer.user, signup=x)
        return tasks.take(x.pk, task.pk, user_id=x.user_id)

    _results, refusals = run_at_once(db_file, act, work)
    assert not refusals
    task.refresh_from_db()
    rows = Signup.objects.filter(task=task)
    assert task.taken == rows.filter(status="taken").count() == 6
    assert rows.filter(status="waiting").count() == 16 - 4


@pytest.mark.django_db(transaction=True)
def test_one_volunteer_two_overlapping_tasks_at_once(community, db_file):
    """The rest rules hold for two grabs of one volunteer at the same instant."""
    v = make_volunteer(community, user=t.make_user("volunteer", community, username="twice"))
    s = (timezone.now() + 30 * HOUR).replace(second=0, microsecond=0)
    a = make_task(community, starts_at=s, hours=3)
    b = make_task(community, starts_at=s + HOUR, hours=3)
    results, refusals = run_at_once(db_file, lambda task: tasks.take(v.pk, task.pk), [a, b, a, b])
    taken = Signup.objects.filter(volunteer=v, status="taken")
    assert taken.count() == 1
    assert {e.code for e in refusals} <= {"rest_rule"}
    assert sum(1 for r in results if r.status == "taken") >= 1
