"""The rest rules for volunteers: no two places at once, at most the community's hours per
calendar day, at least its rest between two blocks. The same rules as the checkpoint rosters
(`checkpoints.roster`, whose interval helpers these reuse), and a volunteer's checkpoint duties
count with their tasks and shifts: a guard who stood at the gate all night is not rested for the
morning's parcels.

The edges, as on the rosters: intervals that touch do not overlap, and touching commitments form
one block; the hours of a calendar day (split at local midnight) may equal the cap but not exceed
it; the rest between two blocks may equal the minimum but not be shorter; one block longer than
the daily cap is a break even when midnight splits it into two legal days (16 hours straight
would leave someone asleep at the gate).

Rules are shown as they are broken, not discovered later: grabbing refuses a break, staff may
override one with a reason, and a plan's grid shows every break of the people on it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.utils.translation import gettext as _

from shouwang.checkpoints.models import Duty
from shouwang.checkpoints.roster import hours, local_day, merge, per_day, span, when
from shouwang.volunteers.models import Signup, SignupStatus
from shouwang.volunteers.selectors import rest_rules

DAY = dt.timedelta(days=1)


@dataclass
class Break:
    code: str  # "overlap" | "daily_cap" | "rest"
    message: str
    day: dt.date | None = None

    def __str__(self):
        return self.message


@dataclass
class Commitment:
    starts_at: dt.datetime
    ends_at: dt.datetime
    label: str
    signup_id: int | None = None
    duty_id: int | None = None
    what: str = ""  # the label without its time: touching ones of the same `what` read as one


def _labels(commitments) -> str:
    """The commitments named for a message, touching ones of the same kind as one span (eight
    two-hour gate rotations read "checkpoint duty at 1号卡口 (00:00–08:00)", not eight times)."""
    runs: list[list] = []
    for c in sorted(commitments, key=lambda c: (c.starts_at, c.ends_at)):
        last = runs[-1] if runs else None
        if last and c.what and last[0] == c.what and c.starts_at <= last[2]:
            last[2] = max(last[2], c.ends_at)
        else:
            runs.append([c.what, c.starts_at, c.ends_at, c.label])
    return "; ".join(f"{what} ({span(s, e)})" if what else label for what, s, e, label in runs)


def _task_label(task) -> str:
    return f"{task.title} ({span(task.starts_at, task.ends_at)})"


def _duty_label(duty) -> str:
    return _("checkpoint duty at %(cp)s (%(when)s)") % {
        "cp": duty.shift.checkpoint.name,
        "when": span(duty.starts_at, duty.ends_at),
    }


def _margin(community_id) -> dt.timedelta:
    _cap, rest = rest_rules(community_id)
    return DAY + dt.timedelta(hours=rest)


def _load(volunteers, lo, hi, exclude_signup_id=None) -> dict[int, list[Commitment]]:
    """Every commitment of these volunteers intersecting [lo, hi): taken places on tasks and
    shifts not cancelled, and the checkpoint duties of their users. Two queries."""
    volunteers = list(volunteers)
    out: dict[int, list[Commitment]] = defaultdict(list)
    if not volunteers:
        return out
    signups = Signup.objects.filter(
        volunteer__in=[v.pk for v in volunteers],
        status=SignupStatus.TAKEN,
        task__cancelled_at=None,
        task__starts_at__lt=hi,
        task__ends_at__gt=lo,
    ).select_related("task")
    if exclude_signup_id is not None:
        signups = signups.exclude(pk=exclude_signup_id)
    for s in signups:
        out[s.volunteer_id].append(
            Commitment(
                s.task.starts_at,
                s.task.ends_at,
                _task_label(s.task),
                signup_id=s.pk,
                what=s.task.title,
            )
        )
    by_user = {v.user_id: v.pk for v in volunteers if v.user_id}
    if by_user:
        for d in Duty.objects.filter(
            user_id__in=list(by_user), starts_at__lt=hi, ends_at__gt=lo
        ).select_related("shift__checkpoint"):
            out[by_user[d.user_id]].append(
                Commitment(
                    d.starts_at,
                    d.ends_at,
                    _duty_label(d),
                    duty_id=d.pk,
                    what=_("checkpoint duty at %(cp)s") % {"cp": d.shift.checkpoint.name},
                )
            )
    for rows in out.values():
        rows.sort(key=lambda c: (c.starts_at, c.ends_at))
    return out


def commitments(volunteer, start, end, *, exclude_signup_id=None) -> list[Commitment]:
    """The volunteer's taken places (tasks and shifts) and checkpoint duties near [start, end):
    within a day and the minimum rest either side, which is all the rules can see."""
    m = _margin(volunteer.community_id)
    return _load([volunteer], start - m, end + m, exclude_signup_id)[volunteer.pk]


def check(others, starts_at, ends_at, max_hours: int, min_rest: int) -> list[Break]:
    """What serving [starts_at, ends_at) breaks beside the commitments `others` (pure)."""
    others = [c for c in others if c.ends_at > c.starts_at]
    if not others and (ends_at - starts_at).total_seconds() <= max_hours * 3600:
        return []  # alone and within the cap: nothing to overlap, no day or stretch too long
    out: list[Break] = []
    for c in others:
        if c.starts_at < ends_at and starts_at < c.ends_at:
            s, e = max(c.starts_at, starts_at), min(c.ends_at, ends_at)
            out.append(
                Break(
                    "overlap",
                    _("Overlaps %(other)s by %(h)s.")
                    % {"other": c.label, "h": hours((e - s).total_seconds())},
                    local_day(s),
                )
            )
    cap = max_hours * 3600
    everything = [(c.starts_at, c.ends_at) for c in others] + [(starts_at, ends_at)]
    # Overlapping time is worked once: the overlap is its own break.
    days = per_day(merge(everything))
    capped = False
    for day in sorted(per_day([(starts_at, ends_at)])):
        secs = days[day]
        if secs > cap:
            capped = True
            that_day = _labels(
                c for c in others if day in per_day([(c.starts_at, c.ends_at)])
            ) or _("this alone")
            out.append(
                Break(
                    "daily_cap",
                    _("%(h)s on %(day)s with %(others)s: more than %(cap)s h a day, by %(by)s.")
                    % {
                        "h": hours(secs),
                        "day": day.isoformat(),
                        "others": that_day,
                        "cap": max_hours,
                        "by": hours(secs - cap),
                    },
                    day,
                )
            )
    blocks = merge(everything)
    rest = dt.timedelta(hours=min_rest)
    for i, (bs, be) in enumerate(blocks):
        if not (bs <= starts_at and ends_at <= be):
            continue
        if (be - bs).total_seconds() > cap and not capped:
            out.append(
                Break(
                    "daily_cap",
                    _("%(h)s without a break (%(when)s): longer than %(cap)s h, by %(by)s.")
                    % {
                        "h": hours((be - bs).total_seconds()),
                        "when": span(bs, be),
                        "cap": max_hours,
                        "by": hours((be - bs).total_seconds() - cap),
                    },
                    local_day(bs),
                )
            )
        neighbours = []
        if i > 0:
            neighbours.append((blocks[i - 1], bs - blocks[i - 1][1], True))
        if i + 1 < len(blocks):
            neighbours.append((blocks[i + 1], blocks[i + 1][0] - be, False))
        for (ns, ne), gap, before in neighbours:
            if gap >= rest:
                continue
            near = _labels(c for c in others if ns <= c.starts_at and c.ends_at <= ne)
            out.append(
                Break(
                    "rest",
                    (
                        _(
                            "Only %(h)s of rest after %(other)s (ends %(at)s): at least %(min)s h, short by %(by)s."
                        )
                        if before
                        else _(
                            "Only %(h)s of rest before %(other)s (starts %(at)s): at least %(min)s h, short by %(by)s."
                        )
                    )
                    % {
                        "h": hours(gap.total_seconds()),
                        "other": near,
                        "at": when(ne if before else ns),
                        "min": min_rest,
                        "by": hours((rest - gap).total_seconds()),
                    },
                    local_day(ne if before else ns),
                )
            )
        break
    return out


def breaks_for(volunteer, starts_at, ends_at, *, exclude_signup_id=None) -> list[Break]:
    """What the volunteer would break by also serving [starts_at, ends_at)."""
    cap, rest = rest_rules(volunteer.community_id)
    m = DAY + dt.timedelta(hours=rest)
    others = _load([volunteer], starts_at - m, ends_at + m, exclude_signup_id)[volunteer.pk]
    return check(others, starts_at, ends_at, cap, rest)


def signup_breaks(signups) -> dict[int, list[Break]]:
    """For taken signups (a plan's grid, a task's page): each one's breaks against all the
    volunteer's other commitments. Two queries for the lot, plus the rules per community."""
    signups = [s for s in signups if s.status == SignupStatus.TAKEN]
    if not signups:
        return {}
    rules_of = {}
    for s in signups:
        if s.community_id not in rules_of:
            rules_of[s.community_id] = rest_rules(s.community_id)
    margin = DAY + dt.timedelta(hours=max(r for _c, r in rules_of.values()))
    lo = min(s.task.starts_at for s in signups) - margin
    hi = max(s.task.ends_at for s in signups) + margin
    volunteers = {s.volunteer_id: s.volunteer for s in signups}
    every = _load(volunteers.values(), lo, hi)
    out = {}
    for s in signups:
        cap, rest = rules_of[s.community_id]
        others = [c for c in every[s.volunteer_id] if c.signup_id != s.pk]
        out[s.pk] = check(others, s.task.starts_at, s.task.ends_at, cap, rest)
    return out
