"""Shift plans: a three-shift week makes 21 shifts; the grid shows every rest rule broken at its
exact edge (touching shifts are one block; the daily cap may be met, not passed; rest may equal
the minimum, not fall short of it), and the reason staff gave for putting someone on anyway."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shouwang.checkpoints.services import policy_for as roster_policy
from shouwang.core import testing as t
from shouwang.core.errors import DomainError
from shouwang.volunteers import plans, tasks
from shouwang.volunteers.models import Signup, Task, TaskKind
from shouwang.volunteers.selectors import teams_for
from shouwang.volunteers.testing import make_volunteer

THREE = [("07:00", "15:00"), ("15:00", "23:00"), ("23:00", "07:00")]


@pytest.fixture
def setup(community):
    admin = t.make_user("admin", community)
    team = teams_for(community.pk).get(kind="supplies")
    # The defaults, written out: at most 8 h a day, at least 8 h of rest.
    p = roster_policy(community.pk)
    p.max_hours_per_day, p.min_rest_hours = 8, 8
    p.save()
    first = timezone.localdate() + dt.timedelta(days=3)
    return {"admin": admin, "team": team, "first": first, "community": community}


def local(day, hhmm):
    h, m = map(int, hhmm.split(":"))
    return timezone.make_aware(dt.datetime.combine(day, dt.time(h, m)))


def make(setup, shifts, days=1, places=2, **kw):
    first = kw.pop("first", setup["first"])
    return plans.make_plan(
        actor=setup["admin"],
        team=setup["team"],
        title="包裹队",
        place="快递点",
        first_day=first,
        last_day=first + dt.timedelta(days=days - 1),
        shifts=shifts,
        places=places,
        **kw,
    )


def shift(plan, day, hhmm) -> Task:
    return plan.tasks.get(starts_at=local(day, hhmm))


def person(grid, task, volunteer):
    for cell in grid.cells:
        if cell.task.pk == task.pk:
            return next(p for p in cell.people if p.volunteer.pk == volunteer.pk)
    raise AssertionError("not on the grid")


def test_three_shifts_for_a_week_make_21_shifts(setup):
    plan = make(setup, THREE, days=7, places=3)
    made = list(plan.tasks.order_by("starts_at"))
    assert len(made) == 21
    assert {x.kind for x in made} == {TaskKind.SHIFT}
    assert {x.team_id for x in made} == {setup["team"].pk}
    assert {x.places for x in made} == {3}
    assert not any(x.grabbable for x in made)
    assert len({x.code for x in made}) == 21
    first = setup["first"]
    night = shift(plan, first, "23:00")
    # The night shift runs through midnight: it ends at 07:00 the next day, 8 hours later.
    assert night.ends_at == local(first + dt.timedelta(days=1), "07:00")
    assert night.ends_at - night.starts_at == dt.timedelta(hours=8)
    assert made[-1].starts_at == local(first + dt.timedelta(days=6), "23:00")
    grid = plans.plan_grid(plan)
    assert grid.shifts == ["07:00–15:00", "15:00–23:00", "23:00–07:00 (+1)"]
    assert len(grid.rows) == 7 and all(len(r.cells) == 3 for r in grid.rows)
    assert all(c is not None for r in grid.rows for c in r.cells)
    assert (grid.places, grid.taken) == (63, 0)
    assert len(grid.gaps) == 21 and grid.breaks == []
    assert plan.shifts == [["07:00", "15:00"], ["15:00", "23:00"], ["23:00", "07:00"]]


def test_two_consecutive_shifts_break_the_daily_cap_and_the_override_is_kept(setup):
    admin, first = setup["admin"], setup["first"]
    plan = make(setup, THREE, days=2)
    v = make_volunteer(setup["community"], team=setup["team"])
    early, late = shift(plan, first, "07:00"), shift(plan, first, "15:00")
    tasks.assign(actor=admin, task=early, volunteer=v)
    assert plans.plan_grid(plan).breaks == []
    # 07:00–15:00 and 15:00–23:00 touch: one block of 16 hours on one day.
    with pytest.raises(DomainError) as e:
        tasks.assign(actor=admin, task=late, volunteer=v)
    assert e.value.code == "rest_rule"
    assert Signup.objects.filter(task=late).count() == 0
    s = tasks.assign(actor=admin, task=late, volunteer=v, override_reason="两人发烧，没有替班")
    assert s.override_reason == "两人发烧，没有替班"
    grid = plans.plan_grid(plan)
    # Shown on both shifts, as they are: each against the other.
    assert {p.task.pk for p in grid.breaks} == {early.pk, late.pk}
    assert {p.kind for p in grid.breaks} == {"daily_cap"}
    assert all(p.volunteer.pk == v.pk for p in grid.breaks)
    assert person(grid, late, v).breaks and person(grid, early, v).breaks
    assert "16" in person(grid, late, v).breaks[0].message
    late_problem = next(p for p in grid.breaks if p.task.pk == late.pk)
    assert late_problem.override_reason == "两人发烧，没有替班"
    assert grid.taken == 2 and len(grid.gaps) == 6  # six shifts, each one or two short


def test_night_then_morning_is_one_block_through_midnight(setup):
    admin, first = setup["admin"], setup["first"]
    plan = make(setup, THREE, days=2)
    v = make_volunteer(setup["community"], team=setup["team"])
    tasks.assign(actor=admin, task=shift(plan, first, "23:00"), volunteer=v)
    nxt = shift(plan, first + dt.timedelta(days=1), "07:00")
    with pytest.raises(DomainError):
        tasks.assign(actor=admin, task=nxt, volunteer=v)
    tasks.assign(actor=admin, task=nxt, volunteer=v, override_reason="封控加班")
    codes = {p.kind for p in plans.plan_grid(plan).breaks}
    assert codes == {"daily_cap"}


@pytest.mark.parametrize(
    "second, broken",
    [
        # 4 h + 4 h = the cap exactly; 19:00 − 11:00 = the rest exactly: nothing broken.
        (("19:00", "23:00"), set()),
        # One minute less rest.
        (("18:59", "22:59"), {"rest"}),
        # One minute over the cap (4 h + 4 h 1 min on one day).
        (("19:00", "23:01"), {"daily_cap"}),
    ],
)
def test_rest_and_cap_at_their_exact_edges(setup, second, broken):
    admin, first = setup["admin"], setup["first"]
    plan = make(setup, [("07:00", "11:00"), second])
    v = make_volunteer(setup["community"], team=setup["team"])
    tasks.assign(actor=admin, task=shift(plan, first, "07:00"), volunteer=v)
    other = shift(plan, first, second[0])
    if broken:
        with pytest.raises(DomainError) as e:
            tasks.assign(actor=admin, task=other, volunteer=v)
        assert e.value.code == "rest_rule"
        tasks.assign(actor=admin, task=other, volunteer=v, override_reason="人手不够")
    else:
        tasks.assign(actor=admin, task=other, volunteer=v)
    grid = plans.plan_grid(plan)
    assert {p.kind for p in grid.breaks} == broken
    assert grid.taken == 2
    if broken:
        assert len(grid.breaks) == 2  # on both shifts
        assert all(p.override_reason for p in grid.breaks if p.task.pk == other.pk)


def test_a_checkpoint_duty_counts_on_the_grid(setup):
    """A guard's night at the gate leaves them unrested for the morning's parcels."""
    from shouwang.checkpoints import places, roster
    from shouwang.checkpoints.models import Duty

    admin, first, community = setup["admin"], setup["first"], setup["community"]
    plan = make(setup, [("08:00", "12:00")])
    user = t.make_user("volunteer", community, username="guard_vol")
    v = make_volunteer(community, team=setup["team"], user=user)
    tasks.assign(actor=admin, task=shift(plan, first, "08:00"), volunteer=v)
    assert plans.plan_grid(plan).breaks == []
    cp = places.checkpoint_save(actor=admin, community=community, name="东门")
    sh = roster.shifts_make(
        community=community, checkpoints=[cp], start=first - dt.timedelta(days=1), days=2
    )
    s = next(x for x in sh if x.starts_at <= local(first, "02:00") < x.ends_at)
    Duty.objects.create(
        community=community,
        shift=s,
        user=user,
        kind="rotation",
        starts_at=local(first, "02:00"),
        ends_at=local(first, "04:00"),
    )
    grid = plans.plan_grid(plan)
    assert [p.kind for p in grid.breaks] == ["rest"]
    assert "东门" in grid.breaks[0].message


def test_a_cancelled_shift_and_the_waiting_list_on_the_grid(setup):
    admin, first = setup["admin"], setup["first"]
    plan = make(setup, [("08:00", "12:00"), ("14:00", "18:00")], places=1)
    a, b = (make_volunteer(setup["community"], team=setup["team"]) for _ in range(2))
    morning = shift(plan, first, "08:00")
    tasks.assign(actor=admin, task=morning, volunteer=a)
    Signup.objects.create(
        community=setup["community"], task=morning, volunteer=b, status="waiting", how="grabbed"
    )
    tasks.cancel_task(actor=admin, task=shift(plan, first, "14:00"), reason="下雨")
    grid = plans.plan_grid(plan)
    cells = grid.rows[0].cells
    assert [len(c.people) for c in cells] == [1, 0]
    assert cells[0].waiting == 1 and cells[0].free == 0
    assert cells[1].cancelled and cells[1].free == 0
    assert grid.gaps == [] and (grid.places, grid.taken) == (1, 1)


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"shifts": []}, "shifts"),
        ({"shifts": [(f"{h:02d}:00", f"{h:02d}:30") for h in range(7)]}, "shifts"),
        ({"shifts": [("7h", "15:00")]}, "shifts"),
        ({"shifts": [("07:00", "15:00"), ("07:00", "12:00")]}, "shifts"),
        ({"days": 32}, "last_day"),
        ({"places": 0}, "places"),
        ({"title": " "}, "title"),
    ],
)
def test_bad_plans_are_refused_with_the_field(setup, kw, field):
    kw = {"shifts": THREE, "days": 1, "places": 2, **kw}
    title = kw.pop("title", "包裹队")
    with pytest.raises(DomainError) as e:
        plans.make_plan(
            actor=setup["admin"],
            team=setup["team"],
            title=title,
            place="",
            first_day=setup["first"],
            last_day=setup["first"] + dt.timedelta(days=kw["days"] - 1),
            shifts=kw["shifts"],
            places=kw["places"],
        )
    assert field in e.value.fields
    assert Task.objects.count() == 0


def test_the_last_day_before_the_first_and_31_days_allowed(setup):
    with pytest.raises(DomainError) as e:
        make(setup, THREE, first=setup["first"], days=0)
    assert "last_day" in e.value.fields
    plan = make(setup, [("08:00", "09:00")], days=31)
    assert plan.tasks.count() == 31


def test_only_managers_make_plans_and_only_for_their_teams(setup, personas, other_community):
    with pytest.raises(DomainError):
        plans.make_plan(
            actor=personas["grid_leader"],
            team=setup["team"],
            title="x",
            place="",
            first_day=setup["first"],
            last_day=setup["first"],
            shifts=THREE,
            places=1,
        )
    theirs = teams_for(other_community.pk).first()
    with pytest.raises(DomainError) as e:
        plans.make_plan(
            actor=setup["admin"],
            team=theirs,
            title="x",
            place="",
            first_day=setup["first"],
            last_day=setup["first"],
            shifts=THREE,
            places=1,
        )
    assert "team" in e.value.fields


def test_copy_forward_adds_the_shifts_not_the_people(setup):
    admin, first = setup["admin"], setup["first"]
    plan = make(setup, THREE, days=2)
    v = make_volunteer(setup["community"], team=setup["team"])
    tasks.assign(actor=admin, task=shift(plan, first, "07:00"), volunteer=v)
    plan = plans.copy_forward(actor=admin, plan=plan, days=3)
    assert plan.last_day == first + dt.timedelta(days=4)
    assert plan.tasks.count() == 15
    assert Signup.objects.filter(task__plan=plan).count() == 1
    grid = plans.plan_grid(plan)
    assert len(grid.rows) == 5 and grid.taken == 1


def test_delete_only_while_nobody_checked_in(setup):
    admin, first = setup["admin"], setup["first"]
    plan = make(setup, THREE, days=1)
    v = make_volunteer(setup["community"], team=setup["team"])
    s = tasks.assign(actor=admin, task=shift(plan, first, "07:00"), volunteer=v)
    Signup.objects.filter(pk=s.pk).update(checked_in_at=timezone.now())
    with pytest.raises(DomainError) as e:
        plans.delete_plan(actor=admin, plan=plan)
    assert e.value.code == "served"
    assert Task.objects.filter(plan=plan).count() == 3
    Signup.objects.filter(pk=s.pk).update(checked_in_at=None)
    plans.delete_plan(actor=admin, plan=plan, reason="改期")
    assert Task.objects.count() == 0 and Signup.objects.count() == 0


def test_the_grid_costs_a_fixed_number_of_queries(setup, django_assert_max_num_queries):
    admin, first = setup["admin"], setup["first"]
    plan = make(setup, THREE, days=7, places=2)
    people = [make_volunteer(setup["community"], team=setup["team"]) for _ in range(6)]
    for i, v in enumerate(people):
        tasks.assign(
            actor=admin, task=shift(plan, first + dt.timedelta(days=i), "07:00"), volunteer=v
        )
    plan = plans.plan_for(admin, plan.pk)
    with django_assert_max_num_queries(8):
        grid = plans.plan_grid(plan)
    assert grid.taken == 6


def test_the_api_makes_a_plan_and_gives_the_grid_with_its_breaks(client, setup):
    admin, first = setup["admin"], setup["first"]
    client.force_login(admin)
    r = client.post(
        "/api/v1/volunteers/plans",
        {
            "team_id": setup["team"].pk,
            "title": "包裹队三班",
            "place": "快递点",
            "first_day": first.isoformat(),
            "last_day": (first + dt.timedelta(days=6)).isoformat(),
            "shifts": [list(s) for s in THREE],
            "places": 2,
        },
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    plan_id = r.json()["id"]
    plan = plans.plan_for(admin, plan_id)
    assert plan.tasks.count() == 21
    v = make_volunteer(setup["community"], team=setup["team"])
    tasks.assign(actor=admin, task=shift(plan, first, "07:00"), volunteer=v)
    tasks.assign(actor=admin, task=shift(plan, first, "15:00"), volunteer=v, override_reason="急")
    body = client.get(f"/api/v1/volunteers/plans/{plan_id}").json()
    assert len(body["days"]) == 7 and body["shifts"][2] == "23:00–07:00 (+1)"
    cell = body["days"][0]["cells"][1]
    assert cell["taken"] == 1 and cell["free"] == 1
    assert cell["people"][0]["override_reason"] == "急"
    assert cell["people"][0]["breaks"][0]["code"] == "daily_cap"
    kinds = [p["kind"] for p in body["problems"]]
    assert kinds.count("daily_cap") == 2 and kinds.count("gap") == 21
    assert (body["max_hours_per_day"], body["min_rest_hours"]) == (8, 8)
    listed = client.get("/api/v1/volunteers/plans").json()
    assert [p["id"] for p in listed] == [plan_id]
    bad = client.post(
        "/api/v1/volunteers/plans",
        {
            "team_id": setup["team"].pk,
            "title": "x",
            "first_day": first.isoformat(),
            "last_day": first.isoformat(),
            "shifts": [["25:00", "07:00"]],
        },
        content_type="application/json",
    )
    assert bad.status_code == 400 and "shifts" in bad.json()["error"]["fields"]
