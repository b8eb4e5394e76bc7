"""Placing, changing and cancelling an order: stock, limits, windows, areas, retries."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shouwang.core.errors import Conflict, DomainError, Forbidden
from shouwang.core.models import AuditEvent
from shouwang.core.testing import make_building, make_household
from shouwang.supplies.buying import services
from shouwang.supplies.buying.models import Channel, Order, Product
from shouwang.supplies.buying.tests.builders import close, make_merchant, make_window

pytestmark = pytest.mark.django_db


def _stock(p) -> int:
    return Product.objects.get(pk=p.pk).stock


def test_placing_takes_stock_and_records_lines_prices_and_a_pickup_code(
    window, products, ledger, personas
):
    c, e = products["cabbage"], products["eggs"]
    placed = services.order_place(window=window, household=ledger["h1"], lines={c.pk: 3, e.pk: 2})
    o = placed.order
    assert placed.created and o.status == "placed" and o.channel == Channel.HOUSEHOLD
    assert _stock(c) == 47 and _stock(e) == 8
    assert {(ln.product_id, ln.quantity, ln.unit_price) for ln in o.lines.all()} == {
        (c.pk, 3, Decimal("1.80")),
        (e.pk, 2, Decimal("15.00")),
    }
    assert o.total == Decimal("35.40")
    assert len(o.pickup_code) == 6 and o.pickup_code.isdigit()
    assert o.payment_status == "unpaid" and o.payment_method == "none"
    assert AuditEvent.objects.filter(action="buying.order.place", target_id=str(o.pk)).exists()


def test_placing_again_changes_the_same_order(window, products, ledger):
    c, e = products["cabbage"], products["eggs"]
    first = services.order_place(window=window, household=ledger["h1"], lines={c.pk: 3})
    again = services.order_place(window=window, household=ledger["h1"], lines={c.pk: 3})
    assert not again.created and again.order.pk == first.order.pk
    assert _stock(c) == 47
    changed = services.order_place(window=window, household=ledger["h1"], lines={c.pk: 1, e.pk: 1})
    assert changed.order.pk == first.order.pk
    assert _stock(c) == 49 and _stock(e) == 9
    assert Order.objects.filter(window=window).count() == 1
    assert changed.order.total == Decimal("16.80")


def test_the_price_paid_is_the_price_when_ordered(window, products, ledger):
    c = products["cabbage"]
    o = services.order_place(window=window, household=ledger["h1"], lines={c.pk: 2}).order
    Product.objects.filter(pk=c.pk).update(price="9.99")
    o = services.order_change(order=o, lines={c.pk: 2})
    assert o.lines.get().unit_price == Decimal("1.80") and o.total == Decimal("3.60")


def test_sold_out_refuses_the_whole_order_and_keeps_everything(window, products, ledger):
    c, box = products["cabbage"], products["box"]
    Product.objects.filter(pk=box.pk).update(stock=0)
    with pytest.raises(services.SoldOut) as e:
        services.order_place(window=window, household=ledger["h1"], lines={c.pk: 5, box.pk: 1})
    assert e.value.code == "sold_out" and "蔬菜包" in str(e.value.message)
    assert f"product_{box.pk}" in e.value.fields
    assert _stock(c) == 50 and not Order.objects.exists()


def test_more_than_is_left_is_refused(window, products, ledger):
    c = products["cabbage"]
    with pytest.raises(services.SoldOut, match="Only 50"):
        services.order_place(window=window, household=ledger["h1"], lines={c.pk: 51})
    assert _stock(c) == 50


def test_per_household_limit(window, products, ledger):
    e = products["eggs"]
    with pytest.raises(DomainError) as err:
        services.order_place(window=window, household=ledger["h1"], lines={e.pk: 3})
    assert f"product_{e.pk}" in err.value.fields and "at most 2" in str(err.value.message)
    o = services.order_place(window=window, household=ledger["h1"], lines={e.pk: 2}).order
    with pytest.raises(DomainError, match="at most 2"):
        services.order_change(order=o, lines={e.pk: 3})
    assert _stock(e) == 8


def test_nothing_chosen_is_refused(window, products, ledger):
    with pytest.raises(DomainError, match="at least one"):
        services.order_place(window=window, household=ledger["h1"], lines={})


@pytest.mark.parametrize("bad", [-1, "x", 1000])
def test_bad_quantities_are_refused(window, products, ledger, bad):
    with pytest.raises(DomainError):
        services.order_place(
            window=window, household=ledger["h1"], lines={products["cabbage"].pk: bad}
        )


def test_a_product_of_another_merchant_is_refused(window, products, ledger, community):
    other = make_merchant(community, name="别的超市")
    p = Product.objects.create(
        community=community, merchant=other, name="猪肉", price="20", stock=9
    )
    with pytest.raises(DomainError, match="no longer on sale"):
        services.order_place(window=window, household=ledger["h1"], lines={p.pk: 1})


def test_a_closed_window_refuses_placing_changing_and_cancelling(window, products, ledger):
    c = products["cabbage"]
    o = services.order_place(window=window, household=ledger["h1"], lines={c.pk: 1}).order
    close(window)
    for call in (
        lambda: services.order_place(window=window, household=ledger["h2"], lines={c.pk: 1}),
        lambda: services.order_change(order=o, lines={c.pk: 2}),
        lambda: services.order_cancel(order=o),
    ):
        with pytest.raises(Conflict) as e:
            call()
        assert e.value.code == "window_closed"
    assert _stock(c) == 49


def test_a_window_closed_early_or_not_open_yet_refuses(merchant, products, ledger):
    c = products["cabbage"]
    later = make_window(merchant, opened=-services.dt.timedelta(hours=1))
    with pytest.raises(Conflict) as e:
        services.order_place(window=later, household=ledger["h1"], lines={c.pk: 1})
    assert e.value.code == "not_open_yet"
    w = make_window(merchant, title="早关")
    services.window_close(actor=None, window=w)
    w.refresh_from_db()
    with pytest.raises(Conflict, match="closed"):
        services.order_place(window=w, household=ledger["h1"], lines={c.pk: 1})


def test_cancel_gives_all_stock_back_and_placing_again_reuses_the_order(window, products, ledger):
    c, e = products["cabbage"], products["eggs"]
    o = services.order_place(window=window, household=ledger["h1"], lines={c.pk: 4, e.pk: 1})
    services.order_cancel(order=o.order)
    services.order_cancel(order=o.order)  # twice: no second give-back
    assert _stock(c) == 50 and _stock(e) == 10
    again = services.order_place(window=window, household=ledger["h1"], lines={e.pk: 2})
    assert again.order.pk == o.order.pk and again.order.status == "placed"
    assert _stock(c) == 50 and _stock(e) == 8
    assert [(ln.product_id, ln.quantity) for ln in again.order.lines.all()] == [(e.pk, 2)]


def test_changing_to_nothing_cancels(window, products, ledger):
    c = products["cabbage"]
    o = services.order_place(window=window, household=ledger["h1"], lines={c.pk: 4}).order
    o = services.order_change(order=o, lines={c.pk: 0})
    assert o.status == "cancelled" and _stock(c) == 50


def test_change_takes_only_the_difference_and_refuses_beyond_stock(window, products, ledger):
    box = products["box"]  # 5 in stock, limit 1
    c = products["cabbage"]
    o = services.order_place(window=window, household=ledger["h1"], lines={c.pk: 10}).order
    services.order_place(window=window, household=ledger["h2"], lines={c.pk: 35})
    with pytest.raises(services.SoldOut):
        services.order_change(order=o, lines={c.pk: 16})  # 5 left, 6 more asked
    assert _stock(c) == 5
    o = services.order_change(order=o, lines={c.pk: 15, box.pk: 1})
    assert _stock(c) == 0 and _stock(box) == 4


def test_only_households_in_the_merchants_area(community, products, ledger, merchant, grid_b):
    merchant.grids.set([grid_b])  # h3 is in grid B, h1 in grid A
    w = make_window(merchant)
    c = products["cabbage"]
    with pytest.raises(Forbidden) as e:
        services.order_place(window=w, household=ledger["h1"], lines={c.pk: 1})
    assert e.value.code == "not_served"
    assert services.order_place(window=w, household=ledger["h3"], lines={c.pk: 1}).created
    b = make_building(community, "新虹公寓", "9号楼")
    merchant.grids.clear()
    merchant.buildings.set([b])
    assert services.merchant_serves(merchant, make_household(community, building=b))
    assert not services.merchant_serves(merchant, ledger["h3"])


def test_a_merchant_not_vetted_takes_no_orders(window, products, ledger, merchant):
    merchant.vetted = False
    merchant.save()
    with pytest.raises(Conflict):
        services.order_place(
            window=window, household=ledger["h1"], lines={products["cabbage"].pk: 1}
        )


def test_a_household_of_another_community_is_not_found(window, products, ledger):
    with pytest.raises(DomainError) as e:
        services.order_place(window=window, household=ledger["ho"], lines={products["eggs"].pk: 1})
    assert e.value.status == 404


def test_pickup_codes_are_unique_in_a_window(window, products, ledger, monkeypatch):
    codes = iter(["111111", "111111", "222222"])
    monkeypatch.setattr(services, "_new_code", lambda: next(codes))
    c = products["cabbage"]
    a = services.order_place(window=window, household=ledger["h1"], lines={c.pk: 1}).order
    b = services.order_place(window=window, household=ledger["h2"], lines={c.pk: 1}).order
    assert (a.pickup_code, b.pickup_code) == ("111111", "222222")
    assert _stock(c) == 48


def test_payment_is_recorded_not_taken(window, products, ledger, personas):
    o = services.order_place(
        window=window, household=ledger["h1"], lines={products["cabbage"].pk: 1}
    ).order
    with pytest.raises(DomainError, match="online or cash"):
        services.payment_record(actor=personas["staff"], order=o, status="paid", method="none")
    o = services.payment_record(
        actor=personas["merchant"], order=o, status="paid", method="cash_on_delivery"
    )
    assert (o.payment_status, o.payment_method) == ("paid", "cash_on_delivery")
    assert o.payment_recorded_by == personas["merchant"]
    assert AuditEvent.objects.filter(action="buying.order.payment").count() == 1
    # Recording the same again writes nothing.
    services.payment_record(
        actor=personas["merchant"], order=o, status="paid", method="cash_on_delivery"
    )
    assert AuditEvent.objects.filter(action="buying.order.payment").count() == 1


def test_cancelling_a_window_gives_every_order_back(window, products, ledger):
    c = products["cabbage"]
    services.order_place(window=window, household=ledger["h1"], lines={c.pk: 3})
    services.order_place(window=window, household=ledger["h2"], lines={c.pk: 4})
    services.window_close(actor=None, window=window, cancel=True)
    assert _stock(c) == 50
    assert set(Order.objects.values_list("status", flat=True)) == {"cancelled"}


def test_proxy_order_is_recorded_for_the_household(window, products, ledger, personas):
    from shouwang.residents import services as rs
    from shouwang.residents.models import BehalfAction

    consent = rs.consent_grant(
        actor=personas["admin"],
        household=ledger["h1"],
        relation="building_volunteer",
        granted_on=services.timezone.localdate(),
        proxy_user=personas["volunteer"],
    )
    o = services.order_place(
        window=window,
        household=ledger["h1"],
        lines={products["cabbage"].pk: 1},
        channel=Channel.PROXY,
        actor=personas["volunteer"],
        consent=consent,
    ).order
    assert o.channel == "proxy" and o.consent == consent
    assert BehalfAction.objects.filter(household=ledger["h1"], action="buying.order").exists()
    with pytest.raises(Forbidden):
        services.order_place(
            window=window,
            household=ledger["h2"],
            lines={products["cabbage"].pk: 1},
            consent=consent,
        )
