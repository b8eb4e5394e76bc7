"""Grabbing at the same instant from many threads with their own connections
(core.testing.run_at_once), on SQLite and PostgreSQL: exactly `places` places are ever given,
the counter always equals the rows, and a place freed while others grab goes to the waiting list
or to a grabber — never left free beside someone waiting."""

from __future__ import annotations

import pytest

from shouwang.core import testing as t
from shouwang.core.testing import run_at_once
from shouwang.volunteers import tasks
from shouwang.volunteers.models import Signup, Task
from shouwang.volunteers.testing import make_task, make_volunteer


def people(community, n):
    return [
        make_volunteer(community, user=t.make_user("volunteer", community, username=f"c{i}"))
        for i in range(n)
    ]


def state(task_id):
    task = Task.objects.get(pk=task_id)
    rows = Signup.objects.filter(task_id=task_id)
    return (
        task.taken,
        rows.filter(status="taken").count(),
        rows.filter(status="waiting").count(),
    )


@pytest.mark.django_db(transaction=True)
def test_fifty_grab_ten_places_at_once(community, db_file):
    task = make_task(community, places=10)
    crowd = people(community, 50)
    results, refusals = run_at_once(db_file, lambda v: tasks.grab(volunteer=v, task=task), crowd)
    assert not refusals
    assert sorted(s.status for s in results).count("taken") == 10
    assert state(task.pk) == (10, 10, 40)
    # the waiting list is numbered 1..40 without gaps
    waiting = Signup.objects.filter(task=task, status="waiting")
    assert sorted(tasks.waiting_position(s) for s in waiting) == list(range(1, 41))


@pytest.mark.django_db(transaction=True)
def test_one_volunteer_pressing_eight_times_gets_one_place(community, db_file):
    task = make_task(community, places=3)
    (v,) = people(community, 1)
    results, refusals = run_at_once(
        db_file, lambda _i: tasks.grab(volunteer=v, task=task), range(8)
    )
    assert not refusals
    assert len({s.pk for s in results}) == 1
    assert state(task.pk) == (1, 1, 0)


@pytest.mark.django_db(transaction=True)
def test_cancel_and_grab_at_once_keep_the_counter(community, db_file):
    task = make_task(community, places=10)
    holders = people(community, 14)
    signups = [tasks.grab(volunteer=v, task=task) for v in holders]
    assert state(task.pk) == (10, 10, 4)
    newcomers = [
        make_volunteer(community, user=t.make_user("volunteer", community, username=f"n{i}"))
        for i in range(12)
    ]
    leaving = signups[:6]  # six places given up while twelve more press grab

    def act(item):
        kind, x = item
        if kind == "cancel":
            return tasks.cancel(actor=x.volunteer.user, signup=x)
        return tasks.grab(volunteer=x, task=task)

    work = [("cancel", s) for s in leaving] + [("grab", v) for v in newcomers]
    results, refusals = run_at_once(db_file, act, work)
    assert not refusals
    taken, rows, waiting = state(task.pk)
    assert taken == rows == 10  # 10 - 6 freed, refilled from the waiting list and the grabbers
    assert waiting == 4 + 12 - 6  # 16 wanted 10 places: 4 waiting before, 12 new, 6 promoted
    # the four who waited first were promoted before any newcomer
    for s in signups[10:]:
        s.refresh_from_db()
        assert s.status == "taken"
