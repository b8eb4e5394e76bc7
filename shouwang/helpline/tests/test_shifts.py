"""Shift windows from the policy's start times, in Shanghai time, across midnight."""

import datetime as dt

import pytest
from django.utils import timezone

from shouwang.helpline import selectors, shifts

pytestmark = pytest.mark.django_db


def at(day: int, hh: int, mm: int = 0, month: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2021, month, day, hh, mm))


def test_default_three_shifts(community):
    assert shifts.shift_at(community.pk, at(24, 9)) == (at(24, 8), at(24, 16))
    assert shifts.shift_at(community.pk, at(24, 16)) == (at(24, 16), at(25, 0))
    assert shifts.shift_at(community.pk, at(24, 23, 59)) == (at(24, 16), at(25, 0))
    # The night shift: midnight to eight.
    assert shifts.shift_at(community.pk, at(25, 0)) == (at(25, 0), at(25, 8))
    assert shifts.shift_at(community.pk, at(25, 7, 59)) == (at(25, 0), at(25, 8))


def test_a_shift_across_midnight_and_the_month(community):
    policy = selectors.policy_for(community.pk)
    policy.shift_starts = ["20:00", "08:00"]  # out of order on purpose
    policy.save()
    new_year = timezone.make_aware(dt.datetime(2022, 1, 1, 8))
    assert shifts.shift_at(community.pk, at(31, 21)) == (at(31, 20), new_year)
    assert shifts.shift_at(community.pk, at(31, 3)) == (at(30, 20), at(31, 8))
    assert shifts.shift_at(community.pk, at(31, 12)) == (at(31, 8), at(31, 20))


def test_one_shift_a_day_runs_round_the_clock(community):
    policy = selectors.policy_for(community.pk)
    policy.shift_starts = ["09:00"]
    policy.save()
    assert shifts.shift_at(community.pk, at(24, 8)) == (at(23, 9), at(24, 9))
    assert shifts.shift_at(community.pk, at(24, 9)) == (at(24, 9), at(25, 9))


def test_utc_input_is_read_in_shanghai_time(community):
    # 23:30 UTC on the 23rd is 07:30 on the 24th in Shanghai: the night shift.
    when = dt.datetime(2021, 12, 23, 23, 30, tzinfo=dt.UTC)
    assert shifts.shift_at(community.pk, when) == (at(24, 0), at(24, 8))


def test_previous_shift(community):
    assert shifts.previous_shift(community.pk, at(25, 3)) == (at(24, 16), at(25, 0))


def test_settings_page_changes_shifts_and_time_limits(client, community, personas):
    from shouwang.helpline.testing import category

    client.force_login(personas["staff"])
    resp = client.post(
        "/helpline/settings/",
        {"shift_starts": "20:00, 08:00", "escalate_after_minutes": 15, "callback_within_hours": 12},
    )
    assert resp.status_code == 302
    policy = selectors.policy_for(community.pk)
    assert (policy.shift_starts, policy.escalate_after_minutes) == (["08:00", "20:00"], 15)
    bad = client.post(
        "/helpline/settings/",
        {"shift_starts": "25:00", "escalate_after_minutes": 0, "callback_within_hours": 12},
    )
    assert "Give each start as HH:MM" in bad.content.decode()
    gas = category(community, index=1)
    client.post(
        f"/helpline/settings/categories/{gas.pk}/",
        {f"c{gas.pk}-name": "燃气", f"c{gas.pk}-limit_minutes": 120},
    )
    gas.refresh_from_db()
    assert (gas.name, gas.limit_minutes, gas.is_active) == ("燃气", 120, False)
    client.post(
        "/helpline/settings/categories/new/",
        {"new-group": "repairs", "new-name": "电梯", "new-limit_minutes": 240},
    )
    assert selectors.categories_for(community.pk).filter(name="电梯", limit_minutes=240).exists()
    client.force_login(personas["grid_leader"])
    assert client.get("/helpline/settings/").status_code == 403
