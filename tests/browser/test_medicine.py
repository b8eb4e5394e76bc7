"""The medicine pipeline on a 360 px phone, in a real browser: staff find the resident by the
phone's last digits, register the medicine, plan a pharmacy run with the volunteer as driver,
put the need in and mark it bought; the volunteer opens their run, fetches and delivers, and
prints the list.

Screenshots: SHOUWANG_SHOTS=/tmp/med_shots .venv/bin/pytest tests/browser/test_medicine.py -q
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.browser.conftest import english, playwright_expect, shot

expect = playwright_expect()

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_register_run_fetch_deliver_on_a_phone(
    browser, live_server, personas, ledger, sign_in, assert_fits
):
    from django.utils import timezone

    from shouwang.medicine.models import Need, Stage
    from tests.browser.conftest import PHONE

    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", **PHONE)
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    sign_in(page, "staff")
    page.goto("/medicine/")
    english(page)
    page.locator("a", has_text="Register a need").first.click()
    page.fill("input[name=q]", "5678")
    page.locator("main form button").click()
    page.locator(".med-pick a", has_text="王小明").click()
    page.fill("input[name=drug]", "缬沙坦胶囊")
    page.fill("input[name=dose]", "每日一次")
    page.fill("input[name=quantity]", "2盒")
    page.select_option("select[name=source]", "pharmacy")
    shot(page, "medicine", "1-register")
    assert_fits(page)
    page.locator("main form button.primary").click()
    page.wait_for_url(re.compile(r"/medicine/needs/\d+/$"))
    expect(page.locator(".med-steps .is-current")).to_have_text("Registered")
    shot(page, "medicine", "2-need")
    assert_fits(page)

    page.goto("/medicine/runs/new/")
    page.select_option("select[name=source]", "pharmacy")
    page.fill("input[name=place]", "益丰大药房")
    page.fill("input[name=date]", (timezone.localdate() + dt.timedelta(days=1)).isoformat())
    page.select_option("select[name=driver]", str(personas["volunteer"].pk))
    assert_fits(page)
    page.locator("main form button.primary").click()
    page.wait_for_url(re.compile(r"/medicine/runs/\d+/$"))
    page.locator("button", has_text="Put into this run").click()
    page.wait_for_load_state()
    page.locator(".med-run-buttons button").first.click()  # all bought
    page.wait_for_load_state()
    run_url = page.url
    shot(page, "medicine", "3-run")
    assert_fits(page)
    assert Need.objects.get().stage == Stage.BOUGHT

    sign_in(page, "volunteer")
    page.goto("/medicine/")
    page.locator("a", has_text="益丰大药房").click()
    assert page.url == run_url
    page.locator(".med-run-buttons button").first.click()  # all picked up
    page.wait_for_load_state()
    page.locator(".med-run-buttons button").first.click()  # all delivered
    page.wait_for_load_state()
    expect(page.locator(".med-stage").first).to_have_text(re.compile("Delivered"))
    shot(page, "medicine", "4-driver")
    assert_fits(page)
    assert Need.objects.get().stage == Stage.DELIVERED
    page.goto(run_url + "print/")
    expect(page.locator(".med-sheet")).to_contain_text("缬沙坦胶囊")
    expect(page.locator(".med-sheet")).to_contain_text("王**")
    shot(page, "medicine", "5-print")
    assert_fits(page)
    ctx.close()
