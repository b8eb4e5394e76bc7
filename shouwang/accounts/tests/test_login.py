"""Signing in: guessing protection, session lifetime, redirects, signing out."""

from __future__ import annotations

import time
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth import authenticate as django_authenticate
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db.models import F
from django.test import Client

from shouwang.accounts.models import LoginFailure
from shouwang.core.testing import PASSWORD

LOGIN = "/accounts/login/"
WRONG = "not-the-password"


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _login(client, password, addr, username="staff", **extra):
    return client.post(
        LOGIN, {"username": username, "password": password, **extra}, REMOTE_ADDR=addr
    )


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _age_failures(seconds: int) -> None:
    LoginFailure.objects.update(at=F("at") - timedelta(seconds=seconds))


# --- the page --------------------------------------------------------------------------------


def test_login_page_renders_a_form(client, db):
    resp = client.get(LOGIN, {"next": "/grids/"})
    assert resp.status_code == 200
    html = resp.content.decode()
    for needle in ('name="username"', 'name="password"', "csrfmiddlewaretoken"):
        assert needle in html
    assert 'name="next" value="/grids/"' in html


def test_right_password_signs_in(client, personas):
    resp = _login(client, PASSWORD, "10.0.0.1")
    assert resp.status_code == 302
    assert resp["Location"] == "/"
    assert _signed_in(client)
    assert "_sw_started" in client.session


def test_wrong_password_is_refused_and_counted(client, personas):
    resp = _login(client, WRONG, "10.0.0.1")
    assert resp.status_code == 400
    assert not _signed_in(client)
    assert LoginFailure.objects.filter(username="staff", address="10.0.0.1").count() == 1


# --- guessing protection ---------------------------------------------------------------------


def test_four_failures_do_not_lock(client, personas):
    for _ in range(settings.LOGIN_LOCK_FAILURES - 1):
        assert _login(client, WRONG, "10.0.0.1").status_code == 400
    assert _login(client, PASSWORD, "10.0.0.1").status_code == 302
    assert not LoginFailure.objects.filter(address="10.0.0.1").exists(), "a success clears"


def test_five_failures_lock_the_account_from_that_address_only(personas):
    desk, other_desk = Client(), Client()
    for _ in range(5):
        assert _login(desk, WRONG, "10.0.0.1").status_code == 400
    # The sixth attempt, even with the right password, is refused.
    resp = _login(desk, PASSWORD, "10.0.0.1")
    assert resp.status_code == 429
    assert not _signed_in(desk)
    # The same account from another desk still signs in ...
    assert _login(other_desk, PASSWORD, "10.0.0.2").status_code == 302
    assert _signed_in(other_desk)
    # ... which does not unlock the first desk.
    assert _login(desk, PASSWORD, "10.0.0.1").status_code == 429
    # Another account from the first desk is not locked.
    assert _login(desk, PASSWORD, "10.0.0.1", username="admin").status_code == 302


def test_lock_cannot_be_dodged_by_changing_the_case_of_the_name(client, personas):
    for name in ("STAFF", "Staff", " staff", "staff ", "sTaff"):
        _login(client, WRONG, "10.0.0.1", username=name)
    assert _login(client, PASSWORD, "10.0.0.1").status_code == 429


def test_lock_ends_after_the_lock_period(client, personas):
    for _ in range(5):
        _login(client, WRONG, "10.0.0.1")
    _age_failures(settings.LOGIN_LOCK_SECONDS - 30)
    assert _login(client, PASSWORD, "10.0.0.1").status_code == 429
    _age_failures(60)
    assert _login(client, PASSWORD, "10.0.0.1").status_code == 302


def test_twenty_failures_in_an_hour_cap_the_account_from_every_address(personas):
    cap = settings.LOGIN_ACCOUNT_HOURLY_CAP
    per_address = settings.LOGIN_LOCK_FAILURES - 1  # stay under the per-address lock
    sent = 0
    addr = 0
    while sent < cap - 1:
        addr += 1
        for _ in range(min(per_address, cap - 1 - sent)):
            assert _login(Client(), WRONG, f"10.1.0.{addr}").status_code == 400
            sent += 1
    # One short of the cap: a fresh address still signs in.
    assert _login(Client(), PASSWORD, "10.2.0.1").status_code == 302
    assert _login(Client(), WRONG, "10.2.0.2").status_code == 400
    # Now at the cap: refused from anywhere, with the right password.
    fresh = Client()
    assert _login(fresh, PASSWORD, "10.2.0.3").status_code == 429
    assert not _signed_in(fresh)
    # An hour later the cap is lifted.
    _age_failures(3600 + 5)
    assert _login(fresh, PASSWORD, "10.2.0.3").status_code == 302


@pytest.fixture
def hashing():
    """Counts every password hash computed (ModelBackend hashes even for unknown users)."""
    with (
        mock.patch.object(
            MD5PasswordHasher, "verify", autospec=True, side_effect=MD5PasswordHasher.verify
        ) as verify,
        mock.patch.object(
            MD5PasswordHasher, "encode", autospec=True, side_effect=MD5PasswordHasher.encode
        ) as encode,
        mock.patch(
            "shouwang.accounts.services.authenticate",
            side_effect=django_authenticate,
        ) as authenticate,
    ):

        def calls():
            return verify.call_count + encode.call_count + authenticate.call_count

        yield calls


