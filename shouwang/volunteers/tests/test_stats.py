"""The figures as the seeds report them, counted by hand (stats.py)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from shouwang.volunteers import stats
from shouwang.volunteers.models import Correction, Signup, Team
from shouwang.volunteers.testing import make_task, make_volunteer


def at(day: int, hour: int = 9) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, 3, day, hour))


def served(task, v, minutes, status="taken"):
    return Signup.objects.create(
        community=task.community,
        task=task,
        volunteer=v,
        status=status,
        how="grabbed",
        checked_in_at=task.starts_at,
        checked_out_at=task.starts_at + dt.timedelta(minutes=minutes or 0),
        minutes=minutes,
    )


@pytest.fixture
def scene(community, other_community):
    """Testing team: 甲 4 h 10 min + 3 h, 乙 7 h 10 min; supplies: 丙 90 min; open to all:
    甲 50 min. 丁 was a no-show, 戊 waited; another community's hours never count."""
    testing = Team.objects.create(community=community, name="核酸组", kind="testing", position=1)
    supplies = Team.objects.create(community=community, name="物资组", kind="supplies", position=2)
    a = make_volunteer(community, name="甲", team=testing)
    b = make_volunteer(community, name="乙", team=testing)
    c = make_volunteer(community, name="丙", team=supplies)
    d = make_volunteer(community, name="丁", team=supplies)
    e = make_volunteer(community, name="戊")
    t1 = make_task(community, starts_at=at(1), team=testing, places=5)
    t2 = make_task(community, starts_at=at(2), team=testing, places=5)
    t3 = make_task(community, starts_at=at(2, 14), team=supplies, places=5)
    t4 = make_task(community, starts_at=at(3), places=5)  # open to all
    served(t1, a, 250)
    served(t2, a, 180)
    served(t2, b, 430)
    served(t3, c, 90)
    served(t4, a, 50)
    served(t3, d, 60, status="no_show")
    Signup.objects.create(
        community=community, task=t4, volunteer=e, status="waiting", how="grabbed"
    )
    ov = make_volunteer(other_community, name="外人")
    served(make_task(other_community, starts_at=at(1)), ov, 999)
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "testing": testing, "supplies": supplies}


def test_summary_hand_counted(scene, community):
    s = stats.summary(community.pk)
    # 250 + 180 + 430 + 90 + 50 = 1000 min = 16.67 h over three people: 5.56 h each.
    assert (s.volunteers, s.minutes) == (3, 1000)
    assert s.hours == Decimal("16.67")
    assert s.average_hours == Decimal("5.56")
    # 甲 480 min (8.00 h) beats 乙 430 min.
    assert (s.top_name, s.top_hours) == ("甲", Decimal("8.00"))


def test_the_seeds_figures_625_15_hours():
    assert stats.hours_of(37509) == Decimal("625.15")


def test_period_is_the_tasks_local_start_date(scene, community):
    s = stats.summary(community.pk, first=dt.date(2026, 3, 2), last=dt.date(2026, 3, 2))
    assert (s.volunteers, s.minutes, s.top_name) == (3, 700, "乙")
    assert s.average_hours == Decimal("3.89")  # 700 / 60 / 3
    none = stats.summary(community.pk, first=dt.date(2026, 4, 1))
    assert (none.volunteers, none.hours, none.average_hours, none.top_name) == (
        0,
        Decimal("0.00"),
        Decimal("0.00"),
        "",
    )


def test_local_midnight_is_the_day_edge(community):
    v = make_volunteer(community)
    # 00:30 on 3 March in Shanghai is 16:30 on 2 March UTC: it belongs to 3 March.
    served(make_task(community, starts_at=at(3, 0).replace(minute=30)), v, 60)
    assert (
        stats.summary(community.pk, first=dt.date(2026, 3, 3), last=dt.date(2026, 3, 3)).minutes
        == 60
    )
    assert stats.summary(community.pk, last=dt.date(2026, 3, 2)).minutes == 0


