"""Part of the volunteers app's permission matrix (see tests/matrix.py): the staff's task pages
and shift plans. Viewers (volunteers.view: the office and grid leaders) read; the office
(volunteers.manage) publishes, plans and acts on people; team leaders' own access is tested in
test_task_pages.py (the matrix's volunteer leads no team)."""

from __future__ import annotations

from shouwang.core.tests.matrix_policy import Policy

# volunteers.view on rows of the fixture community; pages without an id also give the outsider
# (an admin elsewhere) their own community's.
VIEW = frozenset({"admin", "staff", "grid_leader"})
VIEW_HOME = VIEW | {"outsider"}
# volunteers.manage.
MANAGE = frozenset({"admin", "staff"})
MANAGE_HOME = MANAGE | {"outsider"}

EXPECTED: dict = {
    "volunteers:tasks": Policy(VIEW_HOME),
    "volunteers:task_new": Policy(MANAGE_HOME),
    "volunteers:task": Policy(VIEW, params={"pk": "st_task"}),
    "volunteers:task_edit": Policy(MANAGE, params={"pk": "st_task"}),
    "volunteers:task_assign": Policy(MANAGE, params={"pk": "st_task"}),
    "volunteers:task_poster": Policy(VIEW, params={"pk": "st_task"}),
    "volunteers:task_cancel": Policy(
        MANAGE,
        method="POST",
        params={"pk": "st_task_cancel"},
        data="st_reason_form",
        post_only=True,
    ),
    "volunteers:signup_no_show": Policy(
        MANAGE, method="POST", params={"pk": "st_signup_started"}, post_only=True
    ),
    "volunteers:signup_excuse": Policy(
        MANAGE, method="POST", params={"pk": "st_signup_missed"}, post_only=True
    ),
    "volunteers:signup_remove": Policy(
        MANAGE,
        method="POST",
        params={"pk": "st_signup_remove"},
        data="st_reason_form",
        post_only=True,
    ),
    "volunteers:plans": Policy(VIEW_HOME),
    "volunteers:plan_new": Policy(MANAGE_HOME),
    "volunteers:plan": Policy(VIEW, params={"pk": "st_plan"}),
    "volunteers:plan_print": Policy(VIEW, params={"pk": "st_plan"}),
    "volunteers:plan_extend": Policy(
        MANAGE, method="POST", params={"pk": "st_plan"}, data="st_days_form", post_only=True
    ),
    "volunteers:plan_delete": Policy(
        MANAGE, method="POST", params={"pk": "st_plan_delete"}, post_only=True
    ),
    "GET api/v1/volunteers/plans": Policy(VIEW_HOME),
    # The team in the body is ours: the outsider gets a 404.
    "POST api/v1/volunteers/plans": Policy(MANAGE, data="st_plan_json"),
    "GET api/v1/volunteers/plans/<plan_id>": Policy(VIEW, params={"plan_id": "st_plan"}),
}


def _plan_json():
    import datetime as dt

    from django.utils import timezone

    from shouwang.volunteers.models import Team

    team = Team.objects.filter(community__code="HM-T", is_active=True).order_by("pk").first()
    day = timezone.localdate() + dt.timedelta(days=3)
    return (
        "json",
        {
            "team_id": team.pk,
            "title": "矩阵排班",
            "place": "东门",
            "first_day": day.isoformat(),
            "last_day": day.isoformat(),
            "shifts": [["08:00", "12:00"]],
            "places": 1,
        },
    )


BODIES: dict = {
    "st_reason_form": lambda: ("form", {"reason": "矩阵测试"}),
    "st_days_form": lambda: ("form", {"days": "1"}),
    "st_plan_json": _plan_json,
}


def rows(personas, ledger, made) -> dict:
    """A team's one-day plan (and one to delete), a task with people on it, a task to cancel,
    and places to act on: one on a task that started an hour ago, one missed, one to remove."""
    import datetime as dt

    from django.utils import timezone

    from shouwang.volunteers import plans
    from shouwang.volunteers.models import Signup, SignupStatus, Task
    from shouwang.volunteers.selectors import teams_for
    from shouwang.volunteers.testing import make_task, make_volunteer

    admin = personas["admin"]
    community = admin.community
    team = teams_for(community.pk).first()
    day = timezone.localdate() + dt.timedelta(days=2)
    plan = plans.make_plan(
        actor=admin,
        team=team,
        title="矩阵包裹队",
        place="快递点",
        first_day=day,
        last_day=day,
        shifts=[("07:00", "15:00"), ("15:00", "23:00")],
        places=2,
    )
    doomed = plans.make_plan(
        actor=admin,
        team=team,
        title="矩阵待删",
        place="快递点",
        first_day=day,
        last_day=day,
        shifts=[("08:00", "12:00")],
        places=1,
    )
    a, b, c = (make_volunteer(community, team=team, name=n) for n in ("甲志愿", "乙志愿", "丙志愿"))
    task = make_task(community, places=3, team=team, title="矩阵任务")
    later = make_task(community, places=2, title="矩阵取消")
    started = make_task(
        community,
        starts_at=timezone.now() - dt.timedelta(hours=1),
        hours=3,
        places=3,
        title="矩阵进行中",
    )

    def on(t, v, status=SignupStatus.TAKEN):
        s = Signup.objects.create(
            community=community, task=t, volunteer=v, status=status, how="assigned"
        )
        if status == SignupStatus.TAKEN:
            Task.objects.filter(pk=t.pk).update(taken=t.signups.filter(status="taken").count())
        return s

    on(task, a)
    on(later, a)
    return {
        "st_team": team,
        "st_plan": plan,
        "st_plan_delete": doomed,
        "st_task": task,
        "st_task_cancel": later,
        "st_signup_remove": on(task, b),
        "st_signup_started": on(started, b),
        "st_signup_missed": on(started, c, SignupStatus.NO_SHOW),
    }
