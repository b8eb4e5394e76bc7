"""The area-control pages on a 360 px phone: the index with a sealed building and a pending
proposal, the propose form, a proposal's page, the history and the door notice all fit the
screen; the admin approves a proposal with a tap.

Screenshots: SHOUWANG_SHOTS=/tmp/shots .venv/bin/pytest shouwang/control/tests/test_browser.py
"""

from __future__ import annotations

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

playwright_expect()

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(browser, live_server):  # noqa: F811  (the imported fixture)
    """A 360 px phone whose browser asks for English (the assertions read English)."""
    ctx = _context(browser, live_server, "en-US", **PHONE)
    page = ctx.new_page()
    yield page
    ctx.close()


def test_control_pages_on_a_phone(phone, personas, ledger, places):
    from shouwang.control import services
    from shouwang.control.models import Control

    c = services.proposal_approve(
        actor=personas["admin"],
        proposal=services.proposal_create(
            actor=personas["staff"], place=places["ba"], level="sealed", reason="本楼2例阳性"
        ),
    ).control
    p = services.proposal_create(
        actor=personas["staff"],
        place=places["compound_b"],
        level="controlled",
        reason="相邻小区出现阳性，街道通知管控",
        evidence="街道通知〔2022〕41号",
    )
    _sign_in(phone, "admin")
    phone.goto("/control/")
    phone.get_by_text("华美小区 1号楼").first.wait_for()
    _assert_fits(phone)
    shot(phone, "control", "index")
    for url, name in (
        ("/control/propose/", "propose"),
        (f"/control/proposals/{p.pk}/", "proposal"),
        ("/control/history/", "history"),
        (f"/control/notices/{c.pk}/", "notice"),
        (f"/control/places/building/{places['ba'].pk}/", "place"),
    ):
        phone.goto(url)
        _assert_fits(phone)
        shot(phone, "control", name)
    phone.goto(f"/control/proposals/{p.pk}/")
    phone.get_by_role("button", name="Approve").click()
    phone.get_by_text("is now under").wait_for()
    assert Control.objects.filter(compound=places["compound_b"], ended_at=None).exists()
