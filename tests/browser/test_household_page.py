"""A resident on a 360 px phone opens the household link from their card, switches to elder
mode (长辈模式), and sees every member's pass; the mode survives a reload and a new visit.

Run: .venv/bin/pytest tests/browser/test_household_page.py -q
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

if not Path("/usr/bin/chromium").exists():
    pytest.skip(
        "browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium); "
        "no browser is ever downloaded",
        allow_module_level=True,
    )
expect = pytest.importorskip(
    "playwright.sync_api", reason="browser tests need the playwright package"
).expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _font_px(page, selector: str) -> float:
    return page.evaluate(
        f"parseFloat(getComputedStyle(document.querySelector({selector!r})).fontSize)"
    )


def test_resident_opens_the_household_link_and_switches_to_elder_mode(
    phone, personas, ledger, assert_fits
):
    from shouwang.core import testing as t
    from shouwang.residents import services, tokens

    h1 = ledger["h1"]
    # A third member without a phone (an elderly parent), so the household has three passes.
    grandma = t.make_resident(h1, name="王奶奶", relation="parent", phone="")
    admin = personas["admin"]
    passes = services.pass_ensure(actor=admin, residents=[ledger["r1"], ledger["r1b"], grandma])
    _link, token = services.link_issue(actor=admin, household=h1)

    page = phone
    page.goto(f"/h/{token}/")
    expect(page).to_have_url(re.compile(rf"/my/households/{h1.pk}/$"))
    assert_fits(page)
    for person in (ledger["r1"], ledger["r1b"], grandma):
        card = page.locator(f"#pass-{person.pk}")
        expect(card).to_contain_text(person.name)
        expect(card.locator(".pass-code")).to_have_text(
            tokens.grouped(tokens.token_for(passes[person.pk].code))
        )
        expect(card.locator(".pass-qr svg")).to_be_visible()
    # Nobody of another household is on the page.
    for other in ("r2", "r3", "ro"):
        expect(page.locator("main")).not_to_contain_text(ledger[other].name)
    normal = _font_px(page, ".pass-name")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "household-phone.png"), full_page=True)

    # One tap: elder mode.
    page.locator(".elder-toggle button").click()
    expect(page.locator("html")).to_have_class(re.compile(r"\belder\b"))
    expect(page.locator(".elder-toggle button")).to_have_attribute("aria-pressed", "true")
    assert _font_px(page, ".pass-name") >= normal * 1.25
    assert_fits(page)
    page.screenshot(path=str(SHOTS / "household-phone-elder.png"), full_page=True)

    # It persists: a reload, and a later visit through the link again.
    page.reload()
    expect(page.locator("html")).to_have_class(re.compile(r"\belder\b"))
    page.goto(f"/h/{token}/")
    expect(page.locator("html")).to_have_class(re.compile(r"\belder\b"))
    expect(page.locator(".pass-card")).to_have_count(3)

    # And back, with the same one tap.
    page.locator(".elder-toggle button").click()
    expect(page.locator("html")).not_to_have_class(re.compile(r"\belder\b"))


def test_a_withdrawn_link_closes_the_open_page(phone, personas, ledger):
    from shouwang.residents import services

    h1 = ledger["h1"]
    _link, token = services.link_issue(actor=personas["admin"], household=h1)
    page = phone
    page.goto(f"/h/{token}/")
    expect(page.locator(".pass-list")).to_be_visible()
    services.link_revoke(actor=personas["admin"], household=h1)
    page.reload()
    expect(page.locator(".pass-list")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(ledger["r1"].name)
