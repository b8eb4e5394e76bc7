"""The quick "take a number" path (queues/quick.py): which presses it answers, that it answers
them as Django's full stack does, and that it hands everything else to Django intact.

test_resident_take.py runs every household-page press through both paths; here: that the quick
path really answered (or really did not), headers, cookies, language, errors, and the real WSGI
entry point config/wsgi.py serves."""

from __future__ import annotations

import datetime as dt
import io
import logging
from urllib.parse import urlencode

import pytest
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import Client, RequestFactory
from django.test.utils import override_settings
from django.utils import timezone

from shouwang.queues import quick, services
from shouwang.queues.models import Registration, SaleDay, Ticket
from shouwang.queues.tests.conftest import FormClient, QuickClient, english
from shouwang.queues.tests.test_public_views import make_day
from shouwang.queues.tests.test_resident_take import page, sign_in, take_url
from shouwang.residents import services as resident_services


@pytest.fixture
def day(staff, point):
    return make_day(staff, point)


def cookie_messages(resp) -> list[str]:
    """The messages the answer sets in Django's message cookie."""
    morsel = resp.cookies.get(CookieStorage.cookie_name)
    if morsel is None:
        return []
    request = RequestFactory().get("/")
    request.COOKIES[CookieStorage.cookie_name] = morsel.value
    return [str(m) for m in CookieStorage(request)]


def answered_quickly(resp) -> bool:
    return getattr(resp, "quick", False)


# --- what it answers, and how -----------------------------------------------------------------


def test_an_own_press_is_answered_quickly_as_django_answers_it(quick_client, staff, ledger, day):
    client = english(FormClient())
    sign_in(quick_client, staff, ledger["h1"])
    sign_in(client, staff, ledger["h2"])
    fast = quick_client.post(take_url(ledger["h1"], day), {"notify": "page"})
    slow = client.post(take_url(ledger["h2"], day), {"notify": "page"})
    assert answered_quickly(fast) and not answered_quickly(slow)
    t1 = Ticket.objects.get(household=ledger["h1"])
    t2 = Ticket.objects.get(household=ledger["h2"])
    assert (t1.number, t2.number) == (1, 2)
    assert fast.status_code == slow.status_code == 302
    assert fast["Location"] == f"/q/t/{t1.follow_key}/"
    assert slow["Location"] == f"/q/t/{t2.follow_key}/"
    assert cookie_messages(fast) == [
        "Your number is 1. Stay at home: this page tells you when to come."
    ]
    assert cookie_messages(slow) == [
        "Your number is 2. Stay at home: this page tells you when to come."
    ]
    for header in (
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Cross-Origin-Opener-Policy",
        "Content-Language",
    ):
        assert fast.get(header) == slow.get(header), header
    assert {v.strip() for v in fast["Vary"].split(",")} >= {"Accept-Language", "Cookie"}
    # The same cookie attributes for the message.
    for attr in ("path", "samesite", "httponly", "secure"):
        assert (
            fast.cookies[CookieStorage.cookie_name][attr]
            == slow.cookies[CookieStorage.cookie_name][attr]
        )
    # The ticket page then shows the message (read from the cookie by Django) and clears it.
    shown = quick_client.get(fast["Location"])
    assert "Your number is 1." in shown.content.decode()


def test_the_answer_is_in_the_visitors_language(quick_client, staff, ledger, day):
    sign_in(quick_client, staff, ledger["h1"])
    resp = quick_client.post(
        take_url(ledger["h1"], day), {"notify": "page"}, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9"
    )
    assert answered_quickly(resp) and resp["Content-Language"] == "zh-hans"
    assert cookie_messages(resp)[0].startswith("您的号码是 1")


def test_refusals_are_answered_quickly_with_the_reason(quick_client, staff, ledger, point):
    full = make_day(staff, point, tickets_total=1)
    services.ticket_take(day=full, household=ledger["h2"])
    sign_in(quick_client, staff, ledger["h1"])
    resp = quick_client.post(take_url(ledger["h1"], full), {"notify": "page"})
    assert answered_quickly(resp)
    assert resp["Location"] == page(ledger["h1"]) + "#queue"
    assert cookie_messages(resp) == [
        "All 1 tickets for this day have been taken. Look out for the next sale."
    ]


def test_a_text_to_a_member_is_answered_quickly(quick_client, staff, ledger, day):
    sign_in(quick_client, staff, ledger["h1"])
    resp = quick_client.post(take_url(ledger["h1"], day), {"notify": f"sms:{ledger['r1'].pk}"})
    assert answered_quickly(resp)
    assert Ticket.objects.get(household=ledger["h1"]).sms_phone_masked == "139****5678"
    quick_client.get(resp["Location"])  # the browser follows: the message is shown, and gone
    bad = quick_client.post(take_url(ledger["h1"], day), {"notify": f"sms:{ledger['r2'].pk}"})
    assert answered_quickly(bad) and bad["Location"] == page(ledger["h1"]) + "#queue"
    assert cookie_messages(bad) == [
        "Choose a member of this household with a mobile phone for the text."
    ]


