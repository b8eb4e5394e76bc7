"""The shell in a real browser: a 360 px phone signs in, finds a resident, opens the household,
reveals a phone once; the language switch; a grid leader's scope; the import page with the sample
ledger. Headless Debian Chromium through Playwright's sync API.

Run: .venv/bin/pytest tests/browser -q      (skipped when /usr/bin/chromium is absent)
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

SAMPLE_LEDGER = Path(__file__).resolve().parents[2] / "shouwang/registry/tests/data/ledger.xlsx"


def _lang(page) -> str:
    return page.locator("html").get_attribute("lang") or ""


def test_admin_on_a_phone_finds_a_resident_and_reveals_a_phone_once(
    phone, personas, ledger, sign_in, assert_fits
):
    from shouwang.core.models import AuditEvent

    page = phone
    sign_in(page, "admin")

    # The overview, with the counts of the admin's community only (not the other community's).
    expect(page).to_have_url(re.compile(r"/overview/$"))
    expect(page.locator("[data-stat=people] b")).to_have_text("4")
    expect(page.locator("[data-stat=households] b")).to_have_text("3")
    assert_fits(page)

    # Find a resident by name, through the menu and the search bar.
    page.locator("nav.mainnav a[href='/residents/']").click()
    expect(page).to_have_url(re.compile(r"/residents/$"))
    assert_fits(page)
    page.fill("input[name=q]", "王小明")
    page.locator("form.searchbar button").click()
    results = page.locator("ul.people > li.person")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("王小明")
    expect(results.first).to_contain_text("139****5678")
    assert "13912345678" not in page.content(), "search results show phones masked"
    assert_fits(page)

    # Open the household.
    results.first.locator("a.btn").click()
    expect(page).to_have_url(re.compile(rf"/households/{ledger['h1'].pk}/"))
    expect(page.locator("h1")).to_contain_text("101")
    member = page.locator("li.person", has_text="王小明")
    expect(member).to_contain_text("139****5678")
    assert_fits(page)

    # Reveal the phone with a reason: the full value is shown once, and the view is logged.
    member.locator("details.reveal summary").click()
    assert_fits(page)
    member.locator("select[name=field]").select_option("phone")
    member.locator("input[name=reason]").fill("calling about a missed test")
    member.locator("details.reveal button").click()
    shown = page.locator(".flash.warning")
    expect(shown).to_contain_text("+8613912345678")
    expect(shown).to_contain_text("王小明")
    assert_fits(page)
    assert AuditEvent.objects.filter(action="resident.reveal").count() == 1

    page.reload()
    expect(page.locator("li.person", has_text="王小明")).to_be_visible()
    assert "13912345678" not in page.content(), "the full value is shown once only"
    assert_fits(page)


def test_language_switch_turns_the_page_to_english_and_back(phone, personas, sign_in):
    page = phone
    page.goto("/accounts/login/")
    assert _lang(page).startswith("zh"), "Chinese is the default"

    page.locator("form.lang button").click()
    page.wait_for_load_state()
    assert _lang(page) == "en"
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.locator("h1")).to_have_text("Sign in")

    sign_in(page, "admin")
    assert _lang(page) == "en", "the choice survives signing in"
    expect(page.locator("h1")).to_have_text("Community overview")

    page.locator("form.lang button").click()
    page.wait_for_load_state()
    assert _lang(page).startswith("zh")
    expect(page).to_have_url(re.compile(r"/overview/$"))  # the switch stays on the same page
    expect(page.locator("h1")).not_to_have_text("Community overview")


def test_grid_leader_search_returns_only_their_grid(phone, personas, ledger, sign_in, assert_fits):
    page = phone
    sign_in(page, "grid_leader")

    page.goto("/residents/?q=王")
    names = page.locator("ul.people > li.person .who b").all_inner_texts()
    assert sorted(names) == sorted(["王小明", "王大明"]), "not 王外人 of another community"
    expect(page.locator("select[name=grid]")).to_have_count(0)
    assert_fits(page)

    page.goto("/residents/?q=赵")  # 赵五 lives in grid B
    expect(page.locator("ul.people > li.person")).to_have_count(0)

    page.goto("/residents/?q=李")
    expect(page.locator("ul.people > li.person")).to_have_count(1)

    response = page.goto(f"/households/{ledger['h3'].pk}/")
    assert response is not None and response.status == 404, "a grid B household is not found"


@pytest.mark.skipif(not SAMPLE_LEDGER.exists(), reason=f"{SAMPLE_LEDGER} is absent")
def test_import_sample_ledger_checks_then_commits(phone, personas, sign_in, assert_fits):
    from shouwang.registry.models import Resident

    page = phone
    community = personas["admin"].community
    sign_in(page, "admin")
    page.goto("/import/")
    assert_fits(page)

    page.set_input_files("input[type=file]", str(SAMPLE_LEDGER))
    page.locator("main form button.primary").click()

    # The dry run: 9 rejected rows each with a reason, nothing written yet.
    expect(page.locator("[data-stat=rejected] b")).to_have_text("9")
    expect(page.locator("[data-stat=accepted] b")).to_have_text("55")
    rejected = page.locator("ol.problems.rejected > li")
    expect(rejected).to_have_count(9)
    for text in rejected.all_inner_texts():
        assert re.search(r"\d", text) and len(text) > 20, (
            f"a rejected row without its reason: {text}"
        )
    assert Resident.objects.filter(community=community).count() == 0
    assert_fits(page)

    # Confirm: 55 people are imported in one go.
    page.locator("form.confirm button.primary").click()
    expect(page.locator("[data-stat=created] b")).to_have_text("55")
    assert Resident.objects.filter(community=community).count() == 55
    expect(page.locator("input[type=file]")).to_be_visible()  # ready for the next file
    assert_fits(page)


def test_the_menu_is_one_sideways_row_on_a_phone_with_the_current_page_in_view(
    phone, personas, sign_in, assert_fits
):
    page = phone
    sign_in(page, "admin")
    page.goto("/materials/")
    nav = page.locator("nav.mainnav")
    links = nav.locator("a")
    assert links.count() >= 12, "the admin's menu has a link per module"
    tops = {round(box["y"]) for box in (links.nth(i).bounding_box() for i in range(links.count()))}
    assert len(tops) == 1, f"one row of links on a phone, not {len(tops)}"
    assert nav.evaluate("n => n.scrollWidth > n.clientWidth"), "the rest scrolls sideways"
    current = nav.locator("a[aria-current=page]")
    expect(current).to_have_attribute("href", "/materials/")
    box, width = current.bounding_box(), page.viewport_size["width"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, "the current page's link is in view"
    assert_fits(page)
