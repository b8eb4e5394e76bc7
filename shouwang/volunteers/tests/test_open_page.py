"""The volunteer's list of tasks to grab: the no-show stop is said in words (the page once
printed Django's own `block` template variable instead), and a normal list says nothing of it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shouwang.core import testing as t
from shouwang.volunteers.models import Signup
from shouwang.volunteers.testing import make_task, make_volunteer

pytestmark = pytest.mark.django_db


@pytest.fixture
def vol(community):
    user = t.make_user("volunteer", community, username="v1")
    return make_volunteer(community, user=user)


def test_the_open_list_shows_tasks_and_no_stop(client, community, vol):
    make_task(community, title="快递分拣", places=3)
    client.force_login(vol.user)
    page = client.get("/volunteers/tasks/open/").content.decode()
    assert "快递分拣" in page
    assert "Block Node" not in page and "grabbing is stopped" not in page


def test_two_no_shows_stop_grabbing_in_words(client, community, vol):
    for k in range(2):
        task = make_task(community, starts_at=timezone.now() - dt.timedelta(days=k + 1))
        Signup.objects.create(
            community=community, task=task, volunteer=vol, status="no_show", how="grabbed"
        )
    make_task(community, title="快递分拣", places=3)
    client.force_login(vol.user)
    page = client.get("/volunteers/tasks/open/").content.decode()
    assert "Block Node" not in page
    assert "You missed 2 places in the last 30 days" in page
