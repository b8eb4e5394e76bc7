"""The household page's medicine section (一户一档): staff see every need of the household with
its stage; the household reads where its medicine is in plain words."""

from __future__ import annotations

import pytest

from shouwang.medicine.models import Stage
from shouwang.medicine.tests.helpers_medicine import need_at
from shouwang.residents import services as resident_services

pytestmark = pytest.mark.django_db


def test_staff_page_lists_the_households_needs_with_their_stage(client, personas, ledger):
    admin = personas["admin"]
    need_at(Stage.PICKED_UP, ledger["r1"], actor=admin, drug="甲药")
    need_at(Stage.REGISTERED, ledger["r1b"], actor=admin, drug="乙药")
    need_at(Stage.REGISTERED, ledger["r2"], actor=admin, drug="别家的药")
    client.force_login(personas["staff"])
    html = client.get(f"/households/{ledger['h1'].pk}/").content.decode()
    section = html[html.index('id="medicine"') :]
    assert "甲药" in section and "Picked up" in section
    assert "乙药" in section and "Registered" in section
    assert "别家的药" not in html
    assert f"/medicine/needs/new/?household={ledger['h1'].pk}" in section


def test_no_section_without_needs(client, personas, ledger):
    client.force_login(personas["staff"])
    html = client.get(f"/households/{ledger['h1'].pk}/").content.decode()
    assert 'id="medicine"' not in html


def test_household_reads_the_stage_in_plain_words(client, personas, ledger):
    admin = personas["admin"]
    need_at(Stage.PICKED_UP, ledger["r1"], actor=admin, drug="甲药")
    need_at(Stage.REGISTERED, ledger["r2"], actor=admin, drug="别家的药")
    _link, token = resident_services.link_issue(actor=admin, household=ledger["h1"])
    assert client.get(f"/h/{token}/").status_code == 302
    html = client.get(f"/my/households/{ledger['h1'].pk}/").content.decode()
    assert "甲药" in html and "Bought, on its way to you" in html
    assert "别家的药" not in html
