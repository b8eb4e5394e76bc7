"""Issuing: in one go, idempotent, refused when short unless partial; the recount's difference."""

import pytest

from shouwang.core import testing as t
from shouwang.core.errors import Conflict
from shouwang.core.models import AuditEvent
from shouwang.supplies.relief import selectors, services
from shouwang.supplies.relief.models import ReliefAllocation, ReliefBatch

from .conftest import fill


@pytest.fixture
def street(community, grid_a, grid_b):
    """Four households in list order: grid A 101 (6 people: 2), 102 (2: 1); grid B 201 (3: 1),
    202 (1: 1) -> 5 portions."""
    ba = t.make_building(community, "华美小区", "1号楼", grid=grid_a)
    bb = t.make_building(community, "华美小区", "2号楼", grid=grid_b)
    return [
        fill(t.make_household(community, building=ba, door="101"), 6),
        fill(t.make_household(community, building=ba, door="102"), 2),
        fill(t.make_household(community, building=bb, door="201"), 3),
        fill(t.make_household(community, building=bb, door="202"), 1),
    ]


def test_issue_is_idempotent(street, batch_of, personas):
    batch = batch_of(portions_available=5)
    first = services.batch_issue(actor=personas["admin"], batch=batch)
    assert (first.created, first.portions, first.already) == (4, 5, False)
    again = services.batch_issue(actor=personas["admin"], batch=batch)
    assert again.already and again.created == 0
    assert ReliefAllocation.objects.filter(batch=batch).count() == 4
    assert AuditEvent.objects.filter(action="relief.issue").count() == 1
    batch.refresh_from_db()
    assert batch.status == "issued" and batch.issued_by == personas["admin"]


def test_allocation_snapshots_the_door_head_and_masked_phone(street, batch_of, personas, grid_a):
    batch = batch_of()
    services.batch_issue(actor=personas["admin"], batch=batch)
    a = ReliefAllocation.objects.get(batch=batch, household=street[0])
    assert a.door == "1单元 101" and a.grid == grid_a
    assert a.head_masked == "成员*"
    assert a.phone_masked == "139****0000"


def test_short_is_refused_with_what_to_do(street, batch_of, personas):
    batch = batch_of(portions_available=3)
    p = selectors.preview(batch)
    assert p.shortfall == 2
    # List order: 101 (2) and 102 (1) fit in 3; 201 and 202 are left out.
    assert [x["household"].pk for x in p.left_out] == [street[2].pk, street[3].pk]
    assert (p.left_out_count, p.left_out_portions) == (2, 2)
    with pytest.raises(Conflict) as e:
        services.batch_issue(actor=personas["admin"], batch=batch)
    assert e.value.code == "relief_short"
    assert "5 portions" in str(e.value.message) and "partial" in str(e.value.message)
    batch.refresh_from_db()
    assert batch.status == "draft"  # the claim rolled back
    assert not ReliefAllocation.objects.filter(batch=batch).exists()


def test_partial_issue_serves_list_order_then_recount_issues_the_rest(street, batch_of, personas):
    admin = personas["admin"]
    batch = batch_of(portions_available=3)
    result = services.batch_issue(actor=admin, batch=batch, partial=True)
    assert (result.created, result.portions, result.left_out) == (2, 3, 2)
    batch.refresh_from_db()
    assert batch.partial
    # More portions arrive: the recount shows the two left out and issues them.
    batch = services.batch_save(
        actor=admin,
        community=batch.community,
        batch=batch,
        title=batch.title,
        portions_available=5,
    )
    r = selectors.recount(batch)
    assert [s.household_id for s in r.new] == [street[2].pk, street[3].pk] and r.delta == 2
    done = services.recount_issue(actor=admin, batch=batch)
    assert (done.created, done.portions, done.left_out) == (2, 2, 0)
    assert selectors.issued_portions(batch) == 5
    batch.refresh_from_db()
    assert not batch.partial


