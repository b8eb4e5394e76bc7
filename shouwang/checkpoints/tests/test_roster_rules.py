"""The checker at the edges of its rules: rest exactly the minimum is fine and one minute less is
not; the daily cap exactly and one minute over; a duty through midnight counts on both days;
availability through midnight; two places at once; hand edits."""

from __future__ import annotations

import datetime as dt

import pytest

from shouwang.checkpoints import places, roster
from shouwang.checkpoints.models import Availability, DutyKind
from shouwang.checkpoints.roster import Code, local
from shouwang.core import testing as t
from shouwang.core.errors import DomainError

DAY = dt.date(2030, 3, 4)  # a Monday


@pytest.fixture
def setup(community):
    admin = t.make_user("admin", community)
    a = places.checkpoint_save(actor=admin, community=community, name="东门")
    b = places.checkpoint_save(actor=admin, community=community, name="西门")
    shifts = roster.shifts_make(community=community, checkpoints=[a, b], start=DAY, days=2)
    vol = t.make_user("volunteer", community, username="vol")
    for wd in range(7):
        Availability.objects.create(
            community=community, user=vol, weekday=wd, starts_at=dt.time(0), ends_at=dt.time(0)
        )

    def shift(cp, hour, day=DAY):
        at = local(day, dt.time(hour))
        return next(s for s in shifts if s.checkpoint_id == cp.pk and s.starts_at <= at < s.ends_at)

    return {"admin": admin, "a": a, "b": b, "vol": vol, "shift": shift, "shifts": shifts}


def person_codes(community, setup):
    return [p for p in roster.problems(community=community, shifts=setup["shifts"]) if not p.is_gap]


def at(h, m=0, day=DAY):
    return local(day, dt.time(h, m))


def add(setup, cp, start, end, user=None):
    return roster.duty_add(
        actor=setup["admin"],
        shift=setup["shift"](cp, start.hour),  # daytime duties of DAY in these tests
        user=user or setup["vol"],
        kind=DutyKind.ROTATION,
        starts_at=start,
        ends_at=end,
    )


@pytest.mark.django_db
def test_rest_exactly_the_minimum_is_fine(community, setup):
    add(setup, setup["a"], at(8), at(10))
    add(setup, setup["a"], at(18), at(20))  # 8 h later
    assert person_codes(community, setup) == []


@pytest.mark.django_db
def test_rest_one_minute_short_is_broken(community, setup):
    add(setup, setup["a"], at(8), at(10))
    d = add(setup, setup["b"], at(17, 59), at(20))
    found = person_codes(community, setup)
    assert [p.code for p in found] == [Code.SHORT_REST]
    assert found[0].user_id == setup["vol"].pk and d.pk in found[0].duty_ids
    assert "7 h 59 min" in found[0].message


@pytest.mark.django_db
def test_touching_duties_form_one_block(community, setup):
    add(setup, setup["a"], at(8), at(10))
    add(setup, setup["b"], at(10), at(12))  # straight on at the other gate: no rest needed
    assert person_codes(community, setup) == []


@pytest.mark.django_db
def test_daily_cap_exactly_is_fine_one_minute_over_is_not(community, setup):
    policy = roster.policy_for(community.pk)
    places.policy_save(actor=setup["admin"], community=community, min_rest_hours=0)
    assert policy.max_hours_per_day == 8
    add(setup, setup["a"], at(8), at(16))
    assert person_codes(community, setup) == []
    add(setup, setup["a"], at(16), at(16, 1))
    found = person_codes(community, setup)
    assert [p.code for p in found] == [Code.OVER_CAP]
    assert "8 h 01 min" in found[0].message


@pytest.mark.django_db
def test_a_duty_through_midnight_counts_on_both_days(community, setup):
    places.policy_save(
        actor=setup["admin"], community=community, max_hours_per_day=4, min_rest_hours=0
    )
    # A night shift of its own, 20:00–04:00 (made by hand: the policy's shifts start at 08:00).
    from shouwang.checkpoints.models import Shift

    night = places.checkpoint_save(actor=setup["admin"], community=community, name="夜岗")
    sh = Shift.objects.create(
        community=community,
        checkpoint=night,
        starts_at=at(20),
        ends_at=at(4, day=DAY + dt.timedelta(1)),
    )
    setup["shifts"].append(sh)
    # 20:00–02:00: 4 h on Monday, 2 h on Tuesday — within a 4-hour cap.
    d = roster.duty_add(
        actor=setup["admin"],
        shift=sh,
        user=setup["vol"],
        kind=DutyKind.ROTATION,
        starts_at=at(20),
        ends_at=at(2, day=DAY + dt.timedelta(1)),
    )
    assert person_codes(community, setup) == []
    # 3 more hours on Tuesday morning: 5 h on Tuesday.
    roster.duty_add(
        actor=setup["admin"],
        shift=setup["shift"](setup["b"], 2, day=DAY + dt.timedelta(1)),
        user=setup["vol"],
        kind=DutyKind.ROTATION,
        starts_at=at(4, day=DAY + dt.timedelta(1)),
        ends_at=at(7, day=DAY + dt.timedelta(1)),
    )
    found = person_codes(community, setup)
    assert [p.code for p in found] == [Code.OVER_CAP]
    assert "2030-03-05" in found[0].message and d.pk in found[0].duty_ids


