"""The household page's help-line section: staff see every request of the household; the
household sees its own — summary, reference, status — and nothing internal."""

import pytest

from shouwang.helpline import intake
from shouwang.helpline.testing import make_request

pytestmark = pytest.mark.django_db


def test_staff_see_every_request_of_the_household(client, community, personas, ledger):
    staff = personas["staff"]
    a = make_request(community, household=ledger["h1"], summary="需要买降压药", owner=staff)
    b = intake.resolve(
        staff,
        make_request(community, household=ledger["h1"], summary="燃气没了"),
        resolution="已充",
    )
    other = make_request(community, household=ledger["h2"], summary="邻居吵闹")
    client.force_login(staff)
    page = client.get(f"/households/{ledger['h1'].pk}/").content.decode()
    assert 'id="helpline"' in page
    for r in (a, b):
        assert r.reference in page and r.summary in page
    assert other.summary not in page
    assert "Resolved, to call back" in page and "Log a request for this household" in page
    assert page.index("燃气没了") < page.index("需要买降压药")  # newest first


def test_no_section_for_roles_without_the_help_line(community, personas, ledger):
    from django.test import RequestFactory

    from shouwang.helpline.sections import _staff

    make_request(community, household=ledger["h1"])
    request = RequestFactory().get("/")
    for who, shown in (("admin", True), ("grid_leader", True), ("guard", False)):
        request.user = personas[who]
        assert (_staff(request, ledger["h1"], personas[who]) is not None) is shown, who


def test_an_empty_household_still_offers_to_log_one(client, personas, ledger):
    client.force_login(personas["staff"])
    page = client.get(f"/households/{ledger['h2'].pk}/").content.decode()
    assert "No requests from this household yet." in page


def test_the_household_sees_its_own_requests_in_plain_words(client, community, personas, ledger):
    from shouwang.residents import services

    staff = personas["staff"]
    mine = make_request(
        community, household=ledger["h1"], summary="需要买降压药", details="内部备注", owner=staff
    )
    intake.note(staff, mine, "药店没货，明天再去")
    other = make_request(community, household=ledger["h2"], summary="邻居吵闹")
    _link, token = services.link_issue(actor=personas["admin"], household=ledger["h1"])
    client.get(f"/h/{token}/")
    page = client.get(f"/my/households/{ledger['h1'].pk}/").content.decode()
    assert "Your requests to the committee" in page
    assert "需要买降压药" in page and mine.reference in page and "Open" in page
    for hidden in ("内部备注", "药店没货", other.summary, "staff"):
        assert hidden not in page


def test_no_resident_section_without_requests(client, personas, ledger):
    from shouwang.residents import services

    _link, token = services.link_issue(actor=personas["admin"], household=ledger["h1"])
    client.get(f"/h/{token}/")
    page = client.get(f"/my/households/{ledger['h1'].pk}/").content.decode()
    assert "Your requests to the committee" not in page
