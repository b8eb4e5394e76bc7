"""Many households ordering the last stock at once, each on its own database connection: never
oversold, and the stock left plus what was ordered is what there was (SQLite and PostgreSQL;
the `db_file` fixture and `run_at_once` are the queue's, see its test_concurrency.py)."""

from __future__ import annotations

import pytest

from shouwang.core.testing import make_community, run_at_once
from shouwang.queues.tests.test_take import make_households
from shouwang.supplies.buying import services
from shouwang.supplies.buying.models import Order, OrderLine, Product
from shouwang.supplies.buying.tests.builders import make_merchant, make_product, make_window

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def community(db_file):  # noqa: F811 - after db_file: the rows go where the threads look
    return make_community("CONC-B")


def _ordered(p) -> int:
    return sum(
        OrderLine.objects.filter(product=p, order__status="placed").values_list(
            "quantity", flat=True
        )
    )


def test_a_burst_for_the_last_stock_never_oversells(db_file, community):  # noqa: F811
    m = make_merchant(community)
    box = make_product(m, name="蔬菜包", stock=20, limit=2)
    eggs = make_product(m, name="鸡蛋", stock=15)
    w = make_window(m)
    households = make_households(community, 120)
    shares = [households[i::30] for i in range(30)]

    def order(share):
        got = 0
        for n, h in enumerate(share):
            try:
                services.order_place(window=w, household=h, lines={box.pk: 1 + n % 2, eggs.pk: 1})
                got += 1
            except services.SoldOut:
                pass
        return got

    results, refusals = run_at_once(db_file, order, shares)
    assert not refusals
    box.refresh_from_db()
    eggs.refresh_from_db()
    assert box.stock >= 0 and eggs.stock >= 0
    assert _ordered(box) + box.stock == 20
    assert _ordered(eggs) + eggs.stock == 15
    assert Order.objects.filter(window=w, status="placed").count() == sum(results)
    # 120 households asked for more than there is: the burst ended on an empty shelf.
    assert eggs.stock == 0 or box.stock <= 1


def test_the_same_household_at_once_gets_one_order(db_file, community):  # noqa: F811
    m = make_merchant(community)
    p = make_product(m, stock=100)
    w = make_window(m)
    (h,) = make_households(community, 1)

    results, refusals = run_at_once(
        db_file,
        lambda q: services.order_place(window=w, household=h, lines={p.pk: q}),
        [3] * 12,
    )
    assert not refusals
    assert Order.objects.filter(window=w).count() == 1
    assert sum(r.created for r in results) == 1
    assert Product.objects.get(pk=p.pk).stock == 97


def test_changes_and_cancels_at_once_keep_the_stock_exact(db_file, community):  # noqa: F811
    m = make_merchant(community)
    p = make_product(m, stock=60)
    w = make_window(m)
    households = make_households(community, 20)
    orders = [
        services.order_place(window=w, household=h, lines={p.pk: 3}).order for h in households
    ]

    def act(i):
        o = orders[i]
        if i % 3 == 0:
            return services.order_cancel(order=o)
        try:
            return services.order_change(order=o, lines={p.pk: 1 + i % 5})
        except services.SoldOut:
            return None

    run_at_once(db_file, act, list(range(20)))
    p.refresh_from_db()
    assert p.stock >= 0 and _ordered(p) + p.stock == 60


def test_two_confirmations_at_once_make_one(db_file, community):  # noqa: F811
    """The volunteer types the code while the resident presses "I received it": one receipt,
    and both callers get that one back."""
    from shouwang.supplies.buying import delivery
    from shouwang.supplies.buying.tests.builders import close

    m = make_merchant(community)
    p = make_product(m, stock=10)
    w = make_window(m)
    (h,) = make_households(community, 1)
    o = services.order_place(window=w, household=h, lines={p.pk: 1}).order
    close(w)
    for step in ("dispatched", "arrived", "disinfected"):
        delivery.batch_step(actor=None, window=w, step=step)
    delivery.batch_rest_set(actor=None, batch=delivery.batch_of(w), minutes=0)
    delivery.batch_step(actor=None, window=w, step="released")
    delivery.building_arrived(actor=None, window=w, building=h.building)

    def confirm(i):
        if i % 2:
            return delivery.receipt_by_code(actor=None, window=w, code=o.pickup_code)
        return delivery.receipt_confirm(order=o, how="page")

    results, refusals = run_at_once(db_file, confirm, list(range(8)))
    assert not refusals
    assert sum(r.first for r in results) == 1
    assert len({r.order.receipt_at for r in results}) == 1
    from shouwang.core.audit import AuditEvent

    assert AuditEvent.objects.filter(action="buying.delivery.receipt").count() == 1
