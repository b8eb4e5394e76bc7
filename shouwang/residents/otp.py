"""SMS one-time codes: a resident (or someone a household gave consent to) signs in with a phone.

Neither the phone number nor the code is stored. An `OtpCode` row holds the phone's blind index
and a keyed hash of the code; it is also the record of sends that the rate limits count. An
`OtpFailure` row is one wrong code, for the guessing limits.

The answer never tells who is in the ledger: a number that is not known gets a row (sent=False)
that counts against the same limits, no SMS, and exactly the same answers to `otp_request` and
`otp_verify` as a known number whose code was mistyped.

The limits (settings, see docs/sms.md):

- sending: one code per phone every OTP_RESEND_SECONDS, OTP_SENDS_PER_PHONE_HOUR per phone and
  OTP_SENDS_PER_ADDRESS_HOUR per address per hour, checked before anything is sent;
- guessing: OTP_ATTEMPTS_PER_CODE tries on one code, then OTP_FAILURES_PER_PHONE_HOUR wrong
  codes per phone and OTP_FAILURES_PER_ADDRESS_HOUR per address per hour, checked before a code
  is compared. With the defaults a guesser has at most 10 tries in 10^6 per phone per hour.

An IPv6 address counts as its /64 network: one household connection has billions of them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import secrets
import threading
import time
import unicodedata
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from shouwang.core import crypto
from shouwang.core.audit import audit
from shouwang.core.errors import DomainError
from shouwang.registry.models import Presence, Resident
from shouwang.registry.validation import InvalidValue, check_mobile
from shouwang.residents.models import Consent, OtpCode, OtpFailure
from shouwang.residents.sms import SmsFailed, sms_send

logger = logging.getLogger("shouwang.otp")

__all__ = ["OtpTooMany", "otp_phone", "otp_prune", "otp_request", "otp_verify"]

CODE_DIGITS = 6
_HOUR = timedelta(hours=1)
_KEEP = timedelta(days=1)
_PRUNE_EVERY_SECONDS = 600


class OtpTooMany(DomainError):
    """A sending or guessing limit: the message says how long to wait."""

    status = 429


# --- small helpers ------------------------------------------------------------------------------


def otp_phone(phone_raw) -> str:
    """The E.164 form of a typed mobile number, or DomainError "invalid" (field "phone")."""
    raw = phone_raw[:64] if isinstance(phone_raw, str) else phone_raw
    try:
        e164 = check_mobile(raw)
    except InvalidValue:
        # check_mobile's own messages are written for staff editing the ledger ("put landlines
        # in the note"); a resident needs to hear what to type.
        message = _(
            "This is not a Chinese mobile number. Type the 11 digits of your mobile phone, "
            "starting with 1, for example 139 1234 5678."
        )
        raise DomainError("invalid", message, fields={"phone": message}) from None
    if not e164:
        message = _("Type your mobile phone number.")
        raise DomainError("invalid", message, fields={"phone": message})
    return e164


def _address(address: str | None) -> str | None:
    """The address the limits count: an IPv4 address, or an IPv6 address's /64 network."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(str(address).strip())
    except ValueError:
        return None
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return str(ip)


def _clean_code(code) -> str | None:
    """The six ASCII digits of what was typed (spaces, dashes, full-width or other decimal
    digits tolerated), or None if it cannot be a code."""
    text = unicodedata.normalize("NFKC", str(code or "")[:64])
    digits = []
    for ch in text:
        if ch.isspace() or ch in "-‐‑–—·.":
            continue
        if not ch.isdecimal():
            return None
        digits.append(str(unicodedata.decimal(ch)))
    return "".join(digits) if len(digits) == CODE_DIGITS else None


def _hash(phone_index: str, code: str) -> str:
    return crypto.mac("otp", f"{phone_index}:{code}").hex()


def _matches(stored_hash: str, given_hash: str) -> bool:
    """The one place a code is compared (tests count the calls)."""
    return hmac.compare_digest(stored_hash.encode(), given_hash.encode())


