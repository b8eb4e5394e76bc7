"""The area-control API: list controls, list and create proposals, approve / reject / withdraw
with the same rules as the pages (four eyes, expiry), the history; a bounded number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shouwang.control import services
from shouwang.control.models import Control
from shouwang.control.testing import put_under

pytestmark = pytest.mark.django_db

API = "/api/v1/control"


def _post(client, url, body=None):
    return client.post(url, body or {}, content_type="application/json")


def test_propose_and_approve_through_the_api(client, personas, places):
    client.force_login(personas["staff"])
    resp = _post(
        client,
        f"{API}/proposals",
        {"kind": "unit", "place_id": places["unit_a"].pk, "level": "sealed", "reason": "两例阳性"},
    )
    assert resp.status_code == 201, resp.content
    p = resp.json()
    assert p["status"] == "pending" and p["place"]["label"] == "华美小区 1号楼 1单元"
    assert p["proposed_by"] == personas["staff"].pk and p["planned_end"]
    # The proposer cannot approve (no right); the admin can.
    assert _post(client, f"{API}/proposals/{p['id']}/approve").status_code == 403
    client.force_login(personas["admin"])
    resp = _post(client, f"{API}/proposals/{p['id']}/approve", {"note": "已核实"})
    assert resp.status_code == 200 and resp.json()["status"] == "approved"
    rows = client.get(f"{API}/controls").json()
    assert [(r["place"]["label"], r["level"], r["households"], r["people"]) for r in rows] == [
        ("华美小区 1号楼 1单元", "sealed", 2, 3)
    ]
    hist = client.get(f"{API}/history").json()
    assert [h["event"] for h in hist] == ["approved", "proposed"]


def test_self_approval_and_expiry_through_the_api(client, personas, places, admin2):
    p = services.proposal_create(
        actor=personas["admin"], place=places["ba"], level="sealed", reason="阳性"
    )
    client.force_login(personas["admin"])
    resp = _post(client, f"{API}/proposals/{p.pk}/approve")
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "control_self_approval"
    old = services.proposal_create(
        actor=personas["staff"],
        place=places["bb"],
        level="sealed",
        reason="阳性",
        now=timezone.now() - dt.timedelta(days=2),
    )
    resp = _post(client, f"{API}/proposals/{old.pk}/approve")
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "control_expired"
    assert not Control.objects.exists()
    client.force_login(admin2)
    assert _post(client, f"{API}/proposals/{p.pk}/approve").status_code == 200


def test_bad_input_says_what_to_fix(client, personas, places):
    client.force_login(personas["staff"])
    resp = _post(
        client,
        f"{API}/proposals",
        {"kind": "building", "place_id": places["ba"].pk, "level": "sealed", "reason": ""},
    )
    assert resp.status_code == 400 and "reason" in resp.json()["error"]["fields"]
    resp = _post(
        client,
        f"{API}/proposals",
        {"kind": "street", "place_id": 1, "level": "sealed", "reason": "x"},
    )
    assert resp.status_code == 400 and "kind" in resp.json()["error"]["fields"]


def test_reject_withdraw_and_filters(client, personas, places):
    a = services.proposal_create(
        actor=personas["staff"], place=places["ba"], level="sealed", reason="a"
    )
    b = services.proposal_create(
        actor=personas["staff"], place=places["bb"], level="sealed", reason="b"
    )
    client.force_login(personas["admin"])
    assert _post(client, f"{API}/proposals/{a.pk}/reject", {"note": ""}).status_code == 400
    assert _post(client, f"{API}/proposals/{a.pk}/reject", {"note": "不符"}).json()["status"] == (
        "rejected"
    )
    assert _post(client, f"{API}/proposals/{b.pk}/withdraw").status_code == 403
    client.force_login(personas["staff"])
    assert _post(client, f"{API}/proposals/{b.pk}/withdraw").json()["status"] == "withdrawn"
    assert [p["id"] for p in client.get(f"{API}/proposals?status=rejected").json()] == [a.pk]
    assert client.get(f"{API}/proposals?status=bogus").status_code == 400
    hist = client.get(f"{API}/history", {"kind": "building", "place_id": places["bb"].pk}).json()
    assert {h["place"]["label"] for h in hist} == {"新虹公寓 2号楼"}


def test_outsider_sees_nothing_of_ours(client, personas, places):
    put_under(places["ba"], "sealed")
    client.force_login(personas["outsider"])
    assert client.get(f"{API}/controls").json() == []
    assert client.get(f"{API}/history").json() == []


def test_controls_list_query_count_does_not_grow_with_places(client, personas, ledger, places):
    client.force_login(personas["staff"])
    put_under(places["ba"], "sealed")
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(f"{API}/controls").json()) == 1
    put_under(places["compound_b"], "controlled")
    put_under(places["unit_a"].building.compound, "precaution")
    with CaptureQueriesContext(connection) as three:
        assert len(client.get(f"{API}/controls").json()) == 3
    # Grouped counts per kind: a few more queries for new kinds, none per place.
    assert len(three) <= len(one) + 6
