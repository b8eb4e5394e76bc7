"""Staff pages: merchants and their people, the catalogue (with a photo), windows, the orders
of a window with payments, the phone order, the schedule command."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from shouwang.core.testing import make_user
from shouwang.supplies.buying import services
from shouwang.supplies.buying.models import (
    Merchant,
    MerchantMember,
    Order,
    OrderWindow,
    Product,
)
from shouwang.supplies.buying.tests.builders import close, make_merchant

pytestmark = pytest.mark.django_db


def _jpeg() -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (800, 600), (90, 160, 70)).save(buf, "JPEG")
    return SimpleUploadedFile("cabbage.jpg", buf.getvalue(), content_type="image/jpeg")


def test_index_lists_windows_and_merchants(client, personas, window, products):
    client.force_login(personas["staff"])
    html = client.get("/buying/").content.decode()
    assert "松林超市" in html and f"/buying/windows/{window.pk}/" in html
    assert "New merchant" in html
    client.force_login(personas["grid_leader"])
    html = client.get("/buying/").content.decode()
    assert "New merchant" not in html and f"/buying/windows/{window.pk}/" in html


def test_a_merchant_with_areas_and_a_schedule(client, personas, ledger, grid_a):
    client.force_login(personas["admin"])
    resp = client.post(
        "/buying/merchants/new/",
        {
            "name": "松林超市",
            "contact_name": "刘经理",
            "contact_phone": "0471-5555 0101",
            "vetted": "on",
            "active": "on",
            "grids": [grid_a.pk],
            "every_days": "2",
            "opens_time": "08:00",
            "closes_time": "20:00",
            "delivery_days": "1",
            "rest_minutes": "90",
        },
    )
    assert resp.status_code == 302
    m = Merchant.objects.get()
    assert m.vetted and m.vetted_on == timezone.localdate() and list(m.grids.all()) == [grid_a]
    assert m.rest_minutes == 90  # the checkpoint's rest policy for this merchant's goods
    # The edit form opens with what was saved.
    form = client.get(f"/buying/merchants/{m.pk}/edit/").context["form"]
    assert {k: form.initial[k] for k in ("name", "contact_name", "rest_minutes", "every_days")} == {
        "name": "松林超市",
        "contact_name": "刘经理",
        "rest_minutes": 90,
        "every_days": 2,
    }
    assert form.initial["grids"] == [grid_a] and form.initial["vetted"] is True
    assert services.merchant_serves(m, ledger["h1"]) and not services.merchant_serves(
        m, ledger["h3"]
    )
    assert client.post(f"/buying/merchants/{m.pk}/schedule/").status_code == 302
    windows = list(OrderWindow.objects.filter(merchant=m).order_by("opens_at"))
    assert len(windows) == 4  # today, +2, +4, +6
    gaps = {(b.opens_at - a.opens_at) for a, b in zip(windows, windows[1:], strict=False)}
    assert gaps == {dt.timedelta(days=2)}
    first = timezone.localtime(windows[0].opens_at)
    assert (first.hour, first.minute) == (8, 0)
    assert windows[0].delivery_date == first.date() + dt.timedelta(days=1)
    client.post(f"/buying/merchants/{m.pk}/schedule/")
    assert OrderWindow.objects.filter(merchant=m).count() == 4  # nothing twice


def test_the_buying_windows_command(personas, community):
    m = make_merchant(community, every_days=2)
    m.opens_time, m.closes_time = dt.time(9), dt.time(18)
    m.save()
    make_merchant(community, name="没有排期")
    out = io.StringIO()
    call_command("buying_windows", "--days", "3", stdout=out)
    assert OrderWindow.objects.filter(merchant=m).count() == 2
    assert "2" in out.getvalue()
    call_command("buying_windows", "--days", "3", stdout=io.StringIO())
    assert OrderWindow.objects.count() == 2


def test_members_link_only_merchant_users(client, personas, merchant, community):
    client.force_login(personas["staff"])
    two = make_user("merchant", community, username="m2")
    client.post(f"/buying/merchants/{merchant.pk}/members/", {"user": two.pk})
    assert MerchantMember.objects.get(user=two).merchant == merchant
    client.post(f"/buying/merchants/{merchant.pk}/members/", {"user": personas["resident"].pk})
    assert not MerchantMember.objects.filter(user=personas["resident"]).exists()
    html = client.get(f"/buying/merchants/{merchant.pk}/").content.decode()
    assert "m2" in html and "merchant" in html
    member = MerchantMember.objects.get(user=two)
    client.post(f"/buying/members/{member.pk}/remove/")
    assert not MerchantMember.objects.filter(user=two).exists()


def test_a_product_with_a_photo_served_by_its_hash(client, personas, merchant):
    client.force_login(personas["staff"])
    resp = client.post(
        f"/buying/merchants/{merchant.pk}/products/new/",
        {
            "name": "蔬菜包",
            "specification": "约5斤",
            "unit": "份",
            "price": "¥39.9",
            "stock": "200",
            "limit": "1",
            "is_bundle": "on",
            "bundle_contents": "白菜、土豆、胡萝卜、西红柿",
            "active": "on",
            "photo": _jpeg(),
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    p = Product.objects.get()
    assert str(p.price) == "39.90" and p.stock == 200 and p.photo_hash
    client.logout()
    photo = client.get(f"/buying/photo/{p.pk}/{p.photo_hash}.jpg?thumb=1")
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    assert client.get(f"/buying/photo/{p.pk}/0000000000000000.jpg").status_code == 404
    client.force_login(personas["staff"])
    resp = client.post(
        f"/buying/products/{p.pk}/edit/",
        {
            "name": "蔬菜包",
            "price": "39.90",
            "stock_add": "-50",
            "limit": "1",
            "is_bundle": "on",
            "bundle_contents": "白菜、土豆",
            "active": "on",
        },
    )
    assert resp.status_code == 302
    assert Product.objects.get(pk=p.pk).stock == 150
    resp = client.post(
        f"/buying/products/{p.pk}/edit/",
        {"name": "蔬菜包", "price": "39.90", "stock_add": "-500", "limit": "1", "active": "on"},
    )
    assert resp.status_code == 200 and "below zero" in resp.content.decode()
    assert Product.objects.get(pk=p.pk).stock == 150


def test_window_page_lists_orders_and_records_payment(client, personas, window, products, ledger):
    o1 = services.order_place(
        window=window, household=ledger["h1"], lines={products["cabbage"].pk: 2}
    ).order
    o3 = services.order_place(
        window=window, household=ledger["h3"], lines={products["eggs"].pk: 1}
    ).order
    client.force_login(personas["staff"])
    html = client.get(f"/buying/windows/{window.pk}/").content.decode()
    assert o1.pickup_code in html and o3.pickup_code in html and "王小明" not in html
    client.post(
        f"/buying/orders/{o1.pk}/payment/",
        {"payment_status": "paid", "payment_method": "online"},
        follow=True,  # the flash naming the code is shown once, here
    )
    assert Order.objects.get(pk=o1.pk).payment_status == "paid"
    html = client.get(f"/buying/windows/{window.pk}/?payment=unpaid").content.decode()
    assert o3.pickup_code in html and o1.pickup_code not in html
    # A grid leader (grid A) sees h1's order, not h3's (grid B), and cannot touch h3's.
    client.force_login(personas["grid_leader"])
    html = client.get(f"/buying/windows/{window.pk}/").content.decode()
    assert o1.pickup_code in html and o3.pickup_code not in html
    assert client.post(f"/buying/orders/{o3.pk}/cancel/").status_code == 404


def test_closing_a_window_early(client, personas, window, products, ledger):
    client.force_login(personas["staff"])
    client.post(f"/buying/windows/{window.pk}/close/")
    window.refresh_from_db()
    assert window.state() == "closed"
    with pytest.raises(services.Conflict):
        services.order_place(
            window=window, household=ledger["h1"], lines={products["cabbage"].pk: 1}
        )


def test_phone_order_for_an_elderly_caller(client, personas, window, products, ledger):
    client.force_login(personas["grid_leader"])
    url = f"/buying/windows/{window.pk}/phone/"
    html = client.get(url + "?door=101").content.decode()
    assert f"?household={ledger['h1'].pk}" in html and "王小明" not in html
    html = client.get(url + f"?household={ledger['h1'].pk}").content.decode()
    assert "大白菜" in html and f'name="q_{products["cabbage"].pk}"' in html
    resp = client.post(
        url,
        {
            "household": ledger["h1"].pk,
            f"q_{products['cabbage'].pk}": "2",
            f"q_{products['box'].pk}": "1",
            "note": "放门口",
        },
        follow=True,
    )
    o = Order.objects.get(household=ledger["h1"])
    assert o.channel == "staff" and o.placed_by == personas["grid_leader"] and o.note == "放门口"
    assert o.pickup_code in resp.content.decode()
    # Over the limit: the form says so next to the product, nothing changes.
    resp = client.post(url, {"household": ledger["h1"].pk, f"q_{products['eggs'].pk}": "5"})
    assert resp.status_code == 200 and "at most 2" in resp.content.decode()
    assert Order.objects.get(pk=o.pk).total == o.total
    # Grid B is not the grid leader's.
    assert client.get(url + f"?household={ledger['h3'].pk}").status_code == 404


def test_phone_order_after_the_close_is_refused(client, personas, window, products, ledger):
    close(window)
    client.force_login(personas["staff"])
    url = f"/buying/windows/{window.pk}/phone/"
    html = client.get(url + f"?household={ledger['h1'].pk}").content.decode()
    assert "not taking orders" in html
    client.post(url, {"household": ledger["h1"].pk, f"q_{products['cabbage'].pk}": "1"})
    assert not Order.objects.exists()


def test_staff_household_page_shows_orders(client, personas, window, products, ledger):
    o = services.order_place(
        window=window, household=ledger["h1"], lines={products["cabbage"].pk: 2}
    ).order
    client.force_login(personas["staff"])
    html = client.get(f"/households/{ledger['h1'].pk}/").content.decode()
    assert o.pickup_code in html and f"/buying/windows/{window.pk}/phone/" in html


def test_other_communities_rows_are_404(client, personas, window, merchant):
    client.force_login(personas["outsider"])
    for url in (
        f"/buying/merchants/{merchant.pk}/",
        f"/buying/windows/{window.pk}/",
        f"/buying/windows/{window.pk}/phone/",
    ):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("", "This field is required."),
        ("三块", "Type the price in yuan as a number, e.g. 3.50."),
        ("1000000", "The price must be between 0 and 999,999.99 yuan."),
    ],
)
def test_a_product_needs_a_price_in_yuan(client, personas, merchant, price, message):
    client.force_login(personas["staff"])
    resp = client.post(
        f"/buying/merchants/{merchant.pk}/products/new/",
        {"name": "大白菜", "unit": "棵", "price": price, "stock": "10", "limit": "0"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert resp.status_code == 200
    assert resp.context["form"].errors["price"] == [message]
    assert not Product.objects.exists()


def test_the_catalogue_service_refuses_a_product_without_a_price(personas, merchant):
    from shouwang.core.errors import DomainError

    for price in ("", None):
        with pytest.raises(DomainError) as e:
            services.product_save(
                actor=personas["staff"], merchant=merchant, name="大白菜", price=price, stock=1
            )
        assert e.value.code == "invalid" and set(e.value.fields) == {"price"}
    assert not Product.objects.exists()
