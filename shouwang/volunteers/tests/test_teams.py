"""Staff pages: the volunteers list (pending first, approve), one volunteer's page and its actions,
adding one without a login, the teams (counts, leaders, the board's emergency move), the team
service and the volunteer policy."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shouwang.core.errors import DomainError
from shouwang.volunteers import people
from shouwang.volunteers.models import Team, TeamMove, Volunteer, VolunteerStatus
from shouwang.volunteers.selectors import policy_for, teams_for
from shouwang.volunteers.testing import make_volunteer

pytestmark = pytest.mark.django_db


# --- the team service ----------------------------------------------------------------------------


def test_team_save_adds_renames_retires_and_sets_leader(community, personas):
    staff = personas["staff"]
    defaults = list(teams_for(community.pk))
    assert len(defaults) == 6
    t = people.team_save(actor=staff, community=community, name=" 快递 分拣队 ", kind="supplies")
    assert t.name == "快递 分拣队" and t.position == defaults[-1].position + 1
    lead = make_volunteer(community, team=defaults[0])
    t = people.team_save(
        actor=staff, community=community, team=t, name="快递队", kind="supplies", leader=lead
    )
    lead.refresh_from_db()
    assert t.leader_id == lead.pk and lead.team_id == t.pk  # the leader is put in the team
    assert TeamMove.objects.filter(volunteer=lead, to_team=t).count() == 1
    with pytest.raises(DomainError) as e:
        people.team_save(actor=staff, community=community, name=defaults[1].name, kind="other")
    assert "name" in e.value.fields
    with pytest.raises(DomainError) as e:
        people.team_save(actor=staff, community=community, name="x", kind="nonsense")
    assert "kind" in e.value.fields
    people.team_save(
        actor=staff, community=community, team=t, name="快递队", kind="supplies", is_active=False
    )
    assert t.pk not in set(teams_for(community.pk).values_list("pk", flat=True))


def test_team_leader_must_be_active_and_ours(community, other_community, personas):
    pending = make_volunteer(community, status=VolunteerStatus.PENDING)
    theirs = make_volunteer(other_community)
    for leader in (pending, theirs):
        with pytest.raises(DomainError) as e:
            people.team_save(
                actor=personas["staff"], community=community, name="新队", kind="other",
                leader=leader,
            )  # fmt: skip
        assert "leader" in e.value.fields


def test_policy_save_checks_ranges(community, personas):
    p = people.policy_save(actor=personas["admin"], community=community, no_show_limit="3")
    assert p.no_show_limit == 3 and p.updated_by_id == personas["admin"].pk
    with pytest.raises(DomainError) as e:
        people.policy_save(actor=personas["admin"], community=community, cancel_hours=500)
    assert "cancel_hours" in e.value.fields
    assert policy_for(community.pk).cancel_hours == 2


# --- the list and the person page ---------------------------------------------------------------


def test_people_list_pending_first_with_approve_and_filters(client, community, personas):
    teams = list(teams_for(community.pk))
    make_volunteer(community, name="甲", phone="13912345678", team=teams[0], skills=["driving"])
    p = make_volunteer(community, name="乙", status=VolunteerStatus.PENDING)
    p.wishes.set([teams[2]])
    client.force_login(personas["staff"])
    url = reverse("volunteers:people")
    html = client.get(url).content.decode()
    assert html.index("乙") < html.index("甲")
    assert reverse("volunteers:person_approve", args=[p.pk]) in html
    assert f'<option value="{teams[2].pk}" selected>' in html  # the first wish preselected
    assert "13912345678" in html  # the office calls them
    html = client.get(url + "?skill=driving").content.decode()
    assert "甲" in html and ">乙<" not in html
    html = client.get(url + f"?team={teams[0].pk}").content.decode()
    assert "甲" in html and ">乙<" not in html
    # A grid leader sees the list, masked, without buttons.
    client.force_login(personas["grid_leader"])
    html = client.get(url).content.decode()
    assert "139****5678" in html and "13912345678" not in html
    assert reverse("volunteers:person_approve", args=[p.pk]) not in html


def test_approve_from_the_list_goes_back_to_it(client, community, personas):
    team = teams_for(community.pk)[1]
    p = make_volunteer(community, status=VolunteerStatus.PENDING)
    client.force_login(personas["staff"])
    back = reverse("volunteers:people") + "?status=pending"
    r = client.post(
        reverse("volunteers:person_approve", args=[p.pk]), {"team": team.pk, "next": back}
    )
    assert r.status_code == 302 and r["Location"] == back
    p.refresh_from_db()
    assert p.status == VolunteerStatus.ACTIVE and p.team_id == team.pk
    # An outside `next` is not followed.
    r = client.post(
        reverse("volunteers:person_approve", args=[p.pk]), {"next": "https://evil.example/"}
    )
    assert r["Location"] == reverse("volunteers:person", args=[p.pk])


def test_person_page_actions_and_refusals(client, community, personas, ledger):
    a, b = list(teams_for(community.pk))[:2]
    v = make_volunteer(community, name="李四", phone="13800001111", team=a)
    client.force_login(personas["staff"])
    url = reverse("volunteers:person", args=[v.pk])
    html = client.get(url).content.decode()
    assert "李四" in html and "13800001111" in html
    # The ledger's 李四 (r2) is suggested by name.
    assert f'name="resident" value="{ledger["r2"].pk}"' in html
    # An emergency move without a reason: the message, nothing moved.
    r = client.post(
        reverse("volunteers:person_move", args=[v.pk]),
        {"team": b.pk, "emergency": "1"},
        follow=True,
    )
    assert "needs a reason" in r.content.decode()
    v.refresh_from_db()
    assert v.team_id == a.pk
    client.post(
        reverse("volunteers:person_move", args=[v.pk]),
        {"team": b.pk, "emergency": "1", "reason": "消杀缺人"},
    )
    v.refresh_from_db()
    assert v.team_id == b.pk
    html = client.get(url).content.decode()
    assert "消杀缺人" in html and "emergency" in html
    client.post(reverse("volunteers:person_link", args=[v.pk]), {"resident": ledger["r2"].pk})
    client.post(reverse("volunteers:person_pause", args=[v.pk]), {"reason": "生病"})
    v.refresh_from_db()
    assert v.status == VolunteerStatus.PAUSED and v.resident_id == ledger["r2"].pk
    client.post(reverse("volunteers:person_activate", args=[v.pk]))
    r = client.post(reverse("volunteers:person_leave", args=[v.pk]), {"reason": ""}, follow=True)
    assert "Say why" in r.content.decode()
    client.post(reverse("volunteers:person_leave", args=[v.pk]), {"reason": "搬走"})
    v.refresh_from_db()
    assert v.status == VolunteerStatus.LEFT
    # A viewer sees the page masked and without actions; a POST is refused.
    client.force_login(personas["grid_leader"])
    html = client.get(url).content.decode()
    assert "138****1111" in html and "person_pause" not in html
    assert reverse("volunteers:person_activate", args=[v.pk]) not in html
    assert client.post(reverse("volunteers:person_activate", args=[v.pk])).status_code == 403


def test_person_of_another_community_is_404(client, other_community, personas):
    theirs = make_volunteer(other_community)
    client.force_login(personas["staff"])
    assert client.get(reverse("volunteers:person", args=[theirs.pk])).status_code == 404
    r = client.post(reverse("volunteers:person_pause", args=[theirs.pk]))
    assert r.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == VolunteerStatus.ACTIVE


def test_person_new_and_edit(client, community, personas):
    team = teams_for(community.pk)[5]
    client.force_login(personas["staff"])
    r = client.post(
        reverse("volunteers:person_new"),
        {"name": "老党员", "phone": "13800002222", "origin": "resident", "team": team.pk},
    )
    v = Volunteer.objects.get(name="老党员")
    assert r.status_code == 302 and r["Location"] == reverse("volunteers:person", args=[v.pk])
    assert v.status == VolunteerStatus.ACTIVE and v.team_id == team.pk and v.user_id is None
    r = client.post(
        reverse("volunteers:person_new"),
        {"name": "重复", "phone": "13800002222", "origin": "resident"},
    )
    assert r.status_code == 200 and "already on the list" in r.content.decode()
    r = client.post(
        reverse("volunteers:person_edit", args=[v.pk]),
        {"name": "老党员", "phone": "13800002222", "origin": "cadre", "note": "只能上午"},
    )
    assert r.status_code == 302
    v.refresh_from_db()
    assert v.origin == "cadre" and v.note == "只能上午" and v.team_id == team.pk


# --- teams ---------------------------------------------------------------------------------------


def test_teams_page_counts_leaders_and_board(client, community, personas):
    a, b = list(teams_for(community.pk))[:2]
    lead = make_volunteer(community, name="队长", team=a)
    make_volunteer(community, name="队员", team=a)
    make_volunteer(community, name="暂停者", team=a, status=VolunteerStatus.PAUSED)
    make_volunteer(community, name="走了", team=a, status=VolunteerStatus.LEFT)
    make_volunteer(community, name="散兵")
    Team.objects.filter(pk=a.pk).update(leader=lead)
    t = people.teams_with_counts(community.pk).get(pk=a.pk)
    assert (t.active_count, t.member_count) == (2, 3)
    client.force_login(personas["staff"])
    html = client.get(reverse("volunteers:teams")).content.decode()
    assert "队长" in html and "暂停者" in html and "走了" not in html
    assert "散兵" in html  # not in a team
    assert reverse("volunteers:team_edit", args=[a.pk]) in html


def test_board_quick_move_is_an_emergency_move(client, community, personas):
    a, b = list(teams_for(community.pk))[:2]
    v = make_volunteer(community, team=a)
    client.force_login(personas["staff"])
    r = client.post(
        reverse("volunteers:person_move", args=[v.pk]),
        {
            "team": b.pk,
            "emergency": "1",
            "reason": "转运缺司机",
            "next": reverse("volunteers:teams"),
        },
    )
    assert r["Location"] == reverse("volunteers:teams")
    m = TeamMove.objects.get(volunteer=v)
    assert (m.to_team_id, m.emergency, m.reason, m.by_id) == (
        b.pk,
        True,
        "转运缺司机",
        personas["staff"].pk,
    )


def test_team_new_and_edit_pages(client, community, personas):
    client.force_login(personas["admin"])
    r = client.post(
        reverse("volunteers:team_new"),
        {"name": "包裹三班", "kind": "supplies", "description": "早中晚", "is_active": "on"},
    )
    assert r.status_code == 302
    t = Team.objects.get(name="包裹三班")
    r = client.post(reverse("volunteers:team_edit", args=[t.pk]), {"name": "", "kind": "supplies"})
    assert r.status_code == 200 and "Give the team a name" in r.content.decode()
    r = client.post(
        reverse("volunteers:team_edit", args=[t.pk]), {"name": "包裹队", "kind": "supplies"}
    )
    t.refresh_from_db()
    assert t.name == "包裹队" and t.is_active is False  # unticked: retired
    client.force_login(personas["grid_leader"])
    assert client.get(reverse("volunteers:team_new")).status_code == 403


def test_policy_page(client, community, personas):
    client.force_login(personas["staff"])
    url = reverse("volunteers:policy")
    assert client.get(url).status_code == 200
    r = client.post(
        url,
        {
            "no_show_limit": "3",
            "no_show_days": "14",
            "cancel_hours": "4",
            "check_in_early_minutes": "20",
        },
    )
    assert r.status_code == 302
    p = policy_for(community.pk)
    assert (p.no_show_limit, p.no_show_days, p.cancel_hours, p.check_in_early_minutes) == (
        3,
        14,
        4,
        20,
    )
    client.force_login(personas["grid_leader"])
    assert client.get(url).status_code == 403


def test_api_teams(client, community, personas):
    import json

    client.force_login(personas["volunteer"])
    rows = client.get("/api/v1/volunteers/teams").json()
    assert len(rows) == 6 and rows[0]["active_count"] == 0
    r = client.post(
        "/api/v1/volunteers/teams",
        json.dumps({"name": "x", "kind": "other"}),
        content_type="application/json",
    )
    assert r.status_code == 403
    client.force_login(personas["staff"])
    r = client.post(
        "/api/v1/volunteers/teams",
        json.dumps({"name": "楼栋队", "kind": "other"}),
        content_type="application/json",
    )
    assert r.status_code == 201
    tid = r.json()["id"]
    lead = make_volunteer(community)
    r = client.patch(
        f"/api/v1/volunteers/teams/{tid}",
        json.dumps({"leader_id": lead.pk}),
        content_type="application/json",
    )
    assert r.status_code == 200
    assert (r.json()["name"], r.json()["leader_id"], r.json()["active_count"]) == (
        "楼栋队",
        lead.pk,
        1,
    )
