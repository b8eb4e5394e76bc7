"""The scanner page: the input a keyboard-wedge scanner types into, and the GET form that works
without JavaScript through the same `pass_resolve` as the API."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from shouwang.core.models import AuditEvent
from shouwang.residents import services, tokens

SCAN = "/passes/scan/"


@pytest.fixture
def pass_r1(personas, ledger):
    return services.pass_issue(actor=personas["staff"], resident=ledger["r1"])


def token_of(p) -> str:
    return tokens.token_for(p.code)


def _input_tag(html: str) -> str:
    m = re.search(r"<input[^>]*\bname=\"token\"[^>]*>", html)
    assert m, "the page has the token input"
    return m.group(0)


def test_url_name():
    assert reverse("residents:scan") == SCAN


def test_page_has_an_input_a_scanner_can_type_into(client, personas):
    client.force_login(personas["guard"])
    resp = client.get(SCAN)
    assert resp.status_code == 200
    html = resp.content.decode()
    tag = _input_tag(html)
    for attr in (
        "autofocus",
        'autocomplete="off"',
        'autocapitalize="characters"',
        'spellcheck="false"',
        'inputmode="latin"',
        'lang="en"',
        'value=""',
    ):
        assert attr in tag, f"{attr} missing on {tag}"
    form = re.search(r"<form[^>]*id=\"scan-form\"[^>]*>", html).group(0)
    assert 'method="get"' in form, "without JavaScript the form is a GET to this page"
    assert resp.context["result"] is None
    assert 'class="scan-result is-ready"' in html
    # What scan.js needs is in the page: the API, the CSRF token, jsQR, the strings.
    assert f'data-api="{reverse("api:passes_resolve")}"' in html
    assert 'data-csrf="' in html and "vendor/jsqr/jsQR.js" in html and "js/scan.js" in html
    strings = json.loads(
        re.search(r'<script id="scan-strings" type="application/json">(.*?)</script>', html).group(
            1
        )
    )
    assert set(strings["titles"]) == {
        "pass_empty",
        "pass_unreadable",
        "pass_forged",
        "pass_unknown",
        "pass_revoked",
        "pass_elsewhere",
    }
    assert "%(age)s" in strings["age"]
    assert resp["Cache-Control"] and "no-cache" in resp["Cache-Control"]


@pytest.mark.parametrize(
    "persona", ["admin", "staff", "grid_leader", "guard", "sampler", "volunteer"]
)
def test_scanning_roles_open_the_page(client, personas, persona):
    client.force_login(personas[persona])
    assert client.get(SCAN).status_code == 200


@pytest.mark.parametrize("persona", ["merchant", "resident", "district"])
def test_other_roles_are_refused(client, personas, persona, pass_r1):
    client.force_login(personas[persona])
    resp = client.get(SCAN, {"token": token_of(pass_r1)})
    assert resp.status_code == 403
    assert "王**" not in resp.content.decode()


def test_anonymous_is_sent_to_sign_in(client, pass_r1):
    resp = client.get(SCAN, {"token": token_of(pass_r1)})
    assert resp.status_code == 302
    assert resp["Location"].startswith(reverse("accounts:login"))


def test_no_js_scan_shows_the_holder(client, personas, ledger, pass_r1):
    client.force_login(personas["guard"])
    audits = AuditEvent.objects.count()
    resp = client.get(SCAN, {"token": tokens.grouped(token_of(pass_r1)).lower()})
    assert resp.status_code == 200
    html = resp.content.decode()
    result = resp.context["result"]
    assert result["ok"] is True and result["holder"].pass_id == pass_r1.pk
    assert 'class="scan-result is-ok"' in html
    assert "王**" in html and "华美小区 1号楼 1单元 101" in html
    assert ledger["r1"].name not in html, "the scanner sees the masked name only"
    assert token_of(pass_r1) not in html, "the token is not echoed back"
    assert 'value=""' in _input_tag(html), "the input is empty for the next scan"
    assert AuditEvent.objects.count() == audits, "a scan writes nothing"


def test_no_js_scan_refuses_a_revoked_pass(client, personas, pass_r1):
    services.pass_revoke(actor=personas["staff"], pass_=pass_r1, reason="card lost")
    client.force_login(personas["guard"])
    resp = client.get(SCAN, {"token": token_of(pass_r1)})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert resp.context["result"]["ok"] is False
    assert resp.context["result"]["code"] == "pass_revoked"
    assert 'class="scan-result is-refused"' in html
    assert 'data-code="pass_revoked"' in html
    assert "王**" not in html
    # Guards may look the person up instead: the refusal offers the search.
    assert f'href="{reverse("registry:search")}"' in html


@pytest.mark.parametrize(
    ("raw", "code"),
    [("", "pass_empty"), ("hello", "pass_unreadable"), ("SW" + "0" * 14, "pass_forged")],
)
def test_no_js_scan_refuses_what_is_not_a_pass(client, personas, raw, code):
    client.force_login(personas["guard"])
    resp = client.get(SCAN, {"token": raw})
    assert resp.context["result"]["code"] == code
    assert f'data-code="{code}"' in resp.content.decode()


def test_no_js_scan_of_an_unknown_pass(client, personas):
    client.force_login(personas["volunteer"])
    resp = client.get(SCAN, {"token": tokens.token_for(tokens.new_code())})
    assert resp.context["result"]["code"] == "pass_unknown"
    # Volunteers may not search the ledger: no search button for them.
    assert f'href="{reverse("registry:search")}"' not in resp.content.decode()


def test_no_js_scan_is_scoped_to_the_community(client, personas, ledger, pass_r1):
    theirs = services.pass_issue(actor=personas["outsider"], resident=ledger["ro"])
    client.force_login(personas["guard"])
    resp = client.get(SCAN, {"token": token_of(theirs)})
    assert resp.context["result"]["code"] == "pass_elsewhere"
    assert "王*" not in resp.content.decode()
    client.force_login(personas["outsider"])
    assert client.get(SCAN, {"token": token_of(pass_r1)}).context["result"]["code"] == (
        "pass_elsewhere"
    )
    assert client.get(SCAN, {"token": token_of(theirs)}).context["result"]["ok"] is True


def test_page_and_api_give_the_same_answer(client, personas, pass_r1):
    """One service behind both ways in."""
    client.force_login(personas["guard"])
    for token in (token_of(pass_r1), "SW" + "0" * 14, "nope"):
        page = client.get(SCAN, {"token": token}).context["result"]
        api = client.post(
            reverse("api:passes_resolve"),
            json.dumps({"token": token}),
            content_type="application/json",
        )
        if page["ok"]:
            assert api.status_code == 200 and api.json()["pass_id"] == page["holder"].pass_id
        else:
            assert api.status_code == 422 and api.json()["error"]["code"] == page["code"]
            assert api.json()["error"]["message"] == str(page["message"])


def test_static_files_are_there():
    from django.conf import settings

    static = settings.BASE_DIR / "static"
    assert (static / "js/scan.js").is_file() and (static / "css/scan.css").is_file()
    jsqr = static / "vendor/jsqr"
    assert (jsqr / "jsQR.js").stat().st_size > 100_000
    assert "Apache License" in (jsqr / "LICENSE").read_text()
    # No user-facing text in the script: it all comes from the page.
    js = (static / "js/scan.js").read_text()
    assert not re.search(r"[\u4e00-\u9fff]", js)
