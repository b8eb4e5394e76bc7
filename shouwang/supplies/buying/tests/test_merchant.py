"""The merchant's side: only its own windows and orders; the picking list and the slips; no
ID numbers, no health data, masked names and phones."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from shouwang.core.testing import make_building, make_household, make_resident, make_user
from shouwang.registry.models import CareTag, Resident
from shouwang.supplies.buying import selectors, services
from shouwang.supplies.buying.models import Order, OrderLine
from shouwang.supplies.buying.tests.builders import close, link, make_merchant

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(window, products, ledger, community, grid_a):
    """h1 (101), h2 (102) in 1号楼 and three doors of 3号楼 ordered out of door order."""
    b3 = make_building(community, "华美小区", "3号楼", grid=grid_a)
    doors = ["1201", "302", "1102"]
    hs = [make_household(community, building=b3, door=d) for d in doors]
    for n, h in enumerate(hs):
        make_resident(h, name=f"钱{n}多多", phone=f"+861380000000{n}")
    c, e, box = products["cabbage"], products["eggs"], products["box"]
    placed = [
        services.order_place(window=window, household=ledger["h2"], lines={c.pk: 2, e.pk: 1}),
        services.order_place(window=window, household=ledger["h1"], lines={c.pk: 3, box.pk: 1}),
        services.order_place(window=window, household=hs[0], lines={e.pk: 2}),
        services.order_place(window=window, household=hs[1], lines={c.pk: 1, e.pk: 1}),
        services.order_place(window=window, household=hs[2], lines={box.pk: 1}),
    ]
    # A cancelled order is not picked.
    cancelled = services.order_place(window=window, household=ledger["h3"], lines={c.pk: 9})
    services.order_cancel(order=cancelled.order)
    return [p.order for p in placed]


def test_picking_totals_equal_the_sum_of_the_orders(window, orders, products):
    by_product = {p["name"]: p for p in selectors.picking_by_product(window)}
    assert {k: v["quantity"] for k, v in by_product.items()} == {
        "大白菜": 6,
        "鸡蛋": 4,
        "蔬菜包": 2,
    }
    assert by_product["鸡蛋"]["orders"] == 3
    for p in products.values():
        summed = sum(
            OrderLine.objects.filter(
                order__window=window, order__status="placed", product=p
            ).values_list("quantity", flat=True)
        )
        assert by_product[p.name]["quantity"] == summed
    table = selectors.picking_by_building(window)
    names = [b["name"] for b in table["buildings"]]
    assert names == ["1号楼", "3号楼"]
    cols = [p["name"] for p in table["products"]]
    b1, b3 = table["buildings"]
    assert dict(zip(cols, b1["quantities"], strict=True)) == {"大白菜": 5, "鸡蛋": 1, "蔬菜包": 1}
    assert dict(zip(cols, b3["quantities"], strict=True)) == {"大白菜": 1, "鸡蛋": 3, "蔬菜包": 1}
    assert (b1["orders"], b3["orders"]) == (2, 3)
    for i, p in enumerate(table["products"]):
        assert sum(b["quantities"][i] for b in table["buildings"]) == p["quantity"]


def test_picking_list_is_a_fixed_number_of_queries(window, orders):
    with CaptureQueriesContext(connection) as q:
        selectors.picking_by_building(window)
    assert len(q.captured_queries) == 3


def test_slips_are_sorted_by_door_with_masked_labels(window, orders):
    slips = selectors.slips(window)
    assert [b["name"] for b in slips] == ["1号楼", "3号楼"]
    assert [x["door"] for x in slips[0]["labels"]] == ["101", "102"]
    assert [x["door"] for x in slips[1]["labels"]] == ["302", "1102", "1201"]
    label = slips[1]["labels"][0]
    assert label["head"] == "钱***" and label["code"] == orders[3].pickup_code
    assert [(ln["name"], ln["qty"]) for ln in label["lines"]] == [("大白菜", 1), ("鸡蛋", 1)]


def test_merchant_pages_show_masked_data_only(client, personas, window, orders, ledger):
    r1 = ledger["r1"]  # 王小明, head of h1, with an ID number and a phone
    Resident.objects.filter(pk=r1.pk).update(tags=CareTag.CHRONIC | CareTag.BEDRIDDEN)
    close(window)
    client.force_login(personas["merchant"])
    pages = [
        "/merchant/",
        f"/merchant/windows/{window.pk}/",
        f"/merchant/windows/{window.pk}/picking/",
        f"/merchant/windows/{window.pk}/slips/",
    ]
    for url in pages:
        resp = client.get(url)
        assert resp.status_code == 200, url
        html = resp.content.decode()
        assert "王小明" not in html and r1.id_number not in html, url
        assert r1.id_number[-4:] not in html, url
        assert "13912345678" not in html and "Chronic" not in html and "Bedridden" not in html
    slips = client.get(f"/merchant/windows/{window.pk}/slips/").content.decode()
    assert "王**" in slips and orders[1].pickup_code in slips
    assert slips.index('data-door="302"') < slips.index('data-door="1102"')
    assert slips.index('data-door="1102"') < slips.index('data-door="1201"')
    picking = client.get(f"/merchant/windows/{window.pk}/picking/").content.decode()
    assert "Picking list" in picking and "3号楼" in picking
    # The window's sum is money: two decimals, whatever the database's SUM gives back.
    total = sum(o.total for o in orders)
    page = client.get(f"/merchant/windows/{window.pk}/").content.decode()
    assert f"¥{total:.2f} ·" in page


def test_one_building_of_slips(client, personas, window, orders):
    client.force_login(personas["merchant"])
    b3 = orders[2].household.building_id
    html = client.get(f"/merchant/windows/{window.pk}/slips/?building={b3}").content.decode()
    assert 'data-door="1201"' in html and 'data-door="101"' not in html


def test_picking_list_excel(client, personas, window, orders):
    client.force_login(personas["merchant"])
    resp = client.get(f"/merchant/windows/{window.pk}/picking.xlsx")
    assert resp.status_code == 200 and "spreadsheetml" in resp["Content-Type"]
    wb = load_workbook(io.BytesIO(resp.content))
    first, second = wb.worksheets
    rows = list(first.iter_rows(min_row=2, values_only=True))
    assert {r[0]: r[3] for r in rows} == {"大白菜": 6, "鸡蛋": 4, "蔬菜包": 2}
    table = list(second.iter_rows(values_only=True))
    assert (table[-1][0], table[-1][2]) == ("Total", 5)


def test_another_merchant_sees_none_of_it(client, personas, window, orders, community):
    other = make_merchant(community, name="别家菜店")
    stranger = make_user("merchant", community, username="stranger")
    link(stranger, other)
    client.force_login(stranger)
    assert "松林超市" not in client.get("/merchant/").content.decode()
    for url in (
        f"/merchant/windows/{window.pk}/",
        f"/merchant/windows/{window.pk}/picking/",
        f"/merchant/windows/{window.pk}/picking.xlsx",
        f"/merchant/windows/{window.pk}/slips/",
        f"/api/v1/buying/merchant/windows/{window.pk}/picking",
    ):
        assert client.get(url).status_code == 404, url
    resp = client.post(
        f"/merchant/orders/{orders[0].pk}/payment/",
        {"payment_status": "paid", "payment_method": "online"},
    )
    assert resp.status_code == 404
    assert Order.objects.get(pk=orders[0].pk).payment_status == "unpaid"


def test_a_merchant_user_of_another_community_gets_404(client, window, orders, other_community):
    theirs = make_merchant(other_community, name="外面的店")
    user = make_user("merchant", other_community, username="far_merchant")
    link(user, theirs)
    client.force_login(user)
    assert client.get(f"/merchant/windows/{window.pk}/").status_code == 404


def test_an_unlinked_merchant_user_is_told_to_ask_the_office(client, community):
    client.force_login(make_user("merchant", community, username="new_merchant"))
    resp = client.get("/merchant/")
    assert resp.status_code == 404 and "not linked to a merchant" in resp.content.decode()


def test_merchant_records_payment(client, personas, window, orders):
    client.force_login(personas["merchant"])
    o = orders[0]
    resp = client.post(
        f"/merchant/orders/{o.pk}/payment/",
        {"payment_status": "paid", "payment_method": "cash_on_delivery"},
    )
    assert resp.status_code == 302
    o.refresh_from_db()
    assert (o.payment_status, o.payment_method) == ("paid", "cash_on_delivery")


def test_staff_cannot_open_merchant_pages(client, personas, window):
    client.force_login(personas["staff"])
    assert client.get(f"/merchant/windows/{window.pk}/").status_code == 403


def test_the_merchant_api_picking_list(client, personas, window, orders):
    client.force_login(personas["merchant"])
    body = client.get(f"/api/v1/buying/merchant/windows/{window.pk}/picking").json()
    assert body["orders"] == 5
    assert {p["name"]: p["quantity"] for p in body["products"]} == {
        "大白菜": 6,
        "鸡蛋": 4,
        "蔬菜包": 2,
    }
    assert [b["name"] for b in body["buildings"]] == ["1号楼", "3号楼"]


def test_a_thousand_orders_picked_in_a_fixed_number_of_queries(window, products, community):
    from shouwang.queues.tests.test_take import make_households

    hs = make_households(community, 300, building=make_building(community, "新虹公寓", "8号楼"))
    c = products["cabbage"]
    c.stock = 10_000
    c.save()
    for h in hs:
        services.order_place(window=window, household=h, lines={c.pk: 1})
    with CaptureQueriesContext(connection) as q:
        table = selectors.picking_by_building(window)
    assert len(q.captured_queries) == 3 and table["products"][0]["quantity"] == 300
