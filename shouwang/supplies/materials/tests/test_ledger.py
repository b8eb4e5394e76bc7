"""Receipts, issues and transfers: the arithmetic, the ledger rows, refusals with what is in
stock, and request keys that make a double-submitted form count once."""

import pytest

from shouwang.core.errors import DomainError
from shouwang.core.models import AuditEvent
from shouwang.supplies.materials import services
from shouwang.supplies.materials.models import Movement, Stock
from shouwang.supplies.materials.tests.conftest import stock_of

pytestmark = pytest.mark.django_db


def test_new_items_and_places_get_a_stock_row_each(masks, gloves, office, gate):
    assert Stock.objects.filter(community_id=masks.community_id).count() == 4
    assert stock_of(masks, office) == 0


def test_receipt_issue_and_transfer_add_up(admin, masks, office, gate):
    services.receipt(actor=admin, item=masks, location=office, quantity=15000, reference="区卫健委")
    services.issue(
        actor=admin,
        item=masks,
        location=office,
        quantity=1200,
        recipient_kind="team",
        recipient_text="第1网格",
    )
    services.transfer(actor=admin, item=masks, from_location=office, to_location=gate, quantity=800)
    services.issue(
        actor=admin,
        item=masks,
        location=gate,
        quantity=300,
        recipient_kind="checkpoint",
        recipient_text="东门卡口夜班",
    )
    assert stock_of(masks, office) == 15000 - 1200 - 800
    assert stock_of(masks, gate) == 500
    kinds = list(Movement.objects.order_by("pk").values_list("kind", "quantity"))
    assert kinds == [("receipt", 15000), ("issue", 1200), ("transfer", 800), ("issue", 300)]
    receipt = Movement.objects.get(kind="receipt")
    assert receipt.reference == "区卫健委" and receipt.actor == admin
    assert receipt.to_location == office and receipt.from_location is None
    moved = AuditEvent.objects.filter(target_type="materials.movement")
    assert sorted(moved.values_list("action", flat=True)) == [
        "materials.issue",
        "materials.issue",
        "materials.receipt",
        "materials.transfer",
    ]


def test_an_issue_beyond_the_stock_is_refused_with_what_is_there(admin, masks, office):
    services.receipt(actor=admin, item=masks, location=office, quantity=120)
    with pytest.raises(services.InsufficientStock) as e:
        services.issue(
            actor=admin,
            item=masks,
            location=office,
            quantity=200,
            recipient_kind="volunteer",
            recipient_text="张志愿",
        )
    assert e.value.code == "insufficient_stock" and e.value.status == 409
    msg = str(e.value.message)
    assert "Only 120 pcs of 医用外科口罩 in stock at 社区办公室" in msg and "asked for 200" in msg
    assert stock_of(masks, office) == 120
    assert not Movement.objects.filter(kind="issue").exists()


def test_a_failed_transfer_moves_nothing(admin, masks, office, gate):
    services.receipt(actor=admin, item=masks, location=office, quantity=10)
    with pytest.raises(services.InsufficientStock):
        services.transfer(
            actor=admin, item=masks, from_location=office, to_location=gate, quantity=11
        )
    assert (stock_of(masks, office), stock_of(masks, gate)) == (10, 0)
    with pytest.raises(DomainError) as e:
        services.transfer(
            actor=admin, item=masks, from_location=office, to_location=office, quantity=1
        )
    assert "to_location" in e.value.fields


@pytest.mark.parametrize("quantity", [0, -5, 10**9])
def test_bad_quantities_are_refused(admin, masks, office, quantity):
    with pytest.raises(DomainError) as e:
        services.receipt(actor=admin, item=masks, location=office, quantity=quantity)
    assert "quantity" in e.value.fields
    assert stock_of(masks, office) == 0


def test_an_issue_needs_a_recipient(admin, masks, office):
    services.receipt(actor=admin, item=masks, location=office, quantity=10)
    with pytest.raises(DomainError) as e:
        services.issue(actor=admin, item=masks, location=office, quantity=1, recipient_kind="team")
    assert "recipient_text" in e.value.fields
    with pytest.raises(DomainError) as e:
        services.issue(
            actor=admin,
            item=masks,
            location=office,
            quantity=1,
            recipient_kind="x",
            recipient_text="a",
        )
    assert "recipient_kind" in e.value.fields


def test_an_issue_to_a_volunteer_account(admin, personas, masks, office):
    services.receipt(actor=admin, item=masks, location=office, quantity=10)
    posted = services.issue(
        actor=admin,
        item=masks,
        location=office,
        quantity=2,
        recipient_kind="volunteer",
        recipient_user=personas["volunteer"],
    )
    assert posted.movement.recipient == personas["volunteer"].username
    with pytest.raises(DomainError):
        services.issue(
            actor=admin,
            item=masks,
            location=office,
            quantity=2,
            recipient_kind="volunteer",
            recipient_user=personas["outsider"],
        )


def test_a_place_of_another_community_is_refused(admin, personas, masks):
    other = services.location_save(actor=personas["outsider"], name="别处仓库", kind="warehouse")
    with pytest.raises(DomainError):
        services.receipt(actor=admin, item=masks, location=other, quantity=5)
    assert not Stock.objects.filter(location=other, item=masks).exists()


def test_the_same_request_key_issues_once(admin, masks, office):
    services.receipt(actor=admin, item=masks, location=office, quantity=100, request_key="r-1")
    again = services.receipt(
        actor=admin, item=masks, location=office, quantity=100, request_key="r-1"
    )
    assert not again.created
    kw = dict(
        actor=admin,
        item=masks,
        location=office,
        quantity=30,
        recipient_kind="team",
        recipient_text="第2网格",
        request_key="form-abc",
    )
    first = services.issue(**kw)
    second = services.issue(**kw)
    assert first.created and not second.created
    assert first.movement.pk == second.movement.pk
    assert stock_of(masks, office) == 70
    assert Movement.objects.count() == 2
    # A key is per community and per kind: reusing it for a transfer is a conflict.
    with pytest.raises(DomainError) as e:
        services.receipt(
            actor=admin, item=masks, location=office, quantity=1, request_key="form-abc"
        )
    assert e.value.code == "request_key_used"


def test_the_same_key_in_another_community_is_another_request(admin, personas, masks, office):
    outsider = personas["outsider"]
    there = services.location_save(actor=outsider, name="仓库", kind="warehouse")
    soap = services.item_save(actor=outsider, name="洗手液", unit="bottles")
    services.receipt(actor=admin, item=masks, location=office, quantity=5, request_key="k")
    posted = services.receipt(
        actor=outsider, item=soap, location=there, quantity=5, request_key="k"
    )
    assert posted.created


def test_inactive_items_cannot_move(admin, masks, office):
    services.item_save(actor=admin, item=masks, name=masks.name, unit="pcs", active=False)
    masks.refresh_from_db()
    with pytest.raises(DomainError) as e:
        services.receipt(actor=admin, item=masks, location=office, quantity=5)
    assert "item" in e.value.fields


def test_names_are_unique_per_community(admin, masks, office):
    with pytest.raises(DomainError) as e:
        services.item_save(actor=admin, name=masks.name, unit="pcs")
    assert "name" in e.value.fields
    with pytest.raises(DomainError):
        services.location_save(actor=admin, name=office.name)
