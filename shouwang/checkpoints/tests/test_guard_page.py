"""The guard page, its search, its API, and this part's permission-matrix entries walked on
their own (the project matrix in core/tests walks them too)."""

from __future__ import annotations

import json
import uuid

import pytest
from django.urls import reverse

from shouwang.checkpoints import gatekey
from shouwang.checkpoints.models import Passage
from shouwang.checkpoints.tests import matrix_guard
from shouwang.checkpoints.tests.test_pass_endpoint import make_checkpoint, sample, token
from shouwang.control.testing import put_under
from shouwang.core.tests.matrix_policy import ANONYMOUS, PERSONAS


@pytest.fixture
def checkpoint(personas):
    return make_checkpoint(personas["admin"].community, name="南门")


def _config(resp) -> dict:
    html = resp.content.decode()
    start = html.index('id="guard-config"')
    body = html[html.index(">", start) + 1 : html.index("</script>", start)]
    return json.loads(body)


def test_page_holds_a_working_key(client, personas, checkpoint, ledger):
    client.force_login(personas["guard"])
    resp = client.get(reverse("checkpoints:guard_at", args=[checkpoint.pk]))
    assert resp.status_code == 200
    config = _config(resp)
    gate = gatekey.verify(config["key"])
    assert (gate.user_id, gate.checkpoint_id, gate.language) == (
        personas["guard"].pk,
        checkpoint.pk,
        "en",
    )
    assert config["urls"]["pass"] == "/checkpoints/pass/" and config["ask_code"] is False
    html = resp.content.decode()
    assert 'id="guard-token"' in html and 'inputmode="decimal"' in html
    assert "code_colour" not in html  # the colour buttons only when the policy asks


def test_page_shows_colour_buttons_when_the_policy_asks(client, personas, checkpoint):
    from shouwang.checkpoints.services import policy_for

    policy = policy_for(checkpoint.community_id)
    policy.ask_health_code = True
    policy.save(update_fields=["ask_health_code"])
    client.force_login(personas["guard"])
    resp = client.get(reverse("checkpoints:guard_at", args=[checkpoint.pk]))
    assert resp.content.decode().count('name="code_colour"') == 3
    assert _config(resp)["ask_code"] is True


def test_page_lists_recent_passages_with_reasons(client, personas, checkpoint, ledger):
    r = ledger["r1"]
    sample(r, hours_ago=5)
    put_under(r.household.building, "sealed")
    from shouwang.checkpoints import decision

    gate = gatekey.verify(gatekey.issue(personas["guard"], checkpoint, language="en"))
    body = {"uid": str(uuid.uuid4()), "direction": "out", "temperature": "36.5"}
    decision.record(gate, {**body, "pass": token(r, personas["staff"])})
    client.force_login(personas["volunteer"])
    html = client.get(reverse("checkpoints:guard_at", args=[checkpoint.pk])).content.decode()
    assert "Home is sealed: nobody leaves home." in html
    assert "王小*" in html and "王小明" not in html


def test_pick_page_goes_straight_to_the_only_checkpoint(client, personas, checkpoint):
    client.force_login(personas["guard"])
    resp = client.get(reverse("checkpoints:guard"))
    assert resp.status_code == 302
    assert resp["Location"] == reverse("checkpoints:guard_at", args=[checkpoint.pk])
    make_checkpoint(checkpoint.community, name="北门")
    resp = client.get(reverse("checkpoints:guard"))
    assert resp.status_code == 200 and "北门" in resp.content.decode()


def test_out_of_use_checkpoint_page_has_no_key(client, personas, checkpoint):
    checkpoint.is_active = False
    checkpoint.save(update_fields=["is_active"])
    client.force_login(personas["guard"])
    resp = client.get(reverse("checkpoints:guard_at", args=[checkpoint.pk]))
    assert resp.status_code == 200 and _config(resp)["key"] == ""


