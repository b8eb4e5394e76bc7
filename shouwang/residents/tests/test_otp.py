"""SMS sign-in codes: sending, checking, expiry, single use, no enumeration, and the limits on
sending and guessing (each test here fails if its limit is taken away)."""

from __future__ import annotations

import re
import threading
import time
from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone

from shouwang.core import crypto
from shouwang.core import testing as t
from shouwang.core.errors import DomainError
from shouwang.registry.models import Resident
from shouwang.residents import otp
from shouwang.residents.models import Consent, OtpCode, OtpFailure, SmsMessage
from shouwang.residents.otp import OtpTooMany, otp_prune, otp_request, otp_verify
from shouwang.residents.sms import MemoryGateway, SmsError, SmsGateway

R1 = "+8613912345678"
ADDR = "10.0.0.1"


class BrokenGateway(SmsGateway):
    name = "broken"

    def send(self, phone_e164, text, *, kind):
        raise SmsError("provider down")


@pytest.fixture(autouse=True)
def outbox(settings):
    settings.SMS_GATEWAY = "shouwang.residents.sms.MemoryGateway"
    MemoryGateway.outbox.clear()
    yield MemoryGateway.outbox
    MemoryGateway.outbox.clear()


@pytest.fixture
def checks(monkeypatch):
    """How many times a typed code was actually compared with a stored one."""
    calls = []
    real = otp._matches

    def counting(stored, given):
        calls.append(1)
        return real(stored, given)

    monkeypatch.setattr(otp, "_matches", counting)
    return calls


def _index(e164: str) -> str:
    return crypto.blind_index("phone", e164)


def _last_code(outbox) -> str:
    return re.search(r"\b(\d{6})\b", outbox[-1][1]).group(1)


def _wrong(code: str, i: int = 0) -> str:
    guess = f"{i % 1_000_000:06d}"
    return guess if guess != code else f"{(i + 1) % 1_000_000:06d}"


def _age(seconds: int) -> None:
    """Move every code and failure `seconds` into the past (the clock moving forward)."""
    delta = timedelta(seconds=seconds)
    OtpCode.objects.update(created_at=F("created_at") - delta, expires_at=F("expires_at") - delta)
    OtpFailure.objects.update(at=F("at") - delta)


