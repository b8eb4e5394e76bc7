"""Part of the volunteers app's permission matrix (see tests/matrix.py): the volunteer's own
pages, check-in, hours, stats and certificates."""

from __future__ import annotations

from shouwang.core.tests.matrix_policy import Policy

# volunteers.serve: everyone of the community but merchants and district viewers; pages without
# an id give the outsider their own community's.
SERVE = frozenset({"admin", "staff", "grid_leader", "guard", "sampler", "volunteer", "resident"})
SERVE_HOME = SERVE | {"outsider"}
# Pages about the signed-in user's own volunteer profile: only the volunteer persona has one
# (the others are told to sign up first: 403).
OWN = frozenset({"volunteer"})
# volunteers.view: the office and grid leaders.
VIEW = frozenset({"admin", "staff", "grid_leader"})
VIEW_HOME = VIEW | {"outsider"}
# Leaders' check-in and corrections on a task open to all: volunteers.manage (no team leader).
LEAD = frozenset({"admin", "staff"})

EXPECTED: dict = {
    "volunteers:index": Policy(SERVE_HOME),
    "volunteers:me": Policy(SERVE_HOME),
    "volunteers:record": Policy(OWN),
    "volunteers:certificate": Policy(OWN),
    "volunteers:hide": Policy(OWN, method="POST", data="h_hide_form", post_only=True),
    "volunteers:check": Policy(SERVE_HOME),
    # The code is of the fixture community: the outsider's lookup finds nothing (404).
    "volunteers:check_code": Policy(SERVE, params={"code": "h_code"}),
    "volunteers:leaderboard": Policy(SERVE_HOME),
    "volunteers:stats": Policy(VIEW_HOME),
    "volunteers:stats_xlsx": Policy(VIEW_HOME),
    "volunteers:person_certificate": Policy(VIEW, params={"pk": "h_elder"}),
    "volunteers:signup_in": Policy(LEAD, method="POST", params={"pk": "h_signup"}, post_only=True),
    "volunteers:signup_out": Policy(LEAD, method="POST", params={"pk": "h_signup"}, post_only=True),
    "volunteers:signup_correct": Policy(
        LEAD, method="POST", params={"pk": "h_signup"}, data="h_correct_form", post_only=True
    ),
    "POST api/v1/volunteers/check": Policy(OWN, data="h_code_json"),
    "POST api/v1/volunteers/signups/<signup_id>/check-in": Policy(
        LEAD, params={"signup_id": "h_signup_in"}
    ),
    "POST api/v1/volunteers/signups/<signup_id>/check-out": Policy(
        LEAD, params={"signup_id": "h_signup_out"}
    ),
    "POST api/v1/volunteers/signups/<signup_id>/correct": Policy(
        LEAD, params={"signup_id": "h_signup_out"}, data="h_correct_json"
    ),
    "GET api/v1/volunteers/stats": Policy(VIEW_HOME),
    "GET api/v1/volunteers/leaderboard": Policy(SERVE_HOME),
    "GET api/v1/volunteers/me/record": Policy(OWN),
    "GET api/v1/volunteers/people/<volunteer_id>/record": Policy(
        VIEW, params={"volunteer_id": "h_elder"}
    ),
}


class _Key:
    """A path parameter that is not a row's id (the task's check-in code)."""

    def __init__(self, value: str):
        self.pk = value


def _code() -> str:
    from shouwang.volunteers.models import Task

    return Task.objects.get(title="矩阵签到", community__code="HM-T").code


BODIES: dict = {
    "h_hide_form": lambda: ("form", {"hide": "0"}),
    "h_correct_form": lambda: ("form", {"minutes": "30", "reason": "矩阵测试"}),
    "h_correct_json": lambda: ("json", {"minutes": 30, "reason": "矩阵测试"}),
    "h_code_json": lambda: ("json", {"code": _code()}),
}


def rows(personas, ledger, made) -> dict:
    """A task that started ten minutes ago with the matrix volunteer on it (declared well
    today), and a volunteer without a login on it three times over for the leaders' buttons."""
    import datetime as dt

    from django.utils import timezone

    from shouwang.volunteers.models import Declaration, Signup
    from shouwang.volunteers.testing import make_task, make_volunteer

    community = personas["admin"].community
    vol = made.get("vol_me")
    if vol is None:  # the people part makes it; standing alone, this fragment makes its own
        vol = make_volunteer(community, user=personas["volunteer"], name="矩阵志愿者")
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=10)
    task = make_task(community, starts_at=start, hours=3, places=5, title="矩阵签到")
    Declaration.objects.update_or_create(
        volunteer=vol,
        date=timezone.localdate(),
        defaults={"community": community, "well": True},
    )

    def on(v, **kw):
        return Signup.objects.create(
            community=community, task=task, volunteer=v, status="taken", how="assigned", **kw
        )

    on(vol)
    elder = make_volunteer(community, name="矩阵老党员")
    other = make_volunteer(community, name="矩阵居民")
    third = make_volunteer(community, name="矩阵退休教师")
    return {
        "h_code": _Key(task.code),
        "h_elder": elder,
        "h_signup": on(elder),
        "h_signup_in": on(other),
        "h_signup_out": on(third, checked_in_at=start),
    }
