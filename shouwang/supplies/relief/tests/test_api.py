"""The relief API: batches, preview, issue (201, then 200 with already), a grid's list, recording
a door; grid leaders only their grid; the error shape."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shouwang.accounts.services import token_create
from shouwang.core import testing as t
from shouwang.supplies.relief.models import ReliefAllocation

from .conftest import fill

R = "/api/v1/relief"


@pytest.fixture
def api(client, personas):
    class Caller:
        def __init__(self, persona):
            self.headers = {
                "Authorization": f"Bearer {token_create(user=personas[persona])}",
                "Accept-Language": "en",
            }

        def get(self, path):
            return client.get(R + path, headers=self.headers)

        def post(self, path, body=None):
            data = json.dumps(body or {})
            return client.post(
                R + path, data, content_type="application/json", headers=self.headers
            )

    return Caller


def test_preview_issue_and_idempotent_reissue(api, ledger, batch_of):
    batch = batch_of(portions_available=3)
    p = api("staff").get(f"/batches/{batch.pk}/preview").json()
    assert p["total"] == {"households": 3, "people": 4, "portions": 3, "large": 0}
    assert p["shortfall"] == 0 and {g["totals"]["households"] for g in p["by_grid"]} == {2, 1}
    first = api("admin").post(f"/batches/{batch.pk}/issue")
    assert first.status_code == 201 and first.json()["created"] == 3
    again = api("admin").post(f"/batches/{batch.pk}/issue")
    assert again.status_code == 200 and again.json()["already"] is True
    assert ReliefAllocation.objects.filter(batch=batch).count() == 3


def test_short_issue_is_409_until_partial(api, ledger, batch_of):
    batch = batch_of(portions_available=2)
    p = api("admin").get(f"/batches/{batch.pk}/preview").json()
    assert p["shortfall"] == 1 and p["left_out_count"] == 1
    assert p["left_out"][0]["household_id"] == ledger["h3"].pk
    resp = api("admin").post(f"/batches/{batch.pk}/issue")
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "relief_short"
    resp = api("admin").post(f"/batches/{batch.pk}/issue", {"partial": True})
    assert resp.status_code == 201 and resp.json()["left_out"] == 1


def test_grid_list_and_record(api, personas, ledger, batch_of, grid_a, grid_b):
    batch = batch_of()
    api("admin").post(f"/batches/{batch.pk}/issue")
    rows = api("grid_leader").get(f"/batches/{batch.pk}/grids/{grid_a.pk}/allocations").json()
    assert [r["door"] for r in rows] == ["1单元 101", "1单元 102"]
    assert rows[0]["phone_masked"] == "139****5678" and rows[0]["head_masked"] == "王小*"
    resp = api("grid_leader").get(f"/batches/{batch.pk}/grids/{grid_b.pk}/allocations")
    assert resp.status_code == 404
    resp = api("grid_leader").post(
        f"/allocations/{rows[0]['id']}/record", {"status": "not_home", "note": "敲门无人"}
    )
    assert resp.status_code == 200 and resp.json()["status"] == "not_home"
    b3 = ReliefAllocation.objects.get(batch=batch, household=ledger["h3"])
    resp = api("grid_leader").post(f"/allocations/{b3.pk}/record", {"status": "delivered"})
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
    resp = api("grid_leader").post(f"/allocations/{rows[0]['id']}/record", {"status": "lost"})
    assert resp.status_code == 400


def test_grid_leader_lists_issued_batches_only(api, ledger, batch_of):
    draft = batch_of(title="草稿")
    issued = batch_of(title="已发")
    api("admin").post(f"/batches/{issued.pk}/issue")
    assert [b["title"] for b in api("grid_leader").get("/batches").json()] == ["已发"]
    assert {b["id"] for b in api("staff").get("/batches").json()} == {draft.pk, issued.pk}
    assert api("grid_leader").get(f"/batches/{issued.pk}/preview").status_code == 403
    assert api("outsider").get(f"/batches/{issued.pk}/preview").status_code == 404


def test_grid_list_query_count_does_not_grow(api, community, ledger, batch_of, grid_a):
    batch = batch_of()
    for door in range(20):
        fill(t.make_household(community, building=ledger["h1"].building, door=f"3{door:02d}"), 2)
    api("admin").post(f"/batches/{batch.pk}/issue")
    caller = api("staff")
    with CaptureQueriesContext(connection) as q:
        rows = caller.get(f"/batches/{batch.pk}/grids/{grid_a.pk}/allocations").json()
    assert len(rows) == 22
    assert len(q.captured_queries) <= 8