def _error(fn, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as exc:
        fn(**kwargs)
    return exc.value


def _phone(n: int) -> str:
    return f"+86139{n:08d}"


# --- sending and checking ------------------------------------------------------------------------


def test_known_phone_gets_a_code_that_signs_in(ledger, outbox, settings):
    assert otp_request(phone_raw="139 1234 5678", address=ADDR) is None
    assert len(outbox) == 1
    phone, text, kind = outbox[0]
    assert (phone, kind) == (R1, "otp")
    assert text.startswith(settings.SMS_SIGNATURE)
    assert "expires in 5 minutes" in text and "not even committee staff" in text
    code = _last_code(outbox)
    row = OtpCode.objects.get()
    assert row.sent and row.phone_index == _index(R1) and row.address == ADDR
    assert row.code_hash == crypto.mac("otp", f"{_index(R1)}:{code}").hex()
    assert code not in row.code_hash
    assert abs((row.expires_at - row.created_at).total_seconds() - 300) < 2
    assert otp_verify(phone_raw="13912345678", code=code, address=ADDR) == _index(R1)
    assert OtpCode.objects.get().used_at is not None
    assert SmsMessage.objects.get().to_masked == "139****5678"


def test_a_code_works_once(ledger, outbox):
    otp_request(phone_raw=R1, address=ADDR)
    code = _last_code(outbox)
    otp_verify(phone_raw=R1, code=code, address=ADDR)
    again = _error(otp_verify, phone_raw=R1, code=code, address=ADDR)
    assert again.code == "otp_expired"
    assert "new code" in str(again.message)


def test_an_expired_code_is_refused(ledger, outbox, settings):
    otp_request(phone_raw=R1, address=ADDR)
    code = _last_code(outbox)
    _age(settings.OTP_TTL_SECONDS + 1)
    e = _error(otp_verify, phone_raw=R1, code=code, address=ADDR)
    assert e.code == "otp_expired"
    assert e.status == 400
    assert "Ask for a new code" in str(e.message)


def test_a_new_code_replaces_the_old_one(ledger, outbox, settings):
    otp_request(phone_raw=R1, address=ADDR)
    old = _last_code(outbox)
    _age(settings.OTP_RESEND_SECONDS + 1)
    otp_request(phone_raw=R1, address=ADDR)
    new = _last_code(outbox)
    if old != new:
        assert _error(otp_verify, phone_raw=R1, code=old, address=ADDR).code == "otp_wrong"
    assert otp_verify(phone_raw=R1, code=new, address=ADDR) == _index(R1)


def test_codes_are_random(ledger, outbox, settings):
    settings.OTP_RESEND_SECONDS = 0
    settings.OTP_SENDS_PER_PHONE_HOUR = 100
    settings.OTP_SENDS_PER_ADDRESS_HOUR = 100
    for _ in range(20):
        otp_request(phone_raw=R1, address=ADDR)
    codes = {re.search(r"\d{6}", text).group() for _, text, _ in outbox}
    assert len(codes) >= 15


def test_typed_codes_are_tolerated(ledger, outbox):
    otp_request(phone_raw=R1, address=ADDR)
    code = _last_code(outbox)
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    typed = f" {full_width[:3]} {full_width[3:]}\u3000"
    assert otp_verify(phone_raw="１３９１２３４５６７８", code=typed, address=ADDR) == _index(R1)


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "12e456", "１２３"])
def test_input_that_cannot_be_a_code_is_not_checked(ledger, outbox, checks, typed):
    otp_request(phone_raw=R1, address=ADDR)
    e = _error(otp_verify, phone_raw=R1, code=typed, address=ADDR)
    assert e.code == "otp_format"
    assert "6 digits" in str(e.fields["code"])
    assert checks == [] and OtpFailure.objects.count() == 0


def test_a_wrong_code_is_counted(ledger, outbox, settings):
    otp_request(phone_raw=R1, address=ADDR)
    code = _last_code(outbox)
    e = _error(otp_verify, phone_raw=R1, code=_wrong(code), address=ADDR)
    assert (e.code, e.status) == ("otp_wrong", 400)
    assert "not right" in str(e.message) and "4 more tries" in str(e.message)
    assert OtpCode.objects.get().attempts == 1
    failure = OtpFailure.objects.get()
    assert (failure.phone_index, failure.address) == (_index(R1), ADDR)


def test_a_code_dies_after_its_attempts(ledger, outbox, settings, checks):
    otp_request(phone_raw=R1, address=ADDR)
    code = _last_code(outbox)
    for i in range(settings.OTP_ATTEMPTS_PER_CODE):
        _error(otp_verify, phone_raw=R1, code=_wrong(code, i), address=ADDR)
    e = _error(otp_verify, phone_raw=R1, code=code, address=ADDR)
    assert e.code == "otp_dead"
    assert "new code" in str(e.message)
    assert len(checks) == settings.OTP_ATTEMPTS_PER_CODE


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ("12345", "not a Chinese mobile number"),
        ("23912345678", "11 digits of your mobile phone"),
        ("+44 20 7946 0958", "not a Chinese mobile number"),
        ("", "Type your mobile phone number"),
    ],
)
def test_an_invalid_phone_is_refused_with_a_message(db, outbox, raw, needle):
    e = _error(otp_request, phone_raw=raw, address=ADDR)
    assert e.code == "invalid" and e.status == 400
    assert needle in str(e.fields["phone"])
    assert outbox == [] and OtpCode.objects.count() == 0
    assert _error(otp_verify, phone_raw=raw, code="123456", address=ADDR).code == "invalid"


# --- no enumeration --------------------------------------------------------------------------


