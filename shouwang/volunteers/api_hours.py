"""/api/v1/volunteers/: check-in, hours and recognition. The rules are in checkin.py and
stats.py, as for the pages.

    POST /check {code}                      the volunteer scanned a place's code: in, then out
    POST /signups/{id}/check-in             a leader checks someone in
    POST /signups/{id}/check-out
    POST /signups/{id}/correct              {checked_in_at, checked_out_at, minutes, reason}
    GET  /stats?from=&to=&team_id=          the four figures, per team, per day
    GET  /leaderboard                       by hours, hidden volunteers left out
    GET  /me/record                         my service record
    GET  /people/{id}/record                a volunteer's record (staff)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Query, Router, Schema

from shouwang.accounts.permissions import require
from shouwang.core.errors import Forbidden, invalid
from shouwang.volunteers import checkin, stats
from shouwang.volunteers.models import Signup
from shouwang.volunteers.selectors import (
    active_volunteer,
    signup_for,
    volunteer_for,
    volunteer_of,
)

router = Router()


class CodeIn(Schema):
    code: str


class CheckSignupOut(Schema):
    id: int
    task_id: int
    task: str
    volunteer_id: int
    status: str
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    minutes: int | None
    auto_closed: bool


class CheckOut(Schema):
    action: str  # "in" or "out"
    signup: CheckSignupOut


class CorrectIn(Schema):
    checked_in_at: dt.datetime | None = None
    checked_out_at: dt.datetime | None = None
    minutes: int | None = None
    reason: str = ""


class SummaryOut(Schema):
    volunteers: int
    minutes: int
    hours: Decimal
    average_hours: Decimal
    top_hours: Decimal
    top_name: str


class TeamOut(SummaryOut):
    team_id: int | None
    team: str


class DayOut(Schema):
    date: dt.date
    volunteers: int
    minutes: int
    hours: Decimal


class StatsOut(Schema):
    first: dt.date | None = Field(None, alias="from")
    last: dt.date | None = Field(None, alias="to")
    summary: SummaryOut
    teams: list[TeamOut]
    days: list[DayOut]


class BoardRowOut(Schema):
    rank: int
    volunteer_id: int
    name: str
    team: str
    hours: Decimal
    tasks: int


class CorrectionOut(Schema):
    before_minutes: int | None
    after_minutes: int | None
    reason: str
    at: dt.datetime


class RecordRowOut(Schema):
    signup_id: int
    date: dt.date
    task: str
    place: str
    team: str
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    minutes: int | None
    hours: Decimal | None
    auto_closed: bool
    corrections: list[CorrectionOut]


class RecordOut(Schema):
    volunteer_id: int
    name: str
    hours: Decimal
    minutes: int
    tasks: int
    first_day: dt.date | None
    last_day: dt.date | None
    rows: list[RecordRowOut]


def _signup_out(s: Signup) -> dict:
    return {
        "id": s.pk,
        "task_id": s.task_id,
        "task": s.task.title,
        "volunteer_id": s.volunteer_id,
        "status": s.status,
        "checked_in_at": s.checked_in_at,
        "checked_out_at": s.checked_out_at,
        "minutes": s.minutes,
        "auto_closed": s.auto_closed,
    }


def _record_out(rec: stats.Record) -> dict:
    return {
        "volunteer_id": rec.volunteer.pk,
        "name": rec.volunteer.name,
        "hours": rec.hours,
        "minutes": rec.minutes,
        "tasks": rec.tasks,
        "first_day": rec.first_day,
        "last_day": rec.last_day,
        "rows": [
            {
                "signup_id": r.signup.pk,
                "date": r.day,
                "task": r.task,
                "place": r.place,
                "team": str(r.team),
                "checked_in_at": r.checked_in_at,
                "checked_out_at": r.checked_out_at,
                "minutes": r.minutes,
                "hours": r.hours,
                "auto_closed": r.auto_closed,
                "corrections": [
                    {
                        "before_minutes": c.before_minutes,
                        "after_minutes": c.after_minutes,
                        "reason": c.reason,
                        "at": c.at,
                    }
                    for c in r.corrections
                ],
            }
            for r in rec.rows
        ],
    }


def _date(name: str, value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise invalid(name, f"Give {name} as YYYY-MM-DD.") from None


@router.post("/check", response=CheckOut, summary="Check in (or out) with a place's code")
def check(request, payload: CodeIn):
    require(request.auth, "volunteers.serve")
    v = active_volunteer(request.auth)
    s, what = checkin.check_by_code(volunteer=v, code=payload.code)
    return {"action": what, "signup": _signup_out(s)}


@router.post("/signups/{signup_id}/check-in", response=CheckSignupOut, summary="A leader checks in")
def signup_check_in(request, signup_id: int):
    require(request.auth, "volunteers.serve")
    s = checkin.check_in(actor=request.auth, signup=signup_for(request.auth, signup_id))
    return _signup_out(s)


@router.post(
    "/signups/{signup_id}/check-out", response=CheckSignupOut, summary="A leader checks out"
)
def signup_check_out(request, signup_id: int):
    require(request.auth, "volunteers.serve")
    s = checkin.check_out(actor=request.auth, signup=signup_for(request.auth, signup_id))
    return _signup_out(s)


@router.post(
    "/signups/{signup_id}/correct", response=CheckSignupOut, summary="Correct times or minutes"
)
def signup_correct(request, signup_id: int, payload: CorrectIn):
    require(request.auth, "volunteers.serve")
    s = checkin.correct(
        actor=request.auth,
        signup=signup_for(request.auth, signup_id),
        checked_in_at=payload.checked_in_at,
        checked_out_at=payload.checked_out_at,
        minutes=payload.minutes,
        reason=payload.reason,
    )
    return _signup_out(s)


@router.get("/stats", response=StatsOut, summary="Volunteers, hours, average, top")
def stats_get(
    request,
    first: str | None = Query(None, alias="from"),
    last: str | None = Query(None, alias="to"),
    team_id: int | None = None,
):
    """team_id=0: the tasks open to all."""
    require(request.auth, "volunteers.view")
    cid = request.auth.community_id
    a, b = _date("from", first), _date("to", last)
    if a and b and b < a:
        raise invalid("to", "'to' must be on or after 'from'.")
    teams = stats.by_team(cid, first=a, last=b)
    if team_id is not None:
        teams = [t for t in teams if t.team_id == (team_id or None)]
    return {
        "from": a,
        "to": b,
        "summary": stats.summary(cid, first=a, last=b, team_id=team_id).as_dict(),
        "teams": [{**t.as_dict(), "team_id": t.team_id, "team": str(t.team_name)} for t in teams],
        "days": [
            {"date": d.day, "volunteers": d.volunteers, "minutes": d.minutes, "hours": d.hours}
            for d in stats.by_day(cid, first=a, last=b, team_id=team_id)
        ],
    }


@router.get("/leaderboard", response=list[BoardRowOut], summary="The leaderboard by hours")
def leaderboard(request, limit: int = 50):
    require(request.auth, "volunteers.serve")
    rows = stats.leaderboard(request.auth.community_id, limit=max(1, min(limit, 200)))
    return [
        {
            "rank": r.rank,
            "volunteer_id": r.volunteer_id,
            "name": r.name,
            "team": r.team,
            "hours": r.hours,
            "tasks": r.tasks,
        }
        for r in rows
    ]


@router.get("/me/record", response=RecordOut, summary="My service record")
def my_record(request):
    require(request.auth, "volunteers.serve")
    v = volunteer_of(request.auth)
    if v is None:
        raise Forbidden("not_volunteer", "You have not signed up as a volunteer yet.")
    return _record_out(stats.record(v))


@router.get("/people/{volunteer_id}/record", response=RecordOut, summary="A volunteer's record")
def person_record(request, volunteer_id: int):
    require(request.auth, "volunteers.view")
    return _record_out(stats.record(volunteer_for(request.auth, volunteer_id)))
