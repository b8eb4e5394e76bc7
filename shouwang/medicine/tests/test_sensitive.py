"""Psychiatric and chemotherapy medicines: the drug, dose, place and note are read in full only
by medicine.manage roles, the run's driver on their run and the household itself; elsewhere
(the grid leader's board and need page, the staff household page for a grid leader, the API for
them, a volunteer's run they do not drive) only the kind shows."""

from __future__ import annotations

import pytest

from shouwang.core.testing import make_user
from shouwang.medicine.models import Stage
from shouwang.medicine.tests.helpers_medicine import make_run, need_at
from shouwang.residents import services as resident_services

pytestmark = pytest.mark.django_db

DRUG = "奥氮平片"
DOSE = "睡前一片"
PLACE = "市精神卫生中心"


@pytest.fixture
def psych(personas, ledger, community):
    run = make_run(community, source="hospital", place="医院", driver=personas["volunteer"])
    return need_at(
        Stage.BOUGHT,
        ledger["r1"],
        actor=personas["admin"],
        run=run,
        drug=DRUG,
        dose=DOSE,
        kind="psychiatric",
        source="hospital",
        place=PLACE,
        note="复诊开药",
    )


def _as(client, user, url) -> str:
    client.force_login(user)
    resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    return resp.content.decode()


def _hidden(html: str) -> bool:
    return DRUG not in html and DOSE not in html and PLACE not in html and "复诊开药" not in html


def test_office_reads_it_in_full(client, personas, psych):
    for role in ("admin", "staff"):
        html = _as(client, personas[role], f"/medicine/needs/{psych.pk}/")
        assert DRUG in html and DOSE in html and PLACE in html
        assert DRUG in _as(client, personas[role], "/medicine/")


def test_grid_leader_reads_the_kind_only(client, personas, ledger, psych):
    leader = personas["grid_leader"]
    for url in (
        "/medicine/",
        f"/medicine/needs/{psych.pk}/",
        f"/medicine/runs/{psych.run_id}/",
        f"/medicine/runs/{psych.run_id}/print/",
        f"/households/{ledger['h1'].pk}/",
    ):
        html = _as(client, leader, url)
        assert _hidden(html), url
        assert "Psychiatric" in html, url
    # Nor may they open the edit form, where the values would be.
    assert client.get(f"/medicine/needs/{psych.pk}/edit/").status_code == 403
    data = client.get(f"/api/v1/medicine/needs/{psych.pk}").json()
    assert data["hidden"] and data["drug"] == "Psychiatric" and data["dose"] == ""
    assert all(e["text"] == "" for e in data["events"])
    listed = client.get("/api/v1/medicine/needs?stage=bought").json()
    assert [d["drug"] for d in listed] == ["Psychiatric"]


def test_staff_household_page_shows_it_to_the_office(client, personas, ledger, psych):
    html = _as(client, personas["staff"], f"/households/{ledger['h1'].pk}/")
    assert 'id="medicine"' in html and DRUG in html


def test_the_driver_reads_it_on_their_run_only(client, personas, community, psych):
    vol = personas["volunteer"]
    html = _as(client, vol, f"/medicine/runs/{psych.run_id}/print/")
    assert DRUG in html and DOSE in html
    assert DRUG in _as(client, vol, f"/medicine/runs/{psych.run_id}/")
    assert client.get(f"/api/v1/medicine/runs/{psych.run_id}").json()["needs"][0]["drug"] == DRUG
    # Another volunteer: not their run, not found at all.
    client.force_login(make_user("volunteer", community))
    assert client.get(f"/medicine/runs/{psych.run_id}/print/").status_code == 404
    assert client.get(f"/api/v1/medicine/runs/{psych.run_id}").status_code == 404


def test_a_chronic_need_is_not_hidden(client, personas, ledger):
    n = need_at(Stage.REGISTERED, ledger["r1"], actor=personas["admin"], drug="硝苯地平")
    assert "硝苯地平" in _as(client, personas["grid_leader"], f"/medicine/needs/{n.pk}/")


def test_the_household_reads_its_own_in_full(client, personas, ledger, psych):
    _link, token = resident_services.link_issue(actor=personas["admin"], household=ledger["h1"])
    assert client.get(f"/h/{token}/").status_code == 302
    html = client.get(f"/my/households/{ledger['h1'].pk}/").content.decode()
    assert DRUG in html and "Bought, waiting to be fetched" in html


def test_a_consenting_proxy_reads_the_kind_only(client, personas, ledger, psych):
    from django.utils import timezone

    resident_services.consent_grant(
        actor=personas["admin"],
        household=ledger["h1"],
        relation="building_volunteer",
        granted_on=timezone.localdate(),
        proxy_user=personas["volunteer"],
    )
    client.force_login(personas["volunteer"])
    resp = client.get(f"/my/households/{ledger['h1'].pk}/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'id="medicine"' in html and _hidden(html) and "Psychiatric" in html
