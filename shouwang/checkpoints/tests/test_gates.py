"""Gates and checkpoints: hours (round the clock, through midnight), merging, the overview of
what is open and staffed now, the policy's checks; the pages and the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from shouwang.checkpoints import places, roster
from shouwang.checkpoints.models import Duty, Gate
from shouwang.core import testing as t
from shouwang.core.errors import DomainError

DAY = dt.date(2030, 3, 4)


def at(h, m=0, day=DAY):
    return roster.local(day, dt.time(h, m))


def test_hours_round_the_clock_and_through_midnight():
    assert places.hours_open(None, None, dt.time(3))
    night = (dt.time(20), dt.time(6))
    assert places.hours_open(*night, dt.time(23, 59))
    assert places.hours_open(*night, dt.time(5, 59))
    assert places.hours_open(*night, dt.time(20))
    assert not places.hours_open(*night, dt.time(6))
    assert not places.hours_open(*night, dt.time(19, 59))
    day = (dt.time(7), dt.time(19))
    assert places.hours_open(*day, dt.time(7)) and not places.hours_open(*day, dt.time(19))


@pytest.fixture
def site(community):
    admin = t.make_user("admin", community, username="boss")
    b1 = t.make_building(community, "华美小区", "1号楼")
    b2 = t.make_building(community, "新虹公寓", "2号楼")
    b3 = t.make_building(community, "松林小区", "3号楼")
    east = places.gate_save(actor=admin, community=community, compound=b1.compound, name="东门")
    west = places.gate_save(
        actor=admin,
        community=community,
        compound=b1.compound,
        name="西门",
        opens_at=dt.time(20),
        closes_at=dt.time(6),
    )
    north = places.gate_save(actor=admin, community=community, compound=b2.compound, name="北门")
    shut = places.gate_save(
        actor=admin, community=community, compound=b3.compound, name="南门", is_open=False
    )
    cp = places.checkpoint_save(
        actor=admin, community=community, name="一号卡口", gates=[east, west, north]
    )
    return {"admin": admin, "east": east, "west": west, "north": north, "shut": shut, "cp": cp}


@pytest.mark.django_db
def test_overview_merged_closed_open_now_and_staffed(community, site):
    o = places.overview(community, now=at(12))
    assert o.n_gates == 4 and o.n_closed == 1 and o.n_compounds_with_gates == 3
    assert o.n_open_now == 2  # 东门, 北门 (西门 opens at 20:00, 南门 is closed)
    [row] = o.checkpoints
    assert {g.name for g in row.gates} == {"东门", "西门", "北门"}
    assert row.compounds == ["华美小区", "新虹公寓"]
    assert not row.staffed and o.n_staffed == 0
    assert o.unguarded == []  # 南门 is closed
    assert places.overview(community, now=at(23)).n_open_now == 3
    # someone on duty now
    [shift] = [
        s
        for s in roster.shifts_make(
            community=community, checkpoints=[site["cp"]], start=DAY, days=1
        )
        if s.starts_at <= at(12) < s.ends_at
    ]
    Duty.objects.create(
        community=community,
        shift=shift,
        user=site["admin"],
        kind="committee",
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
    )
    o = places.overview(community, now=at(12))
    assert o.checkpoints[0].staffed and o.n_staffed == 1
    assert not places.overview(community, now=at(17)).checkpoints[0].staffed
    # retiring it leaves its open gates unguarded
    places.checkpoint_retire(actor=site["admin"], checkpoint=site["cp"])
    o = places.overview(community, now=at(12))
    assert o.checkpoints == [] and {r.gate.name for r in o.unguarded} == {"东门", "西门", "北门"}


@pytest.mark.django_db
def test_merge_moves_gates_between_checkpoints(community, site):
    other = places.checkpoint_save(actor=site["admin"], community=community, name="二号卡口")
    places.gates_merge(actor=site["admin"], checkpoint=other, gates=[site["north"]])
    assert Gate.objects.get(pk=site["north"].pk).checkpoint == other
    places.checkpoint_save(
        actor=site["admin"],
        community=community,
        checkpoint=site["cp"],
        name="一号卡口",
        gates=[site["east"]],
    )
    assert Gate.objects.get(pk=site["west"].pk).checkpoint is None


@pytest.mark.django_db
def test_bad_input_is_refused_with_a_field(community, site, other_community):
    with pytest.raises(DomainError) as e:
        places.gate_save(
            actor=site["admin"],
            community=community,
            compound=site["east"].compound,
            name="新门",
            opens_at=dt.time(8),
        )
    assert "closes_at" in e.value.fields
    with pytest.raises(DomainError) as e:
        places.gate_save(
            actor=site["admin"], community=community, compound=site["east"].compound, name="东门"
        )
    assert "name" in e.value.fields
    with pytest.raises(DomainError) as e:
        places.checkpoint_save(actor=site["admin"], community=community, name="一号卡口")
    assert "name" in e.value.fields
    foreign = t.make_building(other_community, "别处", "1号楼")
    with pytest.raises(DomainError):
        places.gate_save(
            actor=site["admin"], community=community, compound=foreign.compound, name="门"
        )
    for bad in ({"shift_hours": 7}, {"rotation_hours": 3}, {"fever_at": "40.0"}):
        with pytest.raises(DomainError) as e:
            places.policy_save(actor=site["admin"], community=community, **bad)
        assert list(bad)[0] in e.value.fields


@pytest.mark.django_db
def test_pages(client, community, site):
    client.force_login(site["admin"])
    page = client.get(reverse("checkpoints:gates")).content.decode()
    assert "一号卡口" in page and "南门" in page and "nobody on duty now" in page
    r = client.post(
        reverse("checkpoints:gate_new"),
        {
            "compound": site["east"].compound_id,
            "name": "夜门",
            "is_open": "on",
            "opens_at": "22:00",
            "closes_at": "05:00",
        },
    )
    assert r.status_code == 302
    assert Gate.objects.get(name="夜门").closes_at == dt.time(5)
    r = client.post(
        reverse("checkpoints:gate_new"),
        {"compound": site["east"].compound_id, "name": "半门", "opens_at": "22:00"},
    )
    assert r.status_code == 200 and "Give both hours" in r.content.decode()
    r = client.post(
        reverse("checkpoints:checkpoint_new"),
        {"name": "二号卡口", "gates": [site["shut"].pk]},
    )
    assert (
        r.status_code == 302 and Gate.objects.get(pk=site["shut"].pk).checkpoint.name == "二号卡口"
    )
    r = client.post(reverse("checkpoints:gate_toggle", args=[site["east"].pk]))
    assert not Gate.objects.get(pk=site["east"].pk).is_open
    policy = client.get(reverse("checkpoints:policy"))
    assert policy.status_code == 200
    data = {
        "fever_at": "37.3",
        "test_hours": 48,
        "positive_days": 14,
        "shift_hours": 12,
        "first_shift_at": "07:00",
        "committee_per_shift": 1,
        "rotation_hours": 4,
        "guards_per_rotation": 2,
        "max_hours_per_day": 12,
        "min_rest_hours": 10,
    }
    assert client.post(reverse("checkpoints:policy"), data).status_code == 302
    p = roster.policy_for(community.pk)
    assert (p.shift_hours, p.first_shift_at, p.guards_per_rotation) == (12, dt.time(7), 2)
    bad = client.post(reverse("checkpoints:policy"), {**data, "rotation_hours": 5})
    assert bad.status_code == 200 and "divide the shift" in bad.content.decode()


@pytest.mark.django_db
def test_api(client, community, site):
    client.force_login(site["admin"])
    gates = client.get("/api/v1/checkpoints/gates").json()
    assert {g["name"] for g in gates} == {"东门", "西门", "北门", "南门"}
    r = client.post(
        "/api/v1/checkpoints/gates",
        {
            "compound_id": site["east"].compound_id,
            "name": "夜门",
            "opens_at": "22:00",
            "closes_at": "05:00",
        },
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["closes_at"] == "05:00:00"
    r = client.post(
        "/api/v1/checkpoints/gates",
        {"compound_id": site["east"].compound_id, "name": "半门", "opens_at": "22:00"},
        content_type="application/json",
    )
    assert r.status_code == 400 and "closes_at" in r.json()["error"]["fields"]
    cps = client.get("/api/v1/checkpoints/checkpoints").json()
    assert cps[0]["gate_ids"] and cps[0]["staffed_now"] is False
    r = client.put(
        "/api/v1/checkpoints/policy", {"min_rest_hours": 12}, content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["min_rest_hours"] == 12
