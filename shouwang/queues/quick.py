"""The quick path for "take a number": a household's own press answered without the middleware.

When a sale opens, thousands of households press "take a number" within a second. Behind the
full middleware stack (sessions, CSRF, locale, authentication, resident access, messages …) and
the ORM, a press cost ten times a bare Django insert (benchmarks/queue_take.py). This WSGI
wrapper answers the common press — POST /my/households/<hh>/queue/<day>/take/ from the
household's own resident session — in a few raw queries, and hands every other request,
unchanged, to Django.

It re-implements no rule:

* CSRF: Django's own CsrfViewMiddleware (process_request + process_view), with its rejection
  turned into "not mine", so that Django's full path answers and logs the 403 once.
* The session: Django's own session store decodes the row; only the read is a raw query.
* Who may press: residents.access.resolve, the function the middleware uses.
* The press: services.ticket_take, what the page and the API call; the answer (message and
  where to go) comes from views.public.take_answer, what the full view uses.
* The response: the same message cookie (Django's CookieStorage), the same security headers
  (SecurityMiddleware, XFrameOptionsMiddleware process_response) and language (Accept-Language
  or the language cookie, as LocaleMiddleware decides).

Anything else goes to Django, body restored: a staff session (proxies, the idle timeout), a
household opened under someone's consent, a CSRF failure, a missing or expired session, an
unknown household or day (Django answers 404), pending messages, a draw that is due (it runs
under the full path's locks), a settings combination the quick path does not know
(`supported()`), or a body that is not a small urlencoded form.

SHOUWANG_QUICK_TAKE=0 turns it off (every press goes through Django).
"""

from __future__ import annotations

import io
import re
from functools import cache, lru_cache

from django.conf import settings
from django.contrib.messages.storage.base import BaseStorage
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core import signals
from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIRequest, get_script_name
from django.core.signals import setting_changed
from django.db import connection
from django.dispatch import receiver
from django.http import HttpResponseRedirect
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import set_script_prefix
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers

from shouwang.core import rawrows
from shouwang.core.context import client_address, current_address
from shouwang.core.errors import DomainError
from shouwang.queues import services
from shouwang.queues.models import Channel, Notify, QueuePoint, SaleDay, Ticket
from shouwang.queues.views import public
from shouwang.registry import areas
from shouwang.registry.models import Building, Household
from shouwang.residents import access
from shouwang.residents.models import HouseholdLink

PATH = re.compile(r"/my/households/([0-9]{1,18})/queue/([0-9]{1,18})/take/")
MAX_BODY = 4096  # the take form is a token and two short fields
_FORM = "application/x-www-form-urlencoded"
_AUTH_KEY = "_auth_user_id"  # django.contrib.auth.SESSION_KEY


def _none(request):  # the middlewares below are only asked process_* questions
    return None


class _Csrf(CsrfViewMiddleware):
    """Django's CSRF checks; a rejection is not answered (nor logged) here but left to Django."""

    def _reject(self, request, reason):
        return _REJECTED


_REJECTED = object()


def _view(request, hh, pk):  # what process_view is told the view is (not csrf_exempt)
    raise AssertionError("never called")


def supported() -> bool:
    """The settings the quick path answers for exactly as the full stack would (worked out
    once, and again when a test changes settings)."""
    global _supported
    if _supported is None:
        _supported = _check_settings()
    return _supported


_supported: bool | None = None


@receiver(setting_changed)
def _settings_changed(**kwargs):
    global _supported
    _supported = None


def _check_settings() -> bool:
    return (
        settings.QUICK_TAKE
        and settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
        and not settings.CSRF_USE_SESSIONS
        and settings.MESSAGE_STORAGE
        in (
            "django.contrib.messages.storage.fallback.FallbackStorage",
            "django.contrib.messages.storage.cookie.CookieStorage",
        )
        and settings.MIDDLEWARE
        == [
            "django.middleware.security.SecurityMiddleware",
            "whitenoise.middleware.WhiteNoiseMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.locale.LocaleMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "shouwang.core.context.RequestContextMiddleware",
            "shouwang.accounts.middleware.SessionExpiryMiddleware",
            "shouwang.residents.access.ResidentAccessMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
        ]
    )


