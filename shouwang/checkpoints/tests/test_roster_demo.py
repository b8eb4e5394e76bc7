"""The demo's gates, checkpoints and this week's roster; the CLI that prints a roster's
problems."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from shouwang.checkpoints import roster
from shouwang.checkpoints.demo_places import demo
from shouwang.checkpoints.models import Checkpoint, Duty, Gate
from shouwang.core import testing as t


@pytest.mark.django_db
def test_demo_and_cli(community, personas):
    for i in range(5):
        t.make_building(community, f"小区{i}", "1号楼")
    demo(community, now=timezone.now(), users=personas, log=lambda *_: None)
    assert Checkpoint.objects.filter(community=community).count() == 3
    assert Gate.objects.filter(community=community, is_open=False).exists()
    assert Gate.objects.filter(community=community, checkpoint__isnull=False).count() >= 5
    assert Duty.objects.filter(community=community).count() > 50
    # nothing but gaps: the generator broke no rule
    cps = list(Checkpoint.objects.filter(community=community))
    monday = timezone.localdate() - timezone.timedelta(days=timezone.localdate().weekday())
    found = roster.problems(
        community=community, shifts=roster.shifts_in(community.pk, cps, monday, 7)
    )
    assert all(p.is_gap for p in found)
    out = io.StringIO()
    call_command(
        "checkpoints_roster",
        "--community",
        community.code,
        "--from",
        monday.isoformat(),
        stdout=out,
    )
    assert "3 checkpoints" in out.getvalue() and "0 rules broken" in out.getvalue()
    demo(community, now=timezone.now(), users=personas, log=lambda *_: None)  # once only
    assert Checkpoint.objects.filter(community=community).count() == 3
