"""When volunteers are already busy with volunteer tasks and shifts, for the checkpoint rosters:
the roster generator does not put someone at a gate while they serve elsewhere, and the roster
checker counts these hours in the daily cap and the rest between blocks (one person, one body).
The volunteers' own rules (rules.py) count checkpoint duties the other way round."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from shouwang.volunteers.models import Signup, SignupStatus


def busy_of(user_ids, lo: dt.datetime, hi: dt.datetime) -> dict[int, list[tuple]]:
    """{user id: [(starts_at, ends_at, task title), …]} of the taken places of these users'
    volunteer profiles on tasks and shifts (not cancelled) intersecting [lo, hi), by start."""
    out: dict[int, list[tuple]] = defaultdict(list)
    if not user_ids:
        return out
    rows = (
        Signup.objects.filter(
            status=SignupStatus.TAKEN,
            volunteer__user_id__in=list(user_ids),
            task__cancelled_at__isnull=True,
            task__starts_at__lt=hi,
            task__ends_at__gt=lo,
        )
        .order_by("task__starts_at")
        .values_list("volunteer__user_id", "task__starts_at", "task__ends_at", "task__title")
    )
    for uid, s, e, title in rows:
        out[uid].append((s, e, title))
    return out
