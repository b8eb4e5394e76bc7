"""The area-control pages on a 360 px phone: the index with a sealed building and a pending
proposal, the propose form, a proposal's page, the history and the door notice all fit the
screen; the admin approves a proposal with a tap.

Screenshots: SHOUWANG_SHOTS=/tmp/shots .venv/bin/pytest shouwang/control/tests/test_browser.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, _assert_fits, _sign_in

if not CHROMIUM.exists():
    pytest.skip(
        "browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium); "
        "no browser is ever downloaded",
        allow_module_level=True,
    )
pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                yield b
            finally:
                b.close()


@pytest.fixture
def phone(browser, live_server):
    ctx = browser.new_context(base_url=live_server.url, locale="en-US", **PHONE)
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    yield page
    ctx.close()


def _shot(page, name: str) -> None:
    folder = os.environ.get("SHOUWANG_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(Path(folder) / f"control-{name}.png"), full_page=True, animations="disabled"
        )


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
    _shot(phone, "index")
    for url, name in (
        ("/control/propose/", "propose"),
        (f"/control/proposals/{p.pk}/", "proposal"),
        ("/control/history/", "history"),
        (f"/control/notices/{c.pk}/", "notice"),
        (f"/control/places/building/{places['ba'].pk}/", "place"),
    ):
        phone.goto(url)
        _assert_fits(phone)
        _shot(phone, name)
    phone.goto(f"/control/proposals/{p.pk}/")
    phone.get_by_role("button", name="Approve").click()
    phone.get_by_text("is now under").wait_for()
    assert Control.objects.filter(compound=places["compound_b"], ended_at=None).exists()
