"""A JSON endpoint answered in front of Django's middleware: the WSGI front that
screening/quick.py (the scans) and checkpoints/quick.py (the pass decision) are made of.

Such an endpoint is a small JSON POST authenticated by a key in a header: none of the middleware
stack does anything for it — no session, no CSRF (a header, not a cookie), no login, no locale
negotiation (the language is in the key), no messages. A `JsonFront` subclass names its paths
(`PATHS`, path → operation), its largest body (`MAX_BODY`), whether it is on (`enabled()`), and
how the view module answers (`answer(op, request)` → (status, out, language), `json_response`):
the very functions Django's views call. Every other request goes, untouched, to Django.

What it keeps from the stack: `request_started` / `request_finished` (Django's database
connection handling: CONN_MAX_AGE, broken connections), the client's address (`core.context`,
as RequestContextMiddleware sets it, for the audit events), the security headers
(SecurityMiddleware and XFrameOptionsMiddleware `process_response`), and Django's own 500
handling and logging for an unexpected error.

A request the front does not take — another path or method, the front turned off,
SECURE_SSL_REDIRECT over plain HTTP, a body that is not a small JSON document — goes to Django,
which answers it the same way through the view.
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

_JSON = "application/json"


def _none(request):  # the middlewares below are only asked process_response
    return None


class JsonFront:
    """WSGI: a JSON endpoint in front of Django's WSGI application (`app`)."""

    PATHS: dict[str, str] = {}  # path → the operation `answer` is given
    MAX_BODY = 0  # bytes; a larger body goes to Django, which refuses it

    @staticmethod
    def enabled() -> bool:
        return True

    def answer(self, op: str, request) -> tuple[int, dict, str]:
        """(status, the JSON document, its language): what the view module answers."""
        raise NotImplementedError

    @staticmethod
    def json_response(status: int, out: dict, language: str):
        raise NotImplementedError

    def __init__(self, app):
        self.app = app
        self.security = SecurityMiddleware(_none)
        self.frames = XFrameOptionsMiddleware(_none)
        self._match = self.match  # bound once, not on every request

    @classmethod
    def match(cls, environ) -> str | None:
        """The operation of a request the front answers, else None."""
        if environ.get("REQUEST_METHOD") != "POST":
            return None
        op = cls.PATHS.get(environ.get("PATH_INFO", ""))
        if op is None or not cls.enabled():
            return None
        if environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower() != _JSON:
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        return op if 0 < length <= cls.MAX_BODY else None

    def __call__(self, environ, start_response):
        op = self._match(environ)
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
            status, out, language = self.answer(op, request)
            response = self.json_response(status, out, language)
        except Exception as exc:  # as Django's handler: logged, 500
            response = response_for_exception(request, exc)
        finally:
            current_address.reset(token)
        self.security.process_response(request, response)
        self.frames.process_response(request, response)
        response._resource_closers.append(request.close)
        return response
