"""The demo's volunteer figures reproduce by hand count (docs/volunteers.md, "The demo community,
counted by hand"): the week served in volunteers/demo.py is 14 tasks and 6,480 credited minutes —
108.00 hours by 15 volunteers, 7.20 on average, 14.25 at the most (卫东). The stats service, the
page, the API and the CLI all say so, and so does a plain SQL sum over the rows."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from shouwang.accounts.models import Role, User
from shouwang.accounts.services import token_create
from shouwang.checkpoints.demo_places import VOLUNTEER_NAMES
from shouwang.core import testing as t
from shouwang.volunteers import demo, stats
from shouwang.volunteers.models import Signup, Task, Volunteer

pytestmark = pytest.mark.django_db

# Hand-counted from demo.SERVED (the table in docs/volunteers.md).
HAND = {
    "tasks": 14,
    "minutes": 945 + 240 + 555 + 560 + 210 + 480 + 705 + 135 + 705 + 370 + 495 + 105 + 725 + 250,
    "volunteers": 15,
    "hours": Decimal("108.00"),
    "average": Decimal("7.20"),
    "top": Decimal("14.25"),
    "top_name": "卫东",
}


@pytest.fixture
def built(community):
    """The demo's people as `shouwang demo` has them when the volunteers' part runs: the
    logins, and the roster's sixteen volunteers (names from the checkpoints demo)."""
    users = {
        "admin": t.make_user("admin", community, username="admin"),
        "staff": t.make_user("staff", community, username="staff"),
        "volunteer": t.make_user("volunteer", community, username="volunteer"),
    }
    users["volunteer"].display_name = "陈志愿"
    users["volunteer"].save(update_fields=["display_name"])
    for k, name in enumerate(VOLUNTEER_NAMES):
        User.objects.create(
            username=f"{community.code.lower()}-duty{k + 1:02d}",
            role=Role.VOLUNTEER,
            community=community,
            display_name=name,
        )
    made = demo.demo(community, now=timezone.now(), users=users, log=lambda *a: None)
    return users, made


def test_the_hand_count_is_the_table(built):
    assert HAND["minutes"] == 6480
    assert Decimal(HAND["minutes"]) / 60 == HAND["hours"]
    assert (HAND["hours"] / HAND["volunteers"]).quantize(Decimal("0.01")) == HAND["average"]
    assert sum(len(row[-1]) for row in demo.SERVED) == 37  # places served
    assert len(demo.SERVED) == HAND["tasks"]


def test_the_service_says_the_hand_count(community, built):
    s = stats.summary(community.pk)
    assert (s.volunteers, s.minutes, s.hours, s.average_hours, s.top_hours, s.top_name) == (
        HAND["volunteers"],
        HAND["minutes"],
        HAND["hours"],
        HAND["average"],
        HAND["top"],
        HAND["top_name"],
    )
    # Per team, the rows add up to the whole.
    teams = stats.by_team(community.pk)
    assert sum(row.minutes for row in teams) == HAND["minutes"]


def test_a_plain_sql_sum_agrees(community, built):
    with connection.cursor() as cur:
        cur.execute(
            "SELECT COUNT(DISTINCT s.volunteer_id), SUM(s.minutes) FROM volunteers_signup s "
            "JOIN volunteers_task t ON t.id = s.task_id "
            "WHERE t.community_id = %s AND s.status = 'taken' AND s.minutes IS NOT NULL",
            [community.pk],
        )
        people, minutes = cur.fetchone()
        cur.execute(
            "SELECT v.name, SUM(s.minutes) AS m FROM volunteers_signup s "
            "JOIN volunteers_volunteer v ON v.id = s.volunteer_id "
            "WHERE s.community_id = %s AND s.status = 'taken' AND s.minutes IS NOT NULL "
            "GROUP BY v.name ORDER BY m DESC LIMIT 1",
            [community.pk],
        )
        top_name, top_minutes = cur.fetchone()
    assert (people, minutes) == (HAND["volunteers"], HAND["minutes"])
    assert (top_name, Decimal(top_minutes) / 60) == (HAND["top_name"], HAND["top"])
    # Fourteen served tasks with hours, one no-show on the checkpoint task.
    served = Task.objects.filter(community=community, signups__minutes__isnull=False).distinct()
    assert served.count() == HAND["tasks"]
    assert Signup.objects.filter(community=community, status="no_show").count() == 1


def test_the_page_the_api_and_the_cli_say_it_too(client, community, built):
    users, _made = built
    client.force_login(users["staff"])
    page = client.get("/volunteers/stats/").content.decode()
    for figure in ("108.00", "7.20", "14.25", "卫东"):
        assert figure in page
    resp = client.get(
        "/api/v1/volunteers/stats",
        headers={"Authorization": f"Bearer {token_create(user=users['staff'])}"},
    )
    body = resp.json()["summary"]
    assert (body["volunteers"], body["minutes"]) == (HAND["volunteers"], HAND["minutes"])
    assert Decimal(str(body["hours"])) == HAND["hours"]
    out = io.StringIO()
    call_command("volunteers_stats", "--community", community.code, stdout=out)
    text = out.getvalue()
    assert "108.00" in text and "7.20" in text and "14.25 (卫东)" in text


def test_what_lies_ahead(community, built):
    """Tomorrow's tasks to grab (one full with a waiting list), a task under way, a plan."""
    _users, made = built
    assert made["plan_shifts"] == 21
    ahead = Task.objects.filter(community=community, starts_at__gt=timezone.now())
    assert ahead.filter(kind="task").count() == 4
    full = [t for t in ahead.filter(kind="task") if t.taken == t.places]
    assert full and all(t.signups.filter(status="waiting").exists() for t in full)
    for task in Task.objects.filter(community=community):
        assert task.taken == task.signups.filter(status="taken").count(), task.title
    assert Volunteer.objects.filter(community=community, status="pending").count() == 2
