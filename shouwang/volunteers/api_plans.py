"""/api/v1/volunteers/: shift plans. The rules are in plans.py, as for the HTML pages.

GET  /plans                GET /plans/{id} (the grid, with every break and gap)
POST /plans
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from shouwang.accounts.permissions import can, require
from shouwang.accounts.scope import get_scoped
from shouwang.core.errors import Forbidden
from shouwang.volunteers import plans
from shouwang.volunteers.models import Team

router = Router()


class PlanIn(Schema):
    team_id: int
    title: str
    place: str = ""
    first_day: dt.date
    last_day: dt.date
    shifts: list[list[str]] = Field(
        ...,
        description='Each shift as ["HH:MM", "HH:MM"]; an until at or before the from runs '
        "through midnight. 1 to 6 shifts.",
    )
    places: int = Field(2, description="People per shift.")
    grabbable: bool = Field(False, description="The team's members may grab the shifts.")


class PlanOut(Schema):
    id: int
    team_id: int
    team: str
    title: str
    place: str
    first_day: dt.date
    last_day: dt.date
    shifts: list[list[str]]
    places: int


class BreakOut(Schema):
    code: str
    message: str
    day: dt.date | None


class PersonOut(Schema):
    signup_id: int
    volunteer_id: int
    name: str
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    override_reason: str
    breaks: list[BreakOut]


class CellOut(Schema):
    task_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    places: int
    taken: int
    free: int
    waiting: int
    cancelled: bool
    people: list[PersonOut]


class DayOut(Schema):
    day: dt.date
    cells: list[CellOut | None] = Field(..., description="One per shift of the plan, in order.")
    extra: list[CellOut] = Field(..., description="Shifts moved off the plan's times.")


class ProblemOut(Schema):
    kind: str = Field(..., description='"gap", or a rule broken: "overlap", "daily_cap", "rest".')
    task_id: int
    starts_at: dt.datetime
    message: str
    volunteer_id: int | None
    override_reason: str


class GridOut(Schema):
    plan: PlanOut
    shifts: list[str]
    max_hours_per_day: int
    min_rest_hours: int
    places: int
    taken: int
    days: list[DayOut]
    problems: list[ProblemOut]


def _plan_out(p) -> dict:
    return {
        "id": p.pk,
        "team_id": p.team_id,
        "team": p.team.name,
        "title": p.title,
        "place": p.place,
        "first_day": p.first_day,
        "last_day": p.last_day,
        "shifts": [list(s) for s in p.shifts],
        "places": p.places,
    }


def _cell_out(c) -> dict:
    return {
        "task_id": c.task.pk,
        "starts_at": c.task.starts_at,
        "ends_at": c.task.ends_at,
        "places": c.task.places,
        "taken": len(c.people),
        "free": c.free,
        "waiting": c.waiting,
        "cancelled": c.cancelled,
        "people": [
            {
                "signup_id": p.signup.pk,
                "volunteer_id": p.volunteer.pk,
                "name": p.volunteer.name,
                "checked_in_at": p.signup.checked_in_at,
                "checked_out_at": p.signup.checked_out_at,
                "override_reason": p.signup.override_reason,
                "breaks": [
                    {"code": b.code, "message": str(b.message), "day": b.day} for b in p.breaks
                ],
            }
            for p in c.people
        ],
    }


@router.get("/plans", response=list[PlanOut], summary="Shift plans, newest first")
def plans_list(request, current: bool = False):
    require(request.auth, "volunteers.view")
    qs = plans.plans_for(request.auth)
    if current:
        qs = qs.filter(last_day__gte=timezone.localdate())
    return [_plan_out(p) for p in qs[:200]]


@router.post("/plans", response={201: PlanOut}, summary="Make a plan and its shifts")
def plan_create(request, payload: PlanIn):
    require(request.auth, "volunteers.manage")
    user = request.auth
    team = get_scoped(user, Team.objects.all(), payload.team_id)
    plan = plans.make_plan(
        actor=user,
        team=team,
        title=payload.title,
        place=payload.place,
        first_day=payload.first_day,
        last_day=payload.last_day,
        shifts=payload.shifts,
        places=payload.places,
        grabbable=payload.grabbable,
    )
    return Status(201, _plan_out(plan))


@router.get("/plans/{plan_id}", response=GridOut, summary="A plan's grid with its breaks and gaps")
def plan_get(request, plan_id: int):
    from shouwang.volunteers.selectors import rest_rules

    user = request.auth
    require(user, "volunteers.serve")
    plan = plans.plan_for(user, plan_id)
    if not (
        can(user, "volunteers.view")
        or Team.objects.filter(pk=plan.team_id, leader__user=user).exists()
    ):
        raise Forbidden("not_leader", _("Only the committee or this team's leader can see this."))
    grid = plans.plan_grid(plan)
    cap, rest = rest_rules(plan.community_id)
    return {
        "plan": _plan_out(plan),
        "shifts": grid.shifts,
        "max_hours_per_day": cap,
        "min_rest_hours": rest,
        "places": grid.places,
        "taken": grid.taken,
        "days": [
            {
                "day": r.day,
                "cells": [_cell_out(c) if c is not None else None for c in r.cells],
                "extra": [_cell_out(c) for c in r.extra],
            }
            for r in grid.rows
        ],
        "problems": [
            {
                "kind": p.kind,
                "task_id": p.task.pk,
                "starts_at": p.task.starts_at,
                "message": p.message,
                "volunteer_id": p.volunteer.pk if p.volunteer is not None else None,
                "override_reason": p.override_reason,
            }
            for p in grid.problems
        ],
    }
