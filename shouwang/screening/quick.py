"""The scan endpoints answered in front of Django's middleware (config/wsgi.py).

A mass round is thousands of scans an hour from dozens of tables at once; each is a small JSON
POST authenticated by the station key in a header. None of the middleware stack does anything
for it — no session, no CSRF (a header, not a cookie), no login, no locale negotiation (the
language is in the key), no messages — so this WSGI wrapper answers POST /screening/scan/,
/scan/undo/, /scan/close/ and /scan/batch/ by calling the very function Django's views call
(`views.scan.answer`), and hands every other request, untouched, to Django.

What it keeps from the stack: `request_started` / `request_finished` (Django's database
connection handling: CONN_MAX_AGE, broken connections), the client's address for the audit
events of undo and close (`core.context`, as RequestContextMiddleware sets it), the security
headers (SecurityMiddleware and XFrameOptionsMiddleware `process_response`), and Django's own
500 handling and logging for an unexpected error.

A request the front does not take (another path or method, SECURE_SSL_REDIRECT over plain
HTTP, a body that is not a small JSON document) goes to Django, which answers it the same way
through views/scan.py. SHOUWANG_QUICK_SCAN=0 turns the front off.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signals
from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIRequest, get_script_name
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import set_script_prefix

from shouwang.core.context import client_address, current_address
from shouwang.screening.views import scan as views

PATHS = {
    "/screening/scan/": "scan",
    "/screening/scan/undo/": "undo",
    "/screening/scan/close/": "close",
    "/screening/scan/batch/": "batch",
}
_JSON = "application/json"


def enabled() -> bool:
    return bool(settings.QUICK_SCAN)


def _none(request):
    return None


def match(environ) -> str | None:
    """The operation of a request the front answers, else None."""
    if environ.get("REQUEST_METHOD") != "POST":
        return None
    op = PATHS.get(environ.get("PATH_INFO", ""))
    if op is None or not enabled():
        return None
    if environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower() != _JSON:
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    return op if 0 < length <= views.MAX_BODY else None


class QuickScan:
    """WSGI: the scan endpoints in front of Django's WSGI application."""

    def __init__(self, app):
        self.app = app
        self.security = SecurityMiddleware(_none)
        self.frames = XFrameOptionsMiddleware(_none)

    def __call__(self, environ, start_response):
        op = match(environ)
        if op is None:
            return self.app(environ, start_response)
        set_script_prefix(get_script_name(environ))
        signals.request_started.send(sender=self.__class__, environ=environ)
        request = WSGIRequest(environ)
        response = self.respond(request, op)
        if response is None:
            return self.app(environ, start_response)
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return response  # closing it sends request_finished, as for Django's own answers

    def respond(self, request, op: str):
        """The answer, or None: Django's turn (a plain-HTTP request that Django redirects)."""
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            return None
        token = current_address.set(client_address(request.META))
        try:
            status, out, language = views.answer(
                op, request.META.get("HTTP_X_SHOUWANG_STATION"), request.body
            )
            response = views.json_response(status, out, language)
        except Exception as exc:  # as Django's handler: logged, 500
            response = response_for_exception(request, exc)
        finally:
            current_address.reset(token)
        self.security.process_response(request, response)
        self.frames.process_response(request, response)
        response._resource_closers.append(request.close)
        return response
