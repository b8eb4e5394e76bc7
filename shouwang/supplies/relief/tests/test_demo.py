from shouwang.core import testing as t
from shouwang.supplies.relief.demo import demo_relief
from shouwang.supplies.relief.models import ReliefAllocation, ReliefBatch

from .conftest import fill


def test_demo_issues_the_huamei_rule_and_records_deliveries(community, personas, grid_a):
    b = t.make_building(community, "华美村", "3号", grid=grid_a)
    fill(t.make_household(community, building=b, door="1"), 6)
    for door in range(2, 12):
        fill(t.make_household(community, building=b, door=str(door)), 2)
    demo_relief(community, personas["admin"], log=lambda *a: None)
    batch = ReliefBatch.objects.get()
    assert batch.status == "issued" and batch.portions_available == 12
    rows = ReliefAllocation.objects.filter(batch=batch)
    assert rows.count() == 11 and sorted({a.portions for a in rows}) == [1, 2]
    assert rows.exclude(status="pending").count() == 11  # grid A is among the first grids