def test_find_masks_names(client, personas, checkpoint, ledger):
    url = reverse("checkpoints:guard_find", args=[checkpoint.pk])
    client.force_login(personas["guard"])
    results = client.get(url, {"q": "王"}).json()["results"]
    assert {r["name"] for r in results} == {"王小*", "王大*"}  # not 王外人 (elsewhere)
    assert all(r["id_number"] and "*" in r["id_number"] for r in results)
    r1 = next(r for r in results if r["resident"] == ledger["r1"].pk)
    assert r1["home"] == "华美小区 1号楼 1单元 101"
    # By the phone's last four digits.
    assert [r["resident"] for r in client.get(url, {"q": "1111"}).json()["results"]] == [
        ledger["r2"].pk
    ]
    # A volunteer finds people but sees no ID or phone digits.
    client.force_login(personas["volunteer"])
    results = client.get(url, {"q": "王"}).json()["results"]
    assert results and not any("id_number" in r or "phone" in r for r in results)
    assert client.get(url, {"q": ""}).json() == {"results": []}


# --- the API --------------------------------------------------------------------------------


def test_api_pass_decides_as_the_page(client, personas, checkpoint, ledger):
    r = ledger["r1"]
    put_under(r.household.building, "controlled")
    client.force_login(personas["guard"])
    body = {
        "checkpoint": checkpoint.pk,
        "uid": str(uuid.uuid4()),
        "direction": "out",
        "temperature": "36.6",
        "pass": token(r, personas["staff"]),
    }
    url = "/api/v1/checkpoints/pass"
    a = client.post(url, body, content_type="application/json").json()
    assert a["decision"] == "deny"
    assert [x["code"] for x in a["reasons"]] == ["controlled", "no_test"]
    again = client.post(url, body, content_type="application/json").json()
    assert again["status"] == "replayed" and Passage.objects.count() == 1


def test_api_pass_refusals(client, personas, checkpoint, ledger):
    client.force_login(personas["guard"])
    url = "/api/v1/checkpoints/pass"
    body = {"checkpoint": checkpoint.pk, "uid": str(uuid.uuid4()), "direction": "up"}
    resp = client.post(url, {**body, "resident": ledger["r1"].pk}, content_type="application/json")
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid"
    body["direction"] = "in"
    resp = client.post(url, {**body, "resident": ledger["ro"].pk}, content_type="application/json")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
    resp = client.post(url, {"uid": str(uuid.uuid4())}, content_type="application/json")
    assert resp.status_code == 400
    client.force_login(personas["outsider"])
    resp = client.post(url, {**body, "resident": ledger["r1"].pk}, content_type="application/json")
    assert resp.status_code == 404


def test_api_with_a_bearer_token(client, personas, checkpoint, ledger):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("accounts_token", "guard", stdout=out)
    raw = out.getvalue().strip()
    resp = client.post(
        "/api/v1/checkpoints/pass",
        {
            "checkpoint": checkpoint.pk,
            "uid": str(uuid.uuid4()),
            "direction": "in",
            "resident": ledger["r3"].pk,
        },
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert resp.status_code == 200, resp.content
    assert resp.json()["decision"] == "check"  # no temperature, no test


def test_api_reasons(client, personas):
    client.force_login(personas["guard"])
    rows = client.get("/api/v1/checkpoints/reasons").json()
    assert {
        "code": "sealed",
        "decision": "deny",
        "label": "Home is sealed: nobody leaves home.",
    } in rows


# --- this part's matrix entries ---------------------------------------------------------------


@pytest.mark.parametrize("persona", [*PERSONAS, ANONYMOUS])
def test_matrix_guard(client, personas, ledger, persona):
    from shouwang.core.tests import test_permission_matrix as m

    rows = {**ledger, **matrix_guard.rows(personas, ledger, {})}
    if persona != ANONYMOUS:
        client.force_login(personas[persona])
    urls = m.project_urls()
    problems = []
    for key, policy in matrix_guard.EXPECTED.items():
        r = urls[key]
        url = m._concrete(r.route, policy, rows)
        method = r.methods[0] if r.methods else policy.method
        if policy.post_only:
            got = client.get(url).status_code
            if got != 405:
                problems.append(f"GET {key}: {got}")
        resp = m._request(client, url, policy, method)
        wrong = m._verdict(key, policy, persona, resp)
        if wrong:
            problems.append(f"{key}: {wrong}")
    assert not problems, problems
