"""What the residents' and public page tests share: a client asking for English pages, the staff
persona and the point they set up."""

from urllib.parse import urlencode

import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.test.client import ClientHandler

from shouwang.queues import quick, services


class QuickClientHandler(ClientHandler):
    """The test client's handler with the quick "take a number" path in front, as config/wsgi.py
    puts it in front of Django: a press it answers never reaches the middleware (the answer
    carries `quick=True`); anything else goes on to Django with its body intact."""

    def __call__(self, environ):
        m = quick.match(environ)
        if m is None:
            return super().__call__(environ)
        request_started.disconnect(close_old_connections)  # as ClientHandler: keep the test's
        request_started.send(sender=self.__class__, environ=environ)  # transaction open
        request_started.connect(close_old_connections)
        request = WSGIRequest(environ)
        request._dont_enforce_csrf_checks = not self.enforce_csrf_checks
        response = quick.QuickTake(None).respond(request, m)
        if response is None:
            return super().__call__(environ)
        response.wsgi_request = request
        response.quick = True
        request_finished.disconnect(close_old_connections)
        response.close()
        request_finished.connect(close_old_connections)
        return response


class FormClient(Client):
    """Posts a dict as a browser posts a form (application/x-www-form-urlencoded), not as the
    test client's default multipart."""

    def post(self, path, data=None, **kwargs):
        if "content_type" not in kwargs and isinstance(data, dict):
            data = urlencode(data, doseq=True)
            kwargs["content_type"] = "application/x-www-form-urlencoded"
        return super().post(path, data, **kwargs)


class QuickClient(FormClient):
    def __init__(self, *args, enforce_csrf_checks=False, **kwargs):
        super().__init__(*args, enforce_csrf_checks=enforce_csrf_checks, **kwargs)
        self.handler = QuickClientHandler(enforce_csrf_checks)


def english(c: Client) -> Client:
    c.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


@pytest.fixture
def client():
    return english(Client())


@pytest.fixture
def quick_client():
    return english(QuickClient())


@pytest.fixture
def staff(personas):
    return personas["staff"]


@pytest.fixture
def point(staff):
    return services.point_save(actor=staff, name="松林超市摊位", location="东门广场")
