"""Shift plans (排班): a team's shifts made ahead — the same shifts every day from the first day
to the last (Huamei's parcel teams ran 早中晚, three shifts) — and the grid staff fill them in.

A plan's shifts are Task rows of kind "shift" made through `tasks.publish`, so grabbing,
assigning, check-in and hours work on them as on any task. The grid shows every person with the
rest rules they break *as they are* (`rules.signup_breaks`): staff may put someone on against a
rule with a reason, and the break stays red on the grid and on the printed plan instead of being
found out when a volunteer falls asleep on the night shift.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouwang.accounts.permissions import require
from shouwang.accounts.scope import get_scoped, scope_queryset
from shouwang.core.audit import audit
from shouwang.core.errors import Conflict, invalid
from shouwang.volunteers.models import (
    ShiftPlan,
    Signup,
    SignupStatus,
    Task,
    TaskKind,
    Team,
)

MAX_DAYS = 31
MAX_SHIFTS = 6
MAX_PLACES = 200


# --- reading shift times ------------------------------------------------------------------------


def parse_hhmm(text: str) -> dt.time | None:
    """'07:00' or '7:00' as a time; None when it is not one."""
    text = (text or "").strip()
    try:
        hh, mm = text.split(":")
        if not (hh.isdigit() and mm.isdigit() and len(mm) == 2 and 1 <= len(hh) <= 2):
            return None
        return dt.time(int(hh), int(mm))
    except ValueError:
        return None


def clean_shifts(shifts) -> list[tuple[str, str]]:
    """The plan's shifts as [("07:00", "15:00"), …], checked: 1 to 6 shifts, each a from and an
    until (until at or before from runs through midnight), no two starting at the same time."""
    out: list[tuple[str, str]] = []
    try:
        pairs = [tuple(s) for s in shifts or ()]
    except TypeError:
        pairs = []
    if not 1 <= len(pairs) <= MAX_SHIFTS:
        raise invalid(
            "shifts",
            gettext_lazy("Give between 1 and %(n)s shifts a day, each as from–until (07:00–15:00).")
            % {"n": MAX_SHIFTS},
        )
    for i, pair in enumerate(pairs, 1):
        if len(pair) != 2:
            raise invalid("shifts", _("Shift %(i)s needs a from and an until time.") % {"i": i})
        a, b = parse_hhmm(str(pair[0])), parse_hhmm(str(pair[1]))
        if a is None or b is None:
            raise invalid(
                "shifts",
                _("Shift %(i)s: write the times as HH:MM, e.g. 07:00 and 15:00.") % {"i": i},
            )
        out.append((a.strftime("%H:%M"), b.strftime("%H:%M")))
    starts = [a for a, _b in out]
    if len(set(starts)) != len(starts):
        raise invalid("shifts", _("Two shifts start at the same time: give each its own start."))
    return sorted(out)


def shift_span(day: dt.date, shift: tuple[str, str]) -> tuple[dt.datetime, dt.datetime]:
    """The shift on `day` as aware local datetimes; an until at or before the from is the next
    day (23:00–07:00 runs through midnight; 07:00–07:00 is the whole day)."""
    a, b = parse_hhmm(shift[0]), parse_hhmm(shift[1])
    starts = timezone.make_aware(dt.datetime.combine(day, a))
    end_day = day if b > a else day + dt.timedelta(days=1)
    return starts, timezone.make_aware(dt.datetime.combine(end_day, b))


def shift_label(shift) -> str:
    a, b = shift
    return f"{a}–{b}" + ("" if parse_hhmm(b) > parse_hhmm(a) else " (+1)")


def days_of(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


# --- writing ------------------------------------------------------------------------------------


def _publish_days(*, actor, plan: ShiftPlan, days: list[dt.date], grabbable: bool) -> int:
    from shouwang.volunteers import tasks

    made = 0
    for day in days:
        for shift in plan.shifts:
            starts_at, ends_at = shift_span(day, shift)
            tasks.publish(
                actor=actor,
                community=plan.community,
                title=plan.title,
                place=plan.place or plan.team.name,
                starts_at=starts_at,
                ends_at=ends_at,
                places=plan.places,
                team=plan.team,
                grabbable=grabbable,
                kind=TaskKind.SHIFT,
                plan=plan,
            )
            made += 1
    return made


def make_plan(
    *,
    actor,
    team: Team,
    title: str,
    place: str,
    first_day: dt.date,
    last_day: dt.date,
    shifts,
    places: int,
    grabbable: bool = False,
) -> ShiftPlan:
    """A team's plan and its shifts: one Task of kind "shift" per day per shift."""
    require(actor, "volunteers.manage")
    if team is None or team.community_id != actor.community_id:
        raise invalid("team", _("Choose one of your community's teams."))
    if not team.is_active:
        raise invalid("team", _("This team is no longer in use: choose another one."))
    title = (title or "").strip()
    if not title:
        raise invalid("title", _("Give the plan a title, e.g. “Parcel team, three shifts”."))
    if len(title) > 100:
        raise invalid("title", _("The title is too long: at most 100 characters."))
    place = (place or "").strip()[:100]
    if first_day is None or last_day is None:
        raise invalid("first_day", _("Give the first and the last day."))
    if last_day < first_day:
        raise invalid("last_day", _("The last day is before the first day."))
    if (last_day - first_day).days + 1 > MAX_DAYS:
        raise invalid(
            "last_day",
            _("A plan covers at most %(n)s days: make another plan for the days after.")
            % {"n": MAX_DAYS},
        )
    shifts = clean_shifts(shifts)
    try:
        places = int(places)
    except (TypeError, ValueError):
        places = 0
    if not 1 <= places <= MAX_PLACES:
        raise invalid("places", _("People per shift: between 1 and %(n)s.") % {"n": MAX_PLACES})
    with transaction.atomic():
        plan = ShiftPlan.objects.create(
            community_id=team.community_id,
            team=team,
            title=title,
            place=place,
            first_day=first_day,
            last_day=last_day,
            shifts=[list(s) for s in shifts],
            places=places,
            created_by=actor,
        )
        made = _publish_days(
            actor=actor, plan=plan, days=days_of(first_day, last_day), grabbable=grabbable
        )
        audit(
            actor=actor,
            action="volunteers.plan_make",
            community=plan.community_id,
            target=plan,
            summary=f"{plan.title}: {team.name} {first_day}–{last_day}, "
            f"{len(shifts)} shifts × {places}, {made} made",
        )
    return plan


