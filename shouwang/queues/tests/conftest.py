"""What the residents' and public page tests share: a client asking for English pages, the staff
persona and the point they set up."""

from urllib.parse import urlencode

import pytest
from django.test import Client

from shouwang.core.testing import FrontClientHandler
from shouwang.queues import quick, services


class QuickClientHandler(FrontClientHandler):
    """The test client's handler with the quick "take a number" path in front, as config/wsgi.py
    puts it in front of Django: a press it answers never reaches the middleware (the answer
    carries `quick=True`); anything else goes on to Django with its body intact."""

    def match(self, environ):
        return quick.match(environ)

    def respond(self, request, matched):
        return quick.QuickTake(None).respond(request, matched)


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
