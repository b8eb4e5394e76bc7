"""The sign-in pages: phone, code, session; the same page for unknown numbers; and no code in any
log, audit row, stored row or page."""

from __future__ import annotations

import logging
import re
from datetime import date

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.urls import reverse

from shouwang.core import crypto
from shouwang.core.models import AuditEvent
from shouwang.residents.access import SESSION_KEY
from shouwang.residents.models import Consent, OtpCode, OtpFailure, SmsMessage
from shouwang.residents.sms import MemoryGateway
from shouwang.residents.views.signin import SESSION_PHONE

SIGNIN = "/my/signin/"
CODE = "/my/signin/code/"
R1 = "+8613912345678"
ADDR = "10.0.0.1"


@pytest.fixture(autouse=True)
def outbox(settings):
    settings.SMS_GATEWAY = "shouwang.residents.sms.MemoryGateway"
    MemoryGateway.outbox.clear()
    yield MemoryGateway.outbox
    MemoryGateway.outbox.clear()


@pytest.fixture
def client(client):
    # Pages in English, whatever translations exist (the default is Chinese).
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _last_code(outbox) -> str:
    return re.search(r"\b(\d{6})\b", outbox[-1][1]).group(1)


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def _post_phone(client, phone, addr=ADDR, **extra):
    return client.post(SIGNIN, {"phone": phone, **extra}, REMOTE_ADDR=addr)


def _post_code(client, code, addr=ADDR):
    return client.post(CODE, {"code": code}, REMOTE_ADDR=addr)


def test_urls():
    assert reverse("residents:signin") == SIGNIN
    assert reverse("residents:signin_code") == CODE


def test_phone_form(client, db):
    resp = client.get(SIGNIN)
    assert resp.status_code == 200
    html = resp.content.decode()
    for needle in (
        'name="phone"',
        'type="tel"',
        'inputmode="tel"',
        'autocomplete="tel"',
        "csrfmiddlewaretoken",
        "household card",
    ):
        assert needle in html


def test_phone_then_code_signs_in(client, ledger, outbox):
    resp = _post_phone(client, "139 1234 5678")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "If this number is in the committee's ledger, a code is on its way" in html
    assert "139****5678" in html and "13912345678" not in html
    for needle in ('inputmode="numeric"', 'autocomplete="one-time-code"', 'name="resend"'):
        assert needle in html
    assert "call the committee" in html
    assert client.session[SESSION_PHONE] == R1
    assert len(outbox) == 1
    code = _last_code(outbox)

    wrong = _post_code(client, _wrong(code))
    assert wrong.status_code == 400
    assert "not right" in wrong.content.decode()
    assert SESSION_KEY not in client.session

    before = client.session.session_key
    resp = _post_code(client, code)
    assert resp.status_code == 302
    assert resp["Location"] == reverse("residents:my")
    session = client.session
    assert session[SESSION_KEY]["phone"] == crypto.blind_index("phone", R1)
    assert session[SESSION_KEY]["hh"] == [ledger["h1"].pk]
    assert SESSION_PHONE not in session
    assert session.session_key != before  # a new session id on sign-in

    # The code is spent.
    s = client.session
    s[SESSION_PHONE] = R1
    s.save()
    again = _post_code(client, code)
    assert again.status_code == 400
    assert "expired or was already used" in again.content.decode()


def test_unknown_number_gets_the_same_page_and_no_sms(client, ledger, outbox):
    known = _post_phone(client, "13912345678")
    other_client = type(client)()
    other_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    unknown = _post_phone(other_client, "13800009999", addr="10.0.0.2")
    assert known.status_code == unknown.status_code == 200
    assert len(outbox) == 1

    def normalise(resp):
        html = resp.content.decode()
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
        return re.sub(r"\d{3}\*{4}\d{4}", "PHONE", html)

    assert normalise(known) == normalise(unknown)
    assert other_client.session[SESSION_PHONE] == "+8613800009999"


def test_invalid_phone_is_shown_on_the_form(client, db, outbox):
    resp = _post_phone(client, "23912345678")
    assert resp.status_code == 400
    html = resp.content.decode()
    assert 'name="phone"' in html and 'aria-invalid="true"' in html
    assert "not a Chinese mobile number" in html
    assert SESSION_PHONE not in client.session
    empty = _post_phone(client, "")
    assert empty.status_code == 400
    assert "Type your mobile phone number" in empty.content.decode()
    assert outbox == []


