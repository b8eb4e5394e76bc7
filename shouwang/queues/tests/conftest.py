"""What the residents' and public page tests share: a client asking for English pages, the staff
persona and the point they set up."""

import pytest
from django.test import Client

from shouwang.queues import services


@pytest.fixture
def client():
    c = Client()
    c.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


@pytest.fixture
def staff(personas):
    return personas["staff"]


@pytest.fixture
def point(staff):
    return services.point_save(actor=staff, name="松林超市摊位", location="东门广场")