def copy_forward(*, actor, plan: ShiftPlan, days: int) -> ShiftPlan:
    """Extend the plan by `days` days after its last day: the same shifts, nobody on them (the
    people are not copied — who serves when is decided again under the rest rules)."""
    require(actor, "volunteers.manage")
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= MAX_DAYS:
        raise invalid("days", _("Extend by between 1 and %(n)s days.") % {"n": MAX_DAYS})
    with transaction.atomic():
        plan = ShiftPlan.objects.select_for_update().select_related("team").get(pk=plan.pk)
        grabbable = plan.tasks.filter(grabbable=True).exists()
        first = plan.last_day + dt.timedelta(days=1)
        new_days = days_of(first, plan.last_day + dt.timedelta(days=days))
        made = _publish_days(actor=actor, plan=plan, days=new_days, grabbable=grabbable)
        plan.last_day = new_days[-1]
        plan.save(update_fields=["last_day"])
        audit(
            actor=actor,
            action="volunteers.plan_extend",
            community=plan.community_id,
            target=plan,
            summary=f"{plan.title}: +{days} days to {plan.last_day}, {made} made",
        )
    return plan


def delete_plan(*, actor, plan: ShiftPlan, reason: str = "") -> None:
    """Delete a plan and its shifts — only while nobody has checked in on any of them (served
    hours are never thrown away: cancel the remaining shifts instead)."""
    require(actor, "volunteers.manage")
    with transaction.atomic():
        plan = ShiftPlan.objects.select_for_update().get(pk=plan.pk)
        served = Signup.objects.filter(task__plan=plan, checked_in_at__isnull=False).count()
        if served:
            raise Conflict(
                "served",
                _(
                    "%(n)s people have checked in on shifts of this plan, so it cannot be "
                    "deleted: cancel the shifts still to come instead."
                )
                % {"n": served},
            )
        n_tasks = plan.tasks.count()
        n_people = Signup.objects.filter(
            task__plan=plan, status__in=[SignupStatus.TAKEN, SignupStatus.WAITING]
        ).count()
        audit(
            actor=actor,
            action="volunteers.plan_delete",
            community=plan.community_id,
            target=plan,
            summary=f"{plan.title}: {n_tasks} shifts, {n_people} people on them",
            reason=reason,
        )
        plan.tasks.all().delete()
        plan.delete()


# --- reading ------------------------------------------------------------------------------------


def plans_for(user):
    return scope_queryset(user, ShiftPlan.objects.select_related("team")).order_by(
        "-first_day", "pk"
    )


