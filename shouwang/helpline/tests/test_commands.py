"""helpline_sweep (cron) and helpline_stats print what they did or found."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from shouwang.helpline.models import Handover, Urgency
from shouwang.helpline.testing import make_request

pytestmark = pytest.mark.django_db


def at(day: int, hh: int, mm: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2021, 12, day, hh, mm))


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_sweep_prints_what_it_did(monkeypatch, community, other_community, personas):
    req = make_request(community, urgency=Urgency.LIFE, at=at(24, 22))
    monkeypatch.setattr(timezone, "now", lambda: at(25, 0, 40))
    text = run("helpline_sweep")
    assert f"HM-T: escalated {req.reference} (due 12-24 22:30) to admin" in text
    assert "HM-T: handed over the shift ending 12-25 00:00 automatically: 1 open" in text
    assert "HM-T: closed the day 2021-12-24: logged 1, closed 0, carried over 1, overdue 1" in text
    assert "OT-T: closed the day 2021-12-24: logged 0" in text
    assert "Swept 2 communities at 2021-12-25 00:40" in text
    again = run("helpline_sweep", "--community", "HM-T")
    assert "escalated" not in again and "Swept 1 communities" in again and "0 actions" in again
    assert Handover.objects.filter(community=community).count() == 1


def test_sweep_unknown_community(community):
    with pytest.raises(CommandError):
        run("helpline_sweep", "--community", "NOPE")


def test_stats_prints_the_table(community, other_community):
    make_request(community, at=at(24, 10))
    text = run(
        "helpline_stats",
        "--community",
        "HM-T",
        "--from",
        "2021-12-24",
        "--to",
        "2021-12-24",
        "--days",
    )
    assert "Requests:" in text and "Livelihood (medicine, gas, food)" in text
    assert "2021-12-24        1      1      0      0" in text


def test_stats_refuses_bad_input(community, other_community):
    with pytest.raises(CommandError, match="--community"):
        run("helpline_stats")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run("helpline_stats", "--community", "HM-T", "--from", "24.12.2021")
    with pytest.raises(CommandError, match="on or after"):
        run("helpline_stats", "--community", "HM-T", "--from", "2021-12-24", "--to", "2021-12-01")
