"""Test helpers of the volunteers app: a volunteer and a task in one line."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from shouwang.volunteers.models import Task, TaskKind, Volunteer, VolunteerStatus
from shouwang.volunteers.selectors import new_code

_seq = itertools.count(1)


def make_volunteer(
    community,
    *,
    user=None,
    name=None,
    team=None,
    status=VolunteerStatus.ACTIVE,
    skills=(),
    origin="resident",
    phone=None,
) -> Volunteer:
    n = next(_seq)
    return Volunteer.objects.create(
        community=community,
        user=user,
        name=name or f"志愿者{n}",
        phone=phone or f"1390000{n:04d}",
        origin=origin,
        team=team,
        status=status,
        skills=list(skills),
        approved_at=timezone.now() if status == VolunteerStatus.ACTIVE else None,
    )


def make_task(
    community,
    *,
    starts_at=None,
    hours=2,
    places=2,
    team=None,
    title=None,
    kind=TaskKind.TASK,
    grabbable=True,
    skills=(),
    cancel_until=None,
    place="东门",
    created_by=None,
) -> Task:
    starts_at = starts_at or (timezone.now() + dt.timedelta(days=1)).replace(
        minute=0, second=0, microsecond=0
    )
    return Task.objects.create(
        community=community,
        kind=kind,
        title=title or f"任务{next(_seq)}",
        place=place,
        team=team,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=hours),
        places=places,
        skills=list(skills),
        cancel_until=cancel_until or starts_at - dt.timedelta(hours=2),
        grabbable=grabbable,
        code=new_code(),
        created_by=created_by,
    )