@pytest.mark.django_db
def test_two_places_at_once(community, setup):
    add(setup, setup["a"], at(8), at(10))
    add(setup, setup["b"], at(9), at(11))
    codes = [p.code for p in person_codes(community, setup)]
    assert Code.OVERLAP in codes


@pytest.mark.django_db
def test_availability_through_midnight(community, setup):
    night = t.make_user("guard", community, username="night")
    Availability.objects.create(
        community=community, user=night, weekday=0, starts_at=dt.time(20), ends_at=dt.time(6)
    )
    roster.duty_add(
        actor=setup["admin"],
        shift=setup["shift"](setup["a"], 16),
        user=night,
        kind=DutyKind.ROTATION,
        starts_at=at(22),
        ends_at=at(0, day=DAY + dt.timedelta(1)),
    )
    roster.duty_add(
        actor=setup["admin"],
        shift=setup["shift"](setup["a"], 2, day=DAY + dt.timedelta(1)),
        user=night,
        kind=DutyKind.ROTATION,
        starts_at=at(4, day=DAY + dt.timedelta(1)),
        ends_at=at(6, day=DAY + dt.timedelta(1)),
    )
    assert person_codes(community, setup) == [] or all(
        p.code == Code.SHORT_REST for p in person_codes(community, setup)
    )
    # 06:00–07:00 Tuesday is past the window.
    roster.duty_add(
        actor=setup["admin"],
        shift=setup["shift"](setup["b"], 2, day=DAY + dt.timedelta(1)),
        user=night,
        kind=DutyKind.ROTATION,
        starts_at=at(6, day=DAY + dt.timedelta(1)),
        ends_at=at(7, day=DAY + dt.timedelta(1)),
    )
    outside = [p for p in person_codes(community, setup) if p.code == Code.UNAVAILABLE]
    assert len(outside) == 1 and outside[0].starts_at == at(6, day=DAY + dt.timedelta(1))


@pytest.mark.django_db
def test_generator_respects_availability_through_midnight(community, setup):
    night = t.make_user("guard", community, username="night")
    Availability.objects.create(
        community=community, user=night, weekday=0, starts_at=dt.time(22), ends_at=dt.time(4)
    )
    roster.generate(
        actor=setup["admin"], community=community, checkpoints=[setup["a"]], start=DAY, days=1
    )
    from shouwang.checkpoints.models import Duty

    mine = list(Duty.objects.filter(user=night))
    assert mine and all(
        at(22) <= d.starts_at and d.ends_at <= at(4, day=DAY + dt.timedelta(1)) for d in mine
    )


@pytest.mark.django_db
def test_hand_edits_are_checked_and_refuse_nonsense(community, setup):
    sh = setup["shift"](setup["a"], 8)
    with pytest.raises(DomainError) as e:
        roster.duty_add(actor=setup["admin"], shift=sh, user=setup["vol"], kind=DutyKind.COMMITTEE)
    assert e.value.fields.get("user")  # a volunteer is no committee member
    with pytest.raises(DomainError):
        roster.duty_add(
            actor=setup["admin"],
            shift=sh,
            user=setup["vol"],
            kind=DutyKind.ROTATION,
            starts_at=at(7),
            ends_at=at(9),
        )  # outside the shift
    d = roster.duty_add(actor=setup["admin"], shift=sh, user=setup["vol"], kind=DutyKind.ROTATION)
    with pytest.raises(DomainError):
        roster.duty_add(actor=setup["admin"], shift=sh, user=setup["vol"], kind=DutyKind.ROTATION)
    other = setup["shift"](setup["b"], 16)
    moved = roster.duty_move(actor=setup["admin"], duty=d, shift=other)
    assert (moved.starts_at, moved.ends_at, moved.generated) == (
        at(16),
        at(0, day=DAY + dt.timedelta(1)),
        False,
    )
    roster.check_in(actor=setup["vol"], duty=moved, now=at(16, 5))
    with pytest.raises(DomainError):
        roster.duty_remove(actor=setup["admin"], duty=moved)
