"""people.py: signing up, approving, pausing and leaving (their future places freed through the
tasks part's cancel), moving between teams, the ledger link, the daily declaration; and the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from shouwang.accounts.models import User
from shouwang.core.errors import Conflict, DomainError, Forbidden
from shouwang.core.models import AuditEvent
from shouwang.core.testing import make_user
from shouwang.volunteers import people
from shouwang.volunteers.models import (
    Declaration,
    Signup,
    SignupStatus,
    Team,
    TeamMove,
    Volunteer,
    VolunteerStatus,
)
from shouwang.volunteers.selectors import teams_for
from shouwang.volunteers.testing import make_task, make_volunteer

pytestmark = pytest.mark.django_db


def _signup(v, task, status=SignupStatus.TAKEN):
    s = Signup.objects.create(
        community_id=v.community_id, task=task, volunteer=v, status=status, how="grabbed"
    )
    if status == SignupStatus.TAKEN:
        task.taken += 1
        task.save(update_fields=["taken"])
    return s


# --- sign up -------------------------------------------------------------------------------------


def test_sign_up_signed_out_makes_a_user_and_a_pending_profile(community):
    teams = list(teams_for(community.pk))
    v = people.sign_up(
        community=community,
        name=" 王  小明 ",
        phone="139 1234 5678",
        origin="resident",
        skills=["driving", "medical", "driving"],
        wishes=[teams[0].pk, teams[3].pk],
        password="longer-pass-2022",
    )
    assert v.status == VolunteerStatus.PENDING
    assert v.name == "王 小明"
    assert v.phone == "+8613912345678"
    assert v.skills == ["driving", "medical"]
    assert set(v.wishes.values_list("pk", flat=True)) == {teams[0].pk, teams[3].pk}
    u = v.user
    assert u.username == "13912345678"
    assert u.role == "volunteer" and u.community_id == community.pk
    assert u.check_password("longer-pass-2022")
    assert AuditEvent.objects.filter(action="volunteers.sign_up", target_id=str(v.pk)).count() == 1


def test_sign_up_refuses_a_phone_already_signed_up_kindly(community):
    people.sign_up(
        community=community,
        name="甲",
        phone="13912345678",
        origin="resident",
        password="pw-ok-12345",
    )
    with pytest.raises(Conflict) as e:
        people.sign_up(
            community=community,
            name="乙",
            phone="+86 139-1234-5678",
            origin="outside",
            password="pw-ok-12345",
        )
    assert e.value.code == "duplicate"
    assert "sign in" in str(e.value.message).lower()
    assert "phone" in e.value.fields
    assert (
        Volunteer.objects.count() == 1 and User.objects.filter(username="13912345678").count() == 1
    )


def test_sign_up_refuses_a_staff_added_phone_too(community, personas):
    people.add(
        actor=personas["staff"], community=community, name="老党员", phone="13912345678",
        origin="resident",
    )  # fmt: skip
    with pytest.raises(Conflict):
        people.sign_up(
            community=community, name="老党员", phone="13912345678", origin="resident",
            password="pw-ok-12345",
        )  # fmt: skip


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"name": ""}, "name"),
        ({"phone": "0215550101"}, "phone"),
        ({"phone": "1391234567"}, "phone"),
        ({"origin": "alien"}, "origin"),
        ({"skills": ["flying"]}, "skills"),
        ({"password": ""}, "password"),
        ({"password": "short"}, "password"),
    ],
)
def test_sign_up_says_which_field_is_wrong(community, kw, field):
    args = {
        "name": "王小明",
        "phone": "13912345678",
        "origin": "resident",
        "password": "pw-ok-12345",
    }
    args.update(kw)
    with pytest.raises(DomainError) as e:
        people.sign_up(community=community, **args)
    assert field in e.value.fields
    assert Volunteer.objects.count() == 0 and not User.objects.filter(role="volunteer").exists()


def test_sign_up_refuses_wishes_of_another_community(community, other_community):
    theirs = teams_for(other_community.pk).first()
    with pytest.raises(DomainError) as e:
        people.sign_up(
            community=community, name="王", phone="13912345678", origin="resident",
            wishes=[theirs.pk], password="pw-ok-12345",
        )  # fmt: skip
    assert "wishes" in e.value.fields


def test_sign_up_signed_in_uses_the_account_and_a_retry_returns_it(community, personas):
    user = personas["resident"]
    v1 = people.sign_up(
        community=community, name="居民", phone="13912345678", origin="resident", user=user
    )
    v2 = people.sign_up(
        community=community, name="居民", phone="13912345678", origin="resident", user=user
    )
    assert v1.pk == v2.pk and v1.user_id == user.pk
    assert Volunteer.objects.count() == 1
    assert User.objects.filter(username="13912345678").count() == 0


def test_sign_up_signed_in_elsewhere_is_refused(community, personas):
    with pytest.raises(Forbidden):
        people.sign_up(
            community=community, name="外", phone="13912345678", origin="outside",
            user=personas["outsider"],
        )  # fmt: skip


# --- staff add, approve, pause, activate, leave ----------------------------------------------------


def test_add_is_active_without_login_and_in_the_team(community, personas):
    team = teams_for(community.pk).first()
    v = people.add(
        actor=personas["staff"], community=community, name="老张", phone="13812345678",
        origin="cadre", organisation="区财政局", team=team,
    )  # fmt: skip
    assert v.status == VolunteerStatus.ACTIVE and v.user is None and v.team_id == team.pk
    assert v.approved_by_id == personas["staff"].pk
    moves = list(v.moves.all())
    assert [(m.from_team_id, m.to_team_id) for m in moves] == [(None, team.pk)]


def test_only_the_office_adds(community, personas):
    for who in ("volunteer", "grid_leader", "outsider"):
        with pytest.raises(Forbidden):
            people.add(
                actor=personas[who], community=community, name="x", phone="13812345678",
                origin="resident",
            )  # fmt: skip


def test_approve_puts_in_team_and_twice_is_once(community, personas):
    team = teams_for(community.pk)[2]
    v = make_volunteer(community, status=VolunteerStatus.PENDING)
    people.approve(actor=personas["admin"], volunteer=v, team=team)
    people.approve(actor=personas["admin"], volunteer=v, team=team)
    v.refresh_from_db()
    assert v.status == VolunteerStatus.ACTIVE and v.team_id == team.pk
    assert v.approved_by_id == personas["admin"].pk and v.approved_at is not None
    assert TeamMove.objects.filter(volunteer=v).count() == 1
    assert AuditEvent.objects.filter(action="volunteers.approve").count() == 1


def test_approve_refuses_a_team_of_another_community(community, other_community, personas):
    v = make_volunteer(community, status=VolunteerStatus.PENDING)
    theirs = teams_for(other_community.pk).first()
    with pytest.raises(DomainError) as e:
        people.approve(actor=personas["admin"], volunteer=v, team=theirs)
    assert "team" in e.value.fields
    v.refresh_from_db()
    assert v.status == VolunteerStatus.PENDING


def test_pause_frees_future_places_and_the_waiting_list_moves_up(community, personas):
    now = timezone.now()
    v = make_volunteer(community, user=personas["volunteer"])
    other = make_volunteer(community)
    future = make_task(community, places=1, starts_at=now + dt.timedelta(days=1))
    waiting_elsewhere = make_task(community, places=1, starts_at=now + dt.timedelta(days=2))
    started = make_task(community, places=1, starts_at=now - dt.timedelta(hours=1), hours=3)
    mine = _signup(v, future)
    o_wait = _signup(other, future, SignupStatus.WAITING)
    _signup(other, waiting_elsewhere)
    my_wait = _signup(v, waiting_elsewhere, SignupStatus.WAITING)
    running = _signup(v, started)

    v = people.pause(actor=personas["staff"], volunteer=v, reason="生病")
    assert v.status == VolunteerStatus.PAUSED and v.freed == 2
    statuses = {s.pk: s.status for s in Signup.objects.all()}
    assert statuses[mine.pk] == SignupStatus.CANCELLED
    assert statuses[my_wait.pk] == SignupStatus.CANCELLED
    assert statuses[running.pk] == SignupStatus.TAKEN  # already serving: not taken away
    assert statuses[o_wait.pk] == SignupStatus.TAKEN  # promoted
    future.refresh_from_db()
    assert future.taken == 1
    # Twice is once.
    assert people.pause(actor=personas["staff"], volunteer=v).status == VolunteerStatus.PAUSED
    assert AuditEvent.objects.filter(action="volunteers.pause").count() == 1


def test_pause_by_the_volunteer_themselves(community, personas):
    v = make_volunteer(community, user=personas["volunteer"])
    t = make_task(community, starts_at=timezone.now() + dt.timedelta(days=1))
    s = _signup(v, t)
    people.pause(actor=personas["volunteer"], volunteer=v)
    s.refresh_from_db()
    assert s.status == SignupStatus.CANCELLED
    # Someone else's profile: refused.
    w = make_volunteer(community)
    with pytest.raises(Forbidden):
        people.pause(actor=personas["volunteer"], volunteer=w)


def test_activate_after_pause_and_after_leaving(community, personas):
    staff = personas["staff"]
    v = make_volunteer(community)
    people.pause(actor=staff, volunteer=v)
    assert people.activate(actor=staff, volunteer=v).status == VolunteerStatus.ACTIVE
    people.leave(actor=staff, volunteer=v, reason="搬走")
    assert people.activate(actor=staff, volunteer=v).status == VolunteerStatus.ACTIVE
    pending = make_volunteer(community, status=VolunteerStatus.PENDING)
    v2 = people.activate(actor=staff, volunteer=pending)
    assert v2.status == VolunteerStatus.ACTIVE and v2.approved_at is not None


def test_leave_needs_a_reason_frees_places_and_the_team_lead(community, personas):
    staff = personas["staff"]
    team = teams_for(community.pk).first()
    v = make_volunteer(community, team=team)
    Team.objects.filter(pk=team.pk).update(leader=v)
    t = make_task(community, starts_at=timezone.now() + dt.timedelta(days=1))
    s = _signup(v, t)
    with pytest.raises(DomainError) as e:
        people.leave(actor=staff, volunteer=v, reason="  ")
    assert "reason" in e.value.fields
    v = people.leave(actor=staff, volunteer=v, reason="复工")
    assert v.status == VolunteerStatus.LEFT and v.team_id is None and v.freed == 1
    s.refresh_from_db()
    assert s.status == SignupStatus.CANCELLED
    team.refresh_from_db()
    assert team.leader_id is None
    last = v.moves.order_by("-pk").first()
    assert (last.from_team_id, last.to_team_id, last.reason) == (team.pk, None, "复工")


# --- moves ---------------------------------------------------------------------------------------


def test_emergency_move_needs_a_reason_and_is_in_the_history(community, personas):
    staff = personas["staff"]
    a, b = list(teams_for(community.pk))[:2]
    v = make_volunteer(community, team=a)
    with pytest.raises(DomainError) as e:
        people.move(actor=staff, volunteer=v, team=b, emergency=True)
    assert "reason" in e.value.fields
    m = people.move(actor=staff, volunteer=v, team=b, emergency=True, reason="核酸点缺人")
    v.refresh_from_db()
    assert v.team_id == b.pk
    assert (m.from_team_id, m.to_team_id, m.emergency, m.reason) == (a.pk, b.pk, True, "核酸点缺人")
    # Pressed twice: the same move, no second row.
    again = people.move(actor=staff, volunteer=v, team=b, emergency=True, reason="核酸点缺人")
    assert again.pk == m.pk and TeamMove.objects.filter(volunteer=v).count() == 1
    # Out of any team.
    people.move(actor=staff, volunteer=v, team=None)
    v.refresh_from_db()
    assert v.team_id is None and TeamMove.objects.filter(volunteer=v).count() == 2


def test_move_refuses_a_retired_team_and_the_leader_role(community, personas):
    a, b = list(teams_for(community.pk))[:2]
    Team.objects.filter(pk=b.pk).update(is_active=False)
    v = make_volunteer(community, team=a)
    with pytest.raises(DomainError):
        people.move(actor=personas["staff"], volunteer=v, team=b.pk)
    with pytest.raises(Forbidden):
        people.move(actor=personas["grid_leader"], volunteer=v, team=None)


# --- profile -------------------------------------------------------------------------------------


def test_update_profile_by_the_volunteer(community, personas):
    v = make_volunteer(community, user=personas["volunteer"], phone="13900001111")
    teams = list(teams_for(community.pk))
    people.update_profile(
        actor=personas["volunteer"], volunteer=v, skills=["lifting"], hide_from_board=True,
        wishes=[teams[1]], phone="13900002222",
    )  # fmt: skip
    v.refresh_from_db()
    assert v.skills == ["lifting"] and v.hide_from_board is True
    assert v.phone == "+8613900002222"
    assert list(v.wishes.values_list("pk", flat=True)) == [teams[1].pk]
    with pytest.raises(DomainError):  # staff's note is not theirs to write
        people.update_profile(actor=personas["volunteer"], volunteer=v, note="x")
    other = make_volunteer(community, phone="13900003333")
    with pytest.raises(Conflict):
        people.update_profile(actor=personas["volunteer"], volunteer=v, phone="13900003333")
    with pytest.raises(Forbidden):
        people.update_profile(actor=personas["volunteer"], volunteer=other, name="改")


# --- the ledger link -----------------------------------------------------------------------------


def test_resident_matches_by_phone_then_name_and_link(community, personas, ledger):
    # r1 王小明 +8613912345678; r2 李四; ro in another community has a similar name.
    v = make_volunteer(community, name="李四", phone="13912345678")
    found = people.resident_matches(v)
    assert [(r.pk, r.match) for r in found] == [
        (ledger["r1"].pk, "phone"),
        (ledger["r2"].pk, "name"),
    ]
    both = make_volunteer(community, name="王小明", phone="+8613912345678")
    assert [(r.pk, r.match) for r in people.resident_matches(both)] == [(ledger["r1"].pk, "both")]
    outside = make_volunteer(community, name="王外人", phone="13900003333")
    assert people.resident_matches(outside) == []  # ro lives in the other community

    v = people.link_resident(actor=personas["staff"], volunteer=v, resident=ledger["r2"])
    assert v.resident_id == ledger["r2"].pk and v.origin == "resident"
    with pytest.raises(DomainError):
        people.link_resident(actor=personas["staff"], volunteer=v, resident=ledger["ro"])
    v = people.link_resident(actor=personas["staff"], volunteer=v, resident=None)
    assert v.resident_id is None
    assert AuditEvent.objects.filter(action="volunteers.link_resident").count() == 2


# --- the declaration -----------------------------------------------------------------------------


def test_declare_once_a_day_second_replaces_first(community, personas):
    v = make_volunteer(community, user=personas["volunteer"])
    now = timezone.now()
    d1 = people.declare(volunteer=v, temperature="36.6", now=now)
    assert d1.well is True and d1.temperature == Decimal("36.6")
    d2 = people.declare(volunteer=v, temperature=None, symptoms=True, now=now)
    assert d2.pk == d1.pk and d2.well is False and d2.temperature is None
    assert Declaration.objects.filter(volunteer=v).count() == 1
    assert people.declaration_today(v, now).well is False
    tomorrow = now + dt.timedelta(days=1)
    assert people.declaration_today(v, tomorrow) is None
    people.declare(volunteer=v, now=tomorrow)
    assert Declaration.objects.filter(volunteer=v).count() == 2


@pytest.mark.parametrize(
    "temperature, contact, well",
    [("37.2", False, True), ("37.3", False, False), ("38", False, False), ("36.5", True, False)],
)
def test_declare_fever_mark_is_the_gate_policy(community, temperature, contact, well):
    v = make_volunteer(community)
    assert people.fever_at(community.pk) == Decimal("37.3")
    assert people.declare(volunteer=v, temperature=temperature, contact=contact).well is well


@pytest.mark.parametrize("bad", ["abc", "365", "3.65"])
def test_declare_refuses_a_typing_slip(community, bad):
    v = make_volunteer(community)
    with pytest.raises(DomainError) as e:
        people.declare(volunteer=v, temperature=bad)
    assert "temperature" in e.value.fields
    assert not Declaration.objects.exists()


# --- the API -------------------------------------------------------------------------------------


def _json(client, method, url, body=None):
    import json

    return client.generic(method, url, json.dumps(body or {}), content_type="application/json")


API = "/api/v1/volunteers"


def test_api_signup_me_patch_declaration(client, community, personas):
    client.force_login(personas["resident"])
    r = client.get(f"{API}/me")
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_volunteer"
    team = teams_for(community.pk).first()
    r = _json(
        client,
        "POST",
        f"{API}/signup",
        {"name": "居民甲", "phone": "13912345678", "skills": ["data"], "wish_ids": [team.pk]},
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "pending" and body["phone"] == "13912345678"
    assert body["wish_ids"] == [team.pk] and body["has_login"] is True
    r = _json(client, "PATCH", f"{API}/me", {"hide_from_board": True, "skills": ["lifting"]})
    assert r.status_code == 200 and r.json()["hide_from_board"] is True
    assert r.json()["skills"] == ["lifting"] and r.json()["wish_ids"] == [team.pk]
    r = _json(client, "POST", f"{API}/me/declaration", {"temperature": "38.1"})
    assert r.status_code == 200 and r.json()["well"] is False
    assert client.get(f"{API}/me").json()["declared_today"]["well"] is False
    r = _json(client, "POST", f"{API}/me/declaration", {"temperature": "99"})
    assert r.status_code == 400 and "temperature" in r.json()["error"]["fields"]


def test_api_people_list_masks_for_viewers(client, community, personas):
    make_volunteer(community, name="甲", phone="13912345678", skills=["medical"])
    make_volunteer(community, name="乙", phone="13912340000", status=VolunteerStatus.PENDING)
    client.force_login(personas["grid_leader"])
    rows = client.get(f"{API}/people").json()
    assert [r["name"] for r in rows] == ["乙", "甲"]  # pending first
    assert rows[1]["phone"] == "139****5678"
    assert [r["name"] for r in client.get(f"{API}/people?skill=medical").json()] == ["甲"]
    assert [r["name"] for r in client.get(f"{API}/people?status=active").json()] == ["甲"]
    assert [r["name"] for r in client.get(f"{API}/people?q=0000").json()] == ["乙"]
    client.force_login(personas["staff"])
    rows = client.get(f"{API}/people").json()
    assert rows[1]["phone"] == "13912345678"


def test_api_staff_actions(client, community, personas, ledger):
    client.force_login(personas["staff"])
    a, b = list(teams_for(community.pk))[:2]
    r = _json(
        client,
        "POST",
        f"{API}/people",
        {"name": "李四", "phone": "13800001111", "origin": "resident", "team_id": a.pk},
    )
    assert r.status_code == 201, r.content
    vid = r.json()["id"]
    assert r.json()["status"] == "active" and r.json()["has_login"] is False
    r = _json(client, "POST", f"{API}/people/{vid}/move", {"team_id": b.pk, "emergency": True})
    assert r.status_code == 400 and "reason" in r.json()["error"]["fields"]
    r = _json(
        client,
        "POST",
        f"{API}/people/{vid}/move",
        {"team_id": b.pk, "emergency": True, "reason": "消杀缺人"},
    )
    assert r.status_code == 200 and r.json()["to_team_id"] == b.pk
    r = _json(client, "POST", f"{API}/people/{vid}/pause", {"reason": "病"})
    assert r.json()["status"] == "paused"
    r = _json(client, "POST", f"{API}/people/{vid}/activate")
    assert r.json()["status"] == "active"
    r = _json(client, "POST", f"{API}/people/{vid}/link", {"resident_id": ledger["r2"].pk})
    assert r.json()["resident_id"] == ledger["r2"].pk
    r = _json(client, "POST", f"{API}/people/{vid}/link", {"resident_id": ledger["ro"].pk})
    assert r.status_code == 400
    r = _json(client, "POST", f"{API}/people/{vid}/leave", {"reason": "搬走"})
    assert r.json()["status"] == "left" and r.json()["team_id"] is None
    detail = client.get(f"{API}/people/{vid}").json()
    assert [m["to_team_id"] for m in detail["moves"]] == [a.pk, b.pk, None]
    pending = make_volunteer(community, status=VolunteerStatus.PENDING)
    r = _json(client, "POST", f"{API}/people/{pending.pk}/approve", {"team_id": a.pk})
    assert r.json()["status"] == "active" and r.json()["team_id"] == a.pk


def test_api_people_of_another_community_are_404(client, community, other_community, personas):
    theirs = make_volunteer(other_community)
    client.force_login(personas["staff"])
    assert client.get(f"{API}/people/{theirs.pk}").status_code == 404
    assert _json(client, "POST", f"{API}/people/{theirs.pk}/approve").status_code == 404


def test_api_people_list_query_count(client, community, personas, django_assert_max_num_queries):
    teams = list(teams_for(community.pk))
    for i in range(12):
        v = make_volunteer(community, team=teams[i % 3])
        v.wishes.set(teams[:2])
    client.force_login(personas["staff"])
    with django_assert_max_num_queries(8):
        rows = client.get(f"{API}/people").json()
    assert len(rows) == 12


def test_staff_of_one_community_cannot_act_on_another(community, other_community, personas):
    theirs = make_volunteer(other_community, status=VolunteerStatus.PENDING)
    with pytest.raises(Forbidden):
        people.approve(actor=personas["staff"], volunteer=theirs)
    outsider_staff = make_user("staff", other_community, username="staff2")
    with pytest.raises(Forbidden):
        people.team_save(actor=outsider_staff, community=community, name="x", kind="other")
