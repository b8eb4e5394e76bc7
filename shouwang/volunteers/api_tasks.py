"""/api/v1/volunteers/: tasks and places — the same rules (tasks.py) as the pages.

    GET  /tasks?from=&to=&team_id=     POST /tasks              GET /tasks/{id}
    PATCH /tasks/{id}                  POST /tasks/{id}/cancel  POST /tasks/{id}/grab
    POST /tasks/{id}/assign            GET  /me/tasks           GET /me/signups
    POST /signups/{id}/cancel          POST /signups/{id}/no-show
    POST /signups/{id}/excuse

Refusals in the API's error shape with the service's codes (`full`, `rest_rule` with the
breaks in `fields.override_reason`, `team_only`, `no_show_limit` …). A full task is not a
refusal: grabbing puts the volunteer on the waiting list (`status: "waiting"`, `position`).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from shouwang.accounts.permissions import can, require
from shouwang.checkpoints.roster import local
from shouwang.core.errors import invalid
from shouwang.core.masking import mask_phone
from shouwang.volunteers import tasks as svc
from shouwang.volunteers.models import Signup, SignupStatus, Task, Team
from shouwang.volunteers.selectors import (
    active_volunteer,
    leads,
    signup_for,
    task_for,
    volunteer_for,
    volunteer_of,
)

router = Router()
LIST_LIMIT = 500


class TaskOut(Schema):
    id: int
    kind: str
    title: str
    description: str
    place: str
    team_id: int | None
    team: str
    plan_id: int | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    places: int
    taken: int
    free: int
    skills: list[str]
    cancel_until: dt.datetime
    grabbable: bool
    cancelled_at: dt.datetime | None
    cancel_reason: str
    # The check-in code: for staff and the team's leader only (it is shown at the place).
    code: str | None


class SignupOut(Schema):
    id: int
    task_id: int
    volunteer_id: int
    volunteer: str
    phone: str
    status: str
    how: str
    position: int | None
    created_at: dt.datetime
    taken_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    minutes: int | None
    excused: bool
    override_reason: str


class TaskDetailOut(TaskOut):
    mine: SignupOut | None
    signups: list[SignupOut] | None


class TaskViewOut(Schema):
    task: TaskOut
    mine: SignupOut | None
    free: int
    refusal: str


class TaskIn(Schema):
    title: str
    place: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    places: int
    team_id: int | None = None
    skills: list[str] = []
    description: str = ""
    cancel_until: dt.datetime | None = None
    grabbable: bool = True


class TaskPatch(Schema):
    title: str | None = None
    place: str | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    places: int | None = None
    team_id: int | None = None
    skills: list[str] | None = None
    description: str | None = None
    cancel_until: dt.datetime | None = None
    grabbable: bool | None = None


class ReasonIn(Schema):
    reason: str = ""


class AssignIn(Schema):
    volunteer_id: int
    override_reason: str = ""


def _task_out(t: Task, *, code: bool = False) -> dict:
    return {
        "id": t.pk,
        "kind": t.kind,
        "title": t.title,
        "description": t.description,
        "place": t.place,
        "team_id": t.team_id,
        "team": t.team.name if t.team_id else "",
        "plan_id": t.plan_id,
        "starts_at": t.starts_at,
        "ends_at": t.ends_at,
        "places": t.places,
        "taken": t.taken,
        "free": max(t.places - t.taken, 0),
        "skills": list(t.skills or []),
        "cancel_until": t.cancel_until,
        "grabbable": t.grabbable,
        "cancelled_at": t.cancelled_at,
        "cancel_reason": t.cancel_reason,
        "code": t.code if code else None,
    }


def _signup_out(s: Signup, *, full_phone: bool = False, position=...) -> dict:
    v = s.volunteer
    return {
        "id": s.pk,
        "task_id": s.task_id,
        "volunteer_id": s.volunteer_id,
        "volunteer": v.name,
        "phone": v.phone if full_phone else mask_phone(v.phone),
        "status": s.status,
        "how": s.how,
        "position": svc.waiting_position(s) if position is ... else position,
        "created_at": s.created_at,
        "taken_at": s.taken_at,
        "cancelled_at": s.cancelled_at,
        "checked_in_at": s.checked_in_at,
        "checked_out_at": s.checked_out_at,
        "minutes": s.minutes,
        "excused": s.excused,
        "override_reason": s.override_reason,
    }


def _team(user, team_id):
    if team_id is None:
        return None
    team = Team.objects.filter(pk=team_id, community_id=user.community_id).first()
    if team is None:
        raise invalid("team_id", _("No such team in your community."))
    return team


def _day(value: str | None, field: str, default: dt.date) -> dt.date:
    if not value:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise invalid(field, _("Give the date as YYYY-MM-DD.")) from None


@router.get("/tasks", response=list[TaskOut], summary="Tasks and shifts by day")
def tasks_list(
    request,
    from_: str | None = Query(None, alias="from"),
    to: str | None = None,
    team_id: int | None = None,
):
    """Tasks and shifts starting from `from` to `to` (local dates, both included; default today
    and the 30 days after), cancelled ones with their `cancelled_at`."""
    user = request.auth
    require(user, "volunteers.view")
    first = _day(from_, "from", timezone.localdate())
    last = _day(to, "to", first + dt.timedelta(days=30))
    if last < first:
        raise invalid("to", _("`to` is before `from`."))
    qs = Task.objects.filter(
        community_id=user.community_id,
        starts_at__gte=local(first, dt.time(0)),
        starts_at__lt=local(last + dt.timedelta(days=1), dt.time(0)),
    ).select_related("team")
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    return [_task_out(t, code=True) for t in qs.order_by("starts_at", "pk")[:LIST_LIMIT]]


@router.post("/tasks", response={201: TaskOut}, summary="Publish a task")
def task_create(request, payload: TaskIn):
    user = request.auth
    require(user, "volunteers.manage")
    t = svc.publish(
        actor=user,
        community=user.community,
        title=payload.title,
        place=payload.place,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        places=payload.places,
        team=_team(user, payload.team_id),
        skills=payload.skills,
        description=payload.description,
        cancel_until=payload.cancel_until,
        grabbable=payload.grabbable,
    )
    return Status(201, _task_out(t, code=True))


@router.get("/tasks/{task_id}", response=TaskDetailOut, summary="A task with its people")
def task_detail(request, task_id: int):
    """Everyone who serves sees the task and their own place; staff, viewers and the team's
    leader see the people (phones masked unless `volunteers.manage`) and the check-in code."""
    user = request.auth
    require(user, "volunteers.serve")
    t = task_for(user, task_id)
    lead = leads(user, t)
    viewer = lead or can(user, "volunteers.view")
    out = _task_out(t, code=lead)
    me = volunteer_of(user)
    mine = None
    if me is not None:
        mine = (
            Signup.objects.filter(task=t, volunteer=me)
            .exclude(status=SignupStatus.CANCELLED)
            .select_related("volunteer")
            .order_by("-pk")
            .first()
        )
    out["mine"] = _signup_out(mine) if mine else None
    out["signups"] = None
    if viewer:
        full = can(user, "volunteers.manage")
        rows = list(
            Signup.objects.filter(task=t)
            .exclude(status=SignupStatus.CANCELLED)
            .select_related("volunteer")
            .order_by("created_at", "pk")
        )
        n = 0
        signups = []
        for s in rows:
            pos = None
            if s.status == SignupStatus.WAITING:
                n += 1
                pos = n
            signups.append(_signup_out(s, full_phone=full, position=pos))
        out["signups"] = signups
    return out


@router.patch("/tasks/{task_id}", response=TaskOut, summary="Change a task")
def task_patch(request, task_id: int, payload: TaskPatch):
    user = request.auth
    require(user, "volunteers.manage")
    t = task_for(user, task_id)
    fields = payload.dict(exclude_unset=True)
    if "team_id" in fields:
        fields["team"] = _team(user, fields.pop("team_id"))
    for key in [k for k, v in fields.items() if v is None and k != "team"]:
        raise invalid(key, _("Leave the field out rather than sending null."))
    t = svc.update(actor=user, task=t, **fields)
    return _task_out(Task.objects.select_related("team").get(pk=t.pk), code=True)


@router.post("/tasks/{task_id}/cancel", response=TaskOut, summary="Cancel a task")
def task_cancel(request, task_id: int, payload: ReasonIn):
    user = request.auth
    require(user, "volunteers.manage")
    t = svc.cancel_task(actor=user, task=task_for(user, task_id), reason=payload.reason)
    return _task_out(Task.objects.select_related("team").get(pk=t.pk), code=True)


@router.post("/tasks/{task_id}/grab", response=SignupOut, summary="Grab a place")
def task_grab(request, task_id: int):
    """A place while any is left, else the waiting list (`status`, `position`); a retry returns
    the same signup."""
    user = request.auth
    require(user, "volunteers.serve")
    v = active_volunteer(user)
    s = svc.grab(volunteer=v, task=task_for(user, task_id))
    return _signup_out(s)


@router.post("/tasks/{task_id}/assign", response=SignupOut, summary="Put a volunteer on")
def task_assign(request, task_id: int, payload: AssignIn):
    user = request.auth
    require(user, "volunteers.manage")
    t = task_for(user, task_id)
    v = volunteer_for(user, payload.volunteer_id)
    s = svc.assign(actor=user, task=t, volunteer=v, override_reason=payload.override_reason)
    return _signup_out(s, full_phone=True)


@router.get("/me/tasks", response=list[TaskViewOut], summary="Tasks I may grab")
def my_tasks(request):
    user = request.auth
    require(user, "volunteers.serve")
    v = active_volunteer(user)
    return [
        {
            "task": _task_out(tv.task),
            "mine": _signup_out(tv.mine, position=tv.position) if tv.mine else None,
            "free": tv.free,
            "refusal": tv.refusal,
        }
        for tv in svc.open_tasks(v)
    ]


@router.get("/me/signups", response=list[SignupOut], summary="My places from today on")
def my_signups(request):
    user = request.auth
    require(user, "volunteers.serve")
    v = volunteer_of(user)
    if v is None:
        active_volunteer(user)  # the clear refusal
    return [_signup_out(s, full_phone=True) for s in svc.my_signups(v)]


@router.post("/signups/{signup_id}/cancel", response=SignupOut, summary="Cancel a place")
def signup_cancel(request, signup_id: int, payload: ReasonIn):
    """The volunteer until the task's `cancel_until` (the waiting list any time); staff any
    time. The place goes to the first on the waiting list."""
    user = request.auth
    require(user, "volunteers.serve")
    s = svc.cancel(actor=user, signup=signup_for(user, signup_id), reason=payload.reason)
    return _signup_out(s, full_phone=can(user, "volunteers.manage"))


@router.post("/signups/{signup_id}/no-show", response=SignupOut, summary="Mark a no-show")
def signup_no_show(request, signup_id: int):
    user = request.auth
    require(user, "volunteers.serve")
    s = svc.mark_no_show(actor=user, signup=signup_for(user, signup_id))
    return _signup_out(s, full_phone=can(user, "volunteers.manage"))


@router.post("/signups/{signup_id}/excuse", response=SignupOut, summary="Excuse a no-show")
def signup_excuse(request, signup_id: int):
    user = request.auth
    require(user, "volunteers.serve")
    s = svc.excuse(actor=user, signup=signup_for(user, signup_id))
    return _signup_out(s, full_phone=can(user, "volunteers.manage"))