def _lock_key(key: str) -> int:
    digest = hashlib.blake2b(f"shouwang-otp:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _serialise(*keys: str) -> None:
    """Make concurrent requests for the same phone or address take turns, so that a burst
    cannot slip past a limit between counting and writing. Call inside a transaction.

    PostgreSQL: transaction-level advisory locks, always taken in the same order. SQLite: the
    project opens every transaction with BEGIN IMMEDIATE, so writers already take turns."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in sorted({_lock_key(k) for k in keys}):
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _wait_words(seconds: float) -> str:
    seconds = max(1, math.ceil(seconds))
    if seconds < 60:
        return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}
    minutes = math.ceil(seconds / 60)
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}


def _free_at(times: list[datetime], limit: int, window: timedelta) -> datetime | None:
    """When the next slot frees up, given the event times inside the window (oldest first);
    None while there is room."""
    if len(times) < limit:
        return None
    if limit <= 0:
        return (times[-1] if times else timezone.now()) + window
    return times[len(times) - limit] + window


def _refuse_when_full(times, limit: int, now: datetime, code: str, message) -> None:
    """OtpTooMany with `message` (which has a %(wait)s) when `times` in the last hour hold
    `limit` events already."""
    free = _free_at(times, limit, _HOUR)
    if free is not None:
        raise OtpTooMany(code, str(message) % {"wait": _wait_words((free - now).total_seconds())})


def _known_community(phone_index: str) -> int | None:
    """The community of a resident with this phone (not moved out) or of an active consent to
    this phone; None for a number that is not known."""
    community_id = (
        Resident.objects.filter(phone_index=phone_index)
        .exclude(presence=Presence.MOVED_OUT)
        .values_list("community_id", flat=True)
        .first()
    )
    if community_id is None:
        community_id = (
            Consent.objects.filter(revoked_at__isnull=True, proxy_phone_index=phone_index)
            .values_list("community_id", flat=True)
            .first()
        )
    return community_id


def _sms_text(code: str) -> str:
    minutes = max(1, settings.OTP_TTL_SECONDS // 60)
    return ngettext(
        "Your Shouwang sign-in code is %(code)s. It expires in %(minutes)d minute. Do not tell "
        "anyone, not even committee staff.",
        "Your Shouwang sign-in code is %(code)s. It expires in %(minutes)d minutes. Do not tell "
        "anyone, not even committee staff.",
        minutes,
    ) % {"code": code, "minutes": minutes}


# --- housekeeping ---------------------------------------------------------------------------

_last_prune = 0.0
_prune_lock = threading.Lock()


def otp_prune() -> int:
    """Delete codes and failures older than a day (the limits look back one hour).
    Returns the number of rows deleted."""
    cutoff = timezone.now() - _KEEP
    codes = OtpCode.objects.filter(created_at__lt=cutoff).delete()[0]
    failures = OtpFailure.objects.filter(at__lt=cutoff).delete()[0]
    return codes + failures


def _maybe_prune() -> None:
    """`otp_prune` at most once every ten minutes per process, so it costs nothing per request."""
    global _last_prune
    now = time.monotonic()
    with _prune_lock:
        if _last_prune and now - _last_prune < _PRUNE_EVERY_SECONDS:
            return
        _last_prune = now
    try:
        otp_prune()
    except Exception:  # housekeeping must never break a sign-in
        logger.exception("otp prune failed")


# --- sending a code ---------------------------------------------------------------------------


def _check_send_limits(phone_index: str, address: str | None, now: datetime) -> None:
    resend = settings.OTP_RESEND_SECONDS
    if resend > 0:
        last = (
            OtpCode.objects.filter(
                phone_index=phone_index, created_at__gt=now - timedelta(seconds=resend)
            )
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        if last is not None:
            wait = (last + timedelta(seconds=resend) - now).total_seconds()
            raise OtpTooMany(
                "otp_too_many",
                gettext(
                    "A code was asked for this number a moment ago. If the number is in the "
                    "committee's ledger, it is on its way. You can ask again in %(wait)s."
                )
                % {"wait": _wait_words(wait)},
            )
    since = now - _HOUR
    limits = (
        (
            Q(phone_index=phone_index),
            settings.OTP_SENDS_PER_PHONE_HOUR,
            _(
                "Too many codes were asked for this number in the last hour. Try again in "
                "%(wait)s, or use the QR code on your household card."
            ),
        ),
        (
            Q(address=address),
            settings.OTP_SENDS_PER_ADDRESS_HOUR,
            _(
                "Too many codes were asked for from this network in the last hour. Try again "
                "in %(wait)s, or use the QR code on your household card."
            ),
        ),
    )
    for who, limit, message in limits:
        times = list(
            OtpCode.objects.filter(who, created_at__gte=since)
            .order_by("created_at")
            .values_list("created_at", flat=True)
        )
        _refuse_when_full(times, limit, now, "otp_too_many", message)


def otp_request(*, phone_raw: str, address: str | None) -> None:
    """Send a sign-in code to `phone_raw` if the number is known; answer the same either way.

    Raises DomainError "invalid" (fields={"phone": ...}) for a number that is not a Chinese
    mobile number, and OtpTooMany "otp_too_many" (429) when a sending limit is reached. A
    gateway failure is recorded (SmsMessage, log) but not reported: reporting it would tell
    which numbers are in the ledger, and the page already says what to do when no SMS comes.
    """
    e164 = otp_phone(phone_raw)
    phone_index = crypto.blind_index("phone", e164)
    address = _address(address)
    with transaction.atomic():
        _serialise(f"phone:{phone_index}", f"address:{address}")
        now = timezone.now()
        _check_send_limits(phone_index, address, now)
        community_id = _known_community(phone_index)
        known = community_id is not None
        # A new code replaces every earlier one.
        OtpCode.objects.filter(phone_index=phone_index, used_at__isnull=True).update(used_at=now)
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}" if known else ""
        row = OtpCode.objects.create(
            phone_index=phone_index,
            code_hash=_hash(phone_index, code) if known else "",
            address=address,
            expires_at=now + timedelta(seconds=settings.OTP_TTL_SECONDS),
            sent=known,
        )
    if known:
        try:
            sms_send(phone_e164=e164, text=_sms_text(code), kind="otp", community_id=community_id)
        except SmsFailed:
            # Already recorded and logged (masked) by sms_send. The code never arrived: retire it.
            OtpCode.objects.filter(pk=row.pk).update(used_at=timezone.now())
    _maybe_prune()


# --- checking a code ------------------------------------------------------------------------


def _guess_counts(phone_index: str, address: str | None, now: datetime):
    since = now - _HOUR
    by_phone = list(
        OtpFailure.objects.filter(phone_index=phone_index, at__gte=since)
        .order_by("at")
        .values_list("at", flat=True)
    )
    by_address = list(
        OtpFailure.objects.filter(address=address, at__gte=since)
        .order_by("at")
        .values_list("at", flat=True)
    )
    return by_phone, by_address


def _check_guess_limits(by_phone, by_address, now: datetime) -> None:
    _refuse_when_full(
        by_phone,
        settings.OTP_FAILURES_PER_PHONE_HOUR,
        now,
        "otp_locked",
        _(
            "Too many wrong codes were typed for this number. Wait %(wait)s, then ask for a "
            "new code. If you cannot wait, use the QR code on your household card or call "
            "the committee."
        ),
    )
    _refuse_when_full(
        by_address,
        settings.OTP_FAILURES_PER_ADDRESS_HOUR,
        now,
        "otp_locked",
        _("Too many wrong codes were typed from this network. Wait %(wait)s and try again."),
    )


def _expired() -> DomainError:
    return DomainError(
        "otp_expired",
        _("This code has expired or was already used. Ask for a new code."),
        fields={"code": _("Ask for a new code.")},
    )


def otp_verify(*, phone_raw: str, code: str, address: str | None) -> str:
    """Check a typed code; returns the phone's blind index when it is right.

    Raises (all DomainError): "invalid" for a bad phone number, "otp_format" when the input
    cannot be a code, "otp_locked" (429) when a guessing limit is reached, "otp_expired" when
    there is no live code (expired, used, replaced, or never sent), "otp_dead" after too many
    tries on the code, "otp_wrong" for a wrong code. A right code is used up at once.
    """
    e164 = otp_phone(phone_raw)
    phone_index = crypto.blind_index("phone", e164)
    address = _address(address)
    given = _clean_code(code)
    if given is None:
        message = _("Type the 6 digits from the text message.")
        raise DomainError("otp_format", message, fields={"code": message})
    given_hash = _hash(phone_index, given)
    with transaction.atomic():
        _serialise(f"phone:{phone_index}", f"address:{address}")
        now = timezone.now()
        by_phone, by_address = _guess_counts(phone_index, address, now)
        _check_guess_limits(by_phone, by_address, now)
        # Rows of numbers that are not known (sent=False) are taken too, and can never match:
        # a guesser sees the same answers for every number.
        row = (
            OtpCode.objects.select_for_update()
            .filter(phone_index=phone_index, used_at__isnull=True)
            .order_by("-created_at", "-pk")
            .first()
        )
        if row is None or row.expires_at <= now:
            failure = _expired()
        elif row.attempts >= settings.OTP_ATTEMPTS_PER_CODE:
            failure = DomainError(
                "otp_dead",
                _("This code was typed wrong too many times. Ask for a new code."),
                fields={"code": _("Ask for a new code.")},
            )
        elif _matches(row.code_hash, given_hash) and row.sent:
            OtpCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now)
            audit(
                actor=None,
                action="resident.signin_sms",
                community=_known_community(phone_index),
                target_type="otp",
                summary="SMS code",
            )
            return phone_index
        else:
            OtpFailure.objects.create(phone_index=phone_index, address=address)
            OtpCode.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
            phone_limit = settings.OTP_FAILURES_PER_PHONE_HOUR
            address_limit = settings.OTP_FAILURES_PER_ADDRESS_HOUR
            if len(by_phone) + 1 == phone_limit or len(by_address) + 1 == address_limit:
                audit(
                    actor=None,
                    action="otp.locked",
                    target_type="otp",
                    target_id=phone_index,
                    summary=(
                        "wrong-code limit reached for "
                        + ("this phone" if len(by_phone) + 1 == phone_limit else "this address")
                    ),
                    address=address,
                )
            left = min(
                settings.OTP_ATTEMPTS_PER_CODE - row.attempts - 1,
                phone_limit - len(by_phone) - 1,
                address_limit - len(by_address) - 1,
            )
            if left > 0:
                message = ngettext(
                    "That code is not right. Check the text message and type it again "
                    "(%(n)d more try).",
                    "That code is not right. Check the text message and type it again "
                    "(%(n)d more tries).",
                    left,
                ) % {"n": left}
            else:
                message = gettext("That code is not right. Ask for a new code and try later.")
            failure = DomainError("otp_wrong", message, fields={"code": message})
    # Outside the transaction, so that the failure and the spent attempt are kept.
    raise failure