def test_by_team_and_team_filter(scene, community):
    rows = stats.by_team(community.pk)
    assert [(r.team_name, r.volunteers, r.minutes, str(r.hours), r.top_name) for r in rows] == [
        ("核酸组", 2, 860, "14.33", "乙"),
        ("物资组", 1, 90, "1.50", "丙"),
        ("Open to all", 1, 50, "0.83", "甲"),
    ]
    assert rows[0].average_hours == Decimal("7.17")  # 860 / 60 / 2
    t = stats.summary(community.pk, team_id=scene["testing"].pk)
    assert (t.volunteers, t.minutes) == (2, 860)
    assert stats.summary(community.pk, team_id=0).minutes == 50  # open to all


def test_by_day_fills_the_period(scene, community):
    days = stats.by_day(community.pk, first=dt.date(2026, 3, 1), last=dt.date(2026, 3, 4))
    assert [(d.day.day, d.volunteers, d.minutes) for d in days] == [
        (1, 1, 250),
        (2, 3, 700),
        (3, 1, 50),
        (4, 0, 0),
    ]
    assert [d.day.day for d in stats.by_day(community.pk)] == [1, 2, 3]


def test_leaderboard_ranks_by_hours_ties_share_and_hidden_left_off(scene, community):
    a, b, c = scene["a"], scene["b"], scene["c"]
    # 丙 gets 390 more minutes on another day: 480, tied with 甲.
    served(make_task(community, starts_at=at(5)), c, 390)
    board = stats.leaderboard(community.pk)
    assert [(r.rank, r.name, r.minutes) for r in board] == [
        (1, "丙", 480),
        (1, "甲", 480),
        (3, "乙", 430),
    ]
    assert board[1].tasks == 3
    a.hide_from_board = True
    a.save()
    assert [(r.rank, r.name) for r in stats.leaderboard(community.pk)] == [(1, "丙"), (2, "乙")]
    assert [r.name for r in stats.ranking(community.pk, include_hidden=True)] == ["丙", "甲", "乙"]
    assert len(stats.leaderboard(community.pk, limit=1)) == 1
    # The hidden volunteer is told where they would stand; the others' ranks skip them.
    mine = stats.standing(a)
    assert (mine.rank, mine.hours, mine.hidden) == (1, Decimal("8.00"), True)
    assert stats.standing(b).rank == 2
    nobody = stats.standing(scene["e"])
    assert (nobody.rank, nobody.minutes) == (None, 0)


def test_record_and_certificate(scene, community, personas):
    a = scene["a"]
    s = Signup.objects.get(volunteer=a, minutes=180)
    Correction.objects.create(
        community=community, signup=s, before_minutes=120, after_minutes=180, reason="补签退"
    )
    rec = stats.record(a)
    assert [(r.day.day, r.minutes, str(r.hours)) for r in rec.rows] == [
        (3, 50, "0.83"),
        (2, 180, "3.00"),
        (1, 250, "4.17"),
    ]
    assert rec.rows[1].corrections[0].reason == "补签退"
    assert (rec.minutes, rec.hours, rec.tasks) == (480, Decimal("8.00"), 3)
    assert (rec.first_day, rec.last_day) == (dt.date(2026, 3, 1), dt.date(2026, 3, 3))
    cert = stats.certificate(a)
    assert cert.hours == Decimal("8.00") and cert.tasks == 3
    assert cert.teams == ["核酸组"]  # open to all is not a team
    assert cert.number == f"HM-T-V{a.pk:05d}"
    # The no-show is not on 丁's record.
    assert stats.record(scene["d"]).rows == []


def test_xlsx_has_the_four_figures(scene, community):
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(stats.xlsx(community.pk)))
    ws = wb["Summary"]
    values = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=2).value for r in range(1, 8)}
    assert values["Volunteers who served"] == 3
    assert values["Total hours"] == pytest.approx(16.67)
    assert values["Most hours: who"] == "甲"
    assert [c.value for c in wb["Volunteers"][2]] == [1, "甲", "核酸组", 3, 8.0]


def test_summary_queries_do_not_grow(scene, community, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        stats.summary(community.pk)
    with django_assert_max_num_queries(3):
        stats.leaderboard(community.pk)
