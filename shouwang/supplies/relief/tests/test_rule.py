"""The Huamei rule over a small hand-counted ledger: families behind one homestead door are
households of their own, six or more people get two portions, moved-out members do not count."""

import pytest

from shouwang.core import testing as t
from shouwang.registry.models import CareTag, Dwelling, Household
from shouwang.supplies.relief import selectors, services
from shouwang.supplies.relief.models import ReliefAllocation

from .conftest import fill


def homestead_door(community, grid, sizes):
    """One door of a rented homestead building (no units) with one family per size."""
    b = t.make_building(community, "华美村", "12号", grid=grid)
    b.compound.kind = "homestead"
    b.compound.save(update_fields=["kind"])
    door = Dwelling.objects.create(community=community, building=b, unit=None, door="12")
    out = []
    for n in sizes:
        h = Household.objects.create(community=community, dwelling=door, building=b)
        out.append(fill(h, n))
    return door, out


@pytest.fixture
def small(community, grid_a, grid_b):
    """Hand count (Huamei rule: 1 portion, 2 from 6 people):
    homestead door 12 (grid B): 2, 3, 6, 1, 4 people -> 1+1+2+1+1 = 6 portions
    1号楼 (grid A): 7 people (+1 moved out) -> 2; 5 people (+2 moved out) -> 1; all moved out -> 0
    2号楼 (grid B): 3 people -> 1
    => 8 households, 31 people, 10 portions; grid A 2/12/3, grid B 6/19/7."""
    door, families = homestead_door(community, grid_b, [2, 3, 6, 1, 4])
    b1 = t.make_building(community, "华美小区", "1号楼", grid=grid_a)
    b2 = t.make_building(community, "华美小区", "2号楼", grid=grid_b)
    big = fill(t.make_household(community, building=b1, door="101"), 7, moved_out=1)
    five = fill(t.make_household(community, building=b1, door="102"), 5, moved_out=2)
    empty = fill(t.make_household(community, building=b1, door="103"), 0, moved_out=2)
    three = fill(
        t.make_household(community, building=b2, door="201"), 3, tags=CareTag.INFANT, tagged=1
    )
    return {
        "door": door,
        "families": families,
        "big": big,
        "five": five,
        "empty": empty,
        "three": three,
    }


def test_huamei_homestead_door_gives_five_households_and_six_people_two_portions(
    small, batch_of, personas
):
    batch = batch_of(portions_available=10)
    assert batch.large_threshold == 6  # from the community
    result = services.batch_issue(actor=personas["admin"], batch=batch)
    assert result.created == 8 and result.portions == 10 and result.left_out == 0
    at_door = ReliefAllocation.objects.filter(batch=batch, household__dwelling=small["door"])
    assert at_door.count() == 5  # five families behind one door: five allocations
    by_size = {a.people: a.portions for a in at_door}
    assert by_size == {2: 1, 3: 1, 6: 2, 1: 1, 4: 1}
    big = ReliefAllocation.objects.get(batch=batch, household=small["big"])
    assert (big.people, big.portions) == (7, 2)  # the moved-out member does not count
    assert not ReliefAllocation.objects.filter(household=small["empty"]).exists()


def test_preview_totals_match_the_hand_count(small, batch_of, grid_a, grid_b):
    p = selectors.preview(batch_of(portions_available=10))
    assert (p.total.households, p.total.people, p.total.portions, p.total.large) == (8, 31, 10, 2)
    assert p.empty_households == 1
    assert p.shortfall == 0
    grids = {g["name"]: (g["t"].households, g["t"].people, g["t"].portions) for g in p.by_grid}
    assert grids == {grid_a.name: (2, 12, 3), grid_b.name: (6, 19, 7)}
    buildings = {b["name"]: (b["t"].households, b["t"].portions) for b in p.by_building}
    assert buildings == {"华美村 12号": (5, 6), "华美小区 1号楼": (2, 3), "华美小区 2号楼": (1, 1)}
    compounds = {c["name"]: c["t"].people for c in p.by_compound}
    assert compounds == {"华美村": 16, "华美小区": 15}


