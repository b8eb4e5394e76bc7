"""Rounds, sampling points and lanes: the services, the pages and the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from shouwang.core import testing as t
from shouwang.core.audit import AuditEvent
from shouwang.core.errors import Conflict, DomainError
from shouwang.screening import services
from shouwang.screening.models import PriorityLane, Round, SamplingPoint
from shouwang.screening.tests.rounds_helpers import make_round, make_tube, swab

pytestmark = pytest.mark.django_db


def test_round_numbers_per_kind_and_the_next_one_suggested(personas):
    admin = personas["admin"]
    make_round(admin, number=1)
    make_round(admin, number=2)
    make_round(admin, number=1, kind="antigen")
    assert services.round_next_number(admin.community_id, "mass") == 3
    assert services.round_next_number(admin.community_id, "antigen") == 2
    assert services.round_next_number(admin.community_id, "door") == 1
    with pytest.raises(DomainError) as e:
        make_round(admin, number=2)
    assert "number" in e.value.fields
    assert "3" in str(e.value.fields["number"])


def test_round_checks_window_pool_and_scope(personas, other_community):
    admin = personas["admin"]
    with pytest.raises(DomainError) as e:
        services.round_save(
            actor=admin,
            community=admin.community,
            kind="mass",
            number=1,
            date=timezone.localdate(),
            starts_at=dt.time(11),
            ends_at=dt.time(7),
        )
    assert "ends_at" in e.value.fields
    with pytest.raises(DomainError) as e:
        make_round(admin, pool_size=0)
    assert "pool_size" in e.value.fields
    foreign = t.make_building(other_community, "别处", "9号楼")
    with pytest.raises(DomainError) as e:
        make_round(admin, buildings=[foreign])
    assert "buildings" in e.value.fields
    assert not Round.objects.exists()


def test_round_scope_is_the_areas_chosen(personas, ledger, grid_b):
    admin = personas["admin"]
    whole = make_round(admin, number=1)
    assert services.round_scope(whole) == set()
    assert set(services.residents_in_scope(whole)) == {
        ledger["r1"],
        ledger["r1b"],
        ledger["r2"],
        ledger["r3"],
    }
    b = make_round(admin, number=2, grids=[grid_b])
    assert services.round_scope(b) == {("g", grid_b.pk)}
    assert list(services.residents_in_scope(b)) == [ledger["r3"]]
    one = make_round(admin, number=3, buildings=[ledger["h1"].building])
    assert set(services.households_in_scope(one)) == {ledger["h1"], ledger["h2"]}


def test_close_is_idempotent_and_a_closed_round_does_not_change(personas):
    admin = personas["admin"]
    r = make_round(admin)
    assert services.round_close(actor=admin, rnd=r) is True
    assert services.round_close(actor=admin, rnd=r) is False
    assert AuditEvent.objects.filter(action="screening.round_close").count() == 1
    with pytest.raises(Conflict):
        services.round_save(
            actor=admin,
            community=admin.community,
            rnd=r,
            kind="mass",
            number=1,
            date=r.date,
            starts_at=r.starts_at,
            ends_at=r.ends_at,
        )


def test_kind_cannot_change_once_people_are_sampled(personas, ledger):
    admin = personas["admin"]
    r = make_round(admin)
    swab(make_tube(r, "T1"), ledger["r1"])
    with pytest.raises(DomainError) as e:
        services.round_save(
            actor=admin,
            community=admin.community,
            rnd=r,
            kind="door",
            number=1,
            date=r.date,
            starts_at=r.starts_at,
            ends_at=r.ends_at,
        )
    assert "kind" in e.value.fields


def test_point_and_lanes(personas):
    admin, sampler = personas["admin"], personas["sampler"]
    p = services.point_save(
        actor=admin,
        community=admin.community,
        name="东门",
        kind="street",
        opens_at=dt.time(7),
        closes_at=dt.time(19),
        staff=[sampler],
    )
    assert list(p.staff.all()) == [sampler]
    services.lane_add(
        actor=admin, point=p, kind="students", starts_at=dt.time(11, 30), ends_at=dt.time(13)
    )
    with pytest.raises(DomainError) as e:
        services.lane_add(
            actor=admin, point=p, kind="elderly", starts_at=dt.time(6), ends_at=dt.time(8)
        )
    assert "starts_at" in e.value.fields
    with pytest.raises(DomainError):
        services.point_save(
            actor=admin,
            community=admin.community,
            name="东门",
            kind="street",
            opens_at=dt.time(7),
            closes_at=dt.time(19),
        )
    with pytest.raises(DomainError) as e:
        services.point_save(
            actor=admin,
            community=admin.community,
            name="西门",
            kind="street",
            opens_at=dt.time(7),
            closes_at=dt.time(19),
            staff=[personas["outsider"]],
        )
    assert "staff" in e.value.fields
    with pytest.raises(DomainError) as e:
        services.point_save(
            actor=admin,
            community=admin.community,
            name="西门",
            kind="street",
            opens_at=dt.time(7),
            closes_at=dt.time(19),
            staff=[personas["merchant"]],
        )
    assert "staff" in e.value.fields


# --- pages ----------------------------------------------------------------------------------


def test_index_shows_todays_round_with_its_links(client, personas, ledger):
    admin = personas["admin"]
    today = make_round(admin, number=5)
    swab(make_tube(today, "T1"), ledger["r1"])
    make_round(admin, number=4, date=timezone.localdate() - dt.timedelta(days=1))
    antigen = make_round(
        admin, number=1, kind="antigen", date=timezone.localdate() - dt.timedelta(days=2)
    )
    client.force_login(personas["staff"])
    resp = client.get(reverse("screening:index"))
    assert resp.status_code == 200
    body = resp.content.decode()
    assert resp.context["todays"] == [today]
    assert resp.context["todays"][0].n_samples == 1
    assert [g["kind"] for g in resp.context["by_kind"]] == ["mass", "antigen"]
    assert reverse("screening:results", args=[today.pk]) in body
    assert reverse("screening:visits", args=[today.pk]) in body
    assert reverse("screening:sample", args=[today.pk]) in body
    assert reverse("screening:sample", args=[antigen.pk]) not in body
    assert reverse("screening:round_new") in body
    # The tally (coverage.tally): yesterday's mass round and the antigen round are done.
    assert resp.context["tally"]["mass_rounds"] == 1
    assert resp.context["tally"]["antigen_rounds"] == 1


def test_index_for_a_volunteer_has_no_results_link(client, personas):
    r = make_round(personas["admin"])
    client.force_login(personas["volunteer"])
    body = client.get(reverse("screening:index")).content.decode()
    assert reverse("screening:results", args=[r.pk]) not in body
    assert reverse("screening:round_new") not in body


def test_new_round_form_suggests_the_next_number_and_saves(client, personas, ledger, grid_a):
    admin = personas["admin"]
    make_round(admin, number=7)
    client.force_login(personas["staff"])
    resp = client.get(reverse("screening:round_new"))
    assert resp.context["form"].initial["number"] == 8
    assert resp.context["next_numbers"]["antigen"] == 1
    resp = client.post(
        reverse("screening:round_new"),
        {
            "kind": "mass",
            "number": 8,
            "date": "2022-04-12",
            "starts_at": "07:00",
            "ends_at": "11:30",
            "pool_size": 20,
            "grids": [grid_a.pk],
        },
    )
    r = Round.objects.get(number=8)
    assert resp.status_code == 302 and resp["Location"] == reverse("screening:round", args=[r.pk])
    assert r.pool_size == 20 and list(r.grids.all()) == [grid_a]
    assert AuditEvent.objects.filter(action="screening.round_create", target_id=str(r.pk)).exists()
    resp = client.post(
        reverse("screening:round_new"),
        {
            "kind": "mass",
            "number": 8,
            "date": "2022-04-13",
            "starts_at": "07:00",
            "ends_at": "11:30",
            "pool_size": 10,
        },
    )
    assert resp.status_code == 200
    assert "9" in str(resp.context["form"].errors["number"])


def test_round_page_and_close(client, personas, ledger):
    r = make_round(personas["admin"])
    swab(make_tube(r, "T1"), ledger["r1"])
    client.force_login(personas["staff"])
    resp = client.get(reverse("screening:round", args=[r.pk]))
    assert resp.status_code == 200 and resp.context["stats"]["people"] == 1
    resp = client.post(reverse("screening:round_close", args=[r.pk]))
    assert resp.status_code == 302
    r.refresh_from_db()
    assert r.closed_at is not None
    client.force_login(personas["sampler"])
    assert client.post(reverse("screening:round_close", args=[r.pk])).status_code == 403


def test_points_page_forms_and_lanes(client, personas):
    client.force_login(personas["staff"])
    resp = client.post(
        reverse("screening:point_new"),
        {
            "name": "社区广场",
            "kind": "street",
            "place": "广场北侧",
            "opens_at": "07:00",
            "closes_at": "20:00",
            "staff": [personas["sampler"].pk],
            "active": "on",
        },
    )
    assert resp.status_code == 302
    p = SamplingPoint.objects.get(name="社区广场")
    resp = client.post(
        reverse("screening:lane_add", args=[p.pk]),
        {"kind": "students", "starts_at": "11:30", "ends_at": "13:00", "note": "午休"},
    )
    assert resp.status_code == 302
    lane = PriorityLane.objects.get(point=p)
    body = client.get(reverse("screening:points")).content.decode()
    assert "社区广场" in body and "午休" in body
    client.post(reverse("screening:lane_delete", args=[lane.pk]))
    assert not PriorityLane.objects.exists()


def test_other_communitys_round_is_a_404(client, personas):
    r = make_round(personas["admin"])
    client.force_login(personas["outsider"])
    assert client.get(reverse("screening:round", args=[r.pk])).status_code == 404


# --- API ------------------------------------------------------------------------------------


def test_api_round_create_takes_the_next_number(client, personas):
    make_round(personas["admin"], number=3, date=dt.date(2022, 4, 11))
    client.force_login(personas["staff"])
    resp = client.post(
        "/api/v1/screening/rounds",
        {"kind": "mass", "date": "2022-04-12", "starts_at": "07:00", "ends_at": "11:00"},
        content_type="application/json",
    )
    assert resp.status_code == 201, resp.content
    assert resp.json()["number"] == 4
    listed = client.get("/api/v1/screening/rounds").json()
    assert [r["number"] for r in listed][:2] == [4, 3]
    resp = client.post(f"/api/v1/screening/rounds/{resp.json()['id']}/close")
    assert resp.json()["already"] is False
    resp = client.post(f"/api/v1/screening/rounds/{resp.json()['id']}/close")
    assert resp.json()["already"] is True


def test_api_point_with_a_lane(client, personas):
    client.force_login(personas["admin"])
    resp = client.post(
        "/api/v1/screening/points",
        {"name": "东门", "kind": "compound", "opens_at": "07:00", "closes_at": "19:00"},
        content_type="application/json",
    )
    assert resp.status_code == 201
    pid = resp.json()["id"]
    resp = client.post(
        f"/api/v1/screening/points/{pid}/lanes",
        {"kind": "elderly", "starts_at": "08:00", "ends_at": "09:00", "note": "有长凳"},
        content_type="application/json",
    )
    assert resp.status_code == 201
    points = client.get("/api/v1/screening/points").json()
    assert points[0]["lanes"][0]["note"] == "有长凳"
