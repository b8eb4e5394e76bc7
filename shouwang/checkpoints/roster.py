"""Duty rosters: shifts per checkpoint per day, who stands there, the rules, the generator, the
checker, hand edits and check-in.

Dongtian staffed its gates in three shifts round the clock with at least one committee member on
every shift and volunteers rotating every two hours. The rules (the community's Policy):

* every shift has `committee_per_shift` committee members (users with role admin, staff or grid
  leader) throughout; every rotation slot (`rotation_hours`) has `guards_per_rotation`
  volunteers, guards or staff;
* nobody is in two places at once;
* at most `max_hours_per_day` hours per person per calendar day (a duty through midnight counts
  on both days);
* at least `min_rest_hours` between two duty blocks of one person — duties that touch (one ends
  when the next begins, at any checkpoint) form one block;
* people stand only within their availability (a weekday every week or one date, from–until;
  until before from runs through midnight, until equal to from is the whole day).

The generator never breaks a rule to fill a slot: it leaves the gap, and the checker names it.
It also never makes one continuous block longer than the daily cap: 16 hours straight across
midnight would meet both rules on paper and still leave someone asleep at the gate.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from shouwang.accounts.models import Role, User
from shouwang.accounts.permissions import can
from shouwang.accounts.scope import get_scoped, scope_queryset
from shouwang.checkpoints.models import Availability, Checkpoint, Duty, DutyKind, Policy, Shift
from shouwang.checkpoints.services import policy_for
from shouwang.core.audit import audit
from shouwang.core.errors import Conflict, DomainError, Forbidden, invalid
from shouwang.volunteers.busy import busy_of

COMMITTEE_ROLES = frozenset({Role.ADMIN, Role.STAFF, Role.GRID_LEADER})
ROTATION_ROLES = frozenset({Role.VOLUNTEER, Role.GUARD, Role.STAFF})
ROLES_FOR = {DutyKind.COMMITTEE: COMMITTEE_ROLES, DutyKind.ROTATION: ROTATION_ROLES}
# A person may check in this long before their duty starts.
EARLY_CHECK_IN = dt.timedelta(minutes=30)
MAX_DAYS = 31
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)

Interval = tuple[dt.datetime, dt.datetime]


# --- time -------------------------------------------------------------------------------------


def local(day: dt.date, t: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, t))


def local_day(at: dt.datetime) -> dt.date:
    return timezone.localtime(at).date()


def shift_times(policy: Policy, day: dt.date) -> list[Interval]:
    """The day's shifts: from first_shift_at, shift_hours each, round the clock (the last one of
    the day runs into the next morning)."""
    first = policy.first_shift_at
    if isinstance(first, str):
        first = dt.time.fromisoformat(first)
    base = local(day, first)
    step = dt.timedelta(hours=policy.shift_hours)
    return [(base + i * step, base + (i + 1) * step) for i in range(24 // policy.shift_hours)]


def range_bounds(policy: Policy, start: dt.date, days: int) -> Interval:
    return shift_times(policy, start)[0][0], shift_times(policy, start + dt.timedelta(days))[0][0]


def slots_of(policy: Policy, starts_at: dt.datetime, ends_at: dt.datetime) -> list[Interval]:
    """Rotation slots of a shift (the last one cut at the shift's end)."""
    step = dt.timedelta(hours=policy.rotation_hours)
    out, s = [], starts_at
    while s < ends_at:
        out.append((s, min(s + step, ends_at)))
        s += step
    return out


def hours(seconds: float) -> str:
    m = round(seconds / 60)
    return f"{m // 60} h" if m % 60 == 0 else f"{m // 60} h {m % 60:02d} min"


def when(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%m-%d %H:%M")


def span(s: dt.datetime, e: dt.datetime) -> str:
    ls, le = timezone.localtime(s), timezone.localtime(e)
    return (
        f"{ls:%m-%d %H:%M}–{le:%H:%M}"
        if ls.date() == le.date()
        else f"{ls:%m-%d %H:%M}–{le:%m-%d %H:%M}"
    )


# --- interval arithmetic (pure) ---------------------------------------------------------------


def merge(intervals) -> list[Interval]:
    """Union of intervals; touching ones join (that is what makes a duty block)."""
    out: list[list] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def within(windows: list[Interval], s: dt.datetime, e: dt.datetime) -> bool:
    return any(ws <= s and e <= we for ws, we in windows)


def outside(windows: list[Interval], s: dt.datetime, e: dt.datetime) -> list[Interval]:
    """The parts of [s, e) not covered by the (merged) windows."""
    parts, cur = [], s
    for ws, we in windows:
        if we <= cur or ws >= e:
            continue
        if ws > cur:
            parts.append((cur, ws))
        cur = max(cur, we)
        if cur >= e:
            break
    if cur < e:
        parts.append((cur, e))
    return parts


def per_day(intervals) -> dict[dt.date, float]:
    """Seconds on duty per local calendar day (a duty through midnight counts on both days)."""
    out: dict[dt.date, float] = defaultdict(float)
    for s, e in intervals:
        cur = s
        while cur < e:
            day = local_day(cur)
            nxt = min(e, local(day + DAY, dt.time(0)))
            out[day] += (nxt - cur).total_seconds()
            cur = nxt
    return out


def cover_segments(intervals, a: dt.datetime, b: dt.datetime, need: int) -> list[tuple]:
    """The parts of [a, b) where fewer than `need` of the intervals are present, as
    (start, end, missing), neighbouring parts with the same shortfall joined."""
    if need <= 0:
        return []
    points = {a, b}
    for s, e in intervals:
        if s < b and e > a:
            points.add(max(s, a))
            points.add(min(e, b))
    points = sorted(points)
    out: list[list] = []
    for s, e in zip(points, points[1:], strict=False):
        n = sum(1 for ds, de in intervals if ds <= s and de >= e)
        missing = need - n
        if missing <= 0:
            continue
        if out and out[-1][1] == s and out[-1][2] == missing:
            out[-1][1] = e
        else:
            out.append([s, e, missing])
    return [tuple(x) for x in out]


def min_cover(intervals, a: dt.datetime, b: dt.datetime) -> int:
    points = {a, b}
    for s, e in intervals:
        if s < b and e > a:
            points.add(max(s, a))
            points.add(min(e, b))
    points = sorted(points)
    return min(
        sum(1 for ds, de in intervals if ds <= s and de >= e)
        for s, e in zip(points, points[1:], strict=False)
    )


def availability_windows(rows, first: dt.date, last: dt.date) -> list[Interval]:
    """A person's availability as merged intervals over the days first..last (and the evening
    before, which may run through midnight into `first`)."""
    out = []
    day = first - DAY
    while day <= last:
        for a in rows:
            if (a.date is not None and a.date == day) or (
                a.date is None and a.weekday == day.weekday()
            ):
                s = local(day, a.starts_at)
                e = local(day, a.ends_at)
                if e <= s:
                    e += DAY
                out.append((s, e))
        day += DAY
    return merge(out)


# --- the rules, for one person ----------------------------------------------------------------


@dataclass
class Person:
    user: User
    windows: list[Interval]
    busy: list[Interval] = field(default_factory=list)  # sorted

    def add(self, s, e):
        self.busy.append((s, e))
        self.busy.sort()

    def fits(self, policy: Policy, s: dt.datetime, e: dt.datetime) -> bool:
        """Could this person take [s, e) without breaking a rule (or making a block longer than
        the daily cap)?"""
        if not within(self.windows, s, e):
            return False
        if any(bs < e and s < be for bs, be in self.busy):
            return False
        cap = policy.max_hours_per_day * 3600
        days = per_day([*self.busy, (s, e)])
        for day in per_day([(s, e)]):
            if days[day] > cap:
                return False
        blocks = merge([*self.busy, (s, e)])
        rest = dt.timedelta(hours=policy.min_rest_hours)
        for i, (bs, be) in enumerate(blocks):
            if bs <= s and e <= be:
                if (be - bs).total_seconds() > cap:
                    return False
                if i > 0 and bs - blocks[i - 1][1] < rest:
                    return False
                if i + 1 < len(blocks) and blocks[i + 1][0] - be < rest:
                    return False
                break
        return True

    def hours_between(self, a, b) -> float:
        return sum((min(e, b) - max(s, a)).total_seconds() for s, e in self.busy if s < b and e > a)


# --- reads ------------------------------------------------------------------------------------


def shifts_for(user):
    return scope_queryset(user, Shift.objects.select_related("checkpoint"))


def shift_get_for(user, pk) -> Shift:
    return get_scoped(user, Shift.objects.select_related("checkpoint"), pk)


def duty_get_for(user, pk) -> Duty:
    return get_scoped(user, Duty.objects.select_related("user", "shift__checkpoint"), pk)


def availability_get_for(user, pk) -> Availability:
    return get_scoped(user, Availability.objects.all(), pk)


def eligible_people(community_id, kind: str | None = None):
    roles = COMMITTEE_ROLES | ROTATION_ROLES if kind is None else ROLES_FOR[kind]
    return User.objects.filter(community_id=community_id, is_active=True, role__in=roles).order_by(
        "role", "display_name", "username"
    )


def shifts_in(community_id, checkpoints, start: dt.date, days: int, policy=None):
    policy = policy or policy_for(community_id)
    a, b = range_bounds(policy, start, days)
    return (
        Shift.objects.filter(
            community_id=community_id,
            checkpoint__in=list(checkpoints),
            starts_at__lt=b,
            ends_at__gt=a,
        )
        .select_related("checkpoint")
        .order_by("starts_at", "checkpoint__name", "checkpoint_id")
    )


# --- shifts -----------------------------------------------------------------------------------


def _check_range(start, days):
    if start is None:
        raise invalid("start", _("Give the first day."))
    if not 1 <= days <= MAX_DAYS:
        raise invalid("days", _("Between 1 and %(n)s days at a time.") % {"n": MAX_DAYS})


def shifts_make(*, community, checkpoints, start: dt.date, days: int) -> list[Shift]:
    """The shifts of these checkpoints over the days, made where missing (a shift is not made
    where the checkpoint already has one overlapping it, as after a change of shift length)."""
    _check_range(start, days)
    policy = policy_for(community.pk)
    a, b = range_bounds(policy, start, days)
    existing = defaultdict(list)
    for s in Shift.objects.filter(
        community_id=community.pk,
        checkpoint__in=checkpoints,
        starts_at__lt=b + DAY,
        ends_at__gt=a - DAY,
    ):
        existing[s.checkpoint_id].append((s.starts_at, s.ends_at))
    new = []
    for cp in checkpoints:
        for i in range(days):
            for s, e in shift_times(policy, start + dt.timedelta(i)):
                if any(xs < e and s < xe for xs, xe in existing[cp.pk]):
                    continue
                new.append(Shift(community_id=community.pk, checkpoint=cp, starts_at=s, ends_at=e))
                existing[cp.pk].append((s, e))
    Shift.objects.bulk_create(new, ignore_conflicts=True)
    return list(shifts_in(community.pk, checkpoints, start, days, policy))


# --- the checker ------------------------------------------------------------------------------


class Code:
    NO_COMMITTEE = "no_committee"
    SHORT_ROTATION = "short_rotation"
    OVERLAP = "overlap"
    OVER_CAP = "over_cap"
    SHORT_REST = "short_rest"
    UNAVAILABLE = "unavailable"
    WRONG_ROLE = "wrong_role"


GAPS = {Code.NO_COMMITTEE, Code.SHORT_ROTATION}
LABELS = {
    Code.NO_COMMITTEE: _("no committee member"),
    Code.SHORT_ROTATION: _("rotation short of people"),
    Code.OVERLAP: _("two places at once"),
    Code.OVER_CAP: _("over the daily cap"),
    Code.SHORT_REST: _("too little rest"),
    Code.UNAVAILABLE: _("outside availability"),
    Code.WRONG_ROLE: _("wrong role for this duty"),
}


@dataclass
class Problem:
    code: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    message: str
    checkpoint_id: int | None = None
    shift_id: int | None = None
    user_id: int | None = None
    duty_ids: tuple = ()
    missing: int = 0

    @property
    def is_gap(self) -> bool:
        return self.code in GAPS

    @property
    def label(self) -> str:
        return str(LABELS[self.code])


def _name(u) -> str:
    return u.display_name or u.username


def problems(*, community, shifts, duties=None) -> list[Problem]:
    """Every gap in these shifts and every rule broken by their duties, with the person and the
    time. A person's duties elsewhere (other checkpoints, the days around) count for the
    person's rules, but only problems touching these shifts' duties are listed."""
    shifts = list(shifts)
    policy = policy_for(community.pk)
    if duties is None:
        duties = list(Duty.objects.filter(shift__in=shifts).select_related("user"))
    duties = list(duties)
    out: list[Problem] = []
    by_shift = defaultdict(list)
    for d in duties:
        by_shift[d.shift_id].append(d)
    for sh in sorted(shifts, key=lambda s: (s.starts_at, s.checkpoint_id)):
        cp_name = sh.checkpoint.name
        mine = by_shift.get(sh.pk, [])
        committee = [(d.starts_at, d.ends_at) for d in mine if d.kind == DutyKind.COMMITTEE]
        for s, e, missing in cover_segments(
            committee, sh.starts_at, sh.ends_at, policy.committee_per_shift
        ):
            out.append(
                Problem(
                    Code.NO_COMMITTEE,
                    s,
                    e,
                    _g("%(cp)s %(when)s: %(n)s committee member(s) missing")
                    % {"cp": cp_name, "when": span(s, e), "n": missing},
                    checkpoint_id=sh.checkpoint_id,
                    shift_id=sh.pk,
                    missing=missing,
                )
            )
        rotation = [(d.starts_at, d.ends_at) for d in mine if d.kind == DutyKind.ROTATION]
        for a, b in slots_of(policy, sh.starts_at, sh.ends_at):
            for s, e, missing in cover_segments(rotation, a, b, policy.guards_per_rotation):
                out.append(
                    Problem(
                        Code.SHORT_ROTATION,
                        s,
                        e,
                        _g("%(cp)s %(when)s: rotation short of %(n)s person(s)")
                        % {"cp": cp_name, "when": span(s, e), "n": missing},
                        checkpoint_id=sh.checkpoint_id,
                        shift_id=sh.pk,
                        missing=missing,
                    )
                )
    out.extend(_person_problems(community.pk, policy, duties))
    return out


def _person_problems(community_id, policy, duties) -> list[Problem]:
    if not duties:
        return []
    mine_ids = {d.pk for d in duties}
    users = {d.user_id for d in duties}
    lo = min(d.starts_at for d in duties) - 2 * DAY
    hi = max(d.ends_at for d in duties) + 2 * DAY
    every = defaultdict(dict)
    for d in Duty.objects.filter(
        community_id=community_id, user_id__in=users, starts_at__lt=hi, ends_at__gt=lo
    ).select_related("user", "shift__checkpoint"):
        every[d.user_id][d.pk] = d
    for d in duties:  # the given rows win over the stored ones (an edit being checked)
        every[d.user_id][d.pk] = d
    avail = defaultdict(list)
    for a in Availability.objects.filter(community_id=community_id, user_id__in=users):
        avail[a.user_id].append(a)
    cap = policy.max_hours_per_day * 3600
    rest = dt.timedelta(hours=policy.min_rest_hours)
    # Volunteer tasks and shifts of the same people: one person, one body.
    elsewhere = busy_of(users, lo, hi)
    out: list[Problem] = []
    for uid, by_pk in every.items():
        rows = sorted(by_pk.values(), key=lambda d: (d.starts_at, d.ends_at, d.pk or 0))
        other = elsewhere.get(uid, [])
        spans = [(d.starts_at, d.ends_at) for d in rows] + [(s, e) for s, e, _t in other]
        user = rows[0].user
        name = _name(user)
        # wrong role, outside availability: per duty of ours
        windows = availability_windows(
            avail[uid], local_day(rows[0].starts_at), local_day(rows[-1].ends_at)
        )
        for d in rows:
            if d.pk not in mine_ids:
                continue
            if user.role not in ROLES_FOR[d.kind]:
                out.append(
                    Problem(
                        Code.WRONG_ROLE,
                        d.starts_at,
                        d.ends_at,
                        _g("%(who)s (%(role)s) cannot stand as %(kind)s, %(when)s")
                        % {
                            "who": name,
                            "role": user.get_role_display(),
                            "kind": d.get_kind_display(),
                            "when": span(d.starts_at, d.ends_at),
                        },
                        user_id=uid,
                        duty_ids=(d.pk,),
                    )
                )
            for s, e in outside(windows, d.starts_at, d.ends_at):
                out.append(
                    Problem(
                        Code.UNAVAILABLE,
                        s,
                        e,
                        _g("%(who)s is not available %(when)s") % {"who": name, "when": span(s, e)},
                        user_id=uid,
                        duty_ids=(d.pk,),
                    )
                )
        # two places at once
        for i, d in enumerate(rows):
            for o in rows[i + 1 :]:
                if o.starts_at >= d.ends_at:
                    break
                if d.pk in mine_ids or o.pk in mine_ids:
                    out.append(
                        Problem(
                            Code.OVERLAP,
                            o.starts_at,
                            min(d.ends_at, o.ends_at),
                            _g("%(who)s is at %(a)s and %(b)s at once, %(when)s")
                            % {
                                "who": name,
                                "a": d.shift.checkpoint.name,
                                "b": o.shift.checkpoint.name,
                                "when": span(o.starts_at, min(d.ends_at, o.ends_at)),
                            },
                            user_id=uid,
                            duty_ids=(d.pk, o.pk),
                        )
                    )
        for d in rows:
            if d.pk not in mine_ids:
                continue
            for s, e, title in other:
                if s < d.ends_at and d.starts_at < e:
                    out.append(
                        Problem(
                            Code.OVERLAP,
                            max(s, d.starts_at),
                            min(e, d.ends_at),
                            _g(
                                "%(who)s is at %(a)s and at the volunteer task %(b)s at once, %(when)s"
                            )
                            % {
                                "who": name,
                                "a": d.shift.checkpoint.name,
                                "b": title,
                                "when": span(max(s, d.starts_at), min(e, d.ends_at)),
                            },
                            user_id=uid,
                            duty_ids=(d.pk,),
                        )
                    )
        # daily cap
        ours = [d for d in rows if d.pk in mine_ids]
        our_days = set(per_day([(d.starts_at, d.ends_at) for d in ours]))
        for day, secs in sorted(per_day(spans).items()):
            if secs > cap and day in our_days:
                out.append(
                    Problem(
                        Code.OVER_CAP,
                        local(day, dt.time(0)),
                        local(day + DAY, dt.time(0)),
                        _g("%(who)s: %(h)s on duty on %(day)s, more than %(cap)s h")
                        % {
                            "who": name,
                            "h": hours(secs),
                            "day": day.isoformat(),
                            "cap": policy.max_hours_per_day,
                        },
                        user_id=uid,
                        duty_ids=tuple(
                            d.pk for d in ours if day in per_day([(d.starts_at, d.ends_at)])
                        ),
                    )
                )
        # rest between blocks
        blocks = merge(spans)
        for (s1, e1), (s2, e2) in zip(blocks, blocks[1:], strict=False):
            if s2 - e1 >= rest:
                continue
            involved = tuple(
                d.pk
                for d in ours
                if (s1 <= d.starts_at and d.ends_at <= e1)
                or (s2 <= d.starts_at and d.ends_at <= e2)
            )
            if not involved:
                continue
            out.append(
                Problem(
                    Code.SHORT_REST,
                    e1,
                    s2,
                    _g("%(who)s rests only %(h)s between %(a)s and %(b)s (at least %(min)s h)")
                    % {
                        "who": name,
                        "h": hours((s2 - e1).total_seconds()),
                        "a": when(e1),
                        "b": when(s2),
                        "min": policy.min_rest_hours,
                    },
                    user_id=uid,
                    duty_ids=involved,
                )
            )
    return out


# --- the generator ----------------------------------------------------------------------------


@dataclass
class Generated:
    shifts: list[Shift]
    made: int
    removed: int
    problems: list[Problem]

    @property
    def gaps(self) -> list[Problem]:
        return [p for p in self.problems if p.is_gap]


def generate(
    *, actor, community, checkpoints, start: dt.date, days: int = 7, replace: bool = False
) -> Generated:
    """Fill the roster of these checkpoints over the days from people's availability. Duties
    already there stay (hand-made ones always; generated ones too unless `replace`, which
    removes generated duties nobody has checked in to). Committee members first on each shift,
    then the rotation slots, in time order; among those who fit, the fewest hours first."""
    checkpoints = [cp for cp in checkpoints if cp.is_active]
    if not checkpoints:
        raise invalid("checkpoint_ids", _("Choose at least one checkpoint in use."))
    if any(cp.community_id != community.pk for cp in checkpoints):
        raise invalid("checkpoint_ids", _("Choose checkpoints of your own community."))
    _check_range(start, days)
    with transaction.atomic():
        # One generator at a time per community: two would both see the same empty slot.
        policy = Policy.objects.select_for_update().get(pk=policy_for(community.pk).pk)
        shifts = shifts_make(community=community, checkpoints=checkpoints, start=start, days=days)
        a, b = range_bounds(policy, start, days)
        removed = 0
        if replace:
            removed, _kinds = Duty.objects.filter(
                shift__in=shifts, generated=True, checked_in_at=None
            ).delete()
        people = {u.pk: u for u in eligible_people(community.pk)}
        avail = defaultdict(list)
        for row in Availability.objects.filter(community_id=community.pk, user_id__in=people):
            avail[row.user_id].append(row)
        first, last = local_day(a) - DAY, local_day(b) + DAY
        person = {
            uid: Person(u, availability_windows(avail[uid], first, last))
            for uid, u in people.items()
        }
        existing = list(
            Duty.objects.filter(
                community_id=community.pk, starts_at__lt=b + 2 * DAY, ends_at__gt=a - 2 * DAY
            )
        )
        by_shift = defaultdict(list)
        for d in existing:
            if d.user_id in person:
                person[d.user_id].add(d.starts_at, d.ends_at)
            by_shift[d.shift_id].append(d)
        # Volunteer tasks and shifts the same people already serve.
        for uid, spans in busy_of(person, a - 2 * DAY, b + 2 * DAY).items():
            for s, e, _title in spans:
                person[uid].add(s, e)
        new: list[Duty] = []

        def pick(kind, s, e):
            day_a = local(local_day(s), dt.time(0))
            fits = [
                p
                for p in person.values()
                if p.user.role in ROLES_FOR[kind] and p.windows and p.fits(policy, s, e)
            ]
            if not fits:
                return None
            # Committee members are the scarce ones: staff take a rotation only when no volunteer
            # or guard fits.
            return min(
                fits,
                key=lambda p: (
                    kind == DutyKind.ROTATION and p.user.role in COMMITTEE_ROLES,
                    p.hours_between(a, b),
                    p.hours_between(day_a, day_a + DAY),
                    p.user.pk,
                ),
            )

        def place(kind, sh, p, s, e):
            p.add(s, e)
            d = Duty(
                community_id=community.pk,
                shift=sh,
                user=p.user,
                kind=kind,
                starts_at=s,
                ends_at=e,
                generated=True,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            new.append(d)
            by_shift[sh.pk].append(d)

        for sh in shifts:
            if not sh.checkpoint.is_active:
                continue
            slots = slots_of(policy, sh.starts_at, sh.ends_at)
            # committee: the longest run of uncovered slots one person can take
            given_up: set[int] = set()
            while True:
                have = [
                    (d.starts_at, d.ends_at)
                    for d in by_shift[sh.pk]
                    if d.kind == DutyKind.COMMITTEE
                ]
                needing = [
                    i
                    for i, (s, e) in enumerate(slots)
                    if i not in given_up and min_cover(have, s, e) < policy.committee_per_shift
                ]
                if not needing:
                    break
                run = [needing[0]]
                while run[-1] + 1 in needing:
                    run.append(run[-1] + 1)
                for n in range(len(run), 0, -1):
                    s, e = slots[run[0]][0], slots[run[n - 1]][1]
                    p = pick(DutyKind.COMMITTEE, s, e)
                    if p is not None:
                        place(DutyKind.COMMITTEE, sh, p, s, e)
                        break
                else:
                    given_up.add(run[0])
            # rotation: slot by slot
            for s, e in slots:
                while True:
                    have = [
                        (d.starts_at, d.ends_at)
                        for d in by_shift[sh.pk]
                        if d.kind == DutyKind.ROTATION
                    ]
                    if min_cover(have, s, e) >= policy.guards_per_rotation:
                        break
                    p = pick(DutyKind.ROTATION, s, e)
                    if p is None:
                        break
                    place(DutyKind.ROTATION, sh, p, s, e)
        Duty.objects.bulk_create(new)
        audit(
            actor=actor,
            action="checkpoints.roster_generate",
            community=community.pk,
            target_type="checkpoints.shift",
            summary=f"{start} +{days}d, {len(checkpoints)} checkpoints: {len(new)} duties made, "
            f"{removed} removed",
        )
    return Generated(
        shifts=shifts,
        made=len(new),
        removed=removed,
        problems=problems(community=community, shifts=shifts),
    )


# --- hand edits -------------------------------------------------------------------------------


def _times(shift: Shift, starts_at, ends_at) -> Interval:
    s = starts_at or shift.starts_at
    e = ends_at or shift.ends_at
    if e <= s:
        raise invalid("ends_at", _("The duty must end after it starts."))
    if s < shift.starts_at or e > shift.ends_at:
        raise invalid(
            "starts_at",
            _("A duty lies within its shift (%(span)s).")
            % {"span": span(shift.starts_at, shift.ends_at)},
        )
    return s, e


def _person_for(shift: Shift, user: User, kind: str) -> User:
    if user is None or user.community_id != shift.community_id or not user.is_active:
        raise invalid("user", _("Choose a person of your own community."))
    if kind not in DutyKind.values:
        raise invalid("kind", _("Choose committee member or volunteer/guard."))
    if user.role not in ROLES_FOR[kind]:
        raise invalid(
            "user",
            _("%(who)s (%(role)s) cannot stand as %(kind)s.")
            % {"who": _name(user), "role": user.get_role_display(), "kind": DutyKind(kind).label},
        )
    return user


@transaction.atomic
def duty_add(*, actor, shift: Shift, user: User, kind: str, starts_at=None, ends_at=None) -> Duty:
    """Put someone on a shift by hand (default: the whole shift). A rule broken is not refused —
    the roster shows it — but a person twice on the same times is."""
    _person_for(shift, user, kind)
    s, e = _times(shift, starts_at, ends_at)
    if Duty.objects.filter(shift=shift, user=user, starts_at__lt=e, ends_at__gt=s).exists():
        raise Conflict(
            "duplicate", _("%(who)s is already on this shift then.") % {"who": _name(user)}
        )
    d = Duty.objects.create(
        community_id=shift.community_id,
        shift=shift,
        user=user,
        kind=kind,
        starts_at=s,
        ends_at=e,
        generated=False,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit(
        actor=actor,
        action="checkpoints.duty_add",
        community=shift.community_id,
        target=d,
        summary=f"{_name(user)} {kind} {shift.checkpoint.name} {span(s, e)}",
    )
    return d


@transaction.atomic
def duty_move(
    *,
    actor,
    duty: Duty,
    shift: Shift | None = None,
    user: User | None = None,
    kind=None,
    starts_at=None,
    ends_at=None,
) -> Duty:
    """Change a duty's person, shift or times. It becomes hand-made (regenerating keeps it)."""
    duty = (
        Duty.objects.select_for_update().select_related("shift__checkpoint", "user").get(pk=duty.pk)
    )
    if duty.checked_in_at is not None:
        raise Conflict(
            "checked_in",
            _("%(who)s has checked in to this duty: it stays as it is. Add a new duty instead.")
            % {"who": _name(duty.user)},
        )
    shift = shift or duty.shift
    if shift.community_id != duty.community_id:
        raise invalid("shift", _("Choose a shift of your own community."))
    user = user or duty.user
    kind = kind or duty.kind
    _person_for(shift, user, kind)
    if shift.pk != duty.shift_id and starts_at is None and ends_at is None:
        # moved to another shift: keep the offset within the shift and the length
        offset = duty.starts_at - duty.shift.starts_at
        starts_at = shift.starts_at + offset
        ends_at = starts_at + (duty.ends_at - duty.starts_at)
    s, e = _times(shift, starts_at or duty.starts_at, ends_at or duty.ends_at)
    if (
        Duty.objects.filter(shift=shift, user=user, starts_at__lt=e, ends_at__gt=s)
        .exclude(pk=duty.pk)
        .exists()
    ):
        raise Conflict(
            "duplicate", _("%(who)s is already on this shift then.") % {"who": _name(user)}
        )
    before = f"{_name(duty.user)} {duty.shift.checkpoint.name} {span(duty.starts_at, duty.ends_at)}"
    duty.shift, duty.user, duty.kind, duty.starts_at, duty.ends_at = shift, user, kind, s, e
    duty.generated = False
    duty.save(update_fields=["shift", "user", "kind", "starts_at", "ends_at", "generated"])
    audit(
        actor=actor,
        action="checkpoints.duty_move",
        community=duty.community_id,
        target=duty,
        summary=f"{before} → {_name(user)} {shift.checkpoint.name} {span(s, e)}",
    )
    return duty


@transaction.atomic
def duty_remove(*, actor, duty: Duty) -> None:
    duty = (
        Duty.objects.select_for_update().select_related("user", "shift__checkpoint").get(pk=duty.pk)
    )
    if duty.checked_in_at is not None:
        raise Conflict(
            "checked_in",
            _("%(who)s has checked in to this duty: it is a record of who stood there and stays.")
            % {"who": _name(duty.user)},
        )
    audit(
        actor=actor,
        action="checkpoints.duty_remove",
        community=duty.community_id,
        target=duty,
        summary=f"{_name(duty.user)} {duty.shift.checkpoint.name} {span(duty.starts_at, duty.ends_at)}",
    )
    duty.delete()


# --- check-in ---------------------------------------------------------------------------------


def leads(actor, duty: Duty, now: dt.datetime) -> bool:
    """May `actor` check someone else in to this duty? Those who make rosters, and the committee
    member on duty on the same shift at that moment."""
    if can(actor, "checkpoints.roster"):
        return True
    return Duty.objects.filter(
        shift_id=duty.shift_id,
        user_id=actor.pk,
        kind=DutyKind.COMMITTEE,
        starts_at__lte=now,
        ends_at__gt=now,
    ).exists()


def _may_check(actor, duty: Duty, now) -> None:
    if duty.user_id != actor.pk and not leads(actor, duty, now):
        raise Forbidden(
            "forbidden",
            _(
                "Only the person on duty, the committee member on the shift or the office can "
                "check in for this duty."
            ),
        )


@transaction.atomic
def check_in(*, actor, duty: Duty, now: dt.datetime | None = None) -> Duty:
    """Check in for a duty (from half an hour before it starts until it ends). Twice is once."""
    now = now or timezone.now()
    _may_check(actor, duty, now)
    if duty.checked_in_at is None:
        if now < duty.starts_at - EARLY_CHECK_IN:
            raise DomainError(
                "too_early",
                _("This duty starts at %(at)s: check in from half an hour before.")
                % {"at": when(duty.starts_at)},
            )
        if now >= duty.ends_at:
            raise DomainError("over", _("This duty is over: it can no longer be checked in."))
        Duty.objects.filter(pk=duty.pk, checked_in_at=None).update(checked_in_at=now)
        duty.refresh_from_db(fields=["checked_in_at"])
        audit(
            actor=actor,
            action="checkpoints.duty_check_in",
            community=duty.community_id,
            target=duty,
            summary=_name(duty.user)
            + ("" if duty.user_id == actor.pk else f" (by {_name(actor)})"),
        )
    return duty


@transaction.atomic
def check_out(*, actor, duty: Duty, now: dt.datetime | None = None) -> Duty:
    now = now or timezone.now()
    _may_check(actor, duty, now)
    if duty.checked_in_at is None:
        raise DomainError("not_checked_in", _("Check in first: this duty has no check-in."))
    if duty.checked_out_at is None:
        Duty.objects.filter(pk=duty.pk, checked_out_at=None).update(
            checked_out_at=max(now, duty.checked_in_at)
        )
        duty.refresh_from_db(fields=["checked_out_at"])
        audit(
            actor=actor,
            action="checkpoints.duty_check_out",
            community=duty.community_id,
            target=duty,
            summary=_name(duty.user),
        )
    return duty


def my_duties(user, *, now: dt.datetime | None = None, limit: int = 10):
    """The person's current and next duties."""
    now = now or timezone.now()
    return (
        Duty.objects.filter(community_id=user.community_id, user=user, ends_at__gt=now - 2 * HOUR)
        .select_related("shift__checkpoint")
        .order_by("starts_at")[:limit]
    )


def can_check_in_now(duty: Duty, now) -> bool:
    return duty.checked_in_at is None and duty.starts_at - EARLY_CHECK_IN <= now < duty.ends_at


# --- availability -----------------------------------------------------------------------------


@transaction.atomic
def availability_add(
    *,
    actor,
    user: User,
    weekday: int | None = None,
    date: dt.date | None = None,
    starts_at: dt.time,
    ends_at: dt.time,
) -> Availability:
    if (weekday is None) == (date is None):
        raise invalid("weekday", _("Choose a weekday (every week) or one date, not both."))
    if weekday is not None and not 0 <= weekday <= 6:
        raise invalid("weekday", _("Choose a weekday from Monday to Sunday."))
    if starts_at is None or ends_at is None:
        raise invalid("starts_at", _("Give from and until (until before from: through midnight)."))
    row, created = Availability.objects.get_or_create(
        community_id=user.community_id,
        user=user,
        weekday=weekday,
        date=date,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    if created:
        audit(
            actor=actor,
            action="checkpoints.availability_add",
            community=user.community_id,
            target=row,
            summary=f"{_name(user)} {weekday if date is None else date} {starts_at:%H:%M}–{ends_at:%H:%M}",
        )
    return row


@transaction.atomic
def availability_remove(*, actor, availability: Availability) -> None:
    audit(
        actor=actor,
        action="checkpoints.availability_remove",
        community=availability.community_id,
        target=availability,
        summary=str(availability),
    )
    availability.delete()


def availability_of(user):
    return Availability.objects.filter(community_id=user.community_id, user=user).order_by(
        "date", "weekday", "starts_at"
    )


def hours_this_week(user, now=None) -> float:
    now = now or timezone.now()
    day = local_day(now)
    monday = local(day - dt.timedelta(days=day.weekday()), dt.time(0))
    return (
        sum(
            (d.ends_at - d.starts_at).total_seconds()
            for d in Duty.objects.filter(
                user=user, starts_at__gte=monday, starts_at__lt=monday + 7 * DAY
            )
        )
        / 3600
    )


# --- the week grid ----------------------------------------------------------------------------


@dataclass
class ShiftCell:
    shift: Shift
    committee: list[Duty]
    slots: list[dict]
    problems: list[Problem]

    @property
    def committee_gap(self) -> bool:
        return any(p.code == Code.NO_COMMITTEE for p in self.problems)


def week(*, community, checkpoints, start: dt.date, days: int = 7) -> dict:
    """The roster as the page shows it: per checkpoint, per day, per shift: the committee
    members, the rotation slots with their people, and the problems; plus every problem."""
    policy = policy_for(community.pk)
    shifts = list(shifts_in(community.pk, checkpoints, start, days, policy))
    duties = list(
        Duty.objects.filter(shift__in=shifts)
        .select_related("user", "shift__checkpoint")
        .order_by("starts_at", "pk")
    )
    found = problems(community=community, shifts=shifts, duties=duties)
    by_shift_p = defaultdict(list)
    by_duty_p = defaultdict(list)
    for p in found:
        if p.shift_id:
            by_shift_p[p.shift_id].append(p)
        for pk in p.duty_ids:
            by_duty_p[pk].append(p)
    by_shift = defaultdict(list)
    for d in duties:
        d.problems = by_duty_p.get(d.pk, [])
        by_shift[d.shift_id].append(d)
    days_list = [start + dt.timedelta(i) for i in range(days)]
    day_of = {}
    for i, day in enumerate(days_list):
        for s, _e in shift_times(policy, day):
            day_of[s] = i
    rows = []
    for cp in checkpoints:
        cells = [[] for _ in days_list]
        for sh in shifts:
            if sh.checkpoint_id != cp.pk:
                continue
            i = day_of.get(sh.starts_at)
            if i is None:  # a shift of another length, made before the policy changed
                i = min(max((local_day(sh.starts_at) - start).days, 0), days - 1)
            mine = by_shift[sh.pk]
            slots = []
            for s, e in slots_of(policy, sh.starts_at, sh.ends_at):
                people = [
                    d
                    for d in mine
                    if d.kind == DutyKind.ROTATION and d.starts_at < e and d.ends_at > s
                ]
                short = [
                    p
                    for p in by_shift_p[sh.pk]
                    if p.code == Code.SHORT_ROTATION and p.starts_at < e and p.ends_at > s
                ]
                slots.append({"starts_at": s, "ends_at": e, "duties": people, "short": short})
            cells[i].append(
                ShiftCell(
                    sh,
                    [d for d in mine if d.kind == DutyKind.COMMITTEE],
                    slots,
                    by_shift_p[sh.pk],
                )
            )
        rows.append({"checkpoint": cp, "days": cells})
    return {
        "policy": policy,
        "days": days_list,
        "rows": rows,
        "problems": found,
        "gaps": [p for p in found if p.is_gap],
        "broken": [p for p in found if not p.is_gap],
        "shifts": shifts,
        "duties": duties,
    }


def roster_checkpoints(user, ids=None):
    qs = scope_queryset(user, Checkpoint.objects.filter(is_active=True)).order_by("name", "pk")
    if ids:
        qs = qs.filter(pk__in=ids)
    return list(qs)