def test_lock_is_checked_before_the_password_is_hashed(client, personas, hashing):
    assert _login(client, WRONG, "10.0.0.1").status_code == 400
    assert hashing() > 0, "the patch must see an ordinary attempt, or this test proves nothing"
    for _ in range(4):
        _login(client, WRONG, "10.0.0.1")
    before = hashing()
    assert _login(client, PASSWORD, "10.0.0.1").status_code == 429
    assert _login(client, WRONG, "10.0.0.1").status_code == 429
    assert hashing() == before, "a locked attempt computed a password hash"


def test_cap_is_checked_before_the_password_is_hashed(client, personas, hashing):
    LoginFailure.objects.bulk_create(
        LoginFailure(username="staff", address=f"10.3.0.{i}")
        for i in range(settings.LOGIN_ACCOUNT_HOURLY_CAP)
    )
    assert _login(client, PASSWORD, "10.4.0.1").status_code == 429
    assert hashing() == 0


# --- session lifetime ------------------------------------------------------------------------


def _session_set(client, **values):
    session = client.session
    session.update(values)
    session.save()


@pytest.fixture
def staff_client(client, personas):
    client.force_login(personas["staff"])
    assert client.get("/overview/").status_code == 200
    return client


def test_session_ends_after_30_minutes_idle(staff_client):
    now = int(time.time())
    _session_set(staff_client, _sw_seen=now - settings.SESSION_IDLE_SECONDS + 60)
    assert staff_client.get("/overview/").status_code == 200
    _session_set(staff_client, _sw_seen=now - settings.SESSION_IDLE_SECONDS - 5)
    resp = staff_client.get("/overview/")
    assert resp.status_code == 302
    assert resp["Location"].startswith(LOGIN)
    assert not _signed_in(staff_client)
    assert staff_client.get("/api/v1/accounts/me").status_code == 401


def test_session_ends_after_12_hours_even_when_active(staff_client):
    now = int(time.time())
    _session_set(staff_client, _sw_started=now - settings.SESSION_ABSOLUTE_SECONDS + 60)
    assert staff_client.get("/overview/").status_code == 200
    _session_set(
        staff_client, _sw_started=now - settings.SESSION_ABSOLUTE_SECONDS - 5, _sw_seen=now
    )
    assert staff_client.get("/overview/").status_code == 302
    assert not _signed_in(staff_client)


def test_activity_keeps_a_session_alive_until_the_absolute_limit(client, personas):
    """With the middleware's clock: a page every 20 minutes, from sign-in to past 12 hours."""
    t0 = 1_900_000_000
    clock = mock.Mock()
    with mock.patch("shouwang.accounts.middleware.time", clock):
        clock.time.return_value = t0
        client.force_login(personas["staff"])
        assert client.get("/overview/").status_code == 200
        step = 20 * 60
        assert step < settings.SESSION_IDLE_SECONDS
        elapsed = step
        while elapsed <= settings.SESSION_ABSOLUTE_SECONDS:
            clock.time.return_value = t0 + elapsed
            assert client.get("/overview/").status_code == 200, f"signed out at {elapsed}s"
            elapsed += step
        clock.time.return_value = t0 + elapsed
        assert client.get("/overview/").status_code == 302


def test_expired_session_says_why_on_the_login_page(staff_client):
    _session_set(staff_client, _sw_seen=int(time.time()) - settings.SESSION_IDLE_SECONDS - 5)
    resp = staff_client.get("/overview/", follow=True)
    assert resp.redirect_chain and resp.redirect_chain[-1][0].startswith(LOGIN)
    assert 'class="flash warning"' in resp.content.decode()


# --- redirects and signing out ---------------------------------------------------------------


@pytest.mark.parametrize(
    "evil",
    [
        "https://evil.example",
        "https://evil.example/registry",
        "//evil.example/",
        "http:evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://testserver@evil.example/",
    ],
)
def test_next_to_another_site_is_ignored(client, personas, evil):
    resp = _login(client, PASSWORD, "10.0.0.1", next=evil)
    assert resp.status_code == 302
    assert resp["Location"] == "/"
    assert _signed_in(client)


def test_next_on_this_site_is_followed(client, personas):
    resp = _login(client, PASSWORD, "10.0.0.1", next="/grids/")
    assert resp["Location"] == "/grids/"


def test_next_from_the_query_string_is_checked_too(client, personas):
    resp = client.post(
        LOGIN + "?next=https://evil.example/",
        {"username": "staff", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
    )
    assert resp["Location"] == "/"


def test_logout_is_post_only(staff_client):
    assert staff_client.get("/accounts/logout/").status_code == 405
    assert _signed_in(staff_client)
    assert staff_client.get("/overview/").status_code == 200
    resp = staff_client.post("/accounts/logout/")
    assert resp.status_code == 302
    assert resp["Location"] == LOGIN
    assert not _signed_in(staff_client)
    assert staff_client.get("/overview/").status_code == 302
