"""The buying demo: a vetted merchant linked to the demo's merchant user, a catalogue with a
vegetable box, a closed window with a few hundred orders and an open one; safe to run twice."""

from __future__ import annotations

import pytest

from shouwang.queues.tests.test_demo import small_ledger
from shouwang.supplies.buying import delivery, selectors
from shouwang.supplies.buying.demo import CATALOGUE, CLOSED_ORDERS, OPEN_ORDERS, demo_buying
from shouwang.supplies.buying.models import (
    DeliveryBatch,
    Merchant,
    MerchantMember,
    Order,
    OrderLine,
    OrderProblem,
    Product,
)

pytestmark = pytest.mark.django_db

STOCK = {row[0]: row[4] for row in CATALOGUE}


def test_demo_buying(community, personas):
    small_ledger(community, n=400)
    m = demo_buying(community, personas["admin"], log=lambda *a: None)
    assert m.vetted and m.every_days == 2
    assert MerchantMember.objects.get(user=personas["merchant"]).merchant == m
    products = list(Product.objects.filter(merchant=m))
    assert len(products) == 8 and sum(p.is_bundle for p in products) == 1
    closed, current = sorted(m.windows.all(), key=lambda w: w.opens_at)
    assert closed.state() == "closed" and current.state() == "open"
    assert Order.objects.filter(window=closed, status="placed").count() == CLOSED_ORDERS
    assert Order.objects.filter(window=current).count() == OPEN_ORDERS
    # Nothing oversold, nothing over a limit.
    for p in products:
        p.refresh_from_db()
        ordered = sum(OrderLine.objects.filter(product=p).values_list("quantity", flat=True))
        assert p.stock >= 0 and ordered + p.stock == STOCK[p.name]
    assert sum(b["orders"] for b in selectors.picking_by_building(closed)["buildings"]) == (
        CLOSED_ORDERS
    )
    # The closed window's delivery, partway: released, some buildings reached, some received.
    b = DeliveryBatch.objects.get(window=closed)
    assert b.step == "released" and b.checkpoint and b.rest_until <= b.released_at
    placed = Order.objects.filter(window=closed, status="placed")
    assert 0 < placed.filter(receipt_at__isnull=False).count() < CLOSED_ORDERS
    assert placed.filter(delivered_at__isnull=False, receipt_at__isnull=True).exists()
    assert 0 < b.buildings.count() < len(delivery.buildings(closed))
    assert OrderProblem.objects.filter(order__window=closed, status="open").count() == 1
    assert demo_buying(community, personas["admin"], log=lambda *a: None) is None
    assert Merchant.objects.filter(community=community).count() == 1