class QuickTake:
    """WSGI: the quick path in front of Django's WSGI application (config/wsgi.py)."""

    def __init__(self, app):
        self.app = app
        # Built once, as Django's handler builds its middleware (their settings-derived
        # attributes are cached on the instance).
        self.csrf = _Csrf(_none)
        self.security = SecurityMiddleware(_none)
        self.frames = XFrameOptionsMiddleware(_none)

    def __call__(self, environ, start_response):
        m = match(environ)
        if m is None:
            return self.app(environ, start_response)
        set_script_prefix(get_script_name(environ))
        signals.request_started.send(sender=self.__class__, environ=environ)
        request = WSGIRequest(environ)
        response = self.respond(request, m)
        if response is None:
            return self.app(environ, start_response)
        start_response(
            f"{response.status_code} {response.reason_phrase}",
            [
                *response.items(),
                *(("Set-Cookie", c.output(header="")) for c in response.cookies.values()),
            ],
        )
        return response  # closing it sends request_finished, as for Django's own answers

    def respond(self, request, m):
        """The answer to a request `match` accepted (`m`: its match), or None: Django's turn,
        from the start (the body this read is put back into the request's environ)."""
        try:
            response = self.answer(request, int(m[1]), int(m[2]))
        except Exception as exc:  # as Django's handler: logged, 500 page
            response = response_for_exception(request, exc)
        if response is None:
            request.environ["wsgi.input"] = io.BytesIO(request.body)
            return None
        response._resource_closers.append(request.close)
        return response

    def answer(self, request, hh: int, pk: int):
        """The redirect the full path would give, or None: not a press this path answers."""
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            return None
        if request.COOKIES.get(CookieStorage.cookie_name):
            return None  # messages waiting to be shown: Django merges them with ours
        request.body  # noqa: B018  (read now, within MAX_BODY, so that it can be put back)
        self.csrf.process_request(request)
        if self.csrf.process_view(request, _view, (hh, pk), {}) is not None:
            return None
        found = _load(request.COOKIES.get(settings.SESSION_COOKIE_NAME), hh, pk)
        if found is None:
            return None
        session_data, links, household, day, held = found
        data = SessionStore().decode(session_data)
        if _AUTH_KEY in data or not data.get(access.SESSION_KEY):
            return None
        resident = data[access.SESSION_KEY]
        link = resident.get("link")
        if link and link not in links:
            return None  # revoked, or another household's link: Django's path says so
        acc = access.resolve(resident, link_household=hh) if link else access.resolve(resident)
        if acc is None or not acc.is_own(hh):
            return None
        notify, resident_id = public.parse_notify(
            request.POST.get("notify", ""), request.POST.get("resident")
        )
        if day.mode == SaleDay.Mode.DRAW and day.drawn_at is None:
            if timezone.now() >= day.draw_at:
                return None  # the draw is due: it runs under the full path
        lang = translation.get_language_from_request(request)
        address = client_address(request.META)
        request.META["REMOTE_ADDR"] = address
        token = current_address.set(address)
        try:
            with translation.override(lang):
                response = self._press(request, household, day, held, notify, resident_id)
        finally:
            current_address.reset(token)
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", lang)
        self.security.process_response(request, response)
        return self.frames.process_response(request, response)

    def _press(self, request, household, day, held, notify, resident_id):
        try:
            phone = public.sms_phone(household.pk, resident_id) if notify == Notify.SMS else ""
            taken = services.ticket_take(
                day=day,
                household=household,
                notify=notify,
                sms_phone=phone,
                channel=Channel.HOUSEHOLD,
                held=held,
            )
        except DomainError as e:
            answer = public.take_answer(household.pk, day, error=e)
        else:
            answer = public.take_answer(household.pk, day, taken)
        return _redirect(request, *answer)


def match(environ):
    """The path's (hh, day) match for a request the quick path may answer, else None."""
    if environ.get("REQUEST_METHOD") != "POST" or not supported():
        return None
    m = PATH.fullmatch(environ.get("PATH_INFO", ""))
    if m is None:
        return None
    if environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower() != _FORM:
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    return m if 0 < length <= MAX_BODY else None


class _Messages(CookieStorage):
    """Django's message cookie, whose signed value is worked out once per message text: the
    same refusal goes to the 2,700 presses that find a day sold out, and signing it (JSON, zlib,
    HMAC) was a tenth of answering one. (No signer of its own: this storage only writes.)"""

    def __init__(self, request):
        BaseStorage.__init__(self, request)

    def _encode_parts(self, messages, encode_empty=False):
        return _signed(settings.SECRET_KEY, tuple(messages), encode_empty)


