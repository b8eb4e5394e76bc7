"""Door-to-door visit lists: made from a reason, sorted by building and door, recorded (HTML and
JSON), printed, over the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shouwang.control.testing import put_under
from shouwang.core import testing as t
from shouwang.core.audit import AuditEvent
from shouwang.core.errors import DomainError
from shouwang.registry.models import CareTag
from shouwang.screening import visits
from shouwang.screening.models import Visit, VisitList
from shouwang.screening.tests.rounds_helpers import make_round

pytestmark = pytest.mark.django_db


@pytest.fixture
def bedridden(ledger):
    """r2 (h2, grid A) and r3 (h3, grid B) are bedridden."""
    for key in ("r2", "r3"):
        r = ledger[key]
        r.tags = CareTag.BEDRIDDEN | CareTag.AGE_80
        r.save(update_fields=["tags"])
    return ledger


def test_bedridden_list_is_the_rounds_area(personas, bedridden, grid_a):
    admin = personas["admin"]
    whole = make_round(admin, number=1)
    vl = visits.visit_list_make(actor=admin, rnd=whole, reason="bedridden", team="上门一队")
    assert {v.household for v in vl.visits.all()} == {bedridden["h2"], bedridden["h3"]}
    assert vl.name and vl.team == "上门一队"
    a_only = make_round(admin, number=2, grids=[grid_a])
    vl = visits.visit_list_make(actor=admin, rnd=a_only, reason="bedridden")
    assert [v.household for v in vl.visits.all()] == [bedridden["h2"]]
    assert AuditEvent.objects.filter(action="screening.visit_list_create").count() == 2


def test_no_bedridden_says_what_to_do(personas, ledger):
    r = make_round(personas["admin"])
    with pytest.raises(DomainError) as e:
        visits.visit_list_make(actor=personas["admin"], rnd=r, reason="bedridden")
    assert "Bedridden" in str(e.value.message)


def test_sealed_is_refused_when_nothing_is_sealed(personas, ledger):
    r = make_round(personas["admin"])
    with pytest.raises(DomainError) as e:
        visits.visit_list_make(actor=personas["admin"], rnd=r, reason="sealed")
    assert "sealed" in str(e.value.message)
    assert not VisitList.objects.exists()


def test_sealed_list_holds_the_homes_under_the_level(personas, ledger):
    # h3's building sealed: its household is on the list; a precaution elsewhere is not.
    put_under(ledger["h3"].building, "sealed")
    put_under(ledger["h1"].building.compound, "precaution")
    r = make_round(personas["admin"])
    vl = visits.visit_list_make(actor=personas["admin"], rnd=r, reason="sealed")
    assert [v.household for v in vl.visits.all()] == [ledger["h3"]]


def test_requested_households_by_text(personas, ledger):
    r = make_round(personas["admin"])
    ids = visits.households_from_text(r, "1号楼 1单元 102\n华美小区 1号楼 101\n")
    assert ids == [ledger["h2"].pk, ledger["h1"].pk]
    with pytest.raises(DomainError) as e:
        visits.households_from_text(r, "1号楼 999\n9号楼 901")
    assert "1号楼 999" in str(e.value.message) and "9号楼 901" in str(e.value.message)


def test_requested_outside_the_scope_or_community_are_left_out(personas, ledger, grid_b):
    r = make_round(personas["admin"], grids=[grid_b])
    with pytest.raises(DomainError):
        visits.visit_list_make(
            actor=personas["admin"], rnd=r, reason="requested", households=[ledger["ho"]]
        )
    vl = visits.visit_list_make(
        actor=personas["admin"],
        rnd=r,
        reason="requested",
        households=[ledger["h1"], ledger["h3"]],
    )
    assert [v.household for v in vl.visits.all()] == [ledger["h3"]]


def test_retest_lists_are_not_made_by_hand(personas, ledger):
    r = make_round(personas["admin"])
    with pytest.raises(DomainError):
        visits.visit_list_make(
            actor=personas["admin"], rnd=r, reason="retest", households=[ledger["h1"]]
        )


def test_rows_sorted_by_building_and_door(personas, community, ledger):
    b = t.make_building(community, "华美小区", "1号楼")
    h0 = t.make_household(community, building=b, door="001")
    t.make_resident(h0, name="钱一", phone="")
    b0 = t.make_building(community, "A小区", "5号楼")
    ha = t.make_household(community, building=b0, door="501")
    r = make_round(personas["admin"])
    vl = visits.visit_list_make(
        actor=personas["admin"],
        rnd=r,
        reason="requested",
        households=[ledger["h3"], ledger["h2"], h0, ledger["h1"], ha],
    )
    rows = visits.list_rows(vl)
    assert [(x["building"], x["door"]) for x in rows] == [
        ("5号楼", "501"),
        ("1号楼", "001"),
        ("1号楼", "101"),
        ("1号楼", "102"),
        ("2号楼", "201"),
    ]
    assert rows[1]["people"] == ["钱*"]


def test_record_html_and_json(client, personas, ledger):
    r = make_round(personas["admin"])
    vl = visits.visit_list_make(
        actor=personas["admin"], rnd=r, reason="requested", households=[ledger["h1"]]
    )
    v = vl.visits.get()
    client.force_login(personas["volunteer"])
    url = reverse("screening:visit_record", args=[v.pk])
    resp = client.post(url, {"status": "not_home", "note": "敲门无人"})
    assert resp.status_code == 302 and resp["Location"].endswith(f"#v{v.pk}")
    v.refresh_from_db()
    assert (v.status, v.note, v.by) == ("not_home", "敲门无人", personas["volunteer"])
    # The sampling page's door-to-door mode sends the status alone: the note stays.
    resp = client.post(url, {"status": "visited"}, HTTP_ACCEPT="application/json")
    assert resp.status_code == 200
    assert resp.json()["ok"] and resp.json()["status"] == "visited"
    assert resp.json()["note"] == "敲门无人"
    resp = client.post(url, {"status": "visited"}, HTTP_ACCEPT="application/json")
    assert resp.status_code == 200
    assert AuditEvent.objects.filter(action="screening.visit_record").count() == 2
    resp = client.post(url, {"status": "gone"}, HTTP_ACCEPT="application/json")
    assert resp.status_code == 400 and resp.json()["error"]["fields"]["status"]
    client.force_login(personas["outsider"])
    resp = client.post(url, {"status": "refused"}, HTTP_ACCEPT="application/json")
    assert resp.status_code == 404 and "error" in resp.json()
    v.refresh_from_db()
    assert v.status == "visited"


def test_list_pages(client, personas, ledger, bedridden):
    r = make_round(personas["admin"])
    client.force_login(personas["staff"])
    form = reverse("screening:visit_list_new", args=[r.pk])
    body = client.get(form).content.decode()
    assert "sealed" in body.lower()
    resp = client.post(
        form,
        {
            "reason": "bedridden",
            "team": "上门组",
            "assignees": [personas["sampler"].pk, personas["volunteer"].pk],
        },
    )
    vl = VisitList.objects.get()
    assert resp["Location"] == reverse("screening:visit_list", args=[vl.pk])
    assert set(vl.assignees.all()) == {personas["sampler"], personas["volunteer"]}
    resp = client.post(form, {"reason": "requested", "households": "1号楼 777"})
    assert resp.status_code == 200 and "1号楼 777" in str(resp.context["form"].errors)
    client.force_login(personas["sampler"])
    assert client.get(reverse("screening:visits", args=[r.pk])).status_code == 200
    page = client.get(reverse("screening:visit_list", args=[vl.pk]))
    assert page.status_code == 200 and len(page.context["rows"]) == 2
    printed = client.get(reverse("screening:visit_list_print", args=[vl.pk])).content.decode()
    assert "2号楼" in printed and "window.print" in printed
    # A sampler records doors but does not reassign the list.
    resp = client.post(reverse("screening:visit_list", args=[vl.pk]), {"team": "别的"})
    assert resp.status_code == 403


def test_api_lists(client, personas, ledger):
    r = make_round(personas["admin"])
    client.force_login(personas["staff"])
    resp = client.post(
        f"/api/v1/screening/rounds/{r.pk}/visit-lists",
        {"reason": "requested", "household_ids": [ledger["h1"].pk, ledger["h3"].pk]},
        content_type="application/json",
    )
    assert resp.status_code == 201, resp.content
    lid = resp.json()["id"]
    assert resp.json()["total"] == 2
    detail = client.get(f"/api/v1/screening/visit-lists/{lid}").json()
    assert [v["door"] for v in detail["visits"]] == ["101", "201"]
    vid = detail["visits"][0]["id"]
    resp = client.post(
        f"/api/v1/screening/visits/{vid}/record",
        {"status": "refused", "note": "不开门"},
        content_type="application/json",
    )
    assert resp.status_code == 200
    lists = client.get(f"/api/v1/screening/rounds/{r.pk}/visit-lists").json()
    assert lists[0]["refused"] == 1 and lists[0]["pending"] == 1
    assert Visit.objects.get(pk=vid).status == "refused"
