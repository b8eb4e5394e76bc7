"""The care section and the summary on the staff household page (一户一档); neither on the
residents' own page."""

import pytest

from shouwang.care.testing import make_follow_up, make_pairing
from shouwang.care.tests.helpers_care import tag
from shouwang.core import sections
from shouwang.helpline.testing import make_request

pytestmark = pytest.mark.django_db


def test_care_section_shows_carer_state_and_notes(client, personas, ledger):
    r1 = tag(ledger["r1"])
    make_pairing(r1, carer=personas["staff"])
    make_follow_up(r1, mode="visit", outcome="concern", condition="腿脚不便", needs="代买蔬菜")
    client.force_login(personas["grid_leader"])
    page = client.get(f"/households/{ledger['h1'].pk}/").content.decode()
    assert 'id="care"' in page
    assert "looked after by staff" in page and "腿脚不便" in page and "代买蔬菜" in page
    assert f"/care/people/{r1.pk}/" in page


def test_no_section_for_a_household_without_care(client, personas, ledger):
    client.force_login(personas["admin"])
    page = client.get(f"/households/{ledger['h2'].pk}/").content.decode()
    assert 'id="care"' not in page and 'id="summary"' not in page


def test_overdue_person_in_the_section(client, personas, ledger):
    tag(ledger["r2"])
    client.force_login(personas["admin"])
    page = client.get(f"/households/{ledger['h2'].pk}/").content.decode()
    assert "never contacted" in page and "not paired" in page


def test_summary_counts(client, personas, ledger, community):
    h1 = ledger["h1"]
    make_request(community, household=h1, summary="修水管")
    make_request(community, household=h1, summary="买菜")
    make_follow_up(tag(ledger["r1"]))
    client.force_login(personas["staff"])
    page = client.get(f"/households/{h1.pk}/").content.decode()
    assert 'id="summary"' in page and "2 / 2" in page and "1 follow-up" in page


def test_not_on_the_residents_page():
    keys = {s.template for s in sections._REGISTRY[sections.RESIDENT].values()}
    assert not any(t.startswith("care/") for t in keys)
    staff = {s.template for s in sections._REGISTRY[sections.STAFF].values()}
    assert {"care/sections/staff.html", "care/sections/summary.html"} <= staff
