"""The rest rules at their edges (default roster policy: at most 8 h a day, at least 8 h of rest):
touching is not overlapping and makes one block, the cap exactly is fine and a minute over is
not, rest exactly the minimum is fine and a minute less is not, midnight splits the days but not
the block, and checkpoint duties count."""

from __future__ import annotations

import datetime as dt

import pytest

from shouwang.checkpoints.models import Checkpoint, Duty, DutyKind, Shift
from shouwang.checkpoints.roster import local
from shouwang.core import testing as t
from shouwang.volunteers import rules
from shouwang.volunteers.models import Signup, SignupStatus
from shouwang.volunteers.testing import make_task, make_volunteer

DAY = dt.date(2030, 3, 4)
NEXT = DAY + dt.timedelta(days=1)


def at(h, m=0, day=DAY):
    return local(day, dt.time(h, m))


@pytest.fixture
def vol(community):
    return make_volunteer(community, user=t.make_user("volunteer", community, username="v1"))


def serve(vol, start, end, **kw):
    task = make_task(vol.community, starts_at=start, hours=1, **kw)
    task.ends_at = end
    task.save(update_fields=["ends_at"])
    return Signup.objects.create(
        community=vol.community, task=task, volunteer=vol, status="taken", how="assigned"
    )


def codes(breaks):
    return [b.code for b in breaks]


@pytest.mark.django_db
def test_touching_is_no_overlap_and_within_the_cap(vol):
    serve(vol, at(8), at(10))
    assert rules.breaks_for(vol, at(10), at(12)) == []
    assert rules.breaks_for(vol, at(6), at(8)) == []


@pytest.mark.django_db
def test_overlap_names_the_other_task_and_by_how_much(vol):
    serve(vol, at(8), at(10), title="分发物资")
    breaks = rules.breaks_for(vol, at(9), at(11))
    assert codes(breaks) == ["overlap"]
    assert "分发物资" in breaks[0].message and "1 h" in breaks[0].message
    assert breaks[0].day == DAY


@pytest.mark.django_db
def test_exactly_the_daily_cap_is_fine(vol):
    serve(vol, at(8), at(12))
    assert rules.breaks_for(vol, at(12), at(16)) == []


@pytest.mark.django_db
def test_one_minute_over_the_cap_breaks_it(vol):
    serve(vol, at(7, 59), at(12), title="核酸引导")
    breaks = rules.breaks_for(vol, at(12), at(16))
    assert codes(breaks) == ["daily_cap"]
    assert "8 h 01 min" in breaks[0].message and "0 h 01 min" in breaks[0].message
    assert "核酸引导" in breaks[0].message
    assert breaks[0].day == DAY


@pytest.mark.django_db
def test_rest_exactly_the_minimum_is_fine(vol):
    serve(vol, at(6), at(8))
    assert rules.breaks_for(vol, at(16), at(18)) == []
    # and before a later one
    assert rules.breaks_for(vol, at(0), at(2)) != []  # 4 h before 06:00
    before = DAY - dt.timedelta(days=1)
    assert rules.breaks_for(vol, local(before, dt.time(20)), local(before, dt.time(22))) == []
    late = rules.breaks_for(vol, local(before, dt.time(20)), local(before, dt.time(22, 1)))
    assert codes(late) == ["rest"]


@pytest.mark.django_db
def test_rest_one_minute_short_breaks_it(vol):
    serve(vol, at(6), at(8, 1), title="早班")
    breaks = rules.breaks_for(vol, at(16), at(18))
    assert codes(breaks) == ["rest"]
    assert "7 h 59 min" in breaks[0].message and "0 h 01 min" in breaks[0].message
    assert "早班" in breaks[0].message


@pytest.mark.django_db
def test_rest_before_a_later_commitment(vol):
    serve(vol, at(16), at(18), title="晚班")
    assert rules.breaks_for(vol, at(6), at(8)) == []
    breaks = rules.breaks_for(vol, at(6), at(8, 1))
    assert codes(breaks) == ["rest"]
    assert "晚班" in breaks[0].message


@pytest.mark.django_db
def test_midnight_splits_the_days_but_not_the_block(vol):
    serve(vol, at(20), at(0, day=NEXT))  # 4 h on DAY
    # 4 h + 4 h across midnight: each day 4 h, one block of 8 h — fine
    assert rules.breaks_for(vol, at(0, day=NEXT), at(4, day=NEXT)) == []
    # 4 h + 5 h: each day within the cap, but one block of 9 h
    breaks = rules.breaks_for(vol, at(0, day=NEXT), at(5, day=NEXT))
    assert codes(breaks) == ["daily_cap"]
    assert "9 h" in breaks[0].message and breaks[0].day == DAY


@pytest.mark.django_db
def test_a_task_through_midnight_counts_on_both_days(vol):
    serve(vol, at(16), at(21))  # 5 h on DAY
    # 22:00–02:00: 2 h on DAY (7 h: fine), 2 h on NEXT; but 1 h rest only
    breaks = rules.breaks_for(vol, at(22), at(2, day=NEXT))
    assert codes(breaks) == ["rest"]
    # touching 21:00–01:00: 8 h on DAY exactly, block 9 h
    breaks = rules.breaks_for(vol, at(21), at(1, day=NEXT))
    assert codes(breaks) == ["daily_cap"]
    # 20:00–00:30 overlaps 20:00–21:00; DAY is 8 h (overlap counted once), the block 8.5 h
    breaks = rules.breaks_for(vol, at(20), at(0, 30, day=NEXT))
    assert codes(breaks) == ["overlap", "daily_cap"]
    assert breaks[1].day == DAY


