"""The passes API: what a scanner learns from a pass, and issuing and revoking passes."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from shouwang.accounts.services import token_create
from shouwang.core.models import AuditEvent
from shouwang.residents import services, tokens
from shouwang.residents.models import Pass

RESOLVE = "/api/v1/passes/resolve"
HOLDER_FIELDS = {
    "pass_id",
    "resident_id",
    "household_id",
    "name_masked",
    "place",
    "presence",
    "age",
    "tags",
}


@pytest.fixture
def api(client, personas):
    """api("guard").post(path, body): a JSON POST to /api/v1<path> with that persona's token."""

    class Caller:
        def __init__(self, persona):
            self.headers = {"Authorization": f"Bearer {token_create(user=personas[persona])}"}

        def post(self, path, body=None):
            data = "" if body is None else json.dumps(body)
            return client.post(
                "/api/v1" + path, data, content_type="application/json", headers=self.headers
            )

        def resolve(self, token):
            return self.post("/passes/resolve", {"token": token})

    return Caller


@pytest.fixture
def pass_r1(personas, ledger):
    return services.pass_issue(actor=personas["staff"], resident=ledger["r1"])


def token_of(p: Pass) -> str:
    return tokens.token_for(p.code)


def _error(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.content
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body["error"]


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


# --- resolve ---------------------------------------------------------------------------------


def test_resolve_gives_the_holder_masked(api, ledger, pass_r1):
    from shouwang.registry.models import CareTag, Presence
    from shouwang.registry.services import age_on

    r1 = ledger["r1"]
    r1.birth_date = date(1940, 3, 1)
    r1.tags = CareTag.AGE_80 | CareTag.LIVING_ALONE
    r1.presence = Presence.AWAY
    r1.save(update_fields=["birth_date", "tags", "presence"])
    resp = api("guard").resolve(token_of(pass_r1))
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert set(body) == HOLDER_FIELDS
    assert body["pass_id"] == pass_r1.pk
    assert body["resident_id"] == r1.pk and body["household_id"] == ledger["h1"].pk
    assert body["name_masked"] == "王**"
    assert body["place"] == "华美小区 1号楼 1单元 101"
    assert body["presence"] == "away"
    assert body["age"] == age_on(r1.birth_date, timezone.localdate()) >= 80
    with translation.override("zh-hans"):  # the API speaks the request's language
        assert body["tags"] == [str(CareTag.AGE_80.label), str(CareTag.LIVING_ALONE.label)]
    text = resp.content.decode()
    assert r1.name not in text, "the full name never reaches a scanner"
    assert r1.id_number not in text and "13912345678" not in text


@pytest.mark.parametrize("persona", ["guard", "sampler", "volunteer", "staff", "grid_leader"])
def test_every_scanning_role_may_resolve(api, pass_r1, persona):
    assert api(persona).resolve(token_of(pass_r1)).status_code == 200


@pytest.mark.parametrize(
    "how",
    [
        str.lower,
        tokens.grouped,
        lambda t: tokens.grouped(t).lower(),
        _full_width,
        lambda t: " " + " ".join(tokens.grouped(t).split("-")) + " \n",
        lambda t: "https://example.org/p/" + t,
    ],
    ids=["lower", "dashes", "lower-dashes", "full-width", "spaces", "url"],
)
def test_resolve_accepts_what_scanners_and_typists_deliver(api, pass_r1, how):
    resp = api("guard").resolve(how(token_of(pass_r1)))
    assert resp.status_code == 200, resp.content
    assert resp.json()["pass_id"] == pass_r1.pk


def test_a_retried_scan_gets_the_same_answer_and_writes_nothing(api, pass_r1):
    guard = api("guard")
    first = guard.resolve(token_of(pass_r1))  # also touches the API token (once a minute)
    audits = AuditEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        again = guard.resolve(token_of(pass_r1))
    assert again.status_code == 200 and again.json() == first.json()
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == [], writes
    assert AuditEvent.objects.count() == audits


def test_a_forged_code_is_refused(api, pass_r1):
    token = token_of(pass_r1)
    last = token[-1]
    flipped = token[:-1] + next(c for c in tokens.ALPHABET if c != last)
    err = _error(api("guard").resolve(flipped), 422, "pass_forged")
    assert err["fields"]["token"]


def test_a_forged_code_part_is_refused(api, pass_r1):
    token = token_of(pass_r1)
    other = next(c for c in tokens.ALPHABET if c != token[2])
    _error(api("guard").resolve(token[:2] + other + token[3:]), 422, "pass_forged")


@pytest.mark.parametrize(
    "raw", ["hello", "SW123", "12345678901234567890", "SW" + "U" * 14, "http://x/"]
)
def test_what_is_not_a_pass_is_unreadable(api, personas, raw):
    _error(api("guard").resolve(raw), 422, "pass_unreadable")


@pytest.mark.parametrize("raw", ["", "   ", " - "])
def test_nothing_scanned(api, personas, raw):
    _error(api("guard").resolve(raw), 422, "pass_empty")


def test_a_well_formed_code_without_a_pass_is_unknown(api, personas, ledger):
    token = tokens.token_for(tokens.new_code())
    assert tokens.parse(token)  # the check is right: only the database can tell
    _error(api("guard").resolve(token), 422, "pass_unknown")


def test_a_revoked_pass_is_refused_at_once(api, personas, pass_r1):
    guard = api("guard")
    assert guard.resolve(token_of(pass_r1)).status_code == 200
    services.pass_revoke(actor=personas["staff"], pass_=pass_r1, reason="card lost")
    err = _error(guard.resolve(token_of(pass_r1)), 422, "pass_revoked")
    assert err["fields"]["token"]


def test_a_reissue_refuses_the_old_token_and_the_new_one_works(api, personas, ledger, pass_r1):
    guard = api("guard")
    old = token_of(pass_r1)
    assert guard.resolve(old).status_code == 200
    new_pass = services.pass_issue(
        actor=personas["staff"], resident=ledger["r1"], reason="photo shared"
    )
    _error(guard.resolve(old), 422, "pass_revoked")
    resp = guard.resolve(token_of(new_pass))
    assert resp.status_code == 200 and resp.json()["pass_id"] == new_pass.pk
    assert resp.json()["resident_id"] == ledger["r1"].pk


def test_another_communitys_pass_is_elsewhere(api, personas, ledger, pass_r1):
    theirs = services.pass_issue(actor=personas["outsider"], resident=ledger["ro"])
    err = _error(api("guard").resolve(token_of(theirs)), 422, "pass_elsewhere")
    assert "王外人" not in json.dumps(err, ensure_ascii=False)
    # ... and the other way round: their admin scans our pass.
    _error(api("outsider").resolve(token_of(pass_r1)), 422, "pass_elsewhere")
    assert api("outsider").resolve(token_of(theirs)).status_code == 200


@pytest.mark.parametrize("persona", ["merchant", "resident", "district"])
def test_roles_without_passes_scan_are_refused(api, pass_r1, persona):
    _error(api(persona).resolve(token_of(pass_r1)), 403, "forbidden")


def test_a_scanner_without_a_community_is_refused(client, pass_r1):
    """`pass_resolve` reads community None as "any community": never for a user. Only a
    superuser (or a district user, who has no passes.scan) may lack a community."""
    from shouwang.accounts.models import User

    root = User(username="root", role="admin", community=None, is_superuser=True)
    root.set_unusable_password()
    root.save()
    client.force_login(root)
    resp = client.post(
        RESOLVE, json.dumps({"token": token_of(pass_r1)}), content_type="application/json"
    )
    _error(resp, 403, "no_community")
    assert client.get("/passes/scan/", {"token": token_of(pass_r1)}).status_code == 403


def test_anonymous_resolve_is_401(client, pass_r1):
    resp = client.post(
        RESOLVE, json.dumps({"token": token_of(pass_r1)}), content_type="application/json"
    )
    _error(resp, 401, "unauthenticated")


def test_resolve_without_a_token_field_is_400(api, personas):
    err = _error(api("guard").post("/passes/resolve", {}), 400, "invalid_input")
    assert "token" in err["fields"]


def test_resolve_with_a_session_needs_the_csrf_token(personas, pass_r1):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(personas["guard"])
    body = json.dumps({"token": token_of(pass_r1)})
    assert browser.post(RESOLVE, body, content_type="application/json").status_code == 403
    page = browser.get("/passes/scan/")
    csrf = page.cookies["csrftoken"].value
    resp = browser.post(
        RESOLVE, body, content_type="application/json", headers={"X-CSRFToken": csrf}
    )
    assert resp.status_code == 200 and resp.json()["name_masked"] == "王**"


# --- issue -----------------------------------------------------------------------------------


def test_issue_gives_a_token_that_resolves(api, personas, ledger):
    resp = api("staff").post(f"/passes/residents/{ledger['r2'].pk}/issue", {"reason": "new card"})
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert set(body) == {"pass_id", "token", "grouped"}
    assert len(body["token"]) == tokens.TOKEN_LEN and body["token"].startswith("SW")
    assert body["grouped"] == tokens.grouped(body["token"])
    p = Pass.objects.get(pk=body["pass_id"])
    assert p.resident_id == ledger["r2"].pk and p.status == Pass.Status.ACTIVE
    assert AuditEvent.objects.filter(action="pass.issue").count() == 1
    got = api("guard").resolve(body["grouped"])
    assert got.status_code == 200 and got.json()["resident_id"] == ledger["r2"].pk


def test_issue_without_a_body_or_reason(api, ledger):
    resp = api("admin").post(f"/passes/residents/{ledger['r2'].pk}/issue")
    assert resp.status_code == 200, resp.content
    resp = api("admin").post(f"/passes/residents/{ledger['r2'].pk}/issue", {})
    assert resp.status_code == 200, resp.content


def test_reissue_revokes_the_old_pass(api, ledger, pass_r1):
    staff = api("staff")
    resp = staff.post(f"/passes/residents/{ledger['r1'].pk}/issue", {"reason": "photo shared"})
    assert resp.status_code == 200
    new_id = resp.json()["pass_id"]
    assert new_id != pass_r1.pk
    pass_r1.refresh_from_db()
    assert pass_r1.status == Pass.Status.REVOKED
    assert list(Pass.objects.filter(resident=ledger["r1"], status="active")) == [
        Pass.objects.get(pk=new_id)
    ]
    assert AuditEvent.objects.filter(action="pass.reissue").count() == 1
    guard = api("guard")
    _error(guard.resolve(token_of(pass_r1)), 422, "pass_revoked")
    assert guard.resolve(resp.json()["token"]).status_code == 200


@pytest.mark.parametrize(
    ("persona", "resident"),
    [("outsider", "r1"), ("grid_leader", "r3"), ("admin", "ro"), ("staff", "ro")],
)
def test_issue_outside_scope_is_404(api, ledger, persona, resident):
    resp = api(persona).post(f"/passes/residents/{ledger[resident].pk}/issue", {})
    _error(resp, 404, "not_found")
    assert not Pass.objects.filter(resident=ledger[resident]).exists()


def test_issue_for_a_resident_that_does_not_exist_is_404(api, ledger):
    _error(api("admin").post("/passes/residents/999999/issue", {}), 404, "not_found")


def test_grid_leader_issues_in_their_grid(api, ledger):
    resp = api("grid_leader").post(f"/passes/residents/{ledger['r1'].pk}/issue", {})
    assert resp.status_code == 200, resp.content


@pytest.mark.parametrize("persona", ["guard", "sampler", "volunteer", "merchant", "resident"])
def test_issue_needs_passes_manage(api, ledger, persona):
    _error(api(persona).post(f"/passes/residents/{ledger['r1'].pk}/issue", {}), 403, "forbidden")
    assert not Pass.objects.exists()


def test_anonymous_issue_is_401(client, ledger):
    resp = client.post(
        f"/api/v1/passes/residents/{ledger['r1'].pk}/issue", "{}", content_type="application/json"
    )
    _error(resp, 401, "unauthenticated")


# --- revoke ----------------------------------------------------------------------------------


def test_revoke_stops_the_pass(api, pass_r1):
    guard = api("guard")
    assert guard.resolve(token_of(pass_r1)).status_code == 200
    resp = api("staff").post(f"/passes/{pass_r1.pk}/revoke", {"reason": "card lost"})
    assert resp.status_code == 200, resp.content
    assert resp.json() == {"pass_id": pass_r1.pk, "status": "revoked"}
    pass_r1.refresh_from_db()
    assert pass_r1.status == Pass.Status.REVOKED and pass_r1.revoke_reason == "card lost"
    assert AuditEvent.objects.filter(action="pass.revoke").count() == 1
    _error(guard.resolve(token_of(pass_r1)), 422, "pass_revoked")
    # Revoking again changes nothing and is not an error.
    again = api("staff").post(f"/passes/{pass_r1.pk}/revoke", {"reason": "again"})
    assert again.status_code == 200 and again.json()["status"] == "revoked"
    assert AuditEvent.objects.filter(action="pass.revoke").count() == 1


@pytest.mark.parametrize("body", [{"reason": ""}, {"reason": "   "}, {}])
def test_revoke_needs_a_reason(api, pass_r1, body):
    resp = api("staff").post(f"/passes/{pass_r1.pk}/revoke", body)
    assert resp.status_code == 400, resp.content
    err = resp.json()["error"]
    assert err["code"] in ("reason_required", "invalid_input")
    assert "reason" in err["fields"] and err["message"]
    pass_r1.refresh_from_db()
    assert pass_r1.status == Pass.Status.ACTIVE


@pytest.mark.parametrize(("persona", "resident"), [("outsider", "r1"), ("grid_leader", "r3")])
def test_revoke_outside_scope_is_404(api, personas, ledger, persona, resident):
    p = services.pass_issue(actor=personas["admin"], resident=ledger[resident])
    _error(api(persona).post(f"/passes/{p.pk}/revoke", {"reason": "x"}), 404, "not_found")
    p.refresh_from_db()
    assert p.status == Pass.Status.ACTIVE


def test_revoke_of_another_communitys_pass_is_404(api, personas, ledger):
    theirs = services.pass_issue(actor=personas["outsider"], resident=ledger["ro"])
    _error(api("admin").post(f"/passes/{theirs.pk}/revoke", {"reason": "x"}), 404, "not_found")
    _error(api("admin").post("/passes/999999/revoke", {"reason": "x"}), 404, "not_found")


def test_grid_leader_revokes_in_their_grid(api, pass_r1):
    resp = api("grid_leader").post(f"/passes/{pass_r1.pk}/revoke", {"reason": "card lost"})
    assert resp.status_code == 200 and resp.json()["status"] == "revoked"


@pytest.mark.parametrize("persona", ["guard", "volunteer", "merchant"])
def test_revoke_needs_passes_manage(api, pass_r1, persona):
    resp = api(persona).post(f"/passes/{pass_r1.pk}/revoke", {"reason": "x"})
    _error(resp, 403, "forbidden")
    pass_r1.refresh_from_db()
    assert pass_r1.status == Pass.Status.ACTIVE


def test_routes_have_unique_names():
    from django.urls import reverse

    assert reverse("api:passes_resolve") == RESOLVE
    assert reverse("api:passes_issue", kwargs={"resident_id": 7}) == (
        "/api/v1/passes/residents/7/issue"
    )
    assert reverse("api:passes_revoke", kwargs={"pass_id": 7}) == "/api/v1/passes/7/revoke"
