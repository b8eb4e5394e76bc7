"""Check-in by code, leaders' check-in, corrections and the night run (checkin.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shouwang.core.errors import DomainError, Forbidden
from shouwang.core.models import AuditEvent
from shouwang.volunteers import checkin
from shouwang.volunteers.models import Correction, Declaration, Signup, Team
from shouwang.volunteers.testing import make_task, make_volunteer

T0 = dt.datetime(2026, 3, 10, 9, 0)  # local


def at(minutes: int = 0, base=T0) -> dt.datetime:
    return timezone.make_aware(base + dt.timedelta(minutes=minutes))


def declare(v, day=None, well=True):
    return Declaration.objects.create(
        community=v.community, volunteer=v, date=day or T0.date(), well=well
    )


def place(task, v, status="taken"):
    return Signup.objects.create(
        community=task.community, task=task, volunteer=v, status=status, how="grabbed"
    )


@pytest.fixture
def scene(personas, community):
    v = make_volunteer(community, user=personas["volunteer"], name="王小明")
    task = make_task(community, starts_at=at(0), hours=3, title="核酸秩序")
    s = place(task, v)
    declare(v)
    return v, task, s


def test_scan_in_then_out_credits_whole_minutes(scene):
    v, task, s = scene
    got, what = checkin.check_by_code(volunteer=v, code=task.code, now=at(-10))
    assert what == "in" and got.pk == s.pk
    got, what = checkin.check_by_code(
        volunteer=v, code=task.code.lower(), now=at(95, T0) + dt.timedelta(seconds=59)
    )
    assert what == "out"
    s.refresh_from_db()
    assert s.checked_in_at == at(-10)
    assert s.minutes == 105  # 1 h 45 min 59 s → 105 whole minutes
    assert s.checked_in_by_id == v.user_id
    assert AuditEvent.objects.filter(action="volunteers.check_in", target_id=str(s.pk)).count() == 1
    assert AuditEvent.objects.filter(action="volunteers.check_out").count() == 1


def test_code_forms_the_poster_url_and_dashes(scene):
    v, task, _s = scene
    url = f"https://sw.example/volunteers/c/{task.code}/"
    assert checkin.check_by_code(volunteer=v, code=url, now=at(0))[1] == "in"
    dashed = f"{task.code[:4]}-{task.code[4:]}"
    # Within a minute: the same scan again, not a check-out.
    assert (
        checkin.check_by_code(volunteer=v, code=dashed, now=at(0, T0) + dt.timedelta(seconds=30))[1]
        == "in"
    )
    assert Signup.objects.get(pk=_s.pk).checked_out_at is None


@pytest.mark.parametrize("minutes,ok", [(-31, False), (-30, True), (179, True), (180, False)])
def test_window_opens_early_minutes_before_and_closes_at_the_end(scene, minutes, ok):
    v, task, s = scene
    if ok:
        assert checkin.check_by_code(volunteer=v, code=task.code, now=at(minutes))[1] == "in"
    else:
        with pytest.raises(DomainError) as e:
            checkin.check_by_code(volunteer=v, code=task.code, now=at(minutes))
        assert e.value.code == ("too_early" if minutes < 0 else "over")
        s.refresh_from_db()
        assert s.checked_in_at is None


def test_the_policy_sets_how_early(scene):
    from shouwang.volunteers.selectors import policy_for

    v, task, _s = scene
    p = policy_for(task.community_id)
    p.check_in_early_minutes = 60
    p.save()
    assert checkin.check_by_code(volunteer=v, code=task.code, now=at(-60))[1] == "in"


def test_needs_todays_declaration_and_a_well_one(personas, community):
    v = make_volunteer(community, user=personas["volunteer"])
    task = make_task(community, starts_at=at(0))
    place(task, v)
    declare(v, day=T0.date() - dt.timedelta(days=1))  # yesterday's does not count
    with pytest.raises(DomainError) as e:
        checkin.check_by_code(volunteer=v, code=task.code, now=at(0))
    assert e.value.code == "declare"
    assert "/volunteers/me/declare/" in e.value.fields["link"]
    declare(v, well=False)
    with pytest.raises(DomainError) as e:
        checkin.check_by_code(volunteer=v, code=task.code, now=at(0))
    assert e.value.code == "unwell"
    Declaration.objects.filter(volunteer=v, date=T0.date()).update(well=True)
    assert checkin.check_by_code(volunteer=v, code=task.code, now=at(0))[1] == "in"


def test_third_scan_is_already_checked_out_but_a_quick_repeat_is_fine(scene):
    v, task, s = scene
    checkin.check_by_code(volunteer=v, code=task.code, now=at(0))
    checkin.check_by_code(volunteer=v, code=task.code, now=at(60))
    assert checkin.check_by_code(volunteer=v, code=task.code, now=at(60))[1] == "out"
    with pytest.raises(DomainError) as e:
        checkin.check_by_code(volunteer=v, code=task.code, now=at(70))
    assert e.value.code == "already_out" and e.value.status == 409
    s.refresh_from_db()
    assert s.minutes == 60


def test_refusals_bad_code_other_community_no_place_waiting(scene, other_community, community):
    v, task, _s = scene
    with pytest.raises(DomainError) as e:
        checkin.check_by_code(volunteer=v, code="hello", now=at(0))
    assert e.value.code == "invalid"
    theirs = make_task(other_community, starts_at=at(0))
    with pytest.raises(DomainError) as e:
        checkin.check_by_code(volunteer=v, code=theirs.code, now=at(0))
    assert e.value.code == "unknown_code"
    other = make_task(community, starts_at=at(0))
    with pytest.raises(DomainError) as e:
        checkin.check_by_code(volunteer=v, code=other.code, now=at(0))
    assert e.value.code == "no_place"
    place(other, v, status="waiting")
    with pytest.raises(DomainError) as e:
        checkin.check_by_code(volunteer=v, code=other.code, now=at(0))
    assert e.value.code == "waiting"


def test_late_check_out_is_credited_to_the_end(scene):
    v, task, s = scene
    checkin.check_by_code(volunteer=v, code=task.code, now=at(0))
    # Ends at +180; two hours after that the scan credits only up to the end.
    checkin.check_by_code(volunteer=v, code=task.code, now=at(180 + 121))
    s.refresh_from_db()
    assert s.checked_out_at == task.ends_at and s.minutes == 180


def test_leader_checks_in_people_without_phones(personas, community):
    team = Team.objects.create(community=community, name="测试组", kind="testing")
    lead = make_volunteer(community, user=personas["volunteer"], team=team)
    team.leader = lead
    team.save()
    elder = make_volunteer(community, name="老党员", team=team)  # no login
    task = make_task(community, starts_at=at(0), team=team)
    s = place(task, elder)
    with pytest.raises(Forbidden):
        checkin.check_in(actor=personas["resident"], signup=s, now=at(0))
    with pytest.raises(DomainError) as e:
        checkin.check_out(actor=personas["volunteer"], signup=s, now=at(0))
    assert e.value.code == "not_checked_in"
    checkin.check_in(actor=personas["volunteer"], signup=s, now=at(5))
    checkin.check_in(actor=personas["volunteer"], signup=s, now=at(9))  # twice is once
    checkin.check_out(actor=personas["staff"], signup=s, now=at(125))
    s.refresh_from_db()
    assert (s.checked_in_at, s.minutes) == (at(5), 120)
    assert s.checked_in_by_id == personas["volunteer"].pk
    assert s.checked_out_by_id == personas["staff"].pk


def test_leader_check_in_refused_when_declared_unwell(personas, community):
    v = make_volunteer(community)
    task = make_task(community, starts_at=at(0))
    s = place(task, v)
    declare(v, well=False)
    with pytest.raises(DomainError) as e:
        checkin.check_in(actor=personas["staff"], signup=s, now=at(0))
    assert e.value.code == "unwell"


def test_correct_keeps_the_before_and_after(scene, personas):
    v, task, s = scene
    checkin.check_by_code(volunteer=v, code=task.code, now=at(0))
    checkin.check_by_code(volunteer=v, code=task.code, now=at(30))
    staff = personas["staff"]
    with pytest.raises(DomainError) as e:
        checkin.correct(actor=staff, signup=s, minutes=90, reason="  ")
    assert e.value.fields.keys() == {"reason"}
    with pytest.raises(DomainError) as e:
        checkin.correct(actor=staff, signup=s, checked_out_at=at(-5), reason="x")
    assert "checked_out_at" in e.value.fields
    with pytest.raises(DomainError):
        checkin.correct(actor=staff, signup=s, minutes=24 * 60 + 1, reason="x")
    with pytest.raises(Forbidden):
        checkin.correct(actor=personas["volunteer"], signup=s, minutes=90, reason="x")
    checkin.correct(actor=staff, signup=s, checked_out_at=at(150), reason="忘记签退")
    s.refresh_from_db()
    assert s.minutes == 150
    c = Correction.objects.get(signup=s)
    assert (c.before_minutes, c.after_minutes, c.before_out, c.after_out) == (
        30,
        150,
        at(30),
        at(150),
    )
    checkin.correct(actor=staff, signup=s, minutes=120, reason="午休半小时")
    s.refresh_from_db()
    assert s.minutes == 120 and s.checked_out_at == at(150)
    assert Correction.objects.filter(signup=s).count() == 2
    assert AuditEvent.objects.filter(action="volunteers.correct").count() == 2


def test_correct_a_no_show_who_came_after_all(personas, community):
    v = make_volunteer(community)
    task = make_task(community, starts_at=at(0))
    s = place(task, v, status="no_show")
    checkin.correct(
        actor=personas["staff"], signup=s, checked_in_at=at(0), checked_out_at=at(60), reason="来了"
    )
    s.refresh_from_db()
    assert (s.status, s.minutes) == ("taken", 60)


def test_close_open_closes_at_the_end_after_two_hours(scene, community, other_community):
    v, task, s = scene
    checkin.check_by_code(volunteer=v, code=task.code, now=at(20))
    end = task.ends_at
    assert checkin.close_open(now=end + dt.timedelta(hours=2)) == 0  # not more than 2 h yet
    # Another community's open check-in is left alone when one community is closed.
    ov = make_volunteer(other_community)
    ot = make_task(other_community, starts_at=at(0))
    os_ = place(ot, ov)
    Signup.objects.filter(pk=os_.pk).update(checked_in_at=at(0))
    later = end + dt.timedelta(hours=2, minutes=1)
    assert checkin.close_open(community_id=community.pk, now=later) == 1
    s.refresh_from_db()
    assert (s.checked_out_at, s.minutes, s.auto_closed) == (end, 160, True)
    assert checkin.close_open(community_id=community.pk, now=later) == 0
    assert Signup.objects.get(pk=os_.pk).checked_out_at is None
    assert checkin.close_open(now=later) == 1


def test_the_same_scan_from_many_threads_is_one_check_in(personas, community, db_file):
    """A phone retrying, a double tap, two tabs: eight scans at once check in once (one audit
    row), and every caller is told "in"."""
    from shouwang.core.testing import run_at_once

    now = timezone.now()
    v = make_volunteer(community, user=personas["volunteer"])
    task = make_task(community, starts_at=now - dt.timedelta(minutes=5))
    s = place(task, v)
    Declaration.objects.create(community=community, volunteer=v, date=timezone.localdate(now))
    results, refusals = run_at_once(
        db_file, lambda _i: checkin.check_by_code(volunteer=v, code=task.code)[1], range(8)
    )
    assert not refusals and results == ["in"] * 8
    s.refresh_from_db()
    assert s.checked_in_at is not None and s.checked_out_at is None
    assert AuditEvent.objects.filter(action="volunteers.check_in").count() == 1
