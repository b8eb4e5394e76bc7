"""care_due: the morning list, carer by carer."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from shouwang.care.testing import make_follow_up, make_pairing
from shouwang.care.tests.helpers_care import at_local, tag

pytestmark = pytest.mark.django_db
DAY = dt.date(2022, 1, 10)


def run(*args) -> str:
    out = StringIO()
    call_command("care_due", *args, stdout=out)
    return out.getvalue()


def test_due_per_carer(personas, ledger, community):
    r1, r2, r3 = tag(ledger["r1"]), tag(ledger["r2"]), tag(ledger["r3"])
    make_pairing(r1, carer=personas["staff"])
    make_pairing(r2, carer=personas["staff"])
    make_follow_up(r1, at=at_local(DAY - dt.timedelta(days=1)))  # due today
    make_follow_up(r2, at=at_local(DAY))  # done
    make_follow_up(r3, at=at_local(DAY - dt.timedelta(days=4)))  # overdue, not paired
    out = run("--community", community.code, "--date", DAY.isoformat())
    assert "  staff\n    due      王小明" in out
    assert "李四" not in out
    assert "(not paired)\n    overdue  赵五" in out and "4 days since last contact" in out
    assert out.strip().endswith("2 people to contact.")


def test_bad_arguments(community):
    with pytest.raises(CommandError):
        run("--community", "NOPE")
    with pytest.raises(CommandError):
        run("--date", "10/01/2022")
