"""A call to the help line, in a real browser: the acceptance test of issue 9's ledger.

The operator (at a desk) types the caller's number; the household opens with its members; she
picks the person, a category, the urgency, writes a line and logs it (the keyboard carries her
from the number to the categories), then assigns the request to a colleague by name. The owner,
on a 360 px phone, finds it under "Mine", takes it, resolves it, calls the resident back with
their satisfaction, and the request is closed.

Run: .venv/bin/pytest tests/browser/test_helpline.py -q
Screenshots: SHOUWANG_SHOTS=/tmp/hl_shots .venv/bin/pytest tests/browser/test_helpline.py -q
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import english, playwright_expect, shot

expect = playwright_expect()

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scene(community, personas, ledger):
    from shouwang.core.testing import make_user
    from shouwang.helpline.testing import category

    owner = make_user("staff", community, username="staff2")
    owner.display_name = "李卫东"
    owner.save(update_fields=["display_name"])
    return owner, category(community)


def test_operator_logs_a_call_and_the_owner_closes_it(
    desktop, phone, live_server, scene, ledger, sign_in, assert_fits
):
    from shouwang.helpline.models import EventKind, HelpRequest

    owner, medicine = scene

    # --- the operator at the desk ------------------------------------------------------------
    page = desktop
    sign_in(page, "staff")
    page.goto("/helpline/new/")
    english(page)
    number = page.locator("#id_caller_phone")
    expect(number).to_be_focused()
    number.press_sequentially("13912345678")
    pick = page.locator("#hl-pick")
    expect(pick).to_contain_text("王小明")
    expect(pick).to_contain_text("王大明")
    expect(pick).to_contain_text("the number is 王小明's")
    # Enter in the number field opens the household and moves on to the categories.
    number.press("Enter")
    expect(page.locator("input[name=category]").first).to_be_focused()
    expect(page.locator(f"input[name=household][value='{ledger['h1'].pk}']")).to_be_checked()
    expect(page.locator(f"input[name=resident][value='{ledger['r1'].pk}']")).to_be_checked()
    # The call is for the husband, not for the caller.
    page.locator(f"input[name=resident][value='{ledger['r1b'].pk}']").check()
    page.locator(f"input[name=category][value='{medicine.pk}']").check()
    page.locator("input[name=urgency][value='2']").check()
    page.fill("input[name=summary]", "降压药吃完了，需要代购")
    page.fill("textarea[name=details]", "硝苯地平控释片 30mg，每天一次")
    shot(page, "helpline", "1-intake")
    page.locator("#hl-save").click()
    page.wait_for_url(re.compile(r"/helpline/requests/\d+/$"))
    req = HelpRequest.objects.get()
    expect(page.locator(".flash.success")).to_contain_text(f"Logged {req.reference}")
    assert req.household == ledger["h1"] and req.resident == ledger["r1b"]
    assert req.urgency == 2 and req.category == medicine
    assert req.intake_seconds is not None and req.intake_seconds < 120
    expect(page.locator("#hl-owner")).to_contain_text("staff")

    # Assign it to a colleague by name.
    page.locator("#work summary", has_text="Assign to someone").click()
    page.locator("#hl-assign-owner").select_option(str(owner.pk))
    page.locator("#hl-assign").click()
    page.wait_for_load_state()
    expect(page.locator(".flash.success")).to_contain_text("Assigned to 李卫东")
    expect(page.locator("#hl-owner")).to_contain_text("李卫东")
    shot(page, "helpline", "2-assigned")
    req.refresh_from_db()
    assert req.owner == owner

    # --- the owner on a phone ----------------------------------------------------------------
    page = phone
    sign_in(page, "staff2")
    page.goto("/helpline/?show=mine")
    english(page)
    item = page.locator(f"#req-{req.pk}")
    expect(item).to_contain_text("降压药吃完了")
    expect(page.locator("#urgent")).to_contain_text("降压药吃完了")  # health-threatening
    shot(page, "helpline", "3-owner-ledger")
    assert_fits(page)
    item.locator("a").click()
    page.wait_for_url(re.compile(rf"/helpline/requests/{req.pk}/$"))
    expect(page.locator("#hl-details")).to_contain_text("硝苯地平")  # the owner reads them
    assert_fits(page)
    page.locator("#hl-start").click()
    page.wait_for_load_state()
    expect(page.locator("#hl-status")).to_contain_text("In progress")
    page.fill("textarea[name=resolution]", "已从社区卫生站配到药，送到家门口")
    shot(page, "helpline", "4-owner-resolve")
    assert_fits(page)
    page.locator("#hl-resolve").click()
    page.wait_for_load_state()
    expect(page.locator("#hl-status")).to_contain_text("Resolved, to call back")
    expect(page.locator("#hl-callback-form")).to_contain_text("+8613912345678")
    page.locator("#hl-callback-form input[name=satisfaction][value=satisfied]").check()
    page.fill("#hl-callback-form input[name=note]", "老人说谢谢")
    shot(page, "helpline", "5-owner-callback")
    assert_fits(page)
    page.locator("#hl-callback-save").click()
    page.wait_for_load_state()
    expect(page.locator("#hl-status")).to_contain_text("Closed")
    expect(page.locator("#hl-callback")).to_contain_text("Satisfied")
    shot(page, "helpline", "6-owner-closed")
    assert_fits(page)

    req.refresh_from_db()
    assert req.status == "closed" and req.satisfaction == "satisfied"
    assert req.resolved_by == owner and req.callback_by == owner
    assert [e.kind for e in req.events.all()] == [
        EventKind.LOGGED,
        EventKind.ASSIGNED,
        EventKind.ASSIGNED,
        EventKind.STATUS,
        EventKind.RESOLVED,
        EventKind.CALLBACK,
    ]
