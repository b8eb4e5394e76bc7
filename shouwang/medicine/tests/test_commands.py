import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from shouwang.medicine.models import Stage
from shouwang.medicine.tests.helpers_medicine import make_run, need_at

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = StringIO()
    call_command("medicine_runs", *args, stdout=out)
    return out.getvalue()


def test_lists_the_coming_runs_without_drug_names(personas, ledger, community):
    admin = personas["admin"]
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    run = make_run(
        community,
        source="pharmacy",
        place="益丰大药房",
        date=tomorrow,
        driver=personas["volunteer"],
    )
    need_at(Stage.IN_RUN, ledger["r1"], actor=admin, run=run, drug="奥氮平", kind="psychiatric")
    need_at(Stage.BOUGHT, ledger["r2"], actor=admin, run=run)
    need_at(Stage.REGISTERED, ledger["r3"], actor=admin)
    make_run(community, place="太远的医院", date=tomorrow + dt.timedelta(days=30))
    out = _run("--community", "HM-T")
    assert f"{tomorrow:%Y-%m-%d} Nearby pharmacy 益丰大药房" in out
    assert "driver: volunteer · 2 needs (in a run 1, bought or prescribed 1)" in out
    assert "waiting for a run: 1" in out
    assert "奥氮平" not in out and "太远的医院" not in out
    assert out.strip().endswith("1 run from " + f"{timezone.localdate():%Y-%m-%d} for 7 days.")


def test_unknown_community(db):
    with pytest.raises(CommandError):
        _run("--community", "NOPE")
