"""The area rule (registry/areas.py) in its three forms gives the same answer: the scope read
and checked in Python, the one-query SQL, and the queryset filter — for queue points and
merchants alike."""

import pytest

from shouwang.core import testing as t
from shouwang.queues.models import QueuePoint
from shouwang.registry import areas
from shouwang.supplies.buying.models import Merchant

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [QueuePoint, Merchant])
def test_the_three_forms_agree_for_every_kind_of_area(community, grid_a, grid_b, model):
    in_a = t.make_household(
        community, building=t.make_building(community, "华美小区", "1号楼", grid_a)
    )
    in_b = t.make_household(
        community, building=t.make_building(community, "华美小区", "2号楼", grid_b)
    )
    other = t.make_household(community, building=t.make_building(community, "杨家宅基", "3号楼"))
    homes = [in_a, in_b, other]
    owner = model.objects.create(community=community, name="松林超市")

    def answers():
        scope = areas.scope_of(owner)
        by_python = [areas.covers(scope, h.building) for h in homes]
        by_sql = [areas.serves(owner, h.pk) for h in homes]
        by_filter = [
            areas.serving(model.objects.all(), h).filter(pk=owner.pk).exists() for h in homes
        ]
        assert by_python == by_sql == by_filter
        return by_python

    assert answers() == [True, True, True], "nothing chosen: the whole community"
    owner.grids.set([grid_a])
    assert answers() == [True, False, False]
    owner.grids.set([])
    owner.buildings.set([in_b.building])
    assert answers() == [False, True, False]
    owner.buildings.set([])
    owner.compounds.set([other.building.compound])
    assert answers() == [False, False, True]
    owner.grids.set([grid_a])
    assert answers() == [True, False, True], "areas of different kinds add up"
