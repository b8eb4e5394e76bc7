"""Headless Chromium for the browser tests (Debian's /usr/bin/chromium — never a downloaded one).

Playwright's sync API runs an asyncio event loop in the test thread; Django refuses ORM calls
from a thread with a running loop unless DJANGO_ALLOW_ASYNC_UNSAFE is set. The tests do their
ORM work in the same thread as the browser, so it is set — but only while the browser runs:
set at import time it would leak into every other test of the xdist worker (and into the
`check --deploy` subprocess, which rightly flags it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}


def _skip_reason() -> str | None:
    if not CHROMIUM.exists():
        return f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "browser tests need the playwright Python package (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                yield b
            finally:
                b.close()


def _context(browser, live_server, locale: str, **opts):
    ctx = browser.new_context(base_url=live_server.url, locale=locale, **opts)
    ctx.set_default_timeout(15_000)
    return ctx


@pytest.fixture
def phone(browser, live_server):
    """A page in a 360 px wide phone whose browser asks for Chinese, the product's default."""
    ctx = _context(browser, live_server, "zh-CN", **PHONE)
    page = ctx.new_page()
    yield page
    ctx.close()


@pytest.fixture
def desktop(browser, live_server):
    ctx = _context(browser, live_server, "zh-CN", **DESKTOP)
    page = ctx.new_page()
    yield page
    ctx.close()


def _sign_in(page, username: str, password: str | None = None) -> None:
    from shouwang.core.testing import PASSWORD

    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password or PASSWORD)
    page.locator("main form button").click()
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, f"{username} could not sign in"


def _assert_fits(page, width: int = 360) -> None:
    """No horizontal scrolling: the page is no wider than the phone."""
    got = page.evaluate("document.documentElement.scrollWidth")
    assert got <= width, f"{page.url} is {got} px wide on a {width} px screen"


@pytest.fixture
def sign_in():
    """sign_in(page, username): the login form, as a person would fill it."""
    return _sign_in


@pytest.fixture
def assert_fits():
    """assert_fits(page, width=360): fails when the page scrolls sideways."""
    return _assert_fits


def playwright_expect():
    """For a test module's top: skips the module without Debian's Chromium or the playwright
    package (never downloading a browser); Playwright's `expect` otherwise."""
    if not CHROMIUM.exists():
        pytest.skip(
            "browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install "
            "chromium); no browser is ever downloaded",
            allow_module_level=True,
        )
    return pytest.importorskip(
        "playwright.sync_api", reason="browser tests need the playwright package"
    ).expect


def shot(page, prefix: str, name: str) -> None:
    """A full-page screenshot <prefix>-<name>.png into $SHOUWANG_SHOTS, when it is set."""
    folder = os.environ.get("SHOUWANG_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(Path(folder) / f"{prefix}-{name}.png"), full_page=True, animations="disabled"
        )


def english(page) -> None:
    """The browsers ask for Chinese (the product's default); the assertions read English."""
    page.locator("form.lang button").click()
    page.wait_for_load_state()
