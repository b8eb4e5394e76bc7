"""The acceptance test: a generated roster for 8 checkpoints over a week meets every rule or
names the gap. The rules are recomputed here minute by minute from the duties, independently of
roster.problems(); every gap the checker names must be real and every slot it does not name must
be filled."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict

import pytest
from django.utils import timezone

from shouwang.checkpoints import places, roster
from shouwang.checkpoints.models import Availability, Duty, DutyKind, Shift
from shouwang.checkpoints.services import policy_for
from shouwang.core import testing as t

MONDAY = dt.date(2030, 3, 4)
TZ = timezone.get_fixed_timezone(8 * 60)  # Asia/Shanghai, no summer time: plain minute maths
EPOCH = dt.datetime(2030, 3, 1, tzinfo=TZ)


def minute(at: dt.datetime) -> int:
    return int((at - EPOCH).total_seconds() // 60)


def day_of_minute(m: int) -> dt.date:
    return (EPOCH + dt.timedelta(minutes=m)).date()


def avail_minutes(rows) -> set[int]:
    """The person's availability as a set of minutes, written from the model's words (a weekday
    every week or a date; until before from runs past midnight; until equal to from: all day)."""
    out: set[int] = set()
    for i in range(-1, 9):
        day = MONDAY + dt.timedelta(i)
        for a in rows:
            if not (
                (a.date is not None and a.date == day)
                or (a.date is None and a.weekday == day.weekday())
            ):
                continue
            s = dt.datetime.combine(day, a.starts_at, tzinfo=TZ)
            e = dt.datetime.combine(day, a.ends_at, tzinfo=TZ)
            if e <= s:
                e += dt.timedelta(days=1)
            out.update(range(minute(s), minute(e)))
    return out


def build(community, rng):
    admin = t.make_user("admin", community, username="boss")
    cps = []
    compounds = [t.make_building(community, f"小区{i}", "1号楼").compound for i in range(11)]
    for i in range(8):
        cps.append(
            places.checkpoint_save(
                actor=admin, community=community, name=f"卡口{i + 1}", compound=compounds[i]
            )
        )
    grid = t.make_grid(community, "第1网格")
    committee = [admin]
    for _ in range(11):
        role = rng.choice(["staff", "grid_leader", "admin"])
        committee.append(t.make_user(role, community, grid=grid if role == "grid_leader" else None))
    volunteers = [t.make_user(rng.choice(["volunteer", "guard"]), community) for _ in range(40)]
    windows = [
        (dt.time(0), dt.time(0)),  # all day
        (dt.time(8), dt.time(20)),
        (dt.time(6), dt.time(14)),
        (dt.time(14), dt.time(23)),
        (dt.time(20), dt.time(6)),  # through midnight
        (dt.time(22), dt.time(8)),  # through midnight
        (dt.time(7, 30), dt.time(12, 15)),  # not on the hour
    ]
    for u in committee + volunteers:
        for wd in rng.sample(range(7), rng.randint(3, 7)):
            s, e = rng.choice(windows)
            Availability.objects.create(
                community=community, user=u, weekday=wd, starts_at=s, ends_at=e
            )
        if rng.random() < 0.3:  # one extra date
            s, e = rng.choice(windows)
            Availability.objects.create(
                community=community,
                user=u,
                date=MONDAY + dt.timedelta(rng.randint(0, 6)),
                starts_at=s,
                ends_at=e,
            )
    return admin, cps, committee, volunteers


def verify(community, cps, *, shifts=None):
    """Recompute every rule from the stored duties; compare with what the checker names."""
    policy = policy_for(community.pk)
    shifts = list(shifts or Shift.objects.filter(checkpoint__in=cps))
    duties = list(Duty.objects.filter(shift__in=shifts).select_related("user", "shift"))
    assert duties, "the generator made nothing"

    # --- person rules
    by_user = defaultdict(list)
    for d in duties:
        by_user[d.user_id].append(d)
        assert d.shift.starts_at <= d.starts_at < d.ends_at <= d.shift.ends_at
        allowed = {
            "committee": {"admin", "staff", "grid_leader"},
            "rotation": {"volunteer", "guard", "staff"},
        }
        assert d.user.role in allowed[d.kind]
    avail = defaultdict(list)
    for a in Availability.objects.filter(community=community):
        avail[a.user_id].append(a)
    for uid, ds in by_user.items():
        used = Counter()
        for d in ds:
            used.update(range(minute(d.starts_at), minute(d.ends_at)))
        assert max(used.values()) == 1, f"user {uid} in two places at once"
        free = avail_minutes(avail[uid])
        assert set(used) <= free, f"user {uid} on duty outside availability"
        per_day = Counter(day_of_minute(m) for m in used)
        assert max(per_day.values()) <= policy.max_hours_per_day * 60, f"user {uid} over the cap"
        ms = sorted(used)
        for a, b in zip(ms, ms[1:], strict=False):
            if b != a + 1:  # a gap between blocks
                assert b - a - 1 >= policy.min_rest_hours * 60, f"user {uid} rests too little"

    # --- coverage, minute by minute, against the named gaps
    found = roster.problems(community=community, shifts=shifts)
    assert [p for p in found if not p.is_gap] == [], [p.message for p in found if not p.is_gap]
    named = defaultdict(Counter)  # (shift, kind) -> minute -> missing
    for p in found:
        kind = "committee" if p.code == roster.Code.NO_COMMITTEE else "rotation"
        for m in range(minute(p.starts_at), minute(p.ends_at)):
            assert named[(p.shift_id, kind)][m] == 0, "a gap named twice"
            named[(p.shift_id, kind)][m] = p.missing
    short_minutes = 0
    for sh in shifts:
        for kind, need in (
            ("committee", policy.committee_per_shift),
            ("rotation", policy.guards_per_rotation),
        ):
            here = Counter()
            for d in duties:
                if d.shift_id == sh.pk and d.kind == kind:
                    here.update(range(minute(d.starts_at), minute(d.ends_at)))
            for m in range(minute(sh.starts_at), minute(sh.ends_at)):
                missing = max(0, need - here[m])
                assert named[(sh.pk, kind)][m] == missing, (
                    f"shift {sh} {kind} minute {m}: {missing} missing, checker says "
                    f"{named[(sh.pk, kind)][m]}"
                )
                short_minutes += missing
    return duties, found, short_minutes


@pytest.mark.django_db
def test_a_week_for_8_checkpoints_meets_every_rule_or_names_the_gap(community):
    rng = random.Random(7)
    admin, cps, committee, volunteers = build(community, rng)
    result = roster.generate(
        actor=admin, community=community, checkpoints=cps, start=MONDAY, days=7
    )
    assert len(result.shifts) == 8 * 7 * 3
    duties, found, short = verify(community, cps, shifts=result.shifts)
    assert result.problems == found
    # It works hard: most of the week is staffed, and the gaps are mostly the committee's (12
    # people cannot stand 24 shifts a day at 8 hours each).
    rotation = [d for d in duties if d.kind == DutyKind.ROTATION]
    rotation_hours = sum((d.ends_at - d.starts_at).total_seconds() for d in rotation) / 3600
    assert rotation_hours >= 0.8 * 8 * 24 * 7
    committee_hours = (
        sum(
            (d.ends_at - d.starts_at).total_seconds()
            for d in duties
            if d.kind == DutyKind.COMMITTEE
        )
        / 3600
    )
    # (at most 12 × 8 × 7 = 672 hours, less what their availability leaves out)
    assert committee_hours >= 300
    # Fair: among volunteers who gave much availability, hours differ by little.
    hours = Counter()
    for d in rotation:
        hours[d.user_id] += (d.ends_at - d.starts_at).total_seconds() / 3600
    busy = [hours[v.pk] for v in volunteers]
    assert max(busy) <= 8 * 7 and sum(1 for h in busy if h == 0) <= 4


@pytest.mark.django_db
def test_regenerate_keeps_hand_made_duties_and_fills_only_the_gaps(community):
    rng = random.Random(11)
    admin, cps, committee, volunteers = build(community, rng)
    first = roster.generate(
        actor=admin, community=community, checkpoints=cps[:2], start=MONDAY, days=2
    )
    some = Duty.objects.filter(shift__in=first.shifts).order_by("pk")
    hand = some.first()
    roster.duty_move(actor=admin, duty=hand, user=hand.user)  # made by hand now
    removed = some.last()
    removed_slot = (removed.shift_id, removed.kind, removed.starts_at, removed.ends_at)
    roster.duty_remove(actor=admin, duty=removed)
    before = set(Duty.objects.values_list("pk", flat=True))
    again = roster.generate(
        actor=admin, community=community, checkpoints=cps[:2], start=MONDAY, days=2
    )
    after = set(Duty.objects.values_list("pk", flat=True))
    assert before <= after  # nothing removed
    made = Duty.objects.filter(pk__in=after - before)
    assert again.made == made.count() >= 1
    assert any((d.shift_id, d.kind, d.starts_at, d.ends_at) == removed_slot for d in made) or any(
        p.shift_id == removed_slot[0] for p in again.gaps
    )
    verify(community, cps[:2], shifts=again.shifts)
    # Start over: generated duties go, the hand-made one stays.
    third = roster.generate(
        actor=admin, community=community, checkpoints=cps[:2], start=MONDAY, days=2, replace=True
    )
    assert Duty.objects.filter(pk=hand.pk, generated=False).exists()
    assert third.removed >= 1
    verify(community, cps[:2], shifts=third.shifts)


@pytest.mark.django_db
def test_enough_people_round_the_clock_leave_no_gap(community):
    admin = t.make_user("admin", community)
    cp = places.checkpoint_save(actor=admin, community=community, name="东门")
    people = [t.make_user("staff", community) for _ in range(3)] + [
        t.make_user("volunteer", community) for _ in range(6)
    ]
    for u in people:
        for wd in range(7):
            Availability.objects.create(
                community=community, user=u, weekday=wd, starts_at=dt.time(0), ends_at=dt.time(0)
            )
    result = roster.generate(
        actor=admin, community=community, checkpoints=[cp], start=MONDAY, days=7
    )
    assert result.problems == []
    _, found, short = verify(community, [cp], shifts=result.shifts)
    assert short == 0 and found == []


@pytest.mark.django_db
def test_nobody_available_means_every_slot_is_a_named_gap(community):
    admin = t.make_user("admin", community)
    cp = places.checkpoint_save(actor=admin, community=community, name="东门")
    result = roster.generate(
        actor=admin, community=community, checkpoints=[cp], start=MONDAY, days=1
    )
    assert result.made == 0
    assert {p.code for p in result.problems} == {
        roster.Code.NO_COMMITTEE,
        roster.Code.SHORT_ROTATION,
    }
    assert sum(1 for p in result.problems if p.code == roster.Code.NO_COMMITTEE) == 3
    # one rotation gap per slot: four slots of two hours in each of the three shifts
    assert sum(1 for p in result.problems if p.code == roster.Code.SHORT_ROTATION) == 12
