"""The delivery chain in a real browser on a 360 px phone: the building volunteer's page (doors
in order, the "delivered to the door" tick, the pickup-code box that confirms a receipt), and the
household confirming its receipt on its own page once the chain reached its door.

Screenshots for a person to look at go to /tmp/shots/buying-receipt-*.png.

Run: .venv/bin/pytest tests/browser/test_buying_receipt.py -q   (skipped without /usr/bin/chromium)
"""

from __future__ import annotations

from pathlib import Path

import pytest

if not Path("/usr/bin/chromium").exists():
    pytest.skip(
        "browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium); "
        "no browser is ever downloaded",
        allow_module_level=True,
    )
pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")


def _sign_in(page, user, live_server) -> None:
    from django.test import Client

    c = Client()
    c.force_login(user)
    cookie = c.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


@pytest.fixture
def delivered(community, personas, ledger):
    """A closed window with orders from h1, h2 and a third door of their building; the batch
    released and at the building."""
    from shouwang.core import testing as t
    from shouwang.supplies.buying import delivery, services
    from shouwang.supplies.buying.tests.builders import (
        close,
        link,
        make_merchant,
        make_product,
        make_window,
    )

    m = make_merchant(community, name="松林超市")
    link(personas["merchant"], m)
    box = make_product(m, name="蔬菜包", price="39.90", stock=20, limit=1)
    w = make_window(m, title="周三团购")
    h9 = t.make_household(community, building=ledger["h1"].building, door="1201")
    orders = {
        k: services.order_place(window=w, household=h, lines={box.pk: 1}).order
        for k, h in (("h1", ledger["h1"]), ("h2", ledger["h2"]), ("h9", h9))
    }
    close(w)
    staff = personas["staff"]
    for step in ("dispatched", "arrived", "disinfected"):
        delivery.batch_step(actor=staff, window=w, step=step, checkpoint="东门卡口")
    delivery.batch_rest_set(actor=staff, batch=delivery.batch_of(w), minutes=0)
    delivery.batch_step(actor=staff, window=w, step="released")
    delivery.building_arrived(
        actor=staff, window=w, building=ledger["h1"].building, volunteer=personas["volunteer"]
    )
    return w, orders


def test_the_volunteer_ticks_doors_and_takes_a_code(
    phone, live_server, personas, ledger, delivered, assert_fits
):
    from shouwang.supplies.buying.models import Order

    SHOTS.mkdir(parents=True, exist_ok=True)
    w, orders = delivered
    page = phone
    _sign_in(page, personas["volunteer"], live_server)
    page.goto(f"/buying/windows/{w.pk}/delivery/buildings/{ledger['h1'].building_id}/")
    doors = page.locator(".b-door-no").all_inner_texts()
    assert [d.split()[-1] for d in doors] == ["101", "102", "1201"]
    assert_fits(page)
    tick = page.locator(f"#o{orders['h2'].pk} .b-door-actions button")
    size = tick.bounding_box()
    assert size and size["height"] >= 44, "the tick is a touch target"
    tick.click()
    page.wait_for_load_state()
    assert Order.objects.get(pk=orders["h2"].pk).delivered_at is not None
    page.locator(".b-codebox input[name=code]").fill(orders["h9"].pickup_code)
    page.locator(".b-codebox button").click()
    page.wait_for_load_state()
    o = Order.objects.get(pk=orders["h9"].pk)
    assert o.receipt_how == "code" and o.receipt_by == personas["volunteer"]
    assert page.locator(f"#o{o.pk}.b-received").count() == 1
    assert_fits(page)
    page.screenshot(path=str(SHOTS / "buying-receipt-building.png"), full_page=True)


def test_the_household_confirms_receipt_on_a_phone(
    phone, live_server, personas, ledger, delivered, assert_fits
):
    from shouwang.residents import services as rs
    from shouwang.supplies.buying import delivery
    from shouwang.supplies.buying.models import Order

    SHOTS.mkdir(parents=True, exist_ok=True)
    _w, orders = delivered
    delivery.order_delivered(actor=personas["volunteer"], order=orders["h1"])
    h1 = ledger["h1"]
    _link, token = rs.link_issue(actor=personas["admin"], household=h1)
    page = phone
    page.goto(f"/h/{token}/")
    page.goto(f"/my/households/{h1.pk}/#buying")
    section = page.locator("#buying")
    steps = section.locator(".b-steps li")
    assert steps.count() == 8
    done = section.locator(".b-steps li.done").count()
    assert done == 7, "ordered, dispatched … delivered to the door: all but the receipt"
    assert orders["h1"].pickup_code in section.inner_text()
    assert_fits(page)
    page.screenshot(path=str(SHOTS / "buying-receipt-before.png"), full_page=True)
    button = section.locator("form.b-receipt button")
    size = button.bounding_box()
    assert size and size["height"] >= 44 and size["width"] >= 280, "a big button"
    button.click()
    page.wait_for_load_state()
    o = Order.objects.get(pk=orders["h1"].pk)
    assert o.receipt_how == "page" and o.receipt_at is not None
    section = page.locator("#buying")
    assert section.locator(".b-steps li.done").count() == 8
    assert section.locator("form.b-receipt").count() == 0
    assert_fits(page)
    page.screenshot(path=str(SHOTS / "buying-receipt-after.png"), full_page=True)