def test_send_again_is_rate_limited(client, ledger, outbox):
    _post_phone(client, R1)
    resp = client.post(SIGNIN, {"resend": "1"}, REMOTE_ADDR=ADDR)
    assert resp.status_code == 429
    html = resp.content.decode()
    assert 'name="code"' in html  # still the code form: the first code may be on its way
    assert "ask again in 1 minute" in html
    assert len(outbox) == 1


def test_send_again_without_a_phone_goes_back(client, db):
    resp = client.post(SIGNIN, {"resend": "1"}, REMOTE_ADDR=ADDR)
    assert resp.status_code == 302 and resp["Location"] == SIGNIN


def test_code_page_refuses_get(client, db):
    assert client.get(CODE).status_code == 405


def test_code_without_a_phone_in_the_session_goes_back(client, db):
    resp = client.post(CODE, {"code": "123456"}, REMOTE_ADDR=ADDR, follow=True)
    assert resp.redirect_chain == [(SIGNIN, 302)]
    assert "Type your mobile phone number again" in resp.content.decode()


def test_pages_are_csrf_protected(ledger):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(SIGNIN, {"phone": R1}, REMOTE_ADDR=ADDR).status_code == 403
    assert strict.post(CODE, {"code": "123456"}, REMOTE_ADDR=ADDR).status_code == 403


def test_locked_verify_is_a_429_page(client, ledger, outbox, settings):
    settings.OTP_ATTEMPTS_PER_CODE = 1000
    _post_phone(client, R1)
    code = _last_code(outbox)
    statuses = [_post_code(client, _wrong(code)).status_code for _ in range(12)]
    assert statuses == [400] * settings.OTP_FAILURES_PER_PHONE_HOUR + [429, 429]
    resp = _post_code(client, code)
    assert resp.status_code == 429
    assert "Too many wrong codes" in resp.content.decode()
    assert SESSION_KEY not in client.session


def test_consent_proxy_signs_in(client, ledger, outbox):
    daughter = "+8613300001234"
    Consent.objects.create(
        community=ledger["h2"].community,
        household=ledger["h2"],
        proxy_name="李女儿",
        proxy_phone_index=crypto.blind_index("phone", daughter),
        relation="family",
        granted_on=date(2022, 4, 1),
    )
    _post_phone(client, daughter)
    resp = _post_code(client, _last_code(outbox))
    assert resp.status_code == 302 and resp["Location"] == reverse("residents:my")
    data = client.session[SESSION_KEY]
    assert data["phone"] == crypto.blind_index("phone", daughter)
    assert data["hh"] == []  # not a member: the household comes through the consent


def test_staff_sign_in_is_not_needed_and_not_replaced(client, ledger, personas, outbox):
    client.force_login(personas["staff"])
    _post_phone(client, R1)
    _post_code(client, _last_code(outbox))
    assert client.session[SESSION_KEY]["phone"]
    assert client.session["_auth_user_id"] == str(personas["staff"].pk)


# --- the code never leaves the phone -----------------------------------------------------------


def test_codes_never_appear_in_logs_rows_or_pages(client, ledger, outbox, settings, caplog):
    settings.DEBUG = True  # SQL is logged too, with its parameters
    caplog.set_level(logging.DEBUG)
    for name in ("django", "django.request", "django.db.backends", "shouwang", "shouwang.sms"):
        caplog.set_level(logging.DEBUG, logger=name)

    pages = [client.get(SIGNIN), _post_phone(client, "13912345678")]
    code = _last_code(outbox)
    pages.append(_post_code(client, _wrong(code)))
    pages.append(_post_code(client, code))
    assert pages[-1].status_code == 302

    # It went to the phone ...
    assert code in outbox[0][1]
    # ... and nowhere else.
    assert caplog.records, "logging was not captured"
    assert any(r.name == "django.db.backends" for r in caplog.records), "SQL was not captured"
    for record in caplog.records:
        assert code not in record.getMessage(), record.name
        assert code not in repr(record.args)
        assert code not in (record.exc_text or "")
    assert code not in caplog.text
    assert AuditEvent.objects.filter(action="resident.signin_sms").exists()
    for model in (AuditEvent, OtpCode, OtpFailure, SmsMessage, Session):
        for row in model.objects.all():
            values = " ".join(str(getattr(row, f.attname)) for f in row._meta.concrete_fields)
            assert code not in values, model.__name__
    for session in Session.objects.all():
        assert code not in repr(session.get_decoded())
    for resp in pages:
        assert code not in resp.content.decode()
        assert code not in str(resp.headers)
