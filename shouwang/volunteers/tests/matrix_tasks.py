"""Part of the volunteers app's permission matrix (see tests/matrix.py): tasks, grabbing and the
rest rules — the volunteer's list to grab, grab and cancel, and the tasks API."""

from __future__ import annotations

import datetime as dt

from shouwang.core.tests.matrix_policy import NOBODY, Policy

# volunteers.serve (who may look at a task of the community).
SERVE = frozenset({"admin", "staff", "grid_leader", "guard", "sampler", "volunteer", "resident"})
# Pages without an id: the outsider gets their own community's (no profile: told to sign up).
SERVE_HOME = SERVE | {"outsider"}
# volunteers.view: pages without an id for the outsider too.
VIEW_HOME = frozenset({"admin", "staff", "grid_leader", "outsider"})
# volunteers.manage on rows of the fixture community; the outsider publishes in their own.
MANAGE = frozenset({"admin", "staff"})
MANAGE_HOME = MANAGE | {"outsider"}
# Grabbing needs an active volunteer profile: only the matrix's volunteer has one.
VOLUNTEER = frozenset({"volunteer"})
# A place is cancelled by its volunteer, or by staff.
CANCEL = frozenset({"admin", "staff", "volunteer"})

API = "api/v1/volunteers"
EXPECTED: dict = {
    "volunteers:open": Policy(SERVE_HOME),
    "volunteers:grab": Policy(VOLUNTEER, method="POST", params={"pk": "mt_task"}, post_only=True),
    # The quick grab (views/grab_quick.py) knows no session: a grab key in a header or 401
    # (test_grab_quick.py covers the key).
    "volunteers:grab_quick": Policy(
        NOBODY, method="POST", status=401, post_only=True, data="mt_grab_json"
    ),
    "volunteers:cancel_signup": Policy(
        CANCEL, method="POST", params={"pk": "mt_signup_page"}, post_only=True
    ),
    f"GET {API}/tasks": Policy(VIEW_HOME),
    f"POST {API}/tasks": Policy(MANAGE_HOME, data="mt_task_json"),
    f"GET {API}/tasks/<task_id>": Policy(SERVE, params={"task_id": "mt_task"}),
    f"PATCH {API}/tasks/<task_id>": Policy(
        MANAGE, params={"task_id": "mt_task"}, data="mt_patch_json"
    ),
    f"POST {API}/tasks/<task_id>/cancel": Policy(
        MANAGE, params={"task_id": "mt_task_cancel"}, data="mt_reason_json"
    ),
    f"POST {API}/tasks/<task_id>/grab": Policy(VOLUNTEER, params={"task_id": "mt_task"}),
    f"POST {API}/tasks/<task_id>/assign": Policy(
        MANAGE, params={"task_id": "mt_task"}, data="mt_assign_json"
    ),
    f"GET {API}/me/tasks": Policy(VOLUNTEER),
    f"GET {API}/me/signups": Policy(VOLUNTEER),
    f"POST {API}/signups/<signup_id>/cancel": Policy(
        CANCEL, params={"signup_id": "mt_signup_api"}, data="mt_reason_json"
    ),
    f"POST {API}/signups/<signup_id>/no-show": Policy(
        MANAGE, params={"signup_id": "mt_started_signup"}
    ),
    f"POST {API}/signups/<signup_id>/excuse": Policy(MANAGE, params={"signup_id": "mt_no_show"}),
}


def _future(days: int, hour: int = 3) -> dt.datetime:
    from django.utils import timezone

    from shouwang.checkpoints.roster import local

    # Night hours weeks ahead: no rest rule meets the other parts' rows.
    return local(timezone.localdate() + dt.timedelta(days=days), dt.time(hour, 17))


def _task_json():
    start = _future(30)
    return (
        "json",
        {
            "title": "矩阵任务",
            "place": "东门",
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
            "places": 3,
        },
    )


def _assign_json():
    from shouwang.volunteers.models import Volunteer

    return "json", {"volunteer_id": Volunteer.objects.get(name="矩阵帮手").pk}


BODIES: dict = {
    "mt_task_json": _task_json,
    "mt_patch_json": lambda: ("json", {"description": "带好手套"}),
    "mt_reason_json": lambda: ("json", {"reason": "矩阵测试"}),
    "mt_assign_json": _assign_json,
    "mt_grab_json": lambda: ("json", {"task": 1}),
}


def rows(personas, ledger, made) -> dict:
    """Open tasks weeks ahead, two places of the matrix's volunteer (one for the page, one for
    the API), a task that started an hour ago with a helper not come, and a missed place."""
    from django.utils import timezone

    from shouwang.volunteers.models import Signup
    from shouwang.volunteers.testing import make_task, make_volunteer

    community = personas["admin"].community
    out: dict = {}
    me = made.get("vol_me")
    if me is None:  # the people part makes it; made here only while that part is missing
        me = out["vol_me"] = make_volunteer(community, user=personas["volunteer"])
    helper = make_volunteer(community, name="矩阵帮手")
    late = make_volunteer(community, name="矩阵迟到")

    def place(task, volunteer, status="taken"):
        s = Signup.objects.create(
            community=community, task=task, volunteer=volunteer, status=status, how="assigned"
        )
        if status == "taken":
            task.taken += 1
            task.save(update_fields=["taken"])
        return s

    page_task = make_task(community, starts_at=_future(25), places=3)
    api_task = make_task(community, starts_at=_future(27), places=3)
    started = make_task(
        community, starts_at=timezone.now() - dt.timedelta(hours=1), hours=3, places=3
    )
    missed = make_task(community, starts_at=timezone.now() - dt.timedelta(days=2), places=3)
    out.update(
        {
            "mt_task": make_task(community, starts_at=_future(23), places=5),
            "mt_task_cancel": make_task(community, starts_at=_future(24), places=5),
            "mt_signup_page": place(page_task, me),
            "mt_signup_api": place(api_task, me),
            "mt_started_signup": place(started, helper),
            "mt_no_show": place(missed, late, status="no_show"),
        }
    )
    return out
