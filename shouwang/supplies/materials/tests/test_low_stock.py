"""Low-stock alerts: the selector (total and per place), and the cron command."""

from io import StringIO

import pytest
from django.core.management import call_command

from shouwang.supplies.materials import services
from shouwang.supplies.materials.selectors import low_stock, stock_matrix

pytestmark = pytest.mark.django_db


def _issue(admin, item, place, n):
    services.issue(
        actor=admin,
        item=item,
        location=place,
        quantity=n,
        recipient_kind="team",
        recipient_text="T",
    )


def test_total_at_or_below_the_threshold_is_low(admin, community, masks, gloves, office, gate):
    services.receipt(actor=admin, item=masks, location=office, quantity=400)
    services.receipt(actor=admin, item=masks, location=gate, quantity=101)
    services.receipt(actor=admin, item=gloves, location=office, quantity=3)
    assert low_stock(community.pk) == []  # 501 > 500; gloves alert only at 0
    _issue(admin, masks, gate, 1)
    rows = low_stock(community.pk)
    assert [(r.item, r.total, r.low_total) for r in rows] == [(masks, 500, True)]
    _issue(admin, gloves, office, 3)
    assert {r.item for r in low_stock(community.pk)} == {masks, gloves}


def test_a_place_with_its_own_level(admin, community, masks, gloves, office, gate):
    services.receipt(actor=admin, item=gloves, location=office, quantity=100)
    services.receipt(actor=admin, item=gloves, location=gate, quantity=20)
    services.item_save(
        actor=admin, item=gloves, name=gloves.name, unit="pairs", location_thresholds={gate.pk: 20}
    )
    services.receipt(actor=admin, item=masks, location=office, quantity=9999)
    rows = low_stock(community.pk)
    assert len(rows) == 1 and rows[0].item == gloves and not rows[0].low_total
    assert [(c.location, c.quantity) for c in rows[0].low_places] == [(gate, 20)]


def test_inactive_items_do_not_alert(admin, community, masks):
    assert [r.item for r in low_stock(community.pk)] == [masks]
    services.item_save(actor=admin, item=masks, name=masks.name, unit="pcs", active=False)
    assert low_stock(community.pk) == []


def test_the_matrix_reads_in_three_queries(
    admin, community, masks, gloves, office, gate, django_assert_num_queries
):
    for i in range(5):
        services.item_save(actor=admin, name=f"物品{i}", unit="pcs")
    with django_assert_num_queries(3):
        m = stock_matrix(community.pk)
        assert len(m.rows) == 7 and len(m.rows[0].cells) == 2


def test_the_command_lists_low_items(admin, community, other_community, masks, office):
    services.receipt(actor=admin, item=masks, location=office, quantity=100)
    out = StringIO()
    call_command("materials_low_stock", stdout=out)
    text = out.getvalue()
    assert "HM-T" in text and "医用外科口罩 100 pcs (total, alert at 500)" in text
    assert text.strip().endswith("1 item(s) low on stock.")
    out = StringIO()
    call_command("materials_low_stock", community="OT-T", stdout=out)
    assert out.getvalue().strip() == "0 item(s) low on stock."
