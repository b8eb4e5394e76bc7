"""The demo's area control, on a small ledger: made through the services (four eyes), once."""

from __future__ import annotations

import pytest
from django.utils import timezone

from shouwang.control.demo import demo
from shouwang.control.models import Control, HistoryEntry, Proposal
from shouwang.core import testing as t

pytestmark = pytest.mark.django_db


@pytest.fixture
def estate(community, grid_a):
    for compound, names in (("华美小区", ["1号楼", "2号楼"]), ("新虹公寓", ["5号楼", "6号楼"])):
        for name in names:
            b = t.make_building(community, compound, name, grid=grid_a)
            for door in ("101", "102"):
                h = t.make_household(community, building=b, door=door)
                t.make_resident(h, name=f"{name}{door}")


def test_demo(community, personas, estate):
    users = {"admin": personas["admin"], "staff": personas["staff"]}
    users["grid_leader"] = personas["grid_leader"]
    made = demo(community, now=timezone.now(), users=users, log=lambda s: None)
    current = {c.level for c in Control.objects.filter(ended_at=None)}
    assert current == {"sealed", "controlled"}
    assert made["sealed"].proposal.decided_by == personas["admin"]
    assert made["sealed"].proposal.proposed_by == personas["staff"]
    assert made["released"].ended_at is not None
    assert made["pending"].status == "pending" and made["pending"].proposed_by is None
    assert HistoryEntry.objects.filter(event="reminded").count() == 1
    assert HistoryEntry.objects.filter(event="released").count() == 1
    # Once.
    n = Proposal.objects.count()
    assert demo(community, now=timezone.now(), users=users, log=lambda s: None) == {}
    assert Proposal.objects.count() == n
