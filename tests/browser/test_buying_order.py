"""Group buying in a real browser: a resident orders on a 360 px phone from the household page
(the quantities, the pickup code, a change), and the merchant's picking list and delivery slips
print to A4 PDFs whose text carries the totals and the doors — masked names and phones only.

Screenshots for a person to look at go to /tmp/shots/buying-*.png.

Run: .venv/bin/pytest tests/browser/test_buying_order.py -q   (skipped without /usr/bin/chromium)
"""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path

import pytest

if not Path("/usr/bin/chromium").exists():
    pytest.skip(
        "browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium); "
        "no browser is ever downloaded",
        allow_module_level=True,
    )
pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
pypdf = pytest.importorskip("pypdf", reason="the PDF check needs pypdf")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")
A4_POINTS = (595.28, 841.89)
_RADICALS = str.maketrans(
    "⻩⻢⻓⻔⻜⻅⻉⻋⻛⻚⻥⻬⻘⻝⻦⻨⻰⻳⻮", "黄马长门飞见贝车风页鱼齐青食鸟麦龙龟齿"
)


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "").translate(_RADICALS))


def _sign_in(page, user, live_server) -> None:
    from django.test import Client

    c = Client()
    c.force_login(user)
    cookie = c.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


@pytest.fixture
def shop(community, personas):
    from shouwang.supplies.buying.tests.builders import (
        link,
        make_merchant,
        make_product,
        make_window,
    )

    m = make_merchant(community, name="松林超市")
    link(personas["merchant"], m)
    products = [
        make_product(
            m,
            name="蔬菜包",
            price="39.90",
            stock=20,
            limit=1,
            is_bundle=True,
            bundle_contents="大白菜2斤、土豆1斤、胡萝卜1斤",
        ),
        make_product(m, name="鸡蛋", price="26.00", unit="盒", stock=10, limit=2),
        make_product(m, name="面条", price="8.50", unit="袋", stock=30, limit=4),
    ]
    return m, make_window(m, title="周三团购"), products


def test_a_resident_orders_on_a_phone(phone, live_server, personas, ledger, shop, assert_fits):
    from shouwang.residents import services as rs
    from shouwang.supplies.buying.models import Order, Product

    SHOTS.mkdir(parents=True, exist_ok=True)
    _m, window, (box, eggs, noodles) = shop
    h1 = ledger["h1"]
    _link, token = rs.link_issue(actor=personas["admin"], household=h1)
    page = phone
    page.goto(f"/h/{token}/")
    page.goto(f"/my/households/{h1.pk}/#buying")
    section = page.locator("#buying")
    assert "蔬菜包" in section.inner_text() and "39.90" in section.inner_text()
    assert_fits(page)
    qty = page.locator(f"input[name=q_{box.pk}]")
    box_size = qty.bounding_box()
    assert box_size and box_size["height"] >= 44, "the quantity box is a touch target"
    qty.fill("1")
    page.locator(f"input[name=q_{eggs.pk}]").fill("2")
    page.screenshot(path=str(SHOTS / "buying-phone-form.png"), full_page=True)
    page.locator("#buying form.b-order-form button").click()
    page.wait_for_load_state()
    o = Order.objects.get(household=h1)
    assert o.status == "placed" and str(o.total) == "91.90"
    assert o.pickup_code in page.locator("#buying .b-code").first.inner_text()
    assert Product.objects.get(pk=eggs.pk).stock == 8
    assert_fits(page)
    page.screenshot(path=str(SHOTS / "buying-phone-ordered.png"), full_page=True)
    # Change: one box of eggs fewer, two bags of noodles.
    page.locator(f"input[name=q_{eggs.pk}]").fill("1")
    page.locator(f"input[name=q_{noodles.pk}]").fill("2")
    page.locator("#buying form.b-order-form button").click()
    page.wait_for_load_state()
    o.refresh_from_db()
    assert str(o.total) == "82.90" and Order.objects.filter(household=h1).count() == 1
    assert Product.objects.get(pk=eggs.pk).stock == 9


def test_the_picking_list_and_slips_print_to_a4(desktop, live_server, personas, community, shop):
    from shouwang.core import testing as t
    from shouwang.supplies.buying import services
    from shouwang.supplies.buying.tests.builders import close

    SHOTS.mkdir(parents=True, exist_ok=True)
    _m, window, (box, eggs, noodles) = shop
    noodles.__class__.objects.filter(pk=noodles.pk).update(stock=100)
    heads = []
    for b, building in enumerate(["1号楼", "2号楼"]):
        bld = t.make_building(community, "华美小区", building)
        for i in range(9):
            h = t.make_household(community, building=bld, door=f"{(8 - i) // 3 + 1}0{i % 3 + 1}")
            r = t.make_resident(
                h, name=f"{'王李张刘陈杨黄赵周'[i]}建国", phone=f"+86139{b}{i:03d}1234"
            )
            heads.append(r)
            services.order_place(
                window=window, household=h, lines={box.pk: 1, noodles.pk: 1 + i % 3}
            )
    close(window)
    page = desktop
    _sign_in(page, personas["merchant"], live_server)
    resp = page.goto(f"/merchant/windows/{window.pk}/picking/")
    assert resp is not None and resp.status == 200
    page.screenshot(path=str(SHOTS / "buying-picking.png"), full_page=True)
    pdf_bytes = page.pdf(format="A4", print_background=True)
    (SHOTS / "buying-picking.pdf").write_bytes(pdf_bytes)
    pdf = pypdf.PdfReader(io.BytesIO(pdf_bytes))
    for p in pdf.pages:
        w, h = float(p.mediabox.width), float(p.mediabox.height)
        assert abs(w - A4_POINTS[0]) < 1.5 and abs(h - A4_POINTS[1]) < 1.5, (w, h)
    text = _flat("".join(p.extract_text() for p in pdf.pages))
    assert "蔬菜包" in text and "面条" in text and "1号楼" in text and "2号楼" in text
    assert "18" in text and "36" in text  # 18 boxes, 36 bags of noodles
    # The screen's toolbar (print button, Excel link, way back) does not print.
    assert "Excel" not in text and "Backtothewindow" not in text

    resp = page.goto(f"/merchant/windows/{window.pk}/slips/")
    assert resp is not None and resp.status == 200
    pdf_bytes = page.pdf(format="A4", print_background=True)
    (SHOTS / "buying-slips.pdf").write_bytes(pdf_bytes)
    pdf = pypdf.PdfReader(io.BytesIO(pdf_bytes))
    assert len(pdf.pages) >= 2, "one building per page"
    first = _flat(pdf.pages[0].extract_text())
    assert "1号楼" in first and "2号楼" not in first
    # Doors with their unit: a slip's pickup code (编号861865) may hold "101" or "201" too.
    assert first.index("1单元101") < first.index("1单元201") < first.index("1单元301")
    text = _flat("".join(p.extract_text() for p in pdf.pages))
    for r in heads:
        assert r.name not in text, "a full name in the slips"
        assert r.phone[3:] not in text, "a full phone in the slips"
    assert _flat(heads[0].name[0] + "**") in text
