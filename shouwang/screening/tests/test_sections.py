"""The household pages' screening sections: today's antigen form for each member, "stay home"
while a re-test is open, and the last days' results on the staff page."""

from __future__ import annotations

import pytest
from django.utils import timezone

from shouwang.residents import services as resident_services
from shouwang.screening import antigen
from shouwang.screening.models import RetestFlag
from shouwang.screening.tests.test_coverage import make_round, make_tube


@pytest.fixture
def household_client(client, ledger, personas):
    _link, token = resident_services.link_issue(actor=personas["admin"], household=ledger["h1"])
    assert client.get(f"/h/{token}/").status_code == 302
    return client


def _page(c, h) -> str:
    return c.get(f"/my/households/{h.pk}/").content.decode()


def test_form_per_member_and_reported_state(household_client, ledger):
    html = _page(household_client, ledger["h1"])
    assert html.count('name="resident"') == 2  # 王小明, 王大明
    assert "Stay at home" not in html
    antigen.report_save(actor=None, resident=ledger["r1"], result="negative")
    assert "Reported: negative" in _page(household_client, ledger["h1"])


def test_stay_home_while_a_retest_is_open(household_client, ledger):
    rnd = make_round(ledger["h1"].community)
    flag = RetestFlag.objects.create(
        community_id=rnd.community_id, resident=ledger["r1b"], tube=make_tube(rnd)
    )
    html = _page(household_client, ledger["h1"])
    assert "Stay at home — awaiting your single-tube re-test" in html
    assert "王大明" in html
    flag.cleared_at = timezone.now()
    flag.save(update_fields=["cleared_at"])
    assert "awaiting your single-tube re-test" not in _page(household_client, ledger["h1"])


def test_staff_section(client, ledger, personas):
    antigen.report_save(actor=None, resident=ledger["r1"], result="positive")
    client.force_login(personas["staff"])
    html = client.get(f"/households/{ledger['h1'].pk}/").content.decode()
    assert "Antigen self-tests, last 7 days" in html and "positive" in html
    # Another household: no section.
    html = client.get(f"/households/{ledger['h2'].pk}/").content.decode()
    assert "Antigen self-tests" not in html