def plan_for(user, pk) -> ShiftPlan:
    return get_scoped(user, ShiftPlan.objects.select_related("team"), pk)


@dataclass
class Person:
    signup: Signup
    breaks: list = field(default_factory=list)

    @property
    def volunteer(self):
        return self.signup.volunteer

    @property
    def checked_in(self) -> bool:
        return self.signup.checked_in_at is not None


@dataclass
class Cell:
    task: Task
    people: list[Person] = field(default_factory=list)
    waiting: int = 0

    @property
    def cancelled(self) -> bool:
        return self.task.cancelled_at is not None

    @property
    def free(self) -> int:
        return 0 if self.cancelled else max(self.task.places - len(self.people), 0)

    @property
    def has_break(self) -> bool:
        return any(p.breaks for p in self.people)


@dataclass
class Row:
    day: dt.date
    cells: list  # Cell | None, one per shift of the plan
    extra: list = field(default_factory=list)  # shifts moved off the plan's times
    labels: list = field(default_factory=list)

    @property
    def pairs(self) -> list[tuple[str, Cell | None]]:
        return list(zip(self.labels, self.cells, strict=False))


@dataclass
class Problem:
    kind: str  # "gap", or a Break code: "overlap" | "daily_cap" | "rest"
    task: Task
    message: str
    volunteer: object = None
    override_reason: str = ""

    @property
    def is_gap(self) -> bool:
        return self.kind == "gap"


@dataclass
class Grid:
    plan: ShiftPlan
    shifts: list[str]
    rows: list[Row]
    problems: list[Problem]
    places: int = 0
    taken: int = 0

    @property
    def gaps(self) -> list[Problem]:
        return [p for p in self.problems if p.is_gap]

    @property
    def breaks(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_gap]

    @property
    def cells(self) -> list[Cell]:
        return [c for r in self.rows for c in [*r.cells, *r.extra] if c is not None]


def plan_grid(plan: ShiftPlan) -> Grid:
    """Days × shifts: each cell its task, the people with a place and the rules each one breaks
    (against all their other commitments, checkpoint duties included), the free places; and the
    plan's list of every break and gap, in time order."""
    from shouwang.volunteers import rules

    tasks = list(plan.tasks.select_related("team").order_by("starts_at", "pk"))
    live = list(
        Signup.objects.filter(
            task__plan=plan, status__in=[SignupStatus.TAKEN, SignupStatus.WAITING]
        )
        .select_related("volunteer", "task")
        .order_by("created_at", "pk")
    )
    taken = [s for s in live if s.status == SignupStatus.TAKEN]
    breaks = rules.signup_breaks(taken) if taken else {}
    people: dict[int, list[Person]] = defaultdict(list)
    waiting: dict[int, int] = defaultdict(int)
    for s in live:
        if s.status == SignupStatus.TAKEN:
            people[s.task_id].append(Person(signup=s, breaks=list(breaks.get(s.pk, []))))
        else:
            waiting[s.task_id] += 1

    starts = [a for a, _b in plan.shifts]
    by_day: dict[dt.date, Row] = {
        d: Row(day=d, cells=[None] * len(starts)) for d in days_of(plan.first_day, plan.last_day)
    }
    problems: list[Problem] = []
    for task in tasks:
        local = timezone.localtime(task.starts_at)
        cell = Cell(task=task, people=people[task.pk], waiting=waiting[task.pk])
        row = by_day.setdefault(local.date(), Row(day=local.date(), cells=[None] * len(starts)))
        hhmm = local.strftime("%H:%M")
        if hhmm in starts and row.cells[starts.index(hhmm)] is None:
            row.cells[starts.index(hhmm)] = cell
        else:
            row.extra.append(cell)
        for person in cell.people:
            for b in person.breaks:
                problems.append(
                    Problem(
                        kind=b.code,
                        task=task,
                        message=str(b.message),
                        volunteer=person.volunteer,
                        override_reason=person.signup.override_reason,
                    )
                )
        if cell.free:
            problems.append(
                Problem(
                    kind="gap",
                    task=task,
                    message=_("%(n)s of %(places)s places free")
                    % {"n": cell.free, "places": task.places},
                )
            )
    open_tasks = [t for t in tasks if t.cancelled_at is None]
    labels = [shift_label(s) for s in plan.shifts]
    for row in by_day.values():
        row.labels = labels
    return Grid(
        plan=plan,
        shifts=labels,
        rows=[by_day[d] for d in sorted(by_day)],
        problems=problems,
        places=sum(t.places for t in open_tasks),
        taken=sum(len(people[t.pk]) for t in open_tasks),
    )
