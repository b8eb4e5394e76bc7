"""The volunteer's home, check-in pages, record, certificate, leaderboard, stats and the leaders'
buttons, through HTTP (pages and API)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

from shouwang.volunteers.models import Declaration, Signup, Team
from shouwang.volunteers.testing import make_task, make_volunteer


def place(task, v, **kw):
    return Signup.objects.create(
        community=task.community, task=task, volunteer=v, status="taken", how="grabbed", **kw
    )


def declare(v, well=True):
    return Declaration.objects.create(
        community=v.community, volunteer=v, date=timezone.localdate(), well=well
    )


@pytest.fixture
def vol(personas, community):
    return make_volunteer(community, user=personas["volunteer"], name="王小明")


@pytest.fixture
def now_task(community):
    """A task that started ten minutes ago and runs for two hours."""
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=10)
    return make_task(community, starts_at=start, hours=2, title="核酸秩序", places=3)


def test_home_without_profile_offers_the_sign_up(client, personas):
    client.force_login(personas["resident"])
    r = client.get("/volunteers/me/")
    assert r.status_code == 200
    assert "Sign up as a volunteer" in r.content.decode()


def test_home_pending_waits_for_approval(client, personas, community):
    make_volunteer(community, user=personas["resident"], status="pending")
    client.force_login(personas["resident"])
    body = client.get("/volunteers/me/").content.decode()
    assert "Waiting for approval" in body and "Check in / out" not in body


def test_home_active_shows_declaration_places_tasks_and_hours(client, vol, now_task, community):
    place(now_task, vol)
    make_task(community, title="送菜上门")  # tomorrow, open to all
    done = make_task(community, starts_at=timezone.now() - dt.timedelta(days=3), title="消杀")
    place(
        done,
        vol,
        checked_in_at=done.starts_at,
        checked_out_at=done.starts_at + dt.timedelta(minutes=150),
        minutes=150,
    )
    client.force_login(vol.user)
    body = client.get("/volunteers/me/").content.decode()
    assert "Today's health declaration" in body  # not declared yet
    assert "核酸秩序" in body and "送菜上门" in body
    assert "Grab a place" in body  # H1's card
    assert "2.50" in body  # my hours
    declare(vol)
    body = client.get("/volunteers/me/").content.decode()
    assert "Health declared for today." in body


def test_check_by_typed_code_in_then_out_shows_the_hours(client, vol, now_task):
    s = place(now_task, vol)
    declare(vol)
    client.force_login(vol.user)
    assert client.get("/volunteers/check/").status_code == 200
    r = client.post("/volunteers/check/", {"code": now_task.code.lower()}, follow=True)
    assert r.redirect_chain[-1][0] == "/volunteers/me/"
    assert "Checked in at" in r.content.decode()
    s.refresh_from_db()
    assert s.checked_in_at is not None
    # Forty-five minutes later (moved back in the database): the same code checks out.
    Signup.objects.filter(pk=s.pk).update(checked_in_at=s.checked_in_at - dt.timedelta(minutes=45))
    r = client.post("/volunteers/check/", {"code": now_task.code}, follow=True)
    body = r.content.decode()
    assert "45 min credited" in body
    s.refresh_from_db()
    assert s.minutes == 45
    assert "0.75" in body  # the home page's hours


def test_check_without_declaration_links_to_the_form(client, vol, now_task):
    place(now_task, vol)
    client.force_login(vol.user)
    r = client.post("/volunteers/check/", {"code": now_task.code})
    assert r.status_code == 200
    body = r.content.decode()
    assert "health declaration" in body and 'href="/volunteers/me/declare/"' in body
    r = client.post("/volunteers/check/", {"code": "nonsense"})
    assert "not a check-in code" in r.content.decode()


def test_check_needs_an_active_profile(client, personas, now_task):
    client.force_login(personas["staff"])
    assert client.post("/volunteers/check/", {"code": now_task.code}).status_code == 403


def test_poster_url_page_and_its_button(client, vol, now_task, other_community):
    place(now_task, vol)
    declare(vol)
    client.force_login(vol.user)
    url = f"/volunteers/c/{now_task.code}/"
    body = client.get(url).content.decode()
    assert "核酸秩序" in body and ">Check in<" in body
    r = client.post(url, follow=True)
    assert r.redirect_chain[-1][0] == url
    assert ">Check out<" in r.content.decode()
    theirs = make_task(other_community)
    assert client.get(f"/volunteers/c/{theirs.code}/").status_code == 404


def test_record_certificate_and_hide(client, vol, community):
    done = make_task(community, starts_at=timezone.now() - dt.timedelta(days=2), title="消杀")
    place(done, vol, checked_in_at=done.starts_at, minutes=125, checked_out_at=done.ends_at)
    other = make_volunteer(community, name="李四")
    place(done, other, checked_in_at=done.starts_at, minutes=60, checked_out_at=done.ends_at)
    client.force_login(vol.user)
    body = client.get("/volunteers/me/record/").content.decode()
    assert "消杀" in body and "2.08" in body
    body = client.get("/volunteers/me/certificate/").content.decode()
    assert "志愿服务证明" in body and "王小明" in body and "2.08" in body
    board = client.get("/volunteers/leaderboard/").content.decode()
    assert board.index("王小明") < board.index("李四")
    r = client.post("/volunteers/me/hide/", {"hide": "1"}, follow=True)
    vol.refresh_from_db()
    assert vol.hide_from_board is True
    body = r.content.decode()
    assert "You are hidden from this board" in body
    assert '<span class="vol-who"><b>王小明' not in body and "李四" in body
    client.post("/volunteers/me/hide/", {"hide": "0"})
    vol.refresh_from_db()
    assert vol.hide_from_board is False


def test_stats_page_and_export_for_staff_only(client, personas, community, vol):
    done = make_task(community, starts_at=timezone.now() - dt.timedelta(days=1))
    place(done, vol, checked_in_at=done.starts_at, minutes=90, checked_out_at=done.ends_at)
    vol.hide_from_board = True
    vol.save()
    client.force_login(personas["volunteer"])
    assert client.get("/volunteers/stats/").status_code == 403
    client.force_login(personas["grid_leader"])
    body = client.get("/volunteers/stats/").content.decode()
    assert "1.50" in body and "王小明" in body and "hidden from the board" in body
    r = client.get("/volunteers/stats/?first=2001-01-01&last=2001-01-02")
    assert "No hours in this period." in r.content.decode()
    r = client.get("/volunteers/stats/?first=2001-01-02&last=2001-01-01")
    assert "must be on or after" in r.content.decode()
    r = client.get("/volunteers/stats.xlsx")
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(r.content))["Summary"]
    assert ws["B4"].value == 1.5
    body = client.get(f"/volunteers/people/{vol.pk}/certificate/").content.decode()
    assert "王小明" in body and "1.50" in body


def test_leader_buttons_check_in_out_and_correct(client, personas, community, now_task):
    team = Team.objects.create(community=community, name="测试组", kind="testing")
    lead = make_volunteer(community, user=personas["volunteer"], team=team)
    team.leader = lead
    team.save()
    now_task.team = team
    now_task.save()
    elder = make_volunteer(community, name="老党员", team=team)
    s = place(now_task, elder)
    client.force_login(personas["resident"])  # not the leader
    assert client.post(f"/volunteers/signups/{s.pk}/in/").status_code == 403
    client.force_login(personas["volunteer"])
    r = client.post(f"/volunteers/signups/{s.pk}/in/", {"next": "/volunteers/me/"})
    assert r.status_code == 302 and r["Location"] == "/volunteers/me/"
    s.refresh_from_db()
    assert s.checked_in_by_id == personas["volunteer"].pk
    r = client.post(f"/volunteers/signups/{s.pk}/out/", {"next": "https://evil.example/"})
    assert r["Location"] == f"/volunteers/tasks/{now_task.pk}/"
    s.refresh_from_db()
    assert s.checked_out_at is not None
    start = timezone.localtime(now_task.starts_at)
    r = client.post(
        f"/volunteers/signups/{s.pk}/correct/",
        {
            "checked_in_at": start.strftime("%H:%M"),
            "checked_out_at": (start + dt.timedelta(minutes=100)).strftime("%H:%M"),
            "reason": "忘记签到",
        },
    )
    s.refresh_from_db()
    assert s.minutes == 100 and s.corrections.count() == 1
    # No reason: refused with a message, nothing changed.
    r = client.post(f"/volunteers/signups/{s.pk}/correct/", {"minutes": "30"}, follow=True)
    assert "Say why" in r.content.decode()
    s.refresh_from_db()
    assert s.minutes == 100


def test_api_check_stats_leaderboard_record(client, personas, vol, now_task):
    s = place(now_task, vol)
    client.force_login(vol.user)
    r = client.post(
        "/api/v1/volunteers/check", {"code": now_task.code}, content_type="application/json"
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "declare"
    declare(vol)
    r = client.post(
        "/api/v1/volunteers/check", {"code": now_task.code}, content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["action"] == "in"
    Signup.objects.filter(pk=s.pk).update(checked_in_at=timezone.now() - dt.timedelta(minutes=61))
    r = client.post(
        "/api/v1/volunteers/check", {"code": now_task.code}, content_type="application/json"
    )
    assert r.json()["action"] == "out" and r.json()["signup"]["minutes"] == 61
    board = client.get("/api/v1/volunteers/leaderboard").json()
    assert [(b["rank"], b["name"], b["hours"]) for b in board] == [(1, "王小明", "1.02")]
    rec = client.get("/api/v1/volunteers/me/record").json()
    assert rec["minutes"] == 61 and rec["rows"][0]["task"] == "核酸秩序"
    assert client.get("/api/v1/volunteers/stats").status_code == 403
    client.force_login(personas["staff"])
    st = client.get("/api/v1/volunteers/stats").json()
    assert st["summary"]["volunteers"] == 1 and st["summary"]["minutes"] == 61
    assert st["summary"]["top_name"] == "王小明"
    day = timezone.localdate().isoformat()
    st = client.get(f"/api/v1/volunteers/stats?from={day}&to={day}&team_id=0").json()
    assert st["days"][0]["minutes"] == 61 and st["teams"][0]["team"] == "Open to all"
    assert client.get("/api/v1/volunteers/stats?from=yesterday").status_code == 400
    r = client.post(
        f"/api/v1/volunteers/signups/{s.pk}/correct",
        {"minutes": 90, "reason": "核对"},
        content_type="application/json",
    )
    assert r.json()["minutes"] == 90
    assert client.get(f"/api/v1/volunteers/people/{vol.pk}/record").json()["minutes"] == 90
    assert client.get("/api/v1/volunteers/me/record").status_code == 403  # staff: no profile