def test_an_unknown_number_gets_the_same_answers_and_no_sms(ledger, outbox):
    unknown = "+8613800009999"
    assert otp_request(phone_raw=unknown, address=ADDR) is None
    assert outbox == []
    row = OtpCode.objects.get()
    assert row.sent is False and row.code_hash == ""
    assert not SmsMessage.objects.exists()
    # Guessing gets the same answers as for a known number whose code was mistyped.
    otp_request(phone_raw=R1, address="10.0.0.2")
    code = _last_code(outbox)
    for i in range(7):
        known = _error(otp_verify, phone_raw=R1, code=_wrong(code, i), address="10.0.0.2")
        other = _error(otp_verify, phone_raw=unknown, code=_wrong(code, i), address=ADDR)
        assert (known.code, str(known.message), known.status) == (
            other.code,
            str(other.message),
            other.status,
        )
    # And the same limits.
    assert _error(otp_request, phone_raw=unknown, address=ADDR).code == "otp_too_many"


def test_a_moved_out_resident_is_unknown(ledger, outbox):
    Resident.objects.filter(pk=ledger["r2"].pk).update(presence="moved_out")
    otp_request(phone_raw="+8618600001111", address=ADDR)
    assert outbox == []


def test_a_consent_proxy_phone_gets_a_code(ledger, outbox):
    daughter = "+8613300001234"  # not in the ledger
    consent = Consent.objects.create(
        community=ledger["h1"].community,
        household=ledger["h1"],
        proxy_name="王女儿",
        proxy_phone_index=_index(daughter),
        proxy_phone_masked="133****1234",
        relation="family",
        granted_on=date(2022, 4, 1),
    )
    otp_request(phone_raw=daughter, address=ADDR)
    assert [(p, k) for p, _, k in outbox] == [(daughter, "otp")]
    assert SmsMessage.objects.get().community_id == ledger["h1"].community_id
    assert otp_verify(phone_raw=daughter, code=_last_code(outbox), address=ADDR) == _index(daughter)
    # Once the household withdraws its consent, the number is unknown again.
    Consent.objects.filter(pk=consent.pk).update(revoked_at=timezone.now())
    outbox.clear()
    _age(3600)
    otp_request(phone_raw=daughter, address=ADDR)
    assert outbox == []


def test_a_gateway_failure_is_recorded_but_not_revealed(ledger, outbox, settings):
    settings.SMS_GATEWAY = "shouwang.residents.tests.test_otp.BrokenGateway"
    assert otp_request(phone_raw=R1, address=ADDR) is None
    message = SmsMessage.objects.get()
    assert message.ok is False and message.error == "provider down"
    # The code that never arrived cannot be used.
    assert OtpCode.objects.get().used_at is not None


# --- sending limits ----------------------------------------------------------------------------


def _send_many(phones, addresses, n=100):
    refused = []
    for i in range(n):
        try:
            otp_request(phone_raw=phones[i % len(phones)], address=addresses[i % len(addresses)])
        except OtpTooMany as e:
            assert e.status == 429 and e.code == "otp_too_many"
            refused.append(str(e.message))
    return refused


@pytest.mark.parametrize("spread", [False, True], ids=["one address", "many addresses"])
def test_a_hundred_sends_for_one_phone(ledger, outbox, settings, spread):
    addresses = [f"10.1.{i}.1" for i in range(100)] if spread else [ADDR]
    refused = _send_many([R1], addresses)
    assert len(outbox) == 1  # one per OTP_RESEND_SECONDS
    assert len(refused) == 99
    assert "ask again in 1 minute" in refused[0] or "seconds" in refused[0]
    # Even with no pause between codes, the hourly cap holds.
    settings.OTP_RESEND_SECONDS = 0
    refused = _send_many([R1], addresses)
    assert len(outbox) == settings.OTP_SENDS_PER_PHONE_HOUR
    assert "in the last hour" in refused[-1] and "60 minutes" in refused[-1]
    assert OtpCode.objects.count() == settings.OTP_SENDS_PER_PHONE_HOUR
    # After the hour, codes go out again.
    _age(3601)
    otp_request(phone_raw=R1, address=ADDR)
    assert len(outbox) == settings.OTP_SENDS_PER_PHONE_HOUR + 1


