"""/api/v1/care/: the list, a person, a follow-up with its need as a request in one call, a need
later, pairing and the policy — the same rules as the pages, the one error shape."""

import pytest

from shouwang.care.models import FollowUp, Pairing
from shouwang.care.testing import make_follow_up, make_pairing
from shouwang.care.tests.helpers_care import tag
from shouwang.helpline.models import Channel, Group, HelpRequest
from shouwang.helpline.testing import category

pytestmark = pytest.mark.django_db
API = "/api/v1/care"


def test_list_and_person(client, personas, ledger):
    r1, r3 = tag(ledger["r1"]), tag(ledger["r3"])
    make_pairing(r1, carer=personas["staff"], every_days=2)
    make_follow_up(r1, condition="头晕", needs="量血压")
    client.force_login(personas["grid_leader"])
    rows = client.get(f"{API}/people").json()
    assert [r["name"] for r in rows] == ["王小明"]  # grid A only
    assert rows[0]["carer"] == "staff" and rows[0]["every_days"] == 2 and rows[0]["state"] == "done"
    assert "age_80" in rows[0]["tags"]
    one = client.get(f"{API}/people/{r1.pk}").json()
    assert (
        one["follow_ups"][0]["condition"] == "头晕"
        and one["pairing"]["carer_id"] == personas["staff"].pk
    )
    assert client.get(f"{API}/people/{r3.pk}").status_code == 404
    client.force_login(personas["admin"])
    assert [r["name"] for r in client.get(f"{API}/people?state=overdue").json()] == ["赵五"]
    bad = client.get(f"{API}/people?state=late")
    assert bad.status_code == 400 and bad.json()["error"]["fields"]["state"]


def test_follow_up_with_request_in_one_call(client, personas, ledger, community):
    r1 = tag(ledger["r1"])
    cat = category(community, Group.LIVELIHOOD)
    client.force_login(personas["staff"])
    body = {
        "mode": "phone",
        "outcome": "concern",
        "condition": "药快吃完了",
        "needs": "配降压药",
        "client_key": "api-1",
        "request": {"category_id": cat.pk, "urgency": 3},
    }
    resp = client.post(f"{API}/people/{r1.pk}/follow-ups", body, content_type="application/json")
    assert resp.status_code == 201, resp.content
    out = resp.json()
    req = HelpRequest.objects.get()
    assert out["request_reference"] == req.reference and req.channel == Channel.FOLLOW_UP
    again = client.post(f"{API}/people/{r1.pk}/follow-ups", body, content_type="application/json")
    assert again.json()["id"] == out["id"] and HelpRequest.objects.count() == 1
    body["request"]["category_id"] = 999999
    body["client_key"] = "api-2"
    resp = client.post(f"{API}/people/{r1.pk}/follow-ups", body, content_type="application/json")
    assert resp.status_code == 400 and "category" in resp.json()["error"]["fields"]
    assert FollowUp.objects.count() == 1


def test_need_to_request_later(client, personas, ledger, community):
    fu = make_follow_up(tag(ledger["r1"]), needs="想买菜")
    client.force_login(personas["grid_leader"])
    url = f"{API}/follow-ups/{fu.pk}/request"
    body = {"category_id": category(community).pk}
    a = client.post(url, body, content_type="application/json").json()
    b = client.post(url, body, content_type="application/json").json()
    assert a["id"] == b["id"] and a["follow_up_id"] == fu.pk
    client.force_login(personas["outsider"])
    assert client.post(url, body, content_type="application/json").status_code == 404


def test_pairing_and_policy(client, personas, ledger):
    r1 = tag(ledger["r1"])
    client.force_login(personas["admin"])
    resp = client.post(
        f"{API}/people/{r1.pk}/pairing",
        {"carer_id": personas["staff"].pk, "every_days": 3},
        content_type="application/json",
    )
    assert resp.status_code == 200 and resp.json()["every_days"] == 3
    resp = client.post(
        f"{API}/people/{r1.pk}/pairing",
        {"carer_id": personas["volunteer"].pk},
        content_type="application/json",
    )
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid"
    assert client.post(f"{API}/people/{r1.pk}/unpair").status_code == 200
    resp = client.post(f"{API}/people/{r1.pk}/unpair")
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "not_paired"
    assert not Pairing.objects.filter(ended_at__isnull=True).exists()
    policy = client.get(f"{API}/policy").json()
    assert policy["default_tags"] and "living_alone" in policy["tags"]
    assert "age_80" not in policy["tags"] and "chronic" not in policy["tags"]
    resp = client.patch(
        f"{API}/policy", {"tags": ["age_60"], "every_days": 2}, content_type="application/json"
    )
    assert resp.json() == {
        "tags": ["age_60"],
        "tag_bits": 1,
        "default_tags": False,
        "every_days": 2,
    }
    resp = client.patch(f"{API}/policy", {"tags": ["old"]}, content_type="application/json")
    assert resp.status_code == 400
    client.force_login(personas["grid_leader"])
    assert client.get(f"{API}/policy").status_code == 403
