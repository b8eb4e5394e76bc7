"""The API (/api/v1/buying/): a household's windows and catalogue; place, change, cancel an
order for a household; payment; refusals in the one error shape."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shouwang.supplies.buying import services
from shouwang.supplies.buying.models import Order, Product
from shouwang.supplies.buying.tests.builders import close

pytestmark = pytest.mark.django_db


def post(client, url, body, method="POST"):
    return client.generic(method, url, json.dumps(body), content_type="application/json")


def test_household_windows_show_catalogue_stock_and_the_order(
    client, personas, ledger, window, products
):
    services.order_place(window=window, household=ledger["h1"], lines={products["eggs"].pk: 2})
    client.force_login(personas["staff"])
    body = client.get(f"/api/v1/buying/households/{ledger['h1'].pk}/windows").json()
    (w,) = body["windows"]
    assert w["id"] == window.pk and w["state"] == "open" and w["merchant"]["name"] == "松林超市"
    eggs = next(p for p in w["products"] if p["name"] == "鸡蛋")
    assert eggs["stock"] == 8 and eggs["limit"] == 2 and eggs["price"] == "15.00"
    (o,) = body["orders"]
    assert o["lines"] == [
        {"product_id": products["eggs"].pk, "name": "鸡蛋", "quantity": 2, "unit_price": "15.00"}
    ]


def test_place_is_201_then_200_and_never_two(client, personas, ledger, window, products):
    client.force_login(personas["staff"])
    url = f"/api/v1/buying/windows/{window.pk}/orders"
    body = {
        "household_id": ledger["h1"].pk,
        "lines": [{"product_id": products["cabbage"].pk, "quantity": 4}],
    }
    first = post(client, url, body)
    assert first.status_code == 201 and first.json()["created"] is True
    again = post(client, url, body)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Order.objects.count() == 1 and Product.objects.get(pk=products["cabbage"].pk).stock == 46
    assert first.json()["channel"] == "staff" and len(first.json()["pickup_code"]) == 6


def test_change_cancel_and_payment(client, personas, ledger, window, products):
    client.force_login(personas["staff"])
    o = services.order_place(
        window=window, household=ledger["h1"], lines={products["cabbage"].pk: 4}
    ).order
    resp = post(
        client,
        f"/api/v1/buying/orders/{o.pk}",
        {"lines": [{"product_id": products["box"].pk, "quantity": 1}]},
        "PUT",
    )
    assert resp.status_code == 200
    assert [ln["name"] for ln in resp.json()["lines"]] == ["蔬菜包"]
    assert Product.objects.get(pk=products["cabbage"].pk).stock == 50
    resp = post(
        client,
        f"/api/v1/buying/orders/{o.pk}/payment",
        {"payment_status": "paid", "payment_method": "online"},
    )
    assert resp.json()["payment_status"] == "paid"
    resp = client.post(f"/api/v1/buying/orders/{o.pk}/cancel")
    assert resp.json()["status"] == "cancelled" and resp.json()["lines"] == []
    assert Product.objects.get(pk=products["box"].pk).stock == 5


def test_refusals_have_the_error_shape(client, personas, ledger, window, products):
    client.force_login(personas["staff"])
    url = f"/api/v1/buying/windows/{window.pk}/orders"
    Product.objects.filter(pk=products["box"].pk).update(stock=0)
    resp = post(
        client,
        url,
        {
            "household_id": ledger["h1"].pk,
            "lines": [{"product_id": products["box"].pk, "quantity": 1}],
        },
    )
    assert resp.status_code == 409
    err = resp.json()["error"]
    assert err["code"] == "sold_out" and f"product_{products['box'].pk}" in err["fields"]
    resp = post(
        client,
        url,
        {
            "household_id": ledger["h1"].pk,
            "lines": [{"product_id": products["eggs"].pk, "quantity": 3}],
        },
    )
    assert resp.status_code == 400 and "at most 2" in resp.json()["error"]["message"]
    resp = post(
        client,
        url,
        {
            "household_id": ledger["ho"].pk,
            "lines": [{"product_id": products["eggs"].pk, "quantity": 1}],
        },
    )
    assert resp.status_code == 404
    close(window)
    resp = post(
        client,
        url,
        {
            "household_id": ledger["h1"].pk,
            "lines": [{"product_id": products["eggs"].pk, "quantity": 1}],
        },
    )
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "window_closed"


def test_grid_leader_orders_only_for_their_grid(client, personas, ledger, window, products):
    client.force_login(personas["grid_leader"])
    url = f"/api/v1/buying/windows/{window.pk}/orders"
    line = [{"product_id": products["eggs"].pk, "quantity": 1}]
    assert post(client, url, {"household_id": ledger["h3"].pk, "lines": line}).status_code == 404
    assert post(client, url, {"household_id": ledger["h1"].pk, "lines": line}).status_code == 201


def test_window_orders_list_is_a_fixed_number_of_queries(
    client, personas, ledger, window, products
):
    client.force_login(personas["staff"])
    url = f"/api/v1/buying/windows/{window.pk}/orders"
    services.order_place(window=window, household=ledger["h1"], lines={products["eggs"].pk: 1})
    client.get(url)  # the session's first request writes more
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(url).json()) == 1
    for h in ("h2", "h3"):
        services.order_place(window=window, household=ledger[h], lines={products["cabbage"].pk: 1})
    with CaptureQueriesContext(connection) as three:
        assert len(client.get(url).json()) == 3
    assert len(three.captured_queries) == len(one.captured_queries)


def test_windows_list(client, personas, window):
    client.force_login(personas["staff"])
    body = client.get("/api/v1/buying/windows?open_only=true").json()
    assert [w["id"] for w in body] == [window.pk]
    client.force_login(personas["outsider"])
    assert client.get("/api/v1/buying/windows").json() == []