def test_registering_for_a_draw_is_answered_quickly(quick_client, staff, ledger, point):
    d = make_day(
        staff, point, mode=SaleDay.Mode.DRAW, draw_at=timezone.now() + dt.timedelta(hours=1)
    )
    sign_in(quick_client, staff, ledger["h1"])
    resp = quick_client.post(take_url(ledger["h1"], d), {"notify": "page"})
    r = Registration.objects.get(day=d, household=ledger["h1"])
    assert answered_quickly(resp) and resp["Location"] == f"/q/t/{r.follow_key}/"


def test_a_phone_session_is_answered_quickly(quick_client, staff, ledger, day):
    from shouwang.residents import access

    session = quick_client.session
    session[access.SESSION_KEY] = {
        "link": None,
        "hh": [ledger["h1"].pk],
        "phone": ledger["r1"].phone_index,
        "at": int(timezone.now().timestamp()),
    }
    session.save()
    quick_client.cookies["sessionid"] = session.session_key
    resp = quick_client.post(take_url(ledger["h1"], day), {"notify": "page"})
    assert answered_quickly(resp) and Ticket.objects.filter(household=ledger["h1"]).exists()


# --- what it leaves to Django ---------------------------------------------------------------


def test_no_session_is_left_to_django(quick_client, ledger, day):
    resp = quick_client.post(take_url(ledger["h1"], day), {"notify": "page"})
    assert not answered_quickly(resp) and resp.status_code == 404


def test_another_households_session_is_left_to_django(quick_client, staff, ledger, day):
    sign_in(quick_client, staff, ledger["h2"])
    resp = quick_client.post(take_url(ledger["h1"], day), {"notify": "page"})
    assert not answered_quickly(resp) and resp.status_code == 404


def test_a_revoked_link_is_left_to_django_which_ends_the_session(quick_client, staff, ledger, day):
    sign_in(quick_client, staff, ledger["h1"])
    resident_services.link_revoke(actor=staff, household=ledger["h1"])
    resp = quick_client.post(take_url(ledger["h1"], day), {"notify": "page"})
    assert not answered_quickly(resp) and resp.status_code == 404
    assert not Ticket.objects.exists()


def test_a_staff_session_is_left_to_django(quick_client, staff, ledger, day, personas):
    volunteer = personas["volunteer"]
    resident_services.consent_grant(
        actor=staff,
        household=ledger["h1"],
        relation="building_volunteer",
        granted_on=timezone.localdate(),
        proxy_user=volunteer,
    )
    quick_client.force_login(volunteer)
    resp = quick_client.post(take_url(ledger["h1"], day), {"notify": "knock"})
    assert not answered_quickly(resp) and resp.status_code == 302
    assert Ticket.objects.get(household=ledger["h1"]).taken_by == volunteer


def test_an_unknown_day_is_left_to_django(quick_client, staff, ledger, day):
    sign_in(quick_client, staff, ledger["h1"])
    resp = quick_client.post(f"/my/households/{ledger['h1'].pk}/queue/999999/take/", {})
    assert not answered_quickly(resp) and resp.status_code == 404


def test_pending_messages_are_left_to_django(quick_client, staff, ledger, day):
    sign_in(quick_client, staff, ledger["h1"])  # the link's welcome message is in the cookie
    quick_client.cookies[CookieStorage.cookie_name] = "x"
    resp = quick_client.post(take_url(ledger["h1"], day), {"notify": "page"})
    assert not answered_quickly(resp) and resp.status_code == 302
    assert Ticket.objects.filter(household=ledger["h1"]).exists()


def test_a_due_draw_is_left_to_django_which_runs_it(quick_client, staff, ledger, point):
    now = timezone.now()
    d = make_day(staff, point, mode=SaleDay.Mode.DRAW, draw_at=now + dt.timedelta(hours=1))
    services.ticket_take(day=d, household=ledger["h2"])
    SaleDay.objects.filter(pk=d.pk).update(draw_at=now - dt.timedelta(seconds=1))
    sign_in(quick_client, staff, ledger["h1"])
    resp = quick_client.post(take_url(ledger["h1"], d), {"notify": "page"})
    assert not answered_quickly(resp) and resp.status_code == 302
    d.refresh_from_db()
    assert d.drawn_at is not None
    assert Ticket.objects.get(day=d, household=ledger["h2"]).number == 1
    assert Ticket.objects.get(day=d, household=ledger["h1"]).number == 2


def test_a_csrf_failure_is_left_to_django_and_logged_once(staff, ledger, day, caplog):
    c = english(QuickClient(enforce_csrf_checks=True))
    sign_in(c, staff, ledger["h1"])
    with caplog.at_level(logging.WARNING, logger="django.security.csrf"):
        resp = c.post(take_url(ledger["h1"], day), {"notify": "page"})
    assert not answered_quickly(resp) and resp.status_code == 403
    assert len([r for r in caplog.records if "CSRF" in r.getMessage()]) == 1
    assert not Ticket.objects.exists()
    # With the token from the household page: answered quickly.
    c.get(page(ledger["h1"]))
    token = c.cookies["csrftoken"].value
    ok = c.post(take_url(ledger["h1"], day), {"notify": "page", "csrfmiddlewaretoken": token})
    assert answered_quickly(ok) and ok.status_code == 302


