"""A volunteer's day on a 360 px phone, in a real browser: the acceptance test of issue 8.

The volunteer signs in, declares their health, grabs a task on the open list, opens the check
page, types the code from the poster, checks in; later (the check-in moved 90 minutes back in
the database: the trick for "later") types it again, checks out, and sees the hours on the
home page, the record and the leaderboard.

Run: .venv/bin/pytest tests/browser/test_volunteer.py -q
Screenshots: SHOUWANG_SHOTS=/tmp/vol_shots .venv/bin/pytest tests/browser/test_volunteer.py -q
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.browser.conftest import english, playwright_expect, shot

expect = playwright_expect()

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scene(personas, community):
    from django.utils import timezone

    from shouwang.volunteers.testing import make_task, make_volunteer

    v = make_volunteer(community, user=personas["volunteer"], name="王小明")
    # Starts in 20 minutes: still open to grab, and check-in opens 30 minutes before the start.
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(minutes=20)
    task = make_task(
        community,
        starts_at=start,
        hours=3,
        places=3,
        title="核酸检测秩序维护",
        place="华美小区东门",
        cancel_until=start - dt.timedelta(minutes=5),
    )
    make_task(community, title="送菜上门", place="3号楼")  # tomorrow: stays on the open list
    return v, task


def test_volunteer_grabs_checks_in_and_out_and_sees_the_hours(
    phone, live_server, scene, sign_in, assert_fits
):
    from shouwang.volunteers.models import Signup

    v, task = scene
    page = phone
    sign_in(page, "volunteer")
    page.goto("/volunteers/me/")
    english(page)
    expect(page.locator(".vol-declare")).to_contain_text("Today's health declaration")
    shot(page, "volunteer", "1-home")
    assert_fits(page)

    # The health declaration: no symptoms, no contact, 36.5.
    page.locator(".vol-declare").click()
    page.wait_for_url(re.compile(r"/volunteers/me/declare/$"))
    page.locator("input[name=symptoms][value=no]").check()
    page.locator("input[name=contact][value=no]").check()
    page.fill("input[name=temperature]", "36.5")
    shot(page, "volunteer", "2-declare")
    assert_fits(page)
    page.locator("main form button.primary").click()
    page.wait_for_url(re.compile(r"/volunteers/me/$"))
    expect(page.locator(".vol-declared")).to_contain_text("Health declared for today")

    # Grab the task on the open list.
    page.goto("/volunteers/tasks/open/")
    card = page.locator(f"#task-{task.pk}")
    expect(card).to_contain_text("核酸检测秩序维护")
    shot(page, "volunteer", "3-open")
    assert_fits(page)
    card.locator("button.primary").click()
    page.wait_for_load_state()
    expect(page.locator(f"#task-{task.pk}")).to_contain_text("You have a place")
    assert Signup.objects.get(task=task, volunteer=v).status == "taken"

    # The home page lists the place; the check page takes the code typed from the poster.
    page.goto("/volunteers/me/")
    expect(page.locator(".vol-place").first).to_contain_text("核酸检测秩序维护")
    page.locator(".vol-scan").click()
    page.wait_for_url(re.compile(r"/volunteers/check/$"))
    code = f"{task.code[:4].lower()} {task.code[4:].lower()}"  # as a person types it
    page.fill("input[name=code]", code)
    expect(page.locator("input[name=code]")).to_have_value(code.upper())  # the page shouts it
    shot(page, "volunteer", "4-check")
    assert_fits(page)
    page.locator("#vol-check-send").click()
    page.wait_for_url(re.compile(r"/volunteers/me/$"))
    expect(page.locator(".flash.success")).to_contain_text("Checked in at")
    expect(page.locator(".vol-place.is-in")).to_contain_text("核酸检测秩序维护")
    shot(page, "volunteer", "5-checked-in")
    assert_fits(page)
    s = Signup.objects.get(task=task, volunteer=v)
    assert s.checked_in_at is not None and s.checked_out_at is None

    # Ninety minutes later: the check-in moved back in the database, the code typed again.
    Signup.objects.filter(pk=s.pk).update(checked_in_at=s.checked_in_at - dt.timedelta(minutes=90))
    page.goto("/volunteers/check/")
    expect(page.locator(".vol-today.is-in")).to_contain_text("scan again when you leave")
    page.fill("input[name=code]", task.code)
    page.locator("#vol-check-send").click()
    page.wait_for_url(re.compile(r"/volunteers/me/$"))
    expect(page.locator(".flash.success")).to_contain_text("1 h 30 min credited")
    s.refresh_from_db()
    assert s.minutes == 90 and s.checked_out_at is not None
    expect(page.locator(".vol-place.is-out")).to_contain_text("1 h 30 min")
    expect(page.locator(".vol-hours .tile").first).to_contain_text("1.50")
    expect(page.locator(".vol-hours .tile").nth(1)).to_contain_text("1")
    shot(page, "volunteer", "6-hours")
    assert_fits(page)

    # The record, the leaderboard and the certificate say the same.
    page.goto("/volunteers/me/record/")
    expect(page.locator(".vol-record-total")).to_contain_text("1.50 hours")
    shot(page, "volunteer", "7-record")
    assert_fits(page)
    page.goto("/volunteers/leaderboard/")
    expect(page.locator(".vol-board li.is-me")).to_contain_text("1.50")
    shot(page, "volunteer", "8-leaderboard")
    assert_fits(page)
    page.goto("/volunteers/me/certificate/")
    expect(page.locator(".vol-cert")).to_contain_text("1.50")
    shot(page, "volunteer", "9-certificate")
    assert_fits(page)


def test_poster_link_page_on_the_phone(phone, live_server, scene, sign_in, assert_fits):
    """The poster's QR opens /volunteers/c/<code>/: one big button."""
    from django.utils import timezone

    from shouwang.volunteers.models import Declaration, Signup

    v, task = scene
    Signup.objects.create(
        community=task.community, task=task, volunteer=v, status="taken", how="grabbed"
    )
    Declaration.objects.create(
        community=task.community, volunteer=v, date=timezone.localdate(), well=True
    )
    page = phone
    sign_in(page, "volunteer")
    page.goto(f"/volunteers/c/{task.code}/")
    english(page)
    button = page.locator(".vol-big")
    expect(button).to_have_text("Check in")
    shot(page, "volunteer", "10-poster-link")
    assert_fits(page)
    button.click()
    page.wait_for_load_state()
    expect(page.locator(".flash.success")).to_contain_text("Checked in at")
    expect(page.locator(".vol-big")).to_have_text("Check out")
    assert Signup.objects.get(task=task, volunteer=v).checked_in_at is not None


