"""Hours and recognition: the figures as the seeds report them (67 volunteers, 625.15 hours,
9 on average, 50 at the most), per team and per day, the leaderboard, each volunteer's service
record and certificate.

Everything is summed from the credited minutes of taken signups (Signup.minutes): no cached
totals that could drift from the rows a leader corrects. A period is by the task's local start
date; a team's row is by the task's team (tasks open to all have their own row).
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.core.audit import audit
from shouwang.volunteers.models import Signup, SignupStatus, Team, Volunteer

CENT = Decimal("0.01")


def hours_of(minutes: int) -> Decimal:
    """Minutes as hours with two places (37509 min → 625.15)."""
    return (Decimal(minutes) / 60).quantize(CENT, rounding=ROUND_HALF_UP)


def _average(minutes: int, people: int) -> Decimal:
    if not people:
        return Decimal("0.00")
    return (Decimal(minutes) / 60 / people).quantize(CENT, rounding=ROUND_HALF_UP)


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(0)))


def credited(community_id: int, *, first=None, last=None, team_id=None):
    """Taken signups with credited minutes, in the period (by the task's local start date)."""
    qs = Signup.objects.filter(community_id=community_id, status=SignupStatus.TAKEN, minutes__gt=0)
    if first is not None:
        qs = qs.filter(task__starts_at__gte=_midnight(first))
    if last is not None:
        qs = qs.filter(task__starts_at__lt=_midnight(last + dt.timedelta(days=1)))
    if team_id is not None:
        qs = qs.filter(task__team_id=team_id) if team_id else qs.filter(task__team__isnull=True)
    return qs


def _rows(community_id, **period):
    return list(
        credited(community_id, **period).values_list(
            "volunteer_id", "task__team_id", "task__starts_at", "minutes"
        )
    )


@dataclass
class Summary:
    volunteers: int
    minutes: int
    hours: Decimal
    average_hours: Decimal
    top_hours: Decimal
    top_name: str
    top_id: int | None = None
    team_id: int | None = None
    team_name: str = ""
    tasks: int = 0

    def as_dict(self) -> dict:
        return {
            "volunteers": self.volunteers,
            "minutes": self.minutes,
            "hours": self.hours,
            "average_hours": self.average_hours,
            "top_hours": self.top_hours,
            "top_name": self.top_name,
        }


def _summarise(per_volunteer: dict[int, int], names: dict[int, str]) -> Summary:
    total = sum(per_volunteer.values())
    top_id = None
    if per_volunteer:
        # The most minutes; a tie goes to the name first in order (stable, not random).
        top_id = min(per_volunteer, key=lambda v: (-per_volunteer[v], names.get(v, ""), v))
    return Summary(
        volunteers=len(per_volunteer),
        minutes=total,
        hours=hours_of(total),
        average_hours=_average(total, len(per_volunteer)),
        top_hours=hours_of(per_volunteer[top_id]) if top_id else Decimal("0.00"),
        top_name=names.get(top_id, "") if top_id else "",
        top_id=top_id,
    )


def _names(ids) -> dict[int, str]:
    return dict(Volunteer.objects.filter(pk__in=set(ids)).values_list("pk", "name"))


def summary(community_id: int, *, first=None, last=None, team_id=None) -> Summary:
    """The four figures: volunteers who served, total hours, the average, the top."""
    per: dict[int, int] = defaultdict(int)
    for vid, _team, _start, minutes in _rows(community_id, first=first, last=last, team_id=team_id):
        per[vid] += minutes
    return _summarise(per, _names(per))


def by_team(community_id: int, *, first=None, last=None) -> list[Summary]:
    """One Summary per team that served in the period (by the task's team), in the teams'
    order; tasks open to all last, in a row of their own."""
    per: dict[int | None, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for vid, team_id, _start, minutes in _rows(community_id, first=first, last=last):
        per[team_id][vid] += minutes
    names = _names({v for d in per.values() for v in d})
    teams = {
        t.pk: t for t in Team.objects.filter(community_id=community_id).order_by("position", "pk")
    }
    out = []
    for team_id in [*teams, None]:
        if team_id not in per:
            continue
        s = _summarise(per[team_id], names)
        s.team_id = team_id
        s.team_name = teams[team_id].name if team_id else _("Open to all")
        out.append(s)
    return out


@dataclass
class Day:
    day: dt.date
    volunteers: int
    minutes: int
    hours: Decimal


def by_day(community_id: int, *, first=None, last=None, team_id=None) -> list[Day]:
    """Hours per local day of the tasks' start, every day of the period (zeros included when
    the period is given; from the first served day to the last otherwise)."""
    per_min: dict[dt.date, int] = defaultdict(int)
    per_people: dict[dt.date, set] = defaultdict(set)
    for vid, _team, start, minutes in _rows(community_id, first=first, last=last, team_id=team_id):
        day = timezone.localtime(start).date()
        per_min[day] += minutes
        per_people[day].add(vid)
    if not per_min and (first is None or last is None):
        return []
    lo = first or min(per_min)
    hi = last or max(per_min)
    out = []
    day = lo
    while day <= hi:
        out.append(Day(day, len(per_people[day]), per_min[day], hours_of(per_min[day])))
        day += dt.timedelta(days=1)
    return out


@dataclass
class Row:
    rank: int
    volunteer_id: int
    name: str
    team: str
    minutes: int
    hours: Decimal
    tasks: int
    hidden: bool = False


def ranking(community_id: int, *, first=None, last=None, include_hidden: bool = False) -> list[Row]:
    """Every volunteer with credited hours, ranked by hours (not shift count: shifts differ in
    length). Ties share a rank (1, 2, 2, 4)."""
    per: dict[int, int] = defaultdict(int)
    count: dict[int, int] = defaultdict(int)
    for vid, _team, _start, minutes in _rows(community_id, first=first, last=last):
        per[vid] += minutes
        count[vid] += 1
    people = {v.pk: v for v in Volunteer.objects.filter(pk__in=list(per)).select_related("team")}
    ids = [v for v in per if include_hidden or not people[v].hide_from_board]
    ids.sort(key=lambda v: (-per[v], people[v].name, v))
    rows: list[Row] = []
    for i, vid in enumerate(ids):
        rank = rows[-1].rank if rows and rows[-1].minutes == per[vid] else i + 1
        v = people[vid]
        rows.append(
            Row(
                rank=rank,
                volunteer_id=vid,
                name=v.name,
                team=v.team.name if v.team else "",
                minutes=per[vid],
                hours=hours_of(per[vid]),
                tasks=count[vid],
                hidden=v.hide_from_board,
            )
        )
    return rows


def leaderboard(community_id: int, *, first=None, last=None, limit: int = 50) -> list[Row]:
    """The public board: hidden volunteers left out (staff see them on the stats page)."""
    return ranking(community_id, first=first, last=last)[:limit]


@dataclass
class Standing:
    minutes: int
    hours: Decimal
    rank: int | None  # among the board's volunteers (None: no hours yet)
    of: int
    hidden: bool


def standing(volunteer: Volunteer) -> Standing:
    """The volunteer's own hours and place on the board (all time). A hidden volunteer is
    told where they would stand."""
    rows = ranking(volunteer.community_id, include_hidden=True)
    visible = [r for r in rows if not r.hidden or r.volunteer_id == volunteer.pk]
    mine = next((r for r in visible if r.volunteer_id == volunteer.pk), None)
    if mine is None:
        return Standing(0, Decimal("0.00"), None, len(visible), volunteer.hide_from_board)
    rank = 1 + sum(1 for r in visible if r.minutes > mine.minutes)
    return Standing(mine.minutes, mine.hours, rank, len(visible), volunteer.hide_from_board)


# --- the service record and the certificate ----------------------------------------------------


@dataclass
class RecordRow:
    signup: Signup
    day: dt.date
    task: str
    place: str
    team: str
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    minutes: int | None
    hours: Decimal | None
    auto_closed: bool
    corrections: list = field(default_factory=list)

    @property
    def serving(self) -> bool:
        return self.checked_in_at is not None and self.checked_out_at is None


@dataclass
class Record:
    volunteer: Volunteer
    rows: list[RecordRow]
    minutes: int
    hours: Decimal
    tasks: int  # places served with credited minutes
    first_day: dt.date | None
    last_day: dt.date | None


def record(volunteer: Volunteer) -> Record:
    """Each place the volunteer served (checked in, or hours credited), newest first, with the
    leaders' corrections."""
    signups = list(
        Signup.objects.filter(volunteer=volunteer, status=SignupStatus.TAKEN)
        .exclude(checked_in_at__isnull=True, minutes__isnull=True)
        .select_related("task__team")
        .prefetch_related("corrections__by")
        .order_by("-task__starts_at", "-pk")
    )
    rows = [
        RecordRow(
            signup=s,
            day=timezone.localtime(s.task.starts_at).date(),
            task=s.task.title,
            place=s.task.place,
            team=s.task.team.name if s.task.team else _("Open to all"),
            checked_in_at=s.checked_in_at,
            checked_out_at=s.checked_out_at,
            minutes=s.minutes,
            hours=hours_of(s.minutes) if s.minutes is not None else None,
            auto_closed=s.auto_closed,
            corrections=list(s.corrections.all()),
        )
        for s in signups
    ]
    served = [r for r in rows if r.minutes]
    total = sum(r.minutes for r in served)
    return Record(
        volunteer=volunteer,
        rows=rows,
        minutes=total,
        hours=hours_of(total),
        tasks=len(served),
        first_day=min((r.day for r in served), default=None),
        last_day=max((r.day for r in served), default=None),
    )


@dataclass
class Certificate:
    volunteer: Volunteer
    community: str
    hours: Decimal
    tasks: int
    first_day: dt.date | None
    last_day: dt.date | None
    teams: list[str]
    number: str
    issued: dt.date


def certificate(volunteer: Volunteer) -> Certificate:
    """What the printable certificate (志愿服务证明) says."""
    rec = record(volunteer)
    teams: list[str] = []  # the teams served in, oldest first (tasks open to all are not a team)
    for r in reversed(rec.rows):
        name = r.signup.task.team.name if r.signup.task.team else None
        if r.minutes and name and name not in teams:
            teams.append(name)
    community = volunteer.community
    return Certificate(
        volunteer=volunteer,
        community=community.name,
        hours=rec.hours,
        tasks=rec.tasks,
        first_day=rec.first_day,
        last_day=rec.last_day,
        teams=teams,
        number=f"{community.code}-V{volunteer.pk:05d}",
        issued=timezone.localdate(),
    )


# --- the export ---------------------------------------------------------------------------------


def xlsx(community_id: int, *, first=None, last=None, team_id=None) -> bytes:
    """Summary, per team, per day and per volunteer (names and hours only: no phones)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    s = summary(community_id, first=first, last=last, team_id=team_id)
    wb = Workbook()
    ws = wb.active
    ws.title = _("Summary")
    bold = Font(bold=True)
    ws.append([_("From"), first])
    ws.append([_("Until"), last])
    ws.append([_("Volunteers who served"), s.volunteers])
    ws.append([_("Total hours"), float(s.hours)])
    ws.append([_("Average hours"), float(s.average_hours)])
    ws.append([_("Most hours"), float(s.top_hours)])
    ws.append([_("Most hours: who"), s.top_name])
    for row in ws.iter_rows(min_col=1, max_col=1):
        row[0].font = bold
    for c in (ws["B1"], ws["B2"]):
        c.number_format = "yyyy-mm-dd"
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 20

    wt = wb.create_sheet(_("By team"))
    wt.append([_("Team"), _("Volunteers"), _("Hours"), _("Average hours"), _("Most hours")])
    for t in by_team(community_id, first=first, last=last):
        if team_id is not None and t.team_id != (team_id or None):
            continue
        wt.append(
            [t.team_name, t.volunteers, float(t.hours), float(t.average_hours), float(t.top_hours)]
        )

    wd = wb.create_sheet(_("By day"))
    wd.append([_("Date"), _("Volunteers"), _("Hours")])
    for d in by_day(community_id, first=first, last=last, team_id=team_id):
        wd.append([d.day, d.volunteers, float(d.hours)])
        wd.cell(row=wd.max_row, column=1).number_format = "yyyy-mm-dd"

    wv = wb.create_sheet(_("Volunteers"))
    wv.append([_("Rank"), _("Name"), _("Team"), _("Places served"), _("Hours")])
    per: dict[int, int] = defaultdict(int)
    count: dict[int, int] = defaultdict(int)
    for vid, _team, _start, minutes in _rows(community_id, first=first, last=last, team_id=team_id):
        per[vid] += minutes
        count[vid] += 1
    people = {v.pk: v for v in Volunteer.objects.filter(pk__in=list(per)).select_related("team")}
    ids = sorted(per, key=lambda v: (-per[v], people[v].name, v))
    rank = 0
    last_minutes = None
    for i, vid in enumerate(ids):
        if per[vid] != last_minutes:
            rank, last_minutes = i + 1, per[vid]
        v = people[vid]
        wv.append(
            [rank, v.name, v.team.name if v.team else "", count[vid], float(hours_of(per[vid]))]
        )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@transaction.atomic
def set_hidden(*, actor, volunteer: Volunteer, hidden: bool) -> Volunteer:
    """The volunteer's own choice to be left off the public board (staff still see the hours)."""
    if volunteer.hide_from_board != hidden:
        volunteer.hide_from_board = hidden
        volunteer.save(update_fields=["hide_from_board"])
        audit(
            actor=actor,
            action="volunteers.hide" if hidden else "volunteers.unhide",
            community=volunteer.community_id,
            target=volunteer,
            summary=volunteer.name,
        )
    return volunteer