def test_recount_difference_never_touches_recorded_rows(street, batch_of, personas, community):
    admin = personas["admin"]
    batch = batch_of(portions_available=20)
    services.batch_issue(actor=admin, batch=batch)
    delivered = ReliefAllocation.objects.get(batch=batch, household=street[1])
    services.allocation_record(actor=admin, allocation=delivered, status="delivered")
    # Households change: 102 (delivered) and 202 (pending) grow to 6; a new family moves in.
    fill(street[1], 4)
    fill(street[3], 5)
    newcomer = fill(t.make_household(community, building=street[0].building, door="103"), 2)
    r = selectors.recount(batch)
    assert [s.household_id for s in r.new] == [newcomer.pk]
    assert [(old, s.household_id, s.portions) for _a, old, s in r.changed] == [(1, street[3].pk, 2)]
    assert [s.household_id for _a, _o, s in r.locked] == [street[1].pk]
    assert r.delta == 2
    result = services.recount_issue(actor=admin, batch=batch)
    assert (result.created, result.changed, result.portions) == (1, 1, 2)
    delivered.refresh_from_db()
    assert (delivered.portions, delivered.status) == (1, "delivered")
    assert ReliefAllocation.objects.get(batch=batch, household=street[3]).portions == 2
    # Issuing the difference again adds nothing.
    again = services.recount_issue(actor=admin, batch=batch)
    assert again.already and again.created == 0
    assert selectors.recount(batch).empty


def test_recount_short_needs_confirmation(street, batch_of, personas, community):
    admin = personas["admin"]
    batch = batch_of(portions_available=5)
    services.batch_issue(actor=admin, batch=batch)
    fill(t.make_household(community, building=street[0].building, door="104"), 2)
    with pytest.raises(Conflict) as e:
        services.recount_issue(actor=admin, batch=batch)
    assert e.value.code == "relief_short"
    result = services.recount_issue(actor=admin, batch=batch, partial=True)
    assert (result.created, result.left_out) == (0, 1)


def test_rule_is_locked_once_issued_but_portions_may_grow(street, batch_of, personas):
    from shouwang.core.errors import DomainError

    admin = personas["admin"]
    batch = batch_of(portions_available=5)
    services.batch_issue(actor=admin, batch=batch)
    with pytest.raises(Conflict) as e:
        services.batch_save(
            actor=admin,
            community=batch.community,
            batch=batch,
            title="x",
            portions_available=5,
            large_portions=3,
        )
    assert e.value.code == "relief_rule_locked"
    with pytest.raises(DomainError) as e:
        services.batch_save(
            actor=admin, community=batch.community, batch=batch, title="x", portions_available=4
        )
    assert e.value.code == "relief_below_issued"


def test_closed_batch_takes_no_records(street, batch_of, personas):
    admin = personas["admin"]
    batch = batch_of()
    services.batch_issue(actor=admin, batch=batch)
    services.batch_close(actor=admin, batch=batch)
    a = ReliefAllocation.objects.filter(batch=batch).first()
    with pytest.raises(Conflict):
        services.allocation_record(actor=admin, allocation=a, status="delivered")


@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_make_one_set_of_rows(db_file, street, batch_of, personas):
    batch = batch_of()
    results, errors = t.run_at_once(
        db_file, lambda _: services.batch_issue(actor=personas["admin"], batch=batch), range(4)
    )
    assert not errors, errors
    assert sum(not r.already for r in results) == 1
    assert ReliefAllocation.objects.filter(batch=batch).count() == 4
    assert ReliefBatch.objects.get(pk=batch.pk).status == "issued"
    assert AuditEvent.objects.filter(action="relief.issue").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_recount_issues_add_the_difference_once(
    db_file, street, batch_of, personas, community
):
    admin = personas["admin"]
    batch = batch_of(portions_available=20)
    services.batch_issue(actor=admin, batch=batch)
    for door in ("105", "106", "107"):
        fill(t.make_household(community, building=street[0].building, door=door), 2)
    results, errors = t.run_at_once(
        db_file, lambda _: services.recount_issue(actor=admin, batch=batch), range(4)
    )
    assert not errors, errors
    assert sum(r.created for r in results) == 3
    assert ReliefAllocation.objects.filter(batch=batch).count() == 7
    assert selectors.issued_portions(batch) == 8