def test_staff_stats_on_the_phone(phone, live_server, personas, community, sign_in, assert_fits):
    """The stats page's figures, team table and chart fit a 360 px phone."""
    from django.utils import timezone

    from shouwang.volunteers.models import Signup, Team
    from shouwang.volunteers.testing import make_task, make_volunteer

    team = Team.objects.create(community=community, name="核酸检测组", kind="testing")
    people = [make_volunteer(community, name=n, team=team) for n in ("张三", "李四", "王五")]
    for day, minutes in ((1, 240), (2, 185), (4, 300)):
        task = make_task(community, starts_at=timezone.now() - dt.timedelta(days=day), team=team)
        for i, v in enumerate(people[: day % 3 + 1]):
            Signup.objects.create(
                community=community,
                task=task,
                volunteer=v,
                status="taken",
                how="assigned",
                checked_in_at=task.starts_at,
                checked_out_at=task.starts_at + dt.timedelta(minutes=minutes - 10 * i),
                minutes=minutes - 10 * i,
            )
    page = phone
    sign_in(page, "staff")
    page.goto("/volunteers/stats/")
    english(page)
    expect(page.locator(".vol-figures .tile").first).to_contain_text("3")
    expect(page.locator(".vol-chart rect.bar")).not_to_have_count(0)
    shot(page, "volunteer", "11-stats")
    assert_fits(page)
