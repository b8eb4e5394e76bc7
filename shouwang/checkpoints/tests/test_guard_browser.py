"""The guard page in a real browser on a 360 px phone: a hand scanner types a pass code and
Enter; the decision shows big with its reason; a search finds someone without a pass.

Run: .venv/bin/pytest shouwang/checkpoints/tests/test_guard_browser.py -q
Screenshots: SHOUWANG_SHOTS=/tmp/shots .venv/bin/pytest shouwang/checkpoints/tests/test_guard_browser.py
"""

from __future__ import annotations

import re

import pytest

# `browser` is tests/browser/conftest.py's fixture, imported so pytest finds it here too.
from tests.browser.conftest import (  # noqa: F401
    PHONE,
    _assert_fits,
    _context,
    _sign_in,
    browser,
    playwright_expect,
    shot,
)

expect = playwright_expect()

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(browser, live_server):  # noqa: F811  (the imported fixture)
    """A 360 px phone whose browser asks for English (the assertions read English)."""
    ctx = _context(browser, live_server, "en-US", **PHONE)
    page = ctx.new_page()
    yield page
    ctx.close()


def test_guard_scans_a_pass_and_reads_the_decision(phone, personas, ledger):
    from shouwang.checkpoints.models import Passage
    from shouwang.checkpoints.tests.test_pass_endpoint import make_checkpoint, sample, token
    from shouwang.control.testing import put_under

    r1, r2 = ledger["r1"], ledger["r3"]
    sample(r1, hours_ago=10)
    sample(r2, hours_ago=10)
    put_under(r1.household.building, "controlled")
    t1 = token(r1, personas["staff"])
    cp = make_checkpoint(personas["admin"].community, name="南门")
    page = phone
    _sign_in(page, "guard")
    page.goto(f"/checkpoints/guard/{cp.pk}/")
    expect(page.locator("#guard-result.is-ready")).to_be_visible()
    _assert_fits(page)
    shot(page, "guard", "ready")

    # Out, 36.5, then the hand scanner types the code and Enter.
    page.locator("label.dir", has=page.locator("input[value=out]")).click()
    page.fill("#guard-temp", "365")
    page.locator("#guard-token").focus()
    page.keyboard.type(t1)
    page.keyboard.press("Enter")
    result = page.locator("#guard-result")
    expect(result).to_have_class(re.compile(r"\bis-deny\b"))
    expect(result.locator(".reasons li[data-code=controlled]")).to_be_visible()
    expect(result.locator(".who-name")).to_have_text("王小*")
    expect(result.locator(".who-home")).to_have_text("华美小区 1号楼 1单元 101")
    expect(result.locator(".level")).to_be_visible()
    expect(page.locator("#guard-recent-list li").first).to_have_class(re.compile("d-deny"))
    _assert_fits(page)
    shot(page, "guard", "deny")
    p = Passage.objects.get()
    assert (p.decision, p.reasons, str(p.temperature), p.direction) == (
        "deny",
        "controlled",
        "36.5",
        "out",
    )
    assert "王小明" not in page.content()

    # Someone without a pass, found by the last digits of their phone: allowed in.
    page.locator("label.dir", has=page.locator("input[value=in]")).click()
    page.fill("#guard-temp", "36.6")
    page.locator("#guard-find summary").click()
    page.fill("#guard-q", "2222")
    page.locator("#guard-find-form button").click()
    page.locator("#guard-found button").first.click()
    expect(result).to_have_class(re.compile(r"\bis-allow\b"))
    expect(result.locator(".who-name")).to_have_text("赵*")
    _assert_fits(page)
    shot(page, "guard", "allow")
    assert Passage.objects.count() == 2