def test_care_tag_extras_count_each_tagged_member(small, batch_of, community):
    # The 3-person household has an infant; give the 4-person family two 80+ members.
    four = small["families"][4]
    for r in four.members.all()[:2]:
        r.tags = CareTag.AGE_80 | CareTag.AGE_60
        r.save(update_fields=["tags"])
    batch = batch_of(tag_extras={str(CareTag.INFANT.value): 1, str(CareTag.AGE_80.value): 1})
    p = selectors.preview(batch)
    assert p.total.portions == 10 + 1 + 2
    rows = {s.household_id: s.portions for s in selectors.shares(batch)}
    assert rows[small["three"].pk] == 2
    assert rows[four.pk] == 3


def test_moved_out_tagged_member_earns_nothing(small, batch_of):
    fill(small["five"], 0, moved_out=1)
    small["five"].members.filter(presence="moved_out").update(tags=CareTag.INFANT)
    batch = batch_of(tag_extras={str(CareTag.INFANT.value): 1})
    rows = {s.household_id: s.portions for s in selectors.shares(batch)}
    assert rows[small["five"].pk] == 1


def test_scope_by_grid_and_by_compound(small, batch_of, grid_a, community):
    p = selectors.preview(batch_of(scope="grids", grids=[grid_a]))
    assert (p.total.households, p.total.portions) == (2, 3)
    from shouwang.registry.models import Compound

    village = Compound.objects.get(community=community, name="华美村")
    p = selectors.preview(batch_of(scope="compounds", compounds=[village]))
    assert (p.total.households, p.total.people, p.total.portions) == (5, 16, 6)


def test_scope_by_control_level(small, batch_of, community):
    from shouwang.control.models import Control
    from shouwang.control.testing import put_under
    from shouwang.core.errors import DomainError

    # 1号楼 sealed: its 3 households (12 people living there, 3 portions with the empty one 0).
    sealed = put_under(small["big"].building, "sealed")
    put_under(small["three"].building, "precaution")
    batch = batch_of(scope="control", control_levels=["sealed", "close_contact"])
    assert batch.control_levels == "sealed,close_contact"
    p = selectors.preview(batch)
    assert (p.total.households, p.total.people, p.total.portions) == (2, 12, 3)
    assert p.empty_households == 1
    # Released: nobody is in scope any more (the preview reads the levels now).
    from django.utils import timezone

    Control.objects.filter(pk=sealed.pk).update(ended_at=timezone.now())
    assert selectors.preview(batch).total.households == 0
    with pytest.raises(DomainError) as e:
        batch_of(scope="control", control_levels=[])
    assert "control_levels" in e.value.fields
    with pytest.raises(DomainError):
        batch_of(scope="control", control_levels=["lockdown"])


def test_scope_needs_a_choice_and_own_rows(batch_of, other_community, community):
    from shouwang.core.errors import DomainError

    with pytest.raises(DomainError) as e:
        batch_of(scope="grids", grids=[])
    assert e.value.code == "relief_scope"
    foreign = t.make_grid(other_community, "别处网格")
    with pytest.raises(DomainError):
        batch_of(scope="grids", grids=[foreign])


def test_other_communities_never_count(small, batch_of, other_community):
    fill(t.make_household(other_community, door="999"), 8)
    assert selectors.preview(batch_of()).total.households == 8


def test_custom_threshold_and_portions(small, batch_of):
    p = selectors.preview(batch_of(per_household=2, large_threshold=4, large_portions=3))
    # >= 4 people: 6, 4, 7, 5 -> 3 each; 2, 3, 1, 3 -> 2 each
    assert p.total.portions == 4 * 3 + 4 * 2
    assert p.total.large == 4


def test_preview_is_set_based_queries_do_not_grow_with_households(
    small, batch_of, community, grid_a
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    batch = batch_of(portions_available=5, tag_extras={str(CareTag.INFANT.value): 1})

    def count():
        with CaptureQueriesContext(connection) as q:
            p = selectors.preview(batch)
        return len(q.captured_queries), p

    before, p = count()
    assert p.shortfall  # the left-out query runs too
    b = t.make_building(community, "华美小区", "9号楼", grid=grid_a)
    for door in range(30):
        fill(t.make_household(community, building=b, door=f"9{door:02d}"), 3)
    after, p = count()
    assert p.total.households == 38
    assert after == before <= 6
