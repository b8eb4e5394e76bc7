"""Ordering from the household page: the household's own session, or a volunteer holding its
consent; change and cancel until the window closes."""

from __future__ import annotations

import pytest

from shouwang.residents import services as resident_services
from shouwang.residents.models import BehalfAction
from shouwang.supplies.buying import services
from shouwang.supplies.buying.models import Order, Product
from shouwang.supplies.buying.tests.builders import close

pytestmark = pytest.mark.django_db


def sign_in(client, staff, household) -> None:
    _link, token = resident_services.link_issue(actor=staff, household=household)
    assert client.get(f"/h/{token}/").status_code == 302


def page(h) -> str:
    return f"/my/households/{h.pk}/"


def place_url(h, w) -> str:
    return f"/my/households/{h.pk}/buying/{w.pk}/order/"


def msgs(resp) -> list[str]:
    return [str(m) for m in resp.context["messages"]]


def test_the_page_shows_the_catalogue_stock_limits_and_a_form(
    client, personas, ledger, window, products
):
    sign_in(client, personas["staff"], ledger["h1"])
    html = client.get(page(ledger["h1"])).content.decode()
    assert 'id="buying"' in html and "松林超市" in html
    assert "大白菜" in html and "¥1.80" in html and "50 left" in html
    assert "at most 2 per household" in html and "白菜2斤" in html
    assert f'name="q_{products["eggs"].pk}"' in html and 'max="2"' in html
    assert place_url(ledger["h1"], window) in html
    assert "buying.css" in html


def test_ordering_changing_and_cancelling_from_the_page(client, personas, ledger, window, products):
    c, e = products["cabbage"], products["eggs"]
    h = ledger["h1"]
    sign_in(client, personas["staff"], h)
    resp = client.post(place_url(h, window), {f"q_{c.pk}": "3", f"q_{e.pk}": ""}, follow=True)
    o = Order.objects.get(household=h)
    assert o.channel == "household" and str(o.total) == "5.40"
    assert any(o.pickup_code in m for m in msgs(resp))
    html = resp.content.decode()
    assert o.pickup_code in html and "Change my order" in html
    resp = client.post(place_url(h, window), {f"q_{c.pk}": "1", f"q_{e.pk}": "2"}, follow=True)
    assert Order.objects.filter(household=h).count() == 1
    assert Product.objects.get(pk=c.pk).stock == 49 and Product.objects.get(pk=e.pk).stock == 8
    assert "changed" in msgs(resp)[0]
    resp = client.post(f"/my/households/{h.pk}/buying/orders/{o.pk}/cancel/", follow=True)
    assert Order.objects.get(pk=o.pk).status == "cancelled"
    assert Product.objects.get(pk=e.pk).stock == 10


def test_a_limit_or_sold_out_comes_back_as_a_message(client, personas, ledger, window, products):
    h = ledger["h1"]
    sign_in(client, personas["staff"], h)
    resp = client.post(place_url(h, window), {f"q_{products['eggs'].pk}": "3"}, follow=True)
    assert "at most 2" in msgs(resp)[0] and not Order.objects.exists()
    Product.objects.filter(pk=products["box"].pk).update(stock=0)
    resp = client.post(place_url(h, window), {f"q_{products['box'].pk}": "1"}, follow=True)
    assert "Only 0" in msgs(resp)[0] and not Order.objects.exists()


def test_after_the_close_the_page_shows_the_code_and_refuses_changes(
    client, personas, ledger, window, products
):
    h = ledger["h1"]
    c = products["cabbage"]
    o = services.order_place(window=window, household=h, lines={c.pk: 2}).order
    close(window)
    sign_in(client, personas["staff"], h)
    html = client.get(page(h)).content.decode()
    assert o.pickup_code in html and "Orders on their way" in html
    assert place_url(h, window) not in html
    resp = client.post(place_url(h, window), {f"q_{c.pk}": "5"}, follow=True)
    assert "closed" in msgs(resp)[0]
    assert Order.objects.get(pk=o.pk).lines.get().quantity == 2


def test_another_households_session_cannot_order_for_h1(client, personas, ledger, window, products):
    sign_in(client, personas["staff"], ledger["h2"])
    resp = client.post(place_url(ledger["h1"], window), {f"q_{products['cabbage'].pk}": "1"})
    assert resp.status_code == 404 and not Order.objects.exists()


def test_a_volunteer_with_consent_orders_on_the_households_behalf(
    client, personas, ledger, window, products
):
    h = ledger["h1"]
    resident_services.consent_grant(
        actor=personas["admin"],
        household=h,
        relation="building_volunteer",
        granted_on=services.timezone.localdate(),
        proxy_user=personas["volunteer"],
    )
    client.force_login(personas["volunteer"])
    client.post(place_url(h, window), {f"q_{products['cabbage'].pk}": "2"})
    o = Order.objects.get(household=h)
    assert o.channel == "proxy" and o.placed_by == personas["volunteer"] and o.consent_id
    assert BehalfAction.objects.filter(household=h, action="buying.order").exists()
    # No consent for h2: not even the page.
    resp = client.post(place_url(ledger["h2"], window), {f"q_{products['cabbage'].pk}": "1"})
    assert resp.status_code == 404


def test_a_merchant_that_does_not_serve_the_building_is_not_offered(
    client, personas, ledger, window, products, merchant, grid_b
):
    merchant.grids.set([grid_b])
    sign_in(client, personas["staff"], ledger["h1"])
    html = client.get(page(ledger["h1"])).content.decode()
    assert 'id="buying"' not in html