def test_a_hundred_sends_from_one_address_over_many_phones(ledger, outbox, settings):
    household = ledger["h3"]
    phones = [_phone(50_000_000 + i) for i in range(100)]
    for phone in phones:
        t.make_resident(household, name="住户", phone=phone, relation="other")
    refused = _send_many(phones, [ADDR])
    assert len(outbox) == settings.OTP_SENDS_PER_ADDRESS_HOUR
    assert len({p for p, _, _ in outbox}) == settings.OTP_SENDS_PER_ADDRESS_HOUR
    assert len(refused) == 100 - settings.OTP_SENDS_PER_ADDRESS_HOUR
    assert "from this network" in refused[-1]
    # Another address is not affected.
    otp_request(phone_raw=phones[-1], address="10.9.9.9")
    assert len(outbox) == settings.OTP_SENDS_PER_ADDRESS_HOUR + 1


def test_unknown_numbers_count_against_the_address_limit(ledger, outbox, settings):
    refused = _send_many([_phone(i) for i in range(100)], [ADDR])
    assert len(refused) == 100 - settings.OTP_SENDS_PER_ADDRESS_HOUR
    assert _error(otp_request, phone_raw=R1, address=ADDR).code == "otp_too_many"
    assert outbox == []


def test_ipv6_counts_by_its_64_network(ledger, outbox, settings):
    addresses = [f"2001:db8:1:2::{i:x}" for i in range(100)]
    refused = _send_many([_phone(i) for i in range(100)], addresses)
    assert len(refused) == 100 - settings.OTP_SENDS_PER_ADDRESS_HOUR
    assert set(OtpCode.objects.values_list("address", flat=True)) == {"2001:db8:1:2::"}


# --- guessing limits ----------------------------------------------------------------------------


@pytest.mark.parametrize("spread", [False, True], ids=["one address", "many addresses"])
def test_a_thousand_wrong_codes_on_one_code(ledger, outbox, settings, checks, spread):
    otp_request(phone_raw=R1, address=ADDR)
    code = _last_code(outbox)
    answers = set()
    for i in range(1000):
        address = f"10.{i // 250}.{i % 250}.9" if spread else ADDR
        answers.add(_error(otp_verify, phone_raw=R1, code=_wrong(code, i), address=address).code)
    assert len(checks) == settings.OTP_ATTEMPTS_PER_CODE
    assert OtpFailure.objects.count() == settings.OTP_ATTEMPTS_PER_CODE
    assert answers == {"otp_wrong", "otp_dead"}
    assert _error(otp_verify, phone_raw=R1, code=code, address=ADDR).code == "otp_dead"


@pytest.mark.parametrize("spread", [False, True], ids=["one address", "many addresses"])
def test_a_thousand_wrong_codes_for_one_phone(ledger, outbox, settings, checks, spread):
    # Many tries per code, so that the hourly cap per phone is what stops the guesser.
    settings.OTP_ATTEMPTS_PER_CODE = 10_000
    otp_request(phone_raw=R1, address=ADDR)
    code = _last_code(outbox)
    locked = []
    for i in range(1000):
        address = f"10.{i // 250}.{i % 250}.9" if spread else ADDR
        e = _error(otp_verify, phone_raw=R1, code=_wrong(code, i), address=address)
        if e.code == "otp_locked":
            assert e.status == 429
            locked.append(str(e.message))
    assert len(checks) == settings.OTP_FAILURES_PER_PHONE_HOUR
    assert OtpFailure.objects.count() == settings.OTP_FAILURES_PER_PHONE_HOUR
    assert len(locked) == 1000 - settings.OTP_FAILURES_PER_PHONE_HOUR
    assert "Wait 60 minutes" in locked[0]
    # Locked: even the right code is refused, from any address, without being compared.
    for address in (ADDR, "192.0.2.77"):
        e = _error(otp_verify, phone_raw=R1, code=code, address=address)
        assert (e.code, e.status) == ("otp_locked", 429)
    assert len(checks) == settings.OTP_FAILURES_PER_PHONE_HOUR
    # Half an hour later, still locked.
    OtpFailure.objects.update(at=F("at") - timedelta(minutes=30))
    e = _error(otp_verify, phone_raw=R1, code=code, address=ADDR)
    assert e.code == "otp_locked" and "30 minutes" in str(e.message)
    # When the hour has passed, the right code works again.
    OtpFailure.objects.update(at=F("at") - timedelta(minutes=31))
    assert otp_verify(phone_raw=R1, code=code, address=ADDR) == _index(R1)


