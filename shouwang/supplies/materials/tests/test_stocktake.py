"""Stock-takes: counts against the book, differences posted as adjustments when finished,
issues made during the count are not mistaken for losses, one open count per place."""

import pytest

from shouwang.core.errors import Conflict, DomainError
from shouwang.supplies.materials import services
from shouwang.supplies.materials.models import Movement
from shouwang.supplies.materials.tests.conftest import stock_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked(admin, masks, gloves, office):
    services.receipt(actor=admin, item=masks, location=office, quantity=1000)
    services.receipt(actor=admin, item=gloves, location=office, quantity=200)
    return office


def test_finishing_posts_the_differences(admin, masks, gloves, stocked):
    st = services.stocktake_start(actor=admin, location=stocked)
    assert {ln.item_id: ln.expected for ln in st.lines.all()} == {masks.pk: 1000, gloves.pk: 200}
    services.stocktake_count(actor=admin, stock_take=st, counts={masks.pk: 980, gloves.pk: 205})
    lines = {ln.item_id: ln for ln in st.lines.all()}
    assert lines[masks.pk].difference == -20 and lines[gloves.pk].difference == 5
    posted = services.stocktake_finish(actor=admin, stock_take=st)
    assert sorted(m.signed_quantity for m in posted) == [-20, 5]
    assert stock_of(masks, stocked) == 980 and stock_of(gloves, stocked) == 205
    adj = Movement.objects.filter(kind="adjustment", stock_take=st)
    assert adj.count() == 2
    assert adj.get(item=masks).from_location == stocked
    assert adj.get(item=gloves).to_location == stocked
    st.refresh_from_db()
    assert st.finished and st.finished_by == admin
    with pytest.raises(Conflict):
        services.stocktake_count(actor=admin, stock_take=st, counts={masks.pk: 1})


def test_uncounted_and_matching_lines_change_nothing(admin, masks, gloves, stocked):
    st = services.stocktake_start(actor=admin, location=stocked)
    services.stocktake_count(actor=admin, stock_take=st, counts={masks.pk: 1000})
    assert services.stocktake_finish(actor=admin, stock_take=st) == []
    assert stock_of(masks, stocked) == 1000 and stock_of(gloves, stocked) == 200


def test_an_issue_after_the_count_is_not_a_loss(admin, masks, stocked):
    st = services.stocktake_start(actor=admin, location=stocked)
    # Issued before counting: the count sees the new book figure.
    services.issue(
        actor=admin,
        item=masks,
        location=stocked,
        quantity=100,
        recipient_kind="team",
        recipient_text="A",
    )
    services.stocktake_count(actor=admin, stock_take=st, counts={masks.pk: 895})
    assert st.lines.get(item=masks).expected == 900
    # Issued after counting: the difference (−5) still applies on top.
    services.issue(
        actor=admin,
        item=masks,
        location=stocked,
        quantity=50,
        recipient_kind="team",
        recipient_text="B",
    )
    services.stocktake_finish(actor=admin, stock_take=st)
    assert stock_of(masks, stocked) == 845


def test_a_loss_no_longer_in_stock_refuses_the_finish(admin, masks, stocked):
    st = services.stocktake_start(actor=admin, location=stocked)
    services.stocktake_count(actor=admin, stock_take=st, counts={masks.pk: 10})  # −990
    services.issue(
        actor=admin,
        item=masks,
        location=stocked,
        quantity=995,
        recipient_kind="team",
        recipient_text="A",
    )
    with pytest.raises(Conflict) as e:
        services.stocktake_finish(actor=admin, stock_take=st)
    assert e.value.code == "stocktake_stale" and "Count 医用外科口罩 again" in str(e.value.message)
    assert stock_of(masks, stocked) == 5
    st.refresh_from_db()
    assert not st.finished


def test_one_open_count_per_place(admin, stocked, gate):
    services.stocktake_start(actor=admin, location=stocked)
    with pytest.raises(Conflict) as e:
        services.stocktake_start(actor=admin, location=stocked)
    assert e.value.code == "stocktake_open"
    services.stocktake_start(actor=admin, location=gate)


def test_negative_counts_are_refused(admin, masks, stocked):
    st = services.stocktake_start(actor=admin, location=stocked)
    with pytest.raises(DomainError):
        services.stocktake_count(actor=admin, stock_take=st, counts={masks.pk: -1})