@lru_cache(maxsize=256)
def _signed(secret: str, messages: tuple[str, ...], encode_empty: bool):
    # `secret` keys the cache: the value is signed with the SECRET_KEY of the moment.
    return CookieStorage(None)._encode_parts(list(messages), encode_empty)


def _redirect(request, level, text, to):
    response = HttpResponseRedirect(to)
    store = _Messages(request)
    store.add(level, text)
    store.update(response)
    return response


# --- the one read -----------------------------------------------------------------------------

_DAY = (
    "id",
    "community",
    "point",
    "mode",
    "take_opens_at",
    "take_closes_at",
    "draw_at",
    "drawn_at",
    "closed_at",
    "per_household",
    "tickets_total",
    "issued",
)
_POINT = ("id", "community", "name", "active")
_HOUSEHOLD = ("id", "community", "building")
_BUILDING = ("id", "compound", "grid")
_TICKET = None  # every field: the answer may be this ticket
_PARTS = (
    (SaleDay, _DAY, "d"),
    (QueuePoint, _POINT, "p"),
    (Household, _HOUSEHOLD, "h"),
    (Building, _BUILDING, "b"),
    (Ticket, _TICKET, "t"),
)


def _ids(table: str, column: str, where: str) -> str:
    """A scalar subquery: the ids as one comma-separated string (NULL when there are none)."""
    agg = "string_agg" if connection.vendor == "postgresql" else "group_concat"
    return f"(SELECT {agg}(CAST({column} AS TEXT), ',') FROM {table} WHERE {where})"


@cache
def _load_sql(vendor: str) -> str:
    select = ", ".join(rawrows.columns(model, alias, names) for model, names, alias in _PARTS)
    links = _ids(HouseholdLink._meta.db_table, "id", "household_id = h.id AND revoked_at IS NULL")
    # The point's scope (services.point_serves reads it from `point.scope_read`), a list per kind.
    scope = ", ".join(
        _ids(table, target, f"{owner} = d.point_id")
        for _kind, table, owner, target in areas.tables(QueuePoint)
    )
    return (
        f"SELECT s.session_data, {links}, {scope}, {select} "
        f"FROM {Session._meta.db_table} s "
        f"JOIN {SaleDay._meta.db_table} d ON d.id = %(day)s "
        f"JOIN {QueuePoint._meta.db_table} p ON p.id = d.point_id "
        f"JOIN {Household._meta.db_table} h ON h.id = %(hh)s AND h.community_id = d.community_id "
        f"JOIN {Building._meta.db_table} b ON b.id = h.building_id "
        f"LEFT JOIN {Ticket._meta.db_table} t "
        "ON t.day_id = d.id AND t.household_id = h.id AND t.slot = 1 "
        "WHERE s.session_key = %(key)s AND s.expire_date > %(now)s"
    )


def _split(ids: str | None) -> list[int]:
    return [int(x) for x in ids.split(",")] if ids else []


def _load(session_key: str | None, hh: int, pk: int):
    """One query: (the session's encoded data, the household's working link ids, the household
    with its building, the day with its point and the point's scope, the household's ticket for
    the day or None) — or None: no such live session, household or day (in the household's
    community). The instances hold the fields the press reads; any other field is deferred
    (read on first use, never wrong)."""
    if not session_key or len(session_key) > 64:
        return None
    # On PostgreSQL a prepared statement: planning the joins and subqueries cost more than
    # running them.
    row = rawrows.fetch_row(
        _load_sql(connection.vendor),
        {"day": pk, "hh": hh, "key": session_key, "now": timezone.now()},
    )
    if row is None:
        return None
    session_data, links = row[0], _split(row[1])
    scope = {
        (kind, i)
        for (kind, _n), ids in zip(areas.KINDS, row[2:5], strict=True)
        for i in _split(ids)
    }
    made, i = [], 5
    for model, names, _alias in _PARTS:
        n = rawrows.width(model, names)
        part = row[i : i + n]
        made.append(rawrows.build(model, part, names) if part[0] is not None else None)
        i += n
    day, point, household, building, held = made
    point.scope_read = scope
    day.point = point
    household.building = building
    if held is not None:
        held.day = day
        held.household = household
    return session_data, links, household, day, held
