"""The demo's test rounds, on a small ledger."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shouwang.core import testing as t
from shouwang.registry.models import CareTag
from shouwang.screening.demo import demo_screening
from shouwang.screening.models import (
    PriorityLane,
    RetestFlag,
    Round,
    Sample,
    SamplingPoint,
    Tube,
    VisitList,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def village(community, grid_a):
    b = t.make_building(community, "华美村", "3号", grid=grid_a)
    people = []
    for door in range(1, 16):
        h = t.make_household(community, building=b, door=str(door))
        for k in range(3):
            people.append(
                t.make_resident(h, name=f"居民{door}{k}", relation="head" if k == 0 else "child")
            )
    people[0].tags = CareTag.BEDRIDDEN
    people[0].save(update_fields=["tags"])
    return people


def test_demo_rounds(community, personas, village):
    log = []
    demo_screening(community, personas["admin"], log=log.append)
    assert SamplingPoint.objects.count() == 2
    assert set(PriorityLane.objects.values_list("kind", flat=True)) == {"elderly", "students"}
    mass = Round.objects.filter(kind="mass").order_by("number")
    assert [r.number for r in mass] == [1, 2, 3, 4]
    assert all(r.closed_at for r in mass[:3]) and mass[3].closed_at is None
    assert mass[3].date == timezone.localdate()
    assert Round.objects.filter(kind="antigen").count() == 1
    for r in mass[:3]:
        n = Sample.objects.filter(round=r).count()
        assert 0.8 * len(village) <= n <= len(village)
        assert not Tube.objects.filter(round=r, result="pending").exists()
        # Counted once per round, ten to a tube.
        assert Sample.objects.filter(round=r).values("resident").distinct().count() == n
    today = Sample.objects.filter(round=mass[3]).count()
    assert 0 < today < len(village)
    assert (
        Tube.objects.filter(round=mass[3], result="pending").count()
        == Tube.objects.filter(round=mass[3]).count()
    )
    positive = Tube.objects.get(result="positive")
    assert positive.round == mass[2]
    assert RetestFlag.objects.filter(tube=positive, cleared_at=None).count() == 10
    retest = VisitList.objects.get(reason="retest")
    assert retest.source_tube == positive and retest.assignees.exists()
    assert retest.round == mass[3]  # yesterday's round is closed: sampled in today's
    assert VisitList.objects.get(reason="bedridden").visits.count() == 1
    # Rows the sampling page would read back: uid, times and flags as the ORM writes them.
    s = Sample.objects.filter(round=mass[3]).order_by("pk").first()
    assert s.counted and not s.flagged and s.voided_at is None and s.via == "pass"
    assert s.device_at.date() <= timezone.now().date() + dt.timedelta(days=1)
    demo_screening(community, personas["admin"], log=log.append)
    assert "skipped" in log[-1]
    assert Round.objects.count() == 5