@pytest.mark.django_db
def test_one_block_alone_longer_than_the_cap(vol):
    breaks = rules.breaks_for(vol, at(8), at(17))
    assert codes(breaks) == ["daily_cap"]
    assert "1 h" in breaks[0].message


@pytest.mark.django_db
def test_checkpoint_duty_counts(vol, community):
    cp = Checkpoint.objects.create(community=community, name="东门岗")
    shift = Shift.objects.create(
        community=community, checkpoint=cp, starts_at=at(0), ends_at=at(23)
    )
    Duty.objects.create(
        community=community,
        shift=shift,
        user=vol.user,
        kind=DutyKind.ROTATION,
        starts_at=at(8),
        ends_at=at(12),
    )
    assert rules.breaks_for(vol, at(12), at(16)) == []
    breaks = rules.breaks_for(vol, at(12), at(16, 1))
    assert codes(breaks) == ["daily_cap"]
    assert "东门岗" in breaks[0].message
    breaks = rules.breaks_for(vol, at(14), at(16))
    assert codes(breaks) == ["rest"] and "东门岗" in breaks[0].message
    assert [c.duty_id is not None for c in rules.commitments(vol, at(14), at(16))] == [True]


@pytest.mark.django_db
def test_cancelled_places_and_tasks_do_not_count_and_exclusion(vol):
    s = serve(vol, at(8), at(12))
    assert codes(rules.breaks_for(vol, at(12), at(16, 30))) == ["daily_cap"]
    assert rules.breaks_for(vol, at(12), at(16, 30), exclude_signup_id=s.pk) == []
    s.status = SignupStatus.CANCELLED
    s.save(update_fields=["status"])
    assert rules.breaks_for(vol, at(12), at(16, 30)) == []
    s.status = SignupStatus.TAKEN
    s.save(update_fields=["status"])
    s.task.cancelled_at = at(0)
    s.task.save(update_fields=["cancelled_at"])
    assert rules.breaks_for(vol, at(12), at(16, 30)) == []


@pytest.mark.django_db
def test_other_volunteers_do_not_count(vol, community):
    other = make_volunteer(community)
    serve(other, at(8), at(12))
    assert rules.breaks_for(vol, at(9), at(16)) == []


@pytest.mark.django_db
def test_signup_breaks_of_a_grid(vol, community, django_assert_max_num_queries):
    a = serve(vol, at(7), at(15))
    b = serve(vol, at(15), at(23))
    other = make_volunteer(community)
    c = serve(other, at(7), at(15))
    signups = list(Signup.objects.select_related("task", "volunteer"))
    rules.breaks_for(other, at(0), at(1))  # the roster policy made once
    with django_assert_max_num_queries(3):  # the policy, the places, the duties
        found = rules.signup_breaks(signups)
    assert codes(found[a.pk]) == ["daily_cap"] and codes(found[b.pk]) == ["daily_cap"]
    assert found[c.pk] == []


@pytest.mark.django_db
def test_policy_changes_the_rules(vol, community):
    from shouwang.checkpoints.services import policy_for

    p = policy_for(community.pk)
    p.max_hours_per_day, p.min_rest_hours = 10, 4
    p.save()
    serve(vol, at(6), at(10))
    assert rules.breaks_for(vol, at(14), at(20)) == []
    assert codes(rules.breaks_for(vol, at(14), at(20, 1))) == ["daily_cap"]
    assert codes(rules.breaks_for(vol, at(13, 59), at(16))) == ["rest"]


@pytest.mark.django_db
def test_back_to_back_gate_rotations_are_named_as_one_span(vol, community):
    """Four two-hour rotations at one gate read as one stretch in the message, not four."""
    cp = Checkpoint.objects.create(community=community, name="东门岗")
    shift = Shift.objects.create(
        community=community, checkpoint=cp, starts_at=at(0), ends_at=at(23)
    )
    for h in (0, 2, 4, 6):
        Duty.objects.create(
            community=community,
            shift=shift,
            user=vol.user,
            kind=DutyKind.ROTATION,
            starts_at=at(h),
            ends_at=at(h + 2),
        )
    breaks = rules.breaks_for(vol, at(8), at(10))
    assert codes(breaks) == ["daily_cap"]
    assert breaks[0].message.count("东门岗") == 1
    assert "00:00" in breaks[0].message and "08:00" in breaks[0].message


def test_alone_the_check_only_looks_at_the_length():
    """With no other commitment nothing can overlap or fall short of rest: only a stretch
    longer than the cap breaks a rule (the check answers at once when it is within the cap)."""
    assert rules.check([], at(8), at(16), 8, 8) == []  # exactly the cap
    assert rules.check([], at(22), at(6, day=NEXT), 8, 8) == []  # through midnight, 8 h
    assert codes(rules.check([], at(21, 59), at(6, day=NEXT), 8, 8)) == ["daily_cap"]
    assert codes(rules.check([], at(8), at(16, 1), 8, 8)) == ["daily_cap"]
