"""/api/v1/helpline/: the ledger, logging, the work and the phone lookup, with the API's error
shape."""

import pytest

from shouwang.helpline.models import HelpRequest, Status
from shouwang.helpline.selectors import categories_for
from shouwang.helpline.testing import make_request

pytestmark = pytest.mark.django_db
API = "/api/v1/helpline"


def _post(client, url, body=None):
    return client.post(url, body or {}, content_type="application/json")


def test_log_work_and_close_through_the_api(client, community, personas, ledger):
    staff = personas["staff"]
    client.force_login(personas["admin"])
    cat = categories_for(community.pk).first()
    body = {
        "category_id": cat.pk,
        "summary": "需要买胰岛素",
        "urgency": 2,
        "resident_id": ledger["r1"].pk,
        "caller_phone": "13912345678",
        "client_key": "api-1",
        "intake_seconds": 25,
        "owner_id": None,
    }
    r = _post(client, f"{API}/requests", body)
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["household_id"] == ledger["h1"].pk and out["owner_id"] is None
    assert out["reference"].startswith("R") and out["intake_seconds"] == 25
    assert [e["kind"] for e in out["events"]] == ["logged"]
    again = _post(client, f"{API}/requests", body)
    assert again.json()["id"] == out["id"] and HelpRequest.objects.count() == 1
    rid = out["id"]
    r = _post(client, f"{API}/requests/{rid}/assign", {"owner_id": staff.pk})
    assert r.json()["owner"] == "staff"
    client.force_login(staff)
    assert _post(client, f"{API}/requests/{rid}/start").json()["status"] == "in_progress"
    assert _post(client, f"{API}/requests/{rid}/note", {"text": "已联系"}).status_code == 200
    r = _post(client, f"{API}/requests/{rid}/resolve", {"resolution": "已送到"})
    assert r.json()["status"] == "resolved"
    r = _post(client, f"{API}/requests/{rid}/callback", {"satisfaction": "satisfied"})
    assert r.json()["status"] == "closed" and r.json()["satisfaction"] == "satisfied"
    r = _post(client, f"{API}/requests/{rid}/reopen", {"reason": "又来电"})
    assert r.json()["status"] == "in_progress"
    detail = client.get(f"{API}/requests/{rid}").json()
    assert [e["kind"] for e in detail["events"]] == [
        "logged",
        "assigned",
        "status",
        "note",
        "resolved",
        "callback",
        "reopened",
    ]
    assert detail["caller_phone"] == "+8613912345678"  # the owner calls back


def test_the_owner_is_the_caller_unless_told(client, community, personas):
    client.force_login(personas["staff"])
    cat = categories_for(community.pk).first()
    out = _post(client, f"{API}/requests", {"category_id": cat.pk, "summary": "问政策"}).json()
    assert out["owner"] == "staff"


def test_refusals_in_the_error_shape(client, community, other_community, personas, ledger):
    client.force_login(personas["grid_leader"])
    foreign = categories_for(other_community.pk).first()
    r = _post(client, f"{API}/requests", {"category_id": foreign.pk, "summary": "x"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    cat = categories_for(community.pk).first()
    r = _post(client, f"{API}/requests", {"category_id": cat.pk, "summary": " "})
    assert r.status_code == 400 and "summary" in r.json()["error"]["fields"]
    r = _post(
        client,
        f"{API}/requests",
        {"category_id": cat.pk, "summary": "x", "household_id": ledger["h3"].pk},
    )
    assert r.status_code == 404  # grid B is not the grid leader's
    owned = make_request(community, household=ledger["h1"], owner=personas["staff"])
    r = _post(client, f"{API}/requests/{owned.pk}/resolve", {"resolution": "x"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_owner"
    live = make_request(community, household=ledger["h1"])
    r = _post(client, f"{API}/requests/{live.pk}/callback", {"satisfaction": "satisfied"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_resolved"
    r = _post(client, f"{API}/requests/{live.pk}/assign", {"owner_id": personas["guard"].pk})
    assert r.status_code == 400 and "owner_id" in r.json()["error"]["fields"]
    client.force_login(personas["volunteer"])
    assert client.get(f"{API}/requests").status_code == 403


def test_the_list_filters_and_masks_the_phone(client, community, personas, ledger):
    staff = personas["staff"]
    a = make_request(community, household=ledger["h1"], caller_phone="13512340077")
    b = make_request(community, owner=staff, household=ledger["h2"], caller_phone="13512340088")
    make_request(community, household=ledger["h3"])
    client.force_login(personas["grid_leader"])
    rows = {r["id"]: r for r in client.get(f"{API}/requests").json()}
    assert set(rows) == {a.pk, b.pk}
    # Unowned: the grid leader may work it and call back; someone else's: masked.
    assert rows[a.pk]["caller_phone"] == "+8613512340077" and rows[a.pk]["may_work"]
    assert rows[b.pk]["caller_phone"] == "135****0088" and not rows[b.pk]["may_work"]
    client.force_login(staff)
    assert [r["id"] for r in client.get(f"{API}/requests?show=mine").json()] == [b.pk]
    assert [r["id"] for r in client.get(f"{API}/requests?q=0077").json()] == [a.pk]
    assert a.pk in [r["id"] for r in client.get(f"{API}/requests?show=all").json()]
    b.refresh_from_db()
    assert b.status == Status.OPEN


def test_the_phone_lookup(client, community, personas, ledger):
    client.force_login(personas["staff"])
    assert client.get(f"{API}/phone").json() == []
    out = client.get(f"{API}/phone?phone=13912345678").json()
    assert len(out) == 1
    m = out[0]
    assert m["household_id"] == ledger["h1"].pk and m["resident_id"] == ledger["r1"].pk
    assert {p["name"]: p["phone_owner"] for p in m["members"]} == {"王小明": True, "王大明": False}
    assert "101" in m["place"]
    r = client.get(f"{API}/phone?phone=123")
    assert r.status_code == 400 and "phone" in r.json()["error"]["fields"]


def test_the_callers_number_in_full_is_logged_in_the_api_too(client, community, personas, ledger):
    from shouwang.core.models import AuditEvent

    a = make_request(community, household=ledger["h1"], caller_phone="13512340077")
    b = make_request(
        community, owner=personas["staff"], household=ledger["h2"], caller_phone="13512340088"
    )
    client.force_login(personas["grid_leader"])
    client.get(f"{API}/requests")
    logged = AuditEvent.objects.filter(action="helpline.caller_phone")
    # The unowned request the grid leader may work: shown in full and logged; the other masked.
    assert [(e.target_id, e.actor) for e in logged] == [(str(a.pk), personas["grid_leader"])]
    client.get(f"{API}/requests/{b.pk}")
    assert logged.count() == 1
