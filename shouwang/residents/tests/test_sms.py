"""The SMS gateway: the console stand-in phone, the test outbox, the HTTP gateway against a real
local server, the configured gateway, and what `sms_send` records and logs."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shouwang.core.errors import DomainError
from shouwang.residents import sms
from shouwang.residents.models import SmsMessage
from shouwang.residents.sms import (
    ConsoleGateway,
    HttpGateway,
    MemoryGateway,
    SmsError,
    SmsGateway,
    get_gateway,
    sms_send,
)

PHONE = "+8613912345678"
MASKED = "139****5678"
SECRET_TEXT = "Your code is 482913."


class FailingGateway(SmsGateway):
    name = "failing"

    def send(self, phone_e164, text, *, kind):
        # A careless provider that echoes the number and the text in its error.
        raise SmsError(f"rejected {phone_e164}: {text}")


class CrashingGateway(SmsGateway):
    name = "crashing"

    def send(self, phone_e164, text, *, kind):
        raise RuntimeError(f"sdk exploded while sending {text!r}")


@pytest.fixture
def memory(settings):
    settings.SMS_GATEWAY = "shouwang.residents.sms.MemoryGateway"
    MemoryGateway.outbox.clear()
    yield MemoryGateway.outbox
    MemoryGateway.outbox.clear()


def _all_logging_at_debug(caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("django", "django.db.backends", "shouwang", "shouwang.sms"):
        caplog.set_level(logging.DEBUG, logger=name)


def _row_text(row) -> str:
    return " ".join(str(getattr(row, f.attname)) for f in row._meta.concrete_fields)


# --- the gateways --------------------------------------------------------------------------------


def test_console_gateway_prints_to_stdout_and_not_to_logging(settings, db, capsys, caplog):
    _all_logging_at_debug(caplog)
    settings.SMS_GATEWAY = "shouwang.residents.sms.ConsoleGateway"
    settings.SMS_SIGNATURE = "【守望】"
    message = sms_send(phone_e164=PHONE, text=SECRET_TEXT, kind="otp")
    out = capsys.readouterr().out
    assert out == f"SMS to {MASKED} (otp): 【守望】{SECRET_TEXT}\n"
    assert PHONE not in out and "13912345678" not in out
    assert message.ok and message.gateway == "console" and message.provider_id
    # Only sms_send's one masked line reached logging; the text did not.
    assert "482913" not in caplog.text
    assert all("482913" not in r.getMessage() for r in caplog.records)
    sms_records = [r for r in caplog.records if r.name == "shouwang.sms"]
    assert len(sms_records) == 1
    assert MASKED in sms_records[0].getMessage() and "otp" in sms_records[0].getMessage()


def test_memory_gateway_keeps_messages_in_its_outbox(memory):
    gateway = MemoryGateway()
    first = gateway.send(PHONE, "hello", kind="link")
    second = gateway.send("+8618600001111", "again", kind="otp")
    assert memory == [(PHONE, "hello", "link"), ("+8618600001111", "again", "otp")]
    assert first != second
    MemoryGateway.outbox.clear()
    assert MemoryGateway.outbox == []


def test_base_gateway_is_an_interface():
    with pytest.raises(NotImplementedError):
        SmsGateway().send(PHONE, "x", kind="otp")


def test_get_gateway_is_cached_and_follows_the_setting(settings):
    settings.SMS_GATEWAY = "shouwang.residents.sms.MemoryGateway"
    first = get_gateway()
    assert isinstance(first, MemoryGateway)
    assert get_gateway() is first
    settings.SMS_GATEWAY = "shouwang.residents.sms.ConsoleGateway"
    assert isinstance(get_gateway(), ConsoleGateway)


def test_get_gateway_refuses_a_class_that_is_not_a_gateway(settings):
    settings.SMS_GATEWAY = "collections.OrderedDict"
    with pytest.raises(TypeError):
        get_gateway()


def test_console_is_the_default():
    from django.conf import settings

    assert settings.SMS_GATEWAY == "shouwang.residents.sms.ConsoleGateway"


# --- sms_send ------------------------------------------------------------------------------------


def test_sms_send_adds_the_signature_and_records_the_message_but_never_the_text(
    settings, memory, ledger, caplog
):
    _all_logging_at_debug(caplog)
    settings.SMS_SIGNATURE = "【测试】"
    community_id = ledger["h1"].community_id
    message = sms_send(phone_e164=PHONE, text=SECRET_TEXT, kind="otp", community_id=community_id)
    assert memory == [(PHONE, f"【测试】{SECRET_TEXT}", "otp")]
    row = SmsMessage.objects.get()
    assert row.pk == message.pk
    assert (row.to_masked, row.kind, row.gateway, row.ok, row.error) == (
        MASKED,
        "otp",
        "memory",
        True,
        "",
    )
    assert row.provider_id == "memory-1"
    assert row.community_id == community_id
    stored = _row_text(row)
    assert "482913" not in stored and PHONE not in stored and "13912345678" not in stored
    logged = caplog.text
    assert "482913" not in logged and "13912345678" not in logged
    assert MASKED in logged


@pytest.mark.parametrize("gateway", ["FailingGateway", "CrashingGateway"])
def test_a_failing_gateway_is_recorded_then_raised_as_a_502(settings, db, caplog, gateway):
    _all_logging_at_debug(caplog)
    settings.SMS_GATEWAY = f"shouwang.residents.tests.test_sms.{gateway}"
    with pytest.raises(DomainError) as exc:
        sms_send(phone_e164=PHONE, text=SECRET_TEXT, kind="otp")
    assert exc.value.status == 502
    assert exc.value.code == "sms_failed"
    assert "could not be sent" in str(exc.value.message)
    row = SmsMessage.objects.get()
    assert row.ok is False
    assert row.error and row.to_masked == MASKED
    # The provider echoed the number and the text: neither is kept nor logged.
    for text in (_row_text(row), caplog.text):
        assert "482913" not in text
        assert "13912345678" not in text
        assert SECRET_TEXT not in text
    assert any(r.levelno == logging.WARNING and r.name == "shouwang.sms" for r in caplog.records)


# --- HttpGateway against a real local server ----------------------------------------------------


class _Provider(BaseHTTPRequestHandler):
    received: list[dict] = []

    def log_message(self, *args):  # keep the test output quiet
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        _Provider.received.append(
            {
                "path": self.path,
                "auth": self.headers.get("Authorization"),
                "type": self.headers.get("Content-Type"),
                "body": json.loads(body),
            }
        )
        if self.path == "/slow":
            time.sleep(1.5)
        status, payload = {
            "/ok": (200, json.dumps({"id": "prov-42"}).encode()),
            "/accepted": (202, json.dumps({"id": 7}).encode()),
            "/fail": (500, b"internal error, text was: " + body),
            "/notjson": (200, b"<html>ok</html>"),
            "/noid": (200, b"{}"),
            "/slow": (200, b'{"id": "late"}'),
        }.get(self.path, (404, b"{}"))
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up (the timeout test)
            pass


@pytest.fixture
def provider(settings):
    _Provider.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SMS_HTTP_TOKEN = "secret-token"
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_http_gateway_posts_json_with_the_token(settings, provider):
    settings.SMS_HTTP_URL = f"{provider}/ok"
    assert HttpGateway().send(PHONE, "【守望】hello", kind="otp") == "prov-42"
    (request,) = _Provider.received
    assert request["path"] == "/ok"
    assert request["auth"] == "Bearer secret-token"
    assert request["type"] == "application/json"
    assert request["body"] == {"to": PHONE, "text": "【守望】hello", "kind": "otp"}


def test_http_gateway_accepts_any_2xx_and_a_numeric_id(settings, provider):
    settings.SMS_HTTP_URL = f"{provider}/accepted"
    assert HttpGateway().send(PHONE, "x", kind="link") == "7"


@pytest.mark.parametrize(
    ("path", "needle"),
    [("/fail", "HTTP 500"), ("/notjson", "JSON"), ("/noid", "id"), ("/missing", "HTTP 404")],
)
def test_http_gateway_errors_become_sms_errors(settings, provider, path, needle):
    settings.SMS_HTTP_URL = f"{provider}{path}"
    with pytest.raises(SmsError) as exc:
        HttpGateway().send(PHONE, "code 482913", kind="otp")
    assert needle in str(exc.value)
    # The 500 page echoed the text back; the error does not carry it.
    assert "482913" not in str(exc.value)


def test_http_gateway_times_out(settings, provider, monkeypatch):
    monkeypatch.setattr(HttpGateway, "timeout", 0.3)
    settings.SMS_HTTP_URL = f"{provider}/slow"
    started = time.monotonic()
    with pytest.raises(SmsError):
        HttpGateway().send(PHONE, "x", kind="otp")
    assert time.monotonic() - started < 1.4


def test_http_gateway_default_timeout_is_five_seconds():
    assert HttpGateway.timeout == 5


def test_http_gateway_unreachable_url(settings):
    with socket.socket() as s:  # a port that nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.SMS_HTTP_URL = f"http://127.0.0.1:{port}/send"
    with pytest.raises(SmsError) as exc:
        HttpGateway().send(PHONE, "x", kind="otp")
    assert "cannot be reached" in str(exc.value)


@pytest.mark.parametrize("url", ["", "file:///etc/passwd", "ftp://example.org/x"])
def test_http_gateway_needs_an_http_url(settings, url):
    settings.SMS_HTTP_URL = url
    with pytest.raises(SmsError):
        HttpGateway().send(PHONE, "x", kind="otp")


def test_sms_send_through_http_records_success_and_failure(settings, db, provider):
    settings.SMS_GATEWAY = "shouwang.residents.sms.HttpGateway"
    settings.SMS_HTTP_URL = f"{provider}/ok"
    ok = sms_send(phone_e164=PHONE, text="hello", kind="link")
    assert (ok.ok, ok.gateway, ok.provider_id) == (True, "http", "prov-42")
    settings.SMS_HTTP_URL = f"{provider}/fail"
    with pytest.raises(sms.SmsFailed):
        sms_send(phone_e164=PHONE, text="hello", kind="link")
    failed = SmsMessage.objects.get(ok=False)
    assert "HTTP 500" in failed.error
    assert "hello" not in failed.error
