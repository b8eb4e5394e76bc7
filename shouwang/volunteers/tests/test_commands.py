"""`shouwang volunteers_stats` and `shouwang volunteers_close`."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from shouwang.volunteers.models import Signup, Team
from shouwang.volunteers.testing import make_task, make_volunteer


def at(day: int, hour: int = 9) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, 3, day, hour))


def served(task, v, minutes):
    return Signup.objects.create(
        community=task.community,
        task=task,
        volunteer=v,
        status="taken",
        how="grabbed",
        checked_in_at=task.starts_at,
        checked_out_at=task.starts_at + dt.timedelta(minutes=minutes),
        minutes=minutes,
    )


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def scene(community, other_community):
    team = Team.objects.create(community=community, name="核酸组", kind="testing")
    a = make_volunteer(community, name="甲", team=team)
    b = make_volunteer(community, name="乙")
    served(make_task(community, starts_at=at(1), team=team), a, 600)
    served(make_task(community, starts_at=at(2)), b, 125)
    served(make_task(community, starts_at=at(2, 14)), a, 30)
    return team


def test_stats_prints_the_four_figures_and_per_team(scene, tmp_path):
    out = run("volunteers_stats", "--community", "HM-T")
    assert "Volunteers who served: 2" in out
    assert "Total hours:           12.58" in out  # 755 min
    assert "Average hours:         6.29" in out
    assert "Most hours:            10.50 (甲)" in out
    assert "核酸组" in out and "Open to all" in out
    out = run(
        "volunteers_stats", "--community", "HM-T", "--from", "2026-03-02", "--to", "2026-03-02"
    )
    assert "Volunteers who served: 2" in out and "Total hours:           2.58" in out
    out = run("volunteers_stats", "--community", "HM-T", "--team", "核酸组")
    assert "Total hours:           10.00" in out
    path = tmp_path / "hours.xlsx"
    out = run("volunteers_stats", "--community", "HM-T", "--xlsx", str(path))
    assert path.read_bytes()[:2] == b"PK" and f"Wrote {path}." in out


def test_stats_refuses_bad_input(scene):
    with pytest.raises(CommandError, match="Give --community"):
        run("volunteers_stats")  # two communities exist
    with pytest.raises(CommandError, match="No community"):
        run("volunteers_stats", "--community", "NOPE")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run("volunteers_stats", "--community", "HM-T", "--from", "March")
    with pytest.raises(CommandError, match="no team"):
        run("volunteers_stats", "--community", "HM-T", "--team", "外星组")


def test_close_runs_close_open(community):
    v = make_volunteer(community)
    task = make_task(community, starts_at=timezone.now() - dt.timedelta(hours=6), hours=2)
    s = Signup.objects.create(
        community=community,
        task=task,
        volunteer=v,
        status="taken",
        how="grabbed",
        checked_in_at=task.starts_at,
    )
    assert run("volunteers_close") == "Closed 1 check-in without a check-out.\n"
    s.refresh_from_db()
    assert (s.minutes, s.auto_closed) == (120, True)
    assert "Closed 0 check-ins" in run("volunteers_close", "--community", "HM-T")
    with pytest.raises(CommandError):
        run("volunteers_close", "--community", "NOPE")
