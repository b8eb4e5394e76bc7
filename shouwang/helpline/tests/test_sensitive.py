"""Psychological and special-needs details: in full only to the roles with helpline.sensitive
(admin, staff) and to the request's owner — never to a grid leader who does not own it, in the
page, the API or the household section."""

import pytest

from shouwang.helpline import intake
from shouwang.helpline.models import Group
from shouwang.helpline.testing import make_request

pytestmark = pytest.mark.django_db

SECRET = "长期服用抗抑郁药，有轻生念头"
NOTE = "心理咨询师已联系"
RESOLUTION = "转介到精神卫生中心"


@pytest.fixture
def sensitive(community, personas, ledger):
    staff = personas["staff"]
    req = make_request(
        community,
        group=Group.PSYCHOLOGICAL,
        household=ledger["h1"],
        summary="需要心理疏导",
        details=SECRET,
        owner=staff,
    )
    intake.note(staff, req, NOTE)
    intake.resolve(staff, req, resolution=RESOLUTION)
    return req


def _page(client, req):
    return client.get(f"/helpline/requests/{req.pk}/").content.decode()


def _api(client, req):
    return client.get(f"/api/v1/helpline/requests/{req.pk}").json()


def _section(client, ledger):
    return client.get(f"/households/{ledger['h1'].pk}/").content.decode()


def test_a_grid_leader_who_does_not_own_it_sees_the_summary_only(
    client, sensitive, personas, ledger
):
    client.force_login(personas["grid_leader"])
    page = _page(client, sensitive)
    assert "需要心理疏导" in page
    for text in (SECRET, NOTE, RESOLUTION):
        assert text not in page
    assert "shown only to the owner and the office" in page
    out = _api(client, sensitive)
    assert out["summary"] == "需要心理疏导"
    assert out["details"] is None and out["resolution"] is None
    assert all(e["text"] is None for e in out["events"] if e["kind"] in ("note", "resolved"))
    assert SECRET not in str(out) and NOTE not in str(out)
    listed = client.get("/api/v1/helpline/requests?show=all").json()
    assert [r["details"] for r in listed] == [None]
    house = _section(client, ledger)
    assert "需要心理疏导" in house and SECRET not in house


def test_the_office_and_the_owner_read_them(client, community, sensitive, personas, ledger):
    for who in ("staff", "admin"):
        client.force_login(personas[who])
        page = _page(client, sensitive)
        assert SECRET in page and NOTE in page and RESOLUTION in page
        assert _api(client, sensitive)["details"] == SECRET
        assert SECRET[:20] in _section(client, ledger)
    # A grid leader who owns one reads its details.
    gl = personas["grid_leader"]
    own = make_request(
        community, group=Group.SPECIAL, household=ledger["h1"], details="每周三次透析", owner=gl
    )
    client.force_login(gl)
    assert "每周三次透析" in _page(client, own)
    assert _api(client, own)["details"] == "每周三次透析"


def test_other_groups_are_not_hidden(client, community, personas, ledger):
    req = make_request(
        community, household=ledger["h1"], details="家里没米了", owner=personas["staff"]
    )
    client.force_login(personas["grid_leader"])
    assert "家里没米了" in _page(client, req)
    assert _api(client, req)["details"] == "家里没米了"


def test_the_household_never_sees_details_or_notes(client, sensitive, personas, ledger):
    from shouwang.residents import services

    _link, token = services.link_issue(actor=personas["admin"], household=ledger["h1"])
    client.get(f"/h/{token}/")
    page = client.get(f"/my/households/{ledger['h1'].pk}/").content.decode()
    assert "需要心理疏导" in page and sensitive.reference in page
    for text in (SECRET, NOTE, RESOLUTION):
        assert text not in page
