import pytest

from shouwang.core import testing as t
from shouwang.core.errors import DomainError
from shouwang.grids.services import grids_apply, grids_propose
from shouwang.registry.models import Building


def populate(community, sizes_by_compound):
    for compound, sizes in sizes_by_compound.items():
        for i, n in enumerate(sizes, 1):
            b = t.make_building(community, compound, f"{i}号楼")
            h = t.make_household(community, building=b, door="101")
            for _ in range(n):
                t.make_resident(h, phone="")


def test_partition_is_balanced_and_never_splits_a_building(community):
    populate(community, {"A小区": [30, 10, 20, 25], "B小区": [15, 15, 15], "C宅基": [5] * 8})
    groups = grids_propose(community=community, count=3)
    assert len(groups) == 3 and all(groups)
    all_ids = [b for g in groups for b in g]
    assert sorted(all_ids) == sorted(Building.objects.values_list("id", flat=True))
    people = {b.pk: b.households.first().members.count() for b in Building.objects.all()}
    totals = [sum(people[b] for b in g) for g in groups]
    ideal = sum(totals) / 3
    biggest = max(people.values())
    assert all(abs(total - ideal) <= biggest for total in totals), totals


def test_apply_assigns_buildings_and_names_grids(community):
    populate(community, {"A小区": [3, 3, 3, 3]})
    grids = grids_apply(
        actor=None, community=community, groups=grids_propose(community=community, count=2)
    )
    assert [g.name for g in grids] == ["第1网格", "第2网格"]
    assert [g.buildings.count() for g in grids] == [2, 2]


def test_more_grids_than_buildings_is_refused(community):
    populate(community, {"A小区": [3]})
    with pytest.raises(DomainError) as exc:
        grids_propose(community=community, count=2)
    assert exc.value.code == "grid_count_invalid"
