"""The grab's write paths as the quick endpoint runs them (outside any transaction): what is
audited (GRAB_AUDIT in tasks.py), and the waiting-list row written in one guarded statement
(`_wait_guarded`) — only while the task is still full and not cancelled — on both databases."""

from __future__ import annotations

import pytest
from django.utils import timezone

from shouwang.core import testing as t
from shouwang.core.models import AuditEvent
from shouwang.volunteers import tasks
from shouwang.volunteers.models import Signup, SignupStatus, Task
from shouwang.volunteers.testing import make_task, make_volunteer


def people(community, n, prefix="g"):
    return [
        make_volunteer(community, user=t.make_user("volunteer", community, username=f"{prefix}{i}"))
        for i in range(n)
    ]


def grab_audits(task):
    return AuditEvent.objects.filter(
        action="volunteers.grab", target_id__in=[str(s.pk) for s in task.signups.all()]
    )


@pytest.mark.django_db(transaction=True)
def test_a_place_taken_is_audited_joining_the_waiting_list_is_not(community):
    task = make_task(community, places=2)
    a, b, c, d = people(community, 4)
    got = [tasks.take(v.pk, task.pk) for v in (a, b, c, d)]
    assert [g.status for g in got] == ["taken", "taken", "waiting", "waiting"]
    assert [g.position for g in got] == [None, None, 1, 2]
    audits = grab_audits(task)
    assert sorted(int(e.target_id) for e in audits) == sorted(g.signup_id for g in got[:2])
    assert all(e.summary.endswith(f"took {task.title}") for e in audits)
    # the waiting rows record who joined, when and how
    w = Signup.objects.get(pk=got[2].signup_id)
    assert (w.volunteer_id, w.status, w.how) == (c.pk, "waiting", "grabbed")
    assert w.created_at is not None


@pytest.mark.django_db(transaction=True)
def test_the_careful_path_audits_alike(community):
    task = make_task(community, places=1)
    a, b = people(community, 2)
    now = timezone.now()
    s1 = tasks._grab(a, task, now)
    s2 = tasks._grab(b, Task.objects.get(pk=task.pk), now)
    assert (s1.status, s2.status) == ("taken", "waiting")
    assert [int(e.target_id) for e in grab_audits(task)] == [s1.pk]


@pytest.mark.django_db(transaction=True)
def test_guarded_wait_writes_the_row_only_while_the_task_is_full(community):
    task = make_task(community, places=1)
    a, b, c = people(community, 3)
    now = timezone.now()
    assert tasks._wait_guarded(a, task, now) is None  # a place is free: nothing written
    assert not Signup.objects.filter(task=task).exists()
    tasks.take(a.pk, task.pk)  # now full
    first = tasks._wait_guarded(b, task, now)
    second = tasks._wait_guarded(c, task, timezone.now())
    assert first is not None and second is not None
    assert (first[1], second[1]) == (0, 1)  # waiting ahead of each
    rows = {s.pk: s for s in Signup.objects.filter(task=task, status=SignupStatus.WAITING)}
    assert set(rows) == {first[0], second[0]}
    assert rows[first[0]].volunteer_id == b.pk and rows[first[0]].how == "grabbed"
    assert rows[first[0]].created_at == now
    Task.objects.filter(pk=task.pk).update(cancelled_at=timezone.now())
    d = people(community, 1, prefix="late")[0]
    assert tasks._wait_guarded(d, task, timezone.now()) is None  # cancelled: nothing written


@pytest.mark.django_db(transaction=True)
def test_a_place_freed_after_the_select_goes_to_the_presser(community, monkeypatch):
    """The press's SELECT saw the task full; a cancel freed a place before the write. The
    guarded statement writes nothing and the careful path gives the place."""
    task = make_task(community, places=1)
    holder, presser = people(community, 2)
    held = tasks.grab(volunteer=holder, task=task)
    real = tasks._refusal

    def refusal_then_cancel(*args, **kwargs):
        out = real(*args, **kwargs)
        if not Signup.objects.filter(pk=held.pk, status="cancelled").exists():
            tasks.cancel(actor=holder.user, signup=Signup.objects.get(pk=held.pk))
        return out

    monkeypatch.setattr(tasks, "_refusal", refusal_then_cancel)
    got = tasks.take(presser.pk, task.pk)
    assert got.status == "taken"
    task.refresh_from_db()
    assert task.taken == 1
    assert not Signup.objects.filter(task=task, status="waiting").exists()


@pytest.mark.django_db(transaction=True)
def test_two_joiners_pressing_at_the_same_instant_get_one_place_each_in_the_line(community):
    task = make_task(community, places=1)
    a, b, c = people(community, 3, prefix="same")
    tasks.take(a.pk, task.pk)
    now = timezone.now()
    first = tasks._wait_guarded(b, task, now)
    second = tasks._wait_guarded(c, task, now)  # the same created_at: the row's id decides
    assert (first[1], second[1]) == (0, 1)
    assert [tasks.waiting_position(Signup.objects.get(pk=x[0])) for x in (first, second)] == [1, 2]
