"""One person, one body: the volunteer tasks and shifts someone has taken count in the checkpoint
roster — the generator does not put them at a gate meanwhile, and the checker counts those hours
in the overlap, daily-cap and rest rules."""

from __future__ import annotations

import datetime as dt

import pytest

from shouwang.checkpoints import places, roster
from shouwang.checkpoints.models import Availability, Duty, DutyKind
from shouwang.checkpoints.roster import Code, local
from shouwang.core import testing as t
from shouwang.volunteers.models import Signup
from shouwang.volunteers.testing import make_task, make_volunteer

DAY = dt.date(2030, 3, 4)  # a Monday


def at(h, m=0, day=DAY):
    return local(day, dt.time(h, m))


@pytest.fixture
def setup(community):
    admin = t.make_user("admin", community)
    gate = places.checkpoint_save(actor=admin, community=community, name="东门")
    shifts = roster.shifts_make(community=community, checkpoints=[gate], start=DAY, days=1)
    vol = t.make_user("volunteer", community, username="vol")
    for wd in range(7):
        Availability.objects.create(
            community=community, user=vol, weekday=wd, starts_at=dt.time(0), ends_at=dt.time(0)
        )
    profile = make_volunteer(community, user=vol)
    return {"admin": admin, "gate": gate, "shifts": shifts, "vol": vol, "profile": profile}


def serve(community, profile, start, end):
    """`profile` has a place on a volunteer task from `start` to `end`."""
    task = make_task(community, starts_at=start, hours=1, places=3)
    task.ends_at = end
    task.taken = 1
    task.save(update_fields=["ends_at", "taken"])
    Signup.objects.create(
        community=community, task=task, volunteer=profile, status="taken", how="grabbed"
    )
    return task


def duty(setup, start, end):
    shift = next(s for s in setup["shifts"] if s.starts_at <= start < s.ends_at)
    return roster.duty_add(
        actor=setup["admin"],
        shift=shift,
        user=setup["vol"],
        kind=DutyKind.ROTATION,
        starts_at=start,
        ends_at=end,
    )


def found(community, setup):
    return [p for p in roster.problems(community=community, shifts=setup["shifts"]) if not p.is_gap]


@pytest.mark.django_db
def test_a_gate_duty_during_a_volunteer_task_is_an_overlap(community, setup):
    serve(community, setup["profile"], at(9), at(11))
    duty(setup, at(10), at(12))
    problems = found(community, setup)
    assert Code.OVERLAP in [p.code for p in problems]
    overlap = next(p for p in problems if p.code == Code.OVERLAP)
    assert (overlap.starts_at, overlap.ends_at) == (at(10), at(11))


@pytest.mark.django_db
def test_volunteer_hours_count_in_the_rest_rule_at_its_edge(community, setup):
    serve(community, setup["profile"], at(8), at(10))
    duty(setup, at(18), at(20))  # exactly 8 h of rest after the task
    assert found(community, setup) == []
    duty(setup, at(20), at(21))  # touching: one block, still fine
    assert found(community, setup) == []


@pytest.mark.django_db
def test_volunteer_hours_count_in_the_daily_cap(community, setup):
    serve(community, setup["profile"], at(8), at(14))  # 6 h of volunteering
    duty(setup, at(14), at(16))  # 8 h that day: the cap exactly
    assert found(community, setup) == []
    duty(setup, at(16), at(16, 30))
    assert [p.code for p in found(community, setup)] == [Code.OVER_CAP]


@pytest.mark.django_db
def test_the_generator_leaves_a_volunteer_on_a_task_alone(community, setup):
    serve(community, setup["profile"], at(0), at(23, 59))
    roster.generate(
        actor=setup["admin"], community=community, checkpoints=[setup["gate"]], start=DAY, days=1
    )
    mine = Duty.objects.filter(user=setup["vol"], starts_at__lt=at(23, 59), ends_at__gt=at(0))
    assert not mine.exists()
    # A cancelled task frees them again.
    Duty.objects.all().delete()
    setup["profile"].signups.update(status="cancelled")
    roster.generate(
        actor=setup["admin"], community=community, checkpoints=[setup["gate"]], start=DAY, days=1
    )
    assert Duty.objects.filter(user=setup["vol"]).exists()
