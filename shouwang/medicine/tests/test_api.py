"""/api/v1/medicine/: the same rules as the pages, in the API's error shape."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shouwang.helpline.testing import make_request
from shouwang.medicine.models import Need, Stage
from shouwang.medicine.tests.helpers_medicine import make_run, need_at

pytestmark = pytest.mark.django_db
API = "/api/v1/medicine"


def _post(client, url, body):
    return client.post(url, body, content_type="application/json")


@pytest.fixture
def admin_api(client, personas):
    client.force_login(personas["admin"])
    return client


def test_register_list_and_get(admin_api, personas, ledger, community):
    req = make_request(community, actor=personas["admin"], household=ledger["h1"])
    body = {
        "resident_id": ledger["r1"].pk,
        "drug": "阿托伐他汀",
        "quantity": "1盒",
        "kind": "cardiac",
        "request_id": req.pk,
        "client_key": "api-1",
    }
    resp = _post(admin_api, f"{API}/needs", body)
    assert resp.status_code == 201, resp.content
    data = resp.json()
    assert data["stage"] == "registered" and data["request_id"] == req.pk
    assert _post(admin_api, f"{API}/needs", body).json()["id"] == data["id"]  # retried
    assert [n["id"] for n in admin_api.get(f"{API}/needs").json()] == [data["id"]]
    detail = admin_api.get(f"{API}/needs/{data['id']}").json()
    assert [e["stage"] for e in detail["events"]] == ["registered"]


def test_refusals_in_the_error_shape(admin_api, ledger):
    resp = _post(
        admin_api, f"{API}/needs", {"resident_id": ledger["r1"].pk, "drug": "", "quantity": "1"}
    )
    assert resp.status_code == 400
    assert "drug" in resp.json()["error"]["fields"]
    resp = _post(
        admin_api, f"{API}/needs", {"resident_id": ledger["ro"].pk, "drug": "x", "quantity": "1"}
    )
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "not_found"


def test_a_run_from_plan_to_settlement(admin_api, personas, ledger):
    admin = personas["admin"]
    a = need_at(Stage.REGISTERED, ledger["r1"], actor=admin)
    b = need_at(Stage.REGISTERED, ledger["r2"], actor=admin)
    date = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    resp = _post(
        admin_api,
        f"{API}/runs",
        {
            "source": "pharmacy",
            "place": "益丰",
            "date": date,
            "driver_id": personas["volunteer"].pk,
        },
    )
    assert resp.status_code == 201, resp.content
    run_id = resp.json()["id"]
    assert _post(admin_api, f"{API}/runs/{run_id}/needs", {"need_ids": [a.pk, b.pk]}).json() == {
        "moved": 2
    }
    resp = _post(admin_api, f"{API}/runs/{run_id}/needs", {"need_ids": [a.pk]})
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "not_waiting"
    assert _post(admin_api, f"{API}/runs/{run_id}/advance", {"to": "bought"}).json()["moved"] == 2
    resp = _post(admin_api, f"{API}/needs/{a.pk}/advance", {"to": "delivered"})
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "one_step"
    assert (
        _post(admin_api, f"{API}/needs/{a.pk}/advance", {"to": "picked_up"}).json()["stage"]
        == "picked_up"
    )
    _post(admin_api, f"{API}/needs/{a.pk}/advance", {"to": "delivered"})
    resp = _post(admin_api, f"{API}/needs/{a.pk}/settle", {"amount": "18.80", "paid_by": "charity"})
    assert resp.json()["stage"] == "settled" and resp.json()["amount"] == "18.80"
    resp = _post(admin_api, f"{API}/needs/{b.pk}/remove", {"reason": ""})
    assert resp.status_code == 409  # bought: it cannot leave the run
    run = admin_api.get(f"{API}/runs/{run_id}").json()
    assert {n["id"] for n in run["needs"]} == {a.pk, b.pk}
    assert run["status"] == "out"
    assert len(admin_api.get(f"{API}/hospital-days").json()) == 4


def test_patch_and_cancel(admin_api, personas, ledger):
    n = need_at(Stage.REGISTERED, ledger["r1"], actor=personas["admin"])
    resp = admin_api.patch(
        f"{API}/needs/{n.pk}", {"quantity": "5盒"}, content_type="application/json"
    )
    assert resp.status_code == 200 and resp.json()["quantity"] == "5盒"
    assert resp.json()["drug"] == n.drug
    resp = _post(admin_api, f"{API}/needs/{n.pk}/cancel", {"reason": ""})
    assert resp.status_code == 400
    assert (
        _post(admin_api, f"{API}/needs/{n.pk}/cancel", {"reason": "不需要了"}).json()["stage"]
        == "cancelled"
    )


def test_volunteer_may_not_buy(client, personas, ledger, community):
    run = make_run(community, source="pharmacy", driver=personas["volunteer"])
    n = need_at(Stage.IN_RUN, ledger["r1"], actor=personas["admin"], run=run)
    client.force_login(personas["volunteer"])
    resp = _post(client, f"{API}/needs/{n.pk}/advance", {"to": "bought"})
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "office_step"
    assert Need.objects.get(pk=n.pk).stage == Stage.IN_RUN


def test_list_queries_do_not_grow_with_the_rows(admin_api, personas, ledger, community):
    admin = personas["admin"]
    run = make_run(community, source="pharmacy")

    def count(url):
        with CaptureQueriesContext(connection) as q:
            assert admin_api.get(url).status_code == 200
        return len(q)

    need_at(Stage.IN_RUN, ledger["r1"], actor=admin, run=run)
    count(f"{API}/needs")  # the first call of the session loads what later ones reuse
    few = count(f"{API}/needs"), count(f"{API}/runs/{run.pk}"), count("/medicine/")
    for r in ("r1", "r2", "r3", "r1b"):
        need_at(Stage.IN_RUN, ledger[r], actor=admin, run=run)
        need_at(Stage.REGISTERED, ledger[r], actor=admin)
    many = count(f"{API}/needs"), count(f"{API}/runs/{run.pk}"), count("/medicine/")
    assert many == few


def test_run_page_queries_do_not_grow_with_the_rows(client, personas, ledger, community):
    admin = personas["admin"]
    run = make_run(community, source="pharmacy", driver=personas["volunteer"])
    client.force_login(personas["volunteer"])

    def count():
        with CaptureQueriesContext(connection) as q:
            assert client.get(f"/medicine/runs/{run.pk}/").status_code == 200
        return len(q)

    need_at(Stage.BOUGHT, ledger["r1"], actor=admin, run=run)
    count()
    few = count()
    for r in ("r2", "r3", "r1b"):
        need_at(Stage.BOUGHT, ledger[r], actor=admin, run=run)
    assert count() == few
