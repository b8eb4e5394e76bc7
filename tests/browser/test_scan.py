"""The scanner page in a real browser: a keyboard-wedge scanner types a pass code and Enter; the
phone camera reads a QR (Chromium's fake camera plays a video of a printed pass); without
JavaScript the same form still answers.

Run: .venv/bin/pytest tests/browser/test_scan.py -q
Screenshots: SHOUWANG_SHOTS=/tmp/shots .venv/bin/pytest tests/browser/test_scan.py -q
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE

if not CHROMIUM.exists():
    pytest.skip(
        "browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium); "
        "no browser is ever downloaded",
        allow_module_level=True,
    )
expect = pytest.importorskip(
    "playwright.sync_api", reason="browser tests need the playwright package"
).expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RESULT = "#scan-result"


def _shot(page, name: str, *, full_page: bool = True) -> None:
    """Save a screenshot when SHOUWANG_SHOTS names a folder (for looking at the page)."""
    folder = os.environ.get("SHOUWANG_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(Path(folder) / f"scan-{name}.png"),
            full_page=full_page,
            animations="disabled",
        )


def _token(resident, actor):
    from shouwang.residents import services, tokens

    p = services.pass_issue(actor=actor, resident=resident)
    return p, tokens.token_for(p.code)


def _has_focus(page) -> bool:
    return page.evaluate("document.activeElement && document.activeElement.id") == "scan-token"


def test_keyboard_wedge_scans_one_pass_after_another(phone, personas, ledger, sign_in, assert_fits):
    from shouwang.residents import services

    p1, t1 = _token(ledger["r1"], personas["staff"])
    _p2, t2 = _token(ledger["r2"], personas["staff"])
    page = phone
    sign_in(page, "guard")
    page.goto("/passes/scan/")
    expect(page.locator(f"{RESULT}.is-ready")).to_be_visible()
    assert _has_focus(page), "the input has the focus, so the first scan lands"
    assert_fits(page)

    # A hand-held scanner types the 16 characters and Enter.
    page.keyboard.type(t1)
    page.keyboard.press("Enter")
    result = page.locator(RESULT)
    expect(result).to_have_class(re.compile(r"\bis-ok\b"))
    expect(result.locator(".holder-name")).to_have_text("王**")
    expect(result.locator(".holder-place")).to_have_text("华美小区 1号楼 1单元 101")
    expect(page.locator("#scan-token")).to_have_value("")
    assert _has_focus(page), "the focus stays in the input for the next scan"
    assert "王小明" not in page.content()
    assert_fits(page)
    _shot(page, "phone-ok")

    # The pass is revoked (a lost card): the same scan is refused at once.
    services.pass_revoke(actor=personas["staff"], pass_=p1, reason="card lost")
    page.keyboard.type(t1)
    page.keyboard.press("Enter")
    expect(result).to_have_class(re.compile(r"\bis-refused\b"))
    expect(result.locator(".refusal")).to_have_attribute("data-code", "pass_revoked")
    expect(result.locator(".holder-name")).to_have_count(0)
    assert _has_focus(page)
    assert_fits(page)
    _shot(page, "phone-refused")

    # A tap elsewhere takes the focus away; the next scan still lands in the input.
    page.locator("h1").click()
    page.keyboard.type(t2.lower())
    page.keyboard.press("Enter")
    expect(result).to_have_class(re.compile(r"\bis-ok\b"))
    expect(result.locator(".holder-name")).to_have_text("李*")

    # The recent scans, newest first.
    recent = page.locator("#scan-recent-list > li")
    expect(recent).to_have_count(3)
    expect(recent.nth(0)).to_contain_text("李*")
    expect(recent.nth(1)).to_have_class("refused")
    expect(recent.nth(2)).to_contain_text("王**")
    assert_fits(page)


def test_desktop_scan_result(desktop, personas, ledger, sign_in):
    from shouwang.registry.models import CareTag

    r1 = ledger["r1"]
    r1.tags = CareTag.AGE_60 | CareTag.CHRONIC
    r1.birth_date = date(1958, 4, 2)
    r1.save(update_fields=["tags", "birth_date"])
    _p, token = _token(r1, personas["staff"])
    theirs, other = _token(ledger["ro"], personas["outsider"])
    page = desktop
    sign_in(page, "sampler")
    page.goto("/passes/scan/")
    page.keyboard.type(other)
    page.keyboard.press("Enter")
    expect(page.locator(".refusal")).to_have_attribute("data-code", "pass_elsewhere")
    page.keyboard.type(token)
    page.keyboard.press("Enter")
    result = page.locator(RESULT)
    expect(result.locator(".holder-name")).to_have_text("王**")
    expect(result.locator(".tag")).to_have_count(2)
    expect(result.locator(".holder-age")).to_be_visible()
    _shot(page, "desktop-ok")

    # The network drops: the guard is told the scan was not checked (not a green, not a red).
    page.route("**/api/v1/passes/resolve", lambda route: route.abort())
    page.keyboard.type(token)
    page.keyboard.press("Enter")
    expect(result).to_have_class(re.compile(r"\bis-error\b"))
    expect(result.locator(".holder-name")).to_have_count(0)
    _shot(page, "desktop-offline")
    page.unroute("**/api/v1/passes/resolve")
    page.keyboard.type(token)
    page.keyboard.press("Enter")
    expect(result).to_have_class(re.compile(r"\bis-ok\b"))


def test_without_javascript_the_form_still_answers(browser, live_server, personas, ledger, sign_in):
    _p, token = _token(ledger["r1"], personas["staff"])
    ctx = browser.new_context(
        base_url=live_server.url, locale="zh-CN", java_script_enabled=False, **PHONE
    )
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    try:
        sign_in(page, "volunteer")
        page.goto("/passes/scan/")
        expect(page.locator("#scan-camera")).to_be_hidden()
        expect(page.locator("#scan-sound")).to_be_hidden()
        page.fill("#scan-token", token)
        page.locator(".scan-check").click()
        page.wait_for_load_state()
        assert "token=" in page.url
        expect(page.locator(f"{RESULT}.is-ok .holder-name")).to_have_text("王**")
        page.fill("#scan-token", "SW" + "0" * 14)
        page.locator(".scan-check").click()
        expect(page.locator(".refusal")).to_have_attribute("data-code", "pass_forged")
    finally:
        ctx.close()


# --- the camera ------------------------------------------------------------------------------

WIDTH, HEIGHT = 640, 480


def _qr_video(text: str, path: Path, *, frames: int = 10) -> Path:
    """A YUV4MPEG2 (4:2:0) video of the pass QR centred on white: what Chromium's fake camera
    plays in a loop. Written by hand (no Pillow): luma from segno's module matrix."""
    import segno

    qr = segno.make(text, error="m", micro=False)
    rows = [bytes(row) for row in qr.matrix_iter(scale=10, border=4)]
    size = len(rows)
    top, left = (HEIGHT - size) // 2, (WIDTH - size) // 2
    luma = bytearray(b"\xeb" * (WIDTH * HEIGHT))  # video white (235)
    for y, row in enumerate(rows):
        line = bytes(16 if dark else 235 for dark in row)  # video black (16)
        start = (top + y) * WIDTH + left
        luma[start : start + size] = line
    chroma = b"\x80" * ((WIDTH // 2) * (HEIGHT // 2))
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n")
            f.write(luma)
            f.write(chroma)
            f.write(chroma)
    return path


def test_camera_reads_a_pass_qr(browser, live_server, personas, ledger, sign_in, tmp_path):
    _p, token = _token(ledger["r1"], personas["staff"])
    video = _qr_video(token, tmp_path / "pass.y4m")
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    # A second Chromium from the same Playwright (the sync API cannot run two at once), with a
    # fake camera that plays the video.
    camera_browser = browser.browser_type.launch(executable_path=str(CHROMIUM), args=args)
    try:
        ctx = camera_browser.new_context(base_url=live_server.url, locale="zh-CN", **PHONE)
        ctx.set_default_timeout(15_000)
        ctx.grant_permissions(["camera"], origin=live_server.url)
        page = ctx.new_page()
        sign_in(page, "guard")
        page.goto("/passes/scan/")
        camera = page.locator("#scan-camera")
        expect(camera).to_be_visible()
        camera.click()
        expect(page.locator("#scan-video")).to_be_visible()
        result = page.locator(RESULT)
        expect(result.locator(".holder-name")).to_have_text("王**", timeout=20_000)
        expect(result).to_have_class(re.compile(r"\bis-ok\b"))
        assert page.evaluate("typeof window.jsQR") == "function" or page.evaluate(
            "'BarcodeDetector' in window"
        )
        # The guard sees the answer under the picture without scrolling.
        page.wait_for_function(
            "() => { const b = document.getElementById('scan-result')"
            ".getBoundingClientRect(); return b.top >= 0 && b.bottom <= innerHeight; }"
        )
        _shot(page, "phone-camera", full_page=False)

        # The card stays in front of the camera: it is read once, not again and again.
        page.wait_for_timeout(3_500)
        expect(page.locator("#scan-recent-list > li")).to_have_count(1)

        page.locator("#scan-stop").click()
        expect(page.locator("#scan-video")).to_be_hidden()
        live = page.evaluate("document.getElementById('scan-video-el').srcObject === null")
        assert live, "closing the camera releases it"
    finally:
        camera_browser.close()
