"""The queue, live, in two real browsers: a staff member presses "Call next" on a desktop and the
resident's ticket page on a 360 px phone changes without a reload within a second; when the
number comes within `come_when` of the counter the page says "come now".

The ticket pages are served by the test's live server (WSGI, as `shouwang serve` serves pages);
the stream by the real ASGI application (`config.asgi`) under granian, embedded in this process
so it reads the same test database — as the stream server does next to the pages in production.

Screenshots for a person to look at go to /tmp/shots/queue-*.png.

Run: .venv/bin/pytest tests/browser/test_queue_live.py -q   (skipped without /usr/bin/chromium)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import threading
import time
from pathlib import Path

import pytest
from django.utils import timezone

if not Path("/usr/bin/chromium").exists():
    pytest.skip(
        "browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium); "
        "no browser is ever downloaded",
        allow_module_level=True,
    )
pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def stream_server(settings):
    """config.asgi under granian (embedded, one worker in this process) on a free port."""
    from granian.constants import Interfaces
    from granian.server.embed import Server

    from config.asgi import application

    port = _free_port()
    server = Server(
        application,
        address="127.0.0.1",
        port=port,
        interface=Interfaces.ASGI,
        log_enabled=False,
        websockets=False,
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        pytest.fail("the embedded stream server did not start")
    settings.STREAM_URL = f"http://127.0.0.1:{port}"
    settings.STREAM_TICK_MS = 100
    yield f"http://127.0.0.1:{port}"
    loop.call_soon_threadsafe(server.stop)
    thread.join(timeout=10)


@pytest.fixture
def queue_day():
    from shouwang.core.testing import make_community, make_household, make_user
    from shouwang.queues import services
    from shouwang.queues.models import Channel, Notify

    c = make_community()
    staff = make_user("staff", c, username="counter")
    households = [make_household(c) for _ in range(6)]
    point = services.point_save(actor=staff, name="松林超市", location="三村高层边小广场")
    now = timezone.now()
    day = services.day_create(
        actor=staff,
        point=point,
        take_opens_at=now - dt.timedelta(hours=1),
        take_closes_at=now + dt.timedelta(hours=3),
        sale_starts_at=now - dt.timedelta(minutes=10),
        sale_ends_at=now + dt.timedelta(hours=3),
        tickets_total=50,
        come_when=1,
    )
    tickets = [
        services.ticket_take(
            day=day, household=h, channel=Channel.STAFF, actor=staff, notify=Notify.PAGE
        ).ticket
        for h in households
    ]
    return day, tickets


def _call_next(page) -> None:
    with page.expect_response(lambda r: "/call/next/" in r.url and r.request.method == "POST"):
        page.get_by_role("button", name="Call next").first.click()


def test_resident_page_follows_the_counter_live(
    browser, live_server, stream_server, queue_day, sign_in, assert_fits
):
    from tests.browser.conftest import DESKTOP, PHONE

    day, tickets = queue_day
    mine = tickets[2]  # number 3: two ahead of it

    resident = browser.new_context(base_url=live_server.url, locale="en-GB", **PHONE).new_page()
    staff = browser.new_context(base_url=live_server.url, locale="en-GB", **DESKTOP).new_page()
    resident.set_default_timeout(15_000)
    staff.set_default_timeout(15_000)

    resident.goto(f"/q/t/{mine.follow_key}/")
    assert resident.locator(".q-hero-num").inner_text().strip() == "3"
    ahead = resident.locator('.q-stat [data-k="ahead"]')
    assert ahead.inner_text().strip() == "2"
    come_now = resident.locator(".q-go:not(.q-turn)")
    assert come_now.is_hidden()
    # The stream is open (not the polling fallback) before the staff presses anything.
    resident.wait_for_function(
        "() => document.querySelector('[data-live]')?.dataset.liveState === 'live'"
    )
    assert_fits(resident)

    sign_in(staff, "counter")
    staff.goto(f"/queue/days/{day.pk}/call/")

    # First call: number 1 at the counter, one ahead of number 3 — not yet "come now" (1 ≤ 1 is).
    _call_next(staff)
    resident.wait_for_function(
        "() => document.querySelector('.q-stat [data-k=\"now\"]').textContent.trim() === '1'",
        timeout=1000,
    )
    assert ahead.inner_text().strip() == "1"
    resident.wait_for_function(
        "() => !document.querySelector('.q-go:not(.q-turn)').hidden", timeout=1000
    )
    assert "Come now" in come_now.inner_text()
    SHOTS.mkdir(exist_ok=True)
    resident.screenshot(path=str(SHOTS / "queue-ticket-come-now-360.png"), full_page=True)

    # Second call, "served, call next": number 2 at the counter; number 3 is next.
    with staff.expect_response(lambda r: "/call/serve_next/" in r.url):
        staff.get_by_role("button", name="Served, call next").click()
    resident.wait_for_function(
        "() => document.querySelector('.q-stat [data-k=\"now\"]').textContent.trim() === '2'",
        timeout=1000,
    )
    assert ahead.inner_text().strip() == "0"

    # Third: number 3 itself — "it's your turn".
    _call_next(staff)
    resident.wait_for_function("() => !document.querySelector('.q-turn').hidden", timeout=1000)
    assert "your turn" in resident.locator(".q-turn").inner_text()
    assert resident.url.endswith(f"/q/t/{mine.follow_key}/")  # never reloaded by hand
    staff.screenshot(path=str(SHOTS / "queue-console-desktop.png"), full_page=True)
