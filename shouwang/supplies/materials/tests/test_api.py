"""The materials API (/api/v1/materials/): items with stock, low-stock, movements (list and
create), request keys, refusals in the error shape, scope and roles."""

from __future__ import annotations

import json

import pytest

from shouwang.accounts.services import token_create
from shouwang.supplies.materials import services
from shouwang.supplies.materials.models import Movement
from shouwang.supplies.materials.tests.conftest import stock_of

M = "/api/v1/materials"
pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, personas):
    class Caller:
        def __init__(self, persona):
            self.headers = {
                "Authorization": f"Bearer {token_create(user=personas[persona])}",
                "Accept-Language": "en",
            }

        def get(self, path, params=None):
            return client.get(M + path, params or {}, headers=self.headers)

        def post(self, path, body):
            return client.post(
                M + path, json.dumps(body), content_type="application/json", headers=self.headers
            )

    return Caller


@pytest.fixture
def stocked(admin, masks, gloves, office, gate):
    services.receipt(actor=admin, item=masks, location=office, quantity=1000)
    services.receipt(actor=admin, item=gloves, location=gate, quantity=5)
    return office


def _queries(call) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert call().status_code == 200
    return len(ctx.captured_queries)


def test_items_with_stock(api, admin, stocked, masks, gloves, gate):
    caller = api("grid_leader")
    caller.get("/items")  # the first call with a token also records its use
    few = _queries(lambda: caller.get("/items"))
    for i in range(6):
        services.item_save(actor=admin, name=f"物品{i}", unit="pcs")
    services.location_save(actor=admin, name="仓库", kind="warehouse")
    assert _queries(lambda: caller.get("/items")) == few  # no query per item or place
    r = caller.get("/items")
    by_name = {i["name"]: i for i in r.json()}
    m = by_name["医用外科口罩"]
    assert m["total"] == 1000 and m["low"] is False and m["low_stock_threshold"] == 500
    assert {c["location"]: c["quantity"] for c in m["stock"]} == {
        "社区办公室": 1000,
        "东门卡口": 0,
        "仓库": 0,
    }
    assert by_name["丁腈手套"]["total"] == 5


def test_low_stock(api, admin, stocked, masks, gloves):
    services.issue(
        actor=admin,
        item=masks,
        location=stocked,
        quantity=500,
        recipient_kind="team",
        recipient_text="A",
    )
    r = api("staff").get("/low-stock")
    assert r.status_code == 200
    assert [(x["name"], x["total"], x["low_total"]) for x in r.json()] == [
        ("医用外科口罩", 500, True)
    ]


def test_create_receipt_issue_transfer(api, stocked, masks, gate):
    a = api("staff")
    r = a.post(
        "/movements",
        {
            "kind": "receipt",
            "item_id": masks.pk,
            "to_location_id": gate.pk,
            "quantity": 50,
            "reference": "红十字会捐赠",
        },
    )
    assert r.status_code == 201 and r.json()["reference"] == "红十字会捐赠"
    r = a.post(
        "/movements",
        {
            "kind": "transfer",
            "item_id": masks.pk,
            "from_location_id": stocked.pk,
            "to_location_id": gate.pk,
            "quantity": 100,
        },
    )
    assert r.status_code == 201
    issue = {
        "kind": "issue",
        "item_id": masks.pk,
        "from_location_id": gate.pk,
        "quantity": 20,
        "recipient_kind": "checkpoint",
        "recipient_text": "东门",
        "request_key": "app-1",
    }
    r = a.post("/movements", issue)
    assert r.status_code == 201 and r.json()["created"] is True
    again = a.post("/movements", issue)
    assert again.status_code == 200 and again.json()["id"] == r.json()["id"]
    assert again.json()["created"] is False
    assert stock_of(masks, gate) == 130 and stock_of(masks, stocked) == 900
    r = a.get("/movements", {"item_id": masks.pk, "kind": "issue"})
    assert [m["quantity"] for m in r.json()] == [20]
    assert len(a.get("/movements").json()) == 5


def test_insufficient_stock_is_409_with_the_figure(api, stocked, gloves, gate):
    r = api("admin").post(
        "/movements",
        {
            "kind": "issue",
            "item_id": gloves.pk,
            "from_location_id": gate.pk,
            "quantity": 6,
            "recipient_kind": "team",
            "recipient_text": "B",
        },
    )
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "insufficient_stock"
    assert "Only 5 pairs of 丁腈手套 in stock at 东门卡口" in err["message"]
    assert "quantity" in err["fields"]


def test_missing_place_and_bad_quantity(api, stocked, masks):
    r = api("admin").post("/movements", {"kind": "receipt", "item_id": masks.pk, "quantity": 5})
    assert r.status_code == 400 and "to_location_id" in r.json()["error"]["fields"]
    r = api("admin").post(
        "/movements",
        {"kind": "receipt", "item_id": masks.pk, "quantity": 0, "to_location_id": stocked.pk},
    )
    assert r.status_code in (400, 422)
    assert Movement.objects.count() == 2


def test_roles_and_scope(api, stocked, masks):
    body = {"kind": "receipt", "item_id": masks.pk, "to_location_id": stocked.pk, "quantity": 1}
    assert api("grid_leader").post("/movements", body).status_code == 403
    assert api("volunteer").get("/items").status_code == 403
    # The outsider may manage their own store, but our item is not found for them.
    r = api("outsider").post("/movements", body)
    assert r.status_code == 404
    assert api("outsider").get("/items").json() == []
    assert stock_of(masks, stocked) == 1000
