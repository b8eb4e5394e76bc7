"""The materials store on a 360 px phone: the stock matrix reads as a list of cards with no
sideways scrolling, and an issue is made one-handed — pick the item and place, see what is in
stock, type the number, press the big button, and land back on the form for the next one.

Screenshots for a person to look at go to /tmp/shots/materials-*.png.

Run: .venv/bin/pytest tests/browser/test_materials_phone.py -q   (skipped without /usr/bin/chromium)
"""

from __future__ import annotations

from pathlib import Path

import pytest

if not Path("/usr/bin/chromium").exists():
    pytest.skip(
        "browser tests need Debian's Chromium at /usr/bin/chromium; no browser is downloaded",
        allow_module_level=True,
    )
pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")


def _sign_in(page, live_server, user):
    from django.test import Client

    c = Client()
    c.force_login(user)
    cookie = c.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def test_stock_list_and_a_one_handed_issue(phone, live_server, personas):
    from shouwang.supplies.materials.demo import demo_materials
    from shouwang.supplies.materials.models import Item, Location, Movement, Stock

    admin = personas["admin"]
    demo_materials(admin.community, admin, log=lambda *_: None)
    SHOTS.mkdir(exist_ok=True)
    _sign_in(phone, live_server, admin)

    phone.goto("/materials/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert phone.locator(".mat-low [data-low-item]").count() == 1
    # Below 640 px each row of the matrix is a card (a block) and each cell carries its
    # place's label.
    row_display = "getComputedStyle(document.querySelector('table.mat-matrix tbody tr')).display"
    assert phone.evaluate(row_display) == "block"
    assert phone.locator("table.mat-matrix td[data-label='东门卡口']").first.is_visible()
    phone.screenshot(path=str(SHOTS / "materials-index.png"), full_page=True)

    masks = Item.objects.get(name="医用外科口罩")
    gate = Location.objects.get(name="东门卡口")
    before = Stock.objects.get(item=masks, location=gate).quantity
    phone.goto("/materials/issue/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.select_option("#id_item", str(masks.pk))
    phone.select_option("#id_from_location", str(gate.pk))
    assert str(before) in phone.locator(".mat-have").inner_text()
    phone.locator(".mat-seg input[value=checkpoint]").check()
    phone.fill("#id_recipient_text", "东门夜班")
    phone.fill("#id_quantity", "100")
    box = phone.locator(".mat-submit").bounding_box()
    assert box["height"] >= 48 and box["width"] >= 300  # a thumb-sized button
    phone.screenshot(path=str(SHOTS / "materials-issue.png"), full_page=True)
    phone.locator(".mat-submit").click()
    phone.wait_for_selector(".flash.success")
    assert Stock.objects.get(item=masks, location=gate).quantity == before - 100
    # Back on the form with the same item and place chosen: the next issue is one number.
    assert phone.locator("#id_item").input_value() == str(masks.pk)
    assert phone.locator("#id_from_location").input_value() == str(gate.pk)
    assert str(before - 100) in phone.locator(".flash.success").inner_text()
    assert Movement.objects.filter(kind="issue", recipient_text="东门夜班").count() == 1
