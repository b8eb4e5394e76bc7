"""Text messages to residents' phones, through a pluggable gateway (docs/sms.md).

`settings.SMS_GATEWAY` names the class (dotted path). Three come with Shouwang:

- `ConsoleGateway` (the default) prints the message to standard output and sends nothing: in
  development the terminal is the resident's phone.
- `MemoryGateway` keeps messages in `MemoryGateway.outbox`, for tests.
- `HttpGateway` posts JSON to a provider's (or an in-house relay's) HTTP endpoint.

Every message goes out through `sms_send`, which adds the signature, calls the gateway and
records an `SmsMessage` row: to whom (masked), what kind, through which gateway, and whether it
went. The text itself is never stored or logged: a sign-in code must only ever reach the phone.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import urllib.error
import urllib.request
import uuid

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from shouwang.core.errors import DomainError
from shouwang.core.masking import mask_phone
from shouwang.residents.models import SmsMessage

logger = logging.getLogger("shouwang.sms")

__all__ = [
    "ConsoleGateway",
    "HttpGateway",
    "MemoryGateway",
    "SmsError",
    "SmsFailed",
    "SmsGateway",
    "get_gateway",
    "sms_send",
]


class SmsError(Exception):
    """A gateway could not hand the message over. The text says why, without the message text
    or the full phone number (it is stored, masked further, in `SmsMessage.error`)."""


class SmsFailed(DomainError):
    """What callers of `sms_send` see when the gateway failed (after the failure is recorded)."""

    status = 502


class SmsGateway:
    """The interface of an SMS gateway. Subclass it for a real provider (docs/sms.md).

    `name`: a short label stored with every message (`SmsMessage.gateway`, at most 40 chars).

    `send(phone_e164, text, *, kind)`: hand one message to the provider.
      - `phone_e164` is a checked Chinese mobile number such as "+8613912345678";
      - `text` is the full text, signature included;
      - `kind` says what the message is for ("otp", "link", ...), for the provider's templates
        or statistics.
      Returns the provider's message id (or "" if it has none). Raises `SmsError` on any
      failure. It must not log or keep `text`: it can hold a sign-in code.

    One instance is built per process (see `get_gateway`) and may be called from several
    threads at once; settings are read when sending, so a test can change them.
    """

    name: str = "base"

    def send(self, phone_e164: str, text: str, *, kind: str) -> str:
        raise NotImplementedError


class ConsoleGateway(SmsGateway):
    """Prints "SMS to 139****5678 (otp): text" to standard output and sends nothing.

    The stand-in phone for development and demonstrations. It writes with print(), never
    through `logging`, so that log files and log shipping never see a code."""

    name = "console"

    def send(self, phone_e164: str, text: str, *, kind: str) -> str:
        print(f"SMS to {mask_phone(phone_e164)} ({kind}): {text}", file=sys.stdout, flush=True)
        return f"console-{uuid.uuid4().hex[:12]}"


class MemoryGateway(SmsGateway):
    """Keeps every message in the class attribute `outbox` as (phone_e164, text, kind).

    For tests: `MemoryGateway.outbox.clear()` before, read it after."""

    name = "memory"
    outbox: list[tuple[str, str, str]] = []
    _lock = threading.Lock()

    def send(self, phone_e164: str, text: str, *, kind: str) -> str:
        with self._lock:
            MemoryGateway.outbox.append((phone_e164, text, kind))
            return f"memory-{len(MemoryGateway.outbox)}"


class HttpGateway(SmsGateway):
    """POSTs {"to", "text", "kind"} as JSON to `settings.SMS_HTTP_URL`, with
    "Authorization: Bearer <settings.SMS_HTTP_TOKEN>", and expects a 2xx answer with a JSON
    body {"id": "<provider message id>"}. Anything else raises `SmsError`."""

    name = "http"
    timeout = 5.0

    def send(self, phone_e164: str, text: str, *, kind: str) -> str:
        url = settings.SMS_HTTP_URL
        if not url:
            raise SmsError("SMS_HTTP_URL is not set")
        if not url.lower().startswith(("https://", "http://")):
            raise SmsError("SMS_HTTP_URL must be an http:// or https:// address")
        body = json.dumps({"to": phone_e164, "text": text, "kind": kind}).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if settings.SMS_HTTP_TOKEN:
            headers["Authorization"] = f"Bearer {settings.SMS_HTTP_TOKEN}"
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
                raw = response.read(64 * 1024)
        except urllib.error.HTTPError as e:
            # The body is not read: a provider may echo the message back in its error page.
            raise SmsError(f"the SMS service answered HTTP {e.code}") from None
        except urllib.error.URLError as e:
            raise SmsError(f"the SMS service cannot be reached ({e.reason})") from None
        except TimeoutError:
            raise SmsError(f"the SMS service did not answer within {self.timeout:g} s") from None
        except OSError as e:
            raise SmsError(f"the SMS service cannot be reached ({type(e).__name__})") from None
        if not 200 <= status < 300:
            raise SmsError(f"the SMS service answered HTTP {status}")
        try:
            data = json.loads(raw)
        except ValueError:
            raise SmsError("the SMS service did not answer with JSON") from None
        message_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(message_id, str | int) or isinstance(message_id, bool):
            raise SmsError('the SMS service answered without a message "id"')
        return str(message_id)


# --- the configured gateway -------------------------------------------------------------------

_gateway: SmsGateway | None = None
_gateway_lock = threading.Lock()


def get_gateway() -> SmsGateway:
    """The gateway named by `settings.SMS_GATEWAY`, built once per process."""
    global _gateway
    gateway = _gateway
    if gateway is None:
        with _gateway_lock:
            if _gateway is None:
                cls = import_string(settings.SMS_GATEWAY)
                instance = cls()
                if not isinstance(instance, SmsGateway):
                    raise TypeError(f"{settings.SMS_GATEWAY} is not an SmsGateway")
                _gateway = instance
            gateway = _gateway
    return gateway


@receiver(setting_changed)
def _forget_gateway(*, setting, **kwargs):
    global _gateway
    if setting.startswith("SMS_"):
        _gateway = None


# --- sending ------------------------------------------------------------------------------------

_DIGIT_RUN = re.compile(r"\d{4,}")


def _scrub(error: str, text: str) -> str:
    """An error message fit to store and log: without the message text, and without any run of
    four or more digits (a code or a phone number that a provider's SDK might have echoed)."""
    if text:
        error = error.replace(text, "[text]")
    return _DIGIT_RUN.sub("#", error)[:200]


def sms_send(*, phone_e164: str, text: str, kind: str, community_id=None) -> SmsMessage:
    """Send `text` (the signature is added here) and record the attempt.

    Returns the `SmsMessage` row. If the gateway fails, the row says so (ok=False) and
    `SmsFailed` (a DomainError, status 502) is raised. Call it outside a transaction that the
    failure would roll back, or the record of the failure is lost with it.
    """
    full_text = f"{settings.SMS_SIGNATURE}{text}"
    masked = mask_phone(phone_e164)
    gateway = get_gateway()
    gateway_name = (getattr(gateway, "name", "") or type(gateway).__name__)[:40]
    provider_id = ""
    error = ""
    try:
        provider_id = str(gateway.send(phone_e164, full_text, kind=kind) or "")[:100]
    except SmsError as e:
        error = _scrub(str(e) or type(e).__name__, full_text)
    except Exception as e:  # a provider SDK's own exception: still a failed message
        error = _scrub(f"{type(e).__name__}: {e}", full_text)
    message = SmsMessage.objects.create(
        community_id=community_id,
        to_masked=masked,
        kind=kind[:20],
        gateway=gateway_name,
        ok=not error,
        error=error,
        provider_id=provider_id,
    )
    if error:
        logger.warning(
            "sms failed to=%s kind=%s gateway=%s error=%s", masked, kind, gateway_name, error
        )
        raise SmsFailed(
            "sms_failed",
            _(
                "The text message could not be sent: the SMS service did not take it. Try again "
                "in a few minutes, or call the committee."
            ),
        )
    logger.info("sms sent to=%s kind=%s gateway=%s", masked, kind, gateway_name)
    return message