def test_a_foreign_origin_is_refused_by_djangos_check(staff, ledger, day):
    c = english(QuickClient(enforce_csrf_checks=True))
    sign_in(c, staff, ledger["h1"])
    c.get(page(ledger["h1"]))
    token = c.cookies["csrftoken"].value
    resp = c.post(
        take_url(ledger["h1"], day),
        {"notify": "page", "csrfmiddlewaretoken": token},
        HTTP_ORIGIN="https://evil.example",
    )
    assert not answered_quickly(resp) and resp.status_code == 403
    assert not Ticket.objects.exists()


def test_a_multipart_body_is_left_to_django_intact(quick_client, staff, ledger, day):
    sign_in(quick_client, staff, ledger["h1"])
    resp = quick_client.generic(
        "POST",
        take_url(ledger["h1"], day),
        b'--B\r\nContent-Disposition: form-data; name="notify"\r\n\r\nknock\r\n--B--\r\n',
        content_type="multipart/form-data; boundary=B",
    )
    assert not answered_quickly(resp) and resp.status_code == 302
    assert Ticket.objects.get(household=ledger["h1"]).notify == "knock"


def test_turned_off_every_press_goes_to_django(quick_client, staff, ledger, day):
    sign_in(quick_client, staff, ledger["h1"])
    with override_settings(QUICK_TAKE=False):
        resp = quick_client.post(take_url(ledger["h1"], day), {"notify": "page"})
    assert not answered_quickly(resp) and resp.status_code == 302
    assert Ticket.objects.filter(household=ledger["h1"]).exists()


def test_another_middleware_stack_turns_it_off(quick_client, staff, ledger, day, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "django.middleware.gzip.GZipMiddleware"]
    assert not quick.supported()


def test_an_error_is_a_500_page_as_django_gives(quick_client, staff, ledger, day, monkeypatch):
    sign_in(quick_client, staff, ledger["h1"])

    def broken(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "ticket_take", broken)
    quick_client.raise_request_exception = False
    resp = quick_client.post(take_url(ledger["h1"], day), {"notify": "page"})
    assert answered_quickly(resp) and resp.status_code == 500


# --- the WSGI application the server runs ---------------------------------------------------


def _wsgi(environ):
    from config.wsgi import application

    got = {}

    def start_response(status, headers):
        got["status"], got["headers"] = status, headers

    body = b"".join(application(environ, start_response))
    return got["status"], got["headers"], body


@pytest.mark.django_db(transaction=True)
def test_config_wsgi_answers_a_press_and_passes_the_rest(staff, ledger, day):
    c = english(Client())
    sign_in(c, staff, ledger["h1"])
    c.get(page(ledger["h1"]))
    token = c.cookies["csrftoken"].value
    form = urlencode({"notify": "page", "csrfmiddlewaretoken": token}).encode()
    environ = (
        RequestFactory()
        .post(take_url(ledger["h1"], day), form, content_type="application/x-www-form-urlencoded")
        .environ
    )
    environ["HTTP_COOKIE"] = f"sessionid={c.cookies['sessionid'].value}; csrftoken={token}"
    environ["HTTP_ACCEPT_LANGUAGE"] = "en"
    environ["wsgi.input"] = io.BytesIO(form)
    status, headers, _body = _wsgi(environ)
    t = Ticket.objects.get(household=ledger["h1"])
    assert status == "302 Found"
    assert ("Location", f"/q/t/{t.follow_key}/") in headers
    assert any(k == "Set-Cookie" and v.strip().startswith("messages=") for k, v in headers)
    # A press it does not answer (no session) reaches Django with its body: 404 from the view.
    environ2 = dict(environ, HTTP_COOKIE=f"csrftoken={token}", **{"wsgi.input": io.BytesIO(form)})
    status2, _h, _b = _wsgi(environ2)
    assert status2.startswith("404")
    # Any other page: Django.
    get = RequestFactory().get("/healthz").environ
    assert _wsgi(get)[0] == "200 OK"


def test_the_message_cookie_is_signed_once_per_text_and_secret_key():
    """The quick path signs the message cookie once per text (the refusal every press of a
    sold-out day gets) and key: the value is Django's own, and a new SECRET_KEY signs anew."""
    request = RequestFactory().post("/")

    def cookie(text):
        response = quick._redirect(request, 40, text, "/x/")
        return response.cookies[CookieStorage.cookie_name].value

    def djangos(text):
        store = CookieStorage(request)
        store.add(40, text)
        from django.http import HttpResponse

        response = HttpResponse()
        store.update(response)
        return response.cookies[CookieStorage.cookie_name].value

    text = "All tickets for today are gone."
    first = cookie(text)
    assert first == djangos(text) == cookie(text)
    with override_settings(SECRET_KEY="another secret key, for this test only, long enough"):
        other = cookie(text)
        assert other != first
        assert other == djangos(text)
        assert CookieStorage(request)._decode(other)[0].message == text