def test_a_thousand_wrong_codes_from_one_address_over_many_phones(ledger, outbox, settings, checks):
    settings.OTP_ATTEMPTS_PER_CODE = 10_000
    settings.OTP_FAILURES_PER_PHONE_HOUR = 10_000
    phones = [_phone(i) for i in range(50)]  # not in the ledger: the answers are the same
    for n, phone in enumerate(phones):
        otp_request(phone_raw=phone, address=f"10.2.{n}.1")
    otp_request(phone_raw=R1, address="10.3.0.1")
    code = _last_code(outbox)
    attacker = "203.0.113.7"
    for i in range(1000):
        e = _error(otp_verify, phone_raw=phones[i % 50], code=_wrong(code, i), address=attacker)
        assert e.code in ("otp_wrong", "otp_locked")
    assert len(checks) == settings.OTP_FAILURES_PER_ADDRESS_HOUR
    assert OtpFailure.objects.count() == settings.OTP_FAILURES_PER_ADDRESS_HOUR
    # A resident behind that address is refused too, until the hour has passed.
    e = _error(otp_verify, phone_raw=R1, code=code, address=attacker)
    assert (e.code, e.status) == ("otp_locked", 429)
    assert "from this network" in str(e.message)
    OtpFailure.objects.update(at=F("at") - timedelta(seconds=3601))
    assert otp_verify(phone_raw=R1, code=code, address=attacker) == _index(R1)


# --- housekeeping ------------------------------------------------------------------------------


def test_prune_removes_rows_older_than_a_day(ledger, outbox, monkeypatch):
    monkeypatch.setattr(otp, "_last_prune", time.monotonic())  # no automatic pruning here
    otp_request(phone_raw=R1, address=ADDR)
    _error(otp_verify, phone_raw=R1, code=_wrong(_last_code(outbox)), address=ADDR)
    _age(25 * 3600)
    otp_request(phone_raw=R1, address=ADDR)
    _error(otp_verify, phone_raw=R1, code=_wrong(_last_code(outbox)), address=ADDR)
    assert otp_prune() == 2
    assert OtpCode.objects.count() == 1 and OtpFailure.objects.count() == 1


def test_prune_runs_by_itself_now_and_then(ledger, outbox, monkeypatch):
    monkeypatch.setattr(otp, "_last_prune", 0.0)
    otp_request(phone_raw=R1, address=ADDR)
    _age(25 * 3600)
    monkeypatch.setattr(otp, "_last_prune", 0.0)
    otp_request(phone_raw=R1, address=ADDR)
    assert OtpCode.objects.count() == 1


# --- concurrency (PostgreSQL: real concurrent transactions) ------------------------------------


def _in_threads(n, fn):
    barrier = threading.Barrier(n)
    errors = []

    def run(i):
        try:
            barrier.wait()
            fn(i)
        except DomainError:
            pass
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert not errors, errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_sends_and_guesses_respect_the_limits(ledger, outbox, settings):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time anyway")
    _in_threads(20, lambda i: otp_request(phone_raw=R1, address=f"10.4.{i}.1"))
    assert len(outbox) == 1
    assert OtpCode.objects.count() == 1
    code = _last_code(outbox)
    settings.OTP_ATTEMPTS_PER_CODE = 10_000
    _in_threads(
        40,
        lambda i: otp_verify(phone_raw=R1, code=_wrong(code, i), address=f"10.5.{i}.1"),
    )
    assert OtpFailure.objects.count() == settings.OTP_FAILURES_PER_PHONE_HOUR
    assert OtpCode.objects.get().attempts == settings.OTP_FAILURES_PER_PHONE_HOUR
