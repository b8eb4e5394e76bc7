"""The area-control pages: the index (levels grouped, countdowns, days since the last positive,
counts, pending proposals with buttons for approvers and the four-eyes note for proposers), the
propose form, a proposal's page and its decisions, a place's page, the history with its CSV, the
door notice, and the household pages' section."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from shouwang.control import services
from shouwang.control.models import Control, Proposal, ProposalStatus
from shouwang.control.testing import put_under
from shouwang.core import testing as t
from shouwang.residents import services as resident_services
from shouwang.residents.models import DirectoryEntry
from shouwang.screening.models import Positive

pytestmark = pytest.mark.django_db


def _propose(actor, place, level="sealed", **kw):
    return services.proposal_create(actor=actor, place=place, level=level, reason="两例阳性", **kw)


def test_index_groups_levels_with_countdown_positive_and_counts(client, personas, ledger, places):
    now = timezone.now()
    put_under(places["ba"], "sealed", days=5)
    put_under(places["compound_b"], "controlled", starts_at=now - dt.timedelta(days=20), days=17)
    Positive.objects.create(
        community_id=ledger["r1"].community_id,
        resident=ledger["r1"],
        source="round",
        detected_on=timezone.localdate() - dt.timedelta(days=4),
    )
    client.force_login(personas["grid_leader"])
    html = client.get(reverse("control:index")).content.decode()
    listed = html[html.index("Places under control now") :]
    assert listed.index("Sealed") < listed.index("Controlled")  # strictest first
    assert "华美小区 1号楼" in html and "新虹公寓" in html
    assert "releases in 5 days" in html or "releases in 4 days" in html
    assert "planned end passed 3 days ago" in html
    assert "4 days since the last positive" in html
    assert "2 households, 3 people" in html  # h1 (王小明, 王大明) and h2 (李四)
    assert "no positive among its residents" in html
    assert "Door notice" in html


def test_pending_proposals_buttons_for_approvers_note_for_the_proposer(client, personas, places):
    p = _propose(personas["staff"], places["ba"])
    client.force_login(personas["admin"])
    html = client.get(reverse("control:index")).content.decode()
    assert reverse("control:approve", args=[p.pk]) in html
    assert reverse("control:reject", args=[p.pk]) in html
    client.force_login(personas["staff"])
    html = client.get(reverse("control:index")).content.decode()
    assert reverse("control:approve", args=[p.pk]) not in html
    assert "another user with the right to approve must approve it" in html


def test_propose_form_then_approve_on_the_page(client, personas, places):
    client.force_login(personas["staff"])
    url = reverse("control:propose")
    assert "华美小区 1号楼 1单元" in client.get(url).content.decode()
    resp = client.post(
        url,
        {
            "place": f"building:{places['ba'].pk}",
            "level": "sealed",
            "reason": "3单元2例阳性",
            "evidence": "街道通知",
        },
    )
    p = Proposal.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse("control:proposal", args=[p.pk])
    assert p.proposed_by == personas["staff"] and p.planned_end is not None
    assert not Control.objects.exists()
    client.force_login(personas["admin"])
    resp = client.post(reverse("control:approve", args=[p.pk]), {"note": "已核实"}, follow=True)
    assert "is now under" in resp.content.decode()
    assert Control.objects.get().level == "sealed"


def test_propose_form_shows_what_to_fix(client, personas, places):
    client.force_login(personas["staff"])
    resp = client.post(
        reverse("control:propose"),
        {"place": f"building:{places['ba'].pk}", "level": "none", "reason": "解封"},
    )
    assert resp.status_code == 200
    assert "nothing to release" in resp.content.decode()
    resp = client.post(
        reverse("control:propose"),
        {"place": "building:999999", "level": "sealed", "reason": "x"},
    )
    assert "Select a valid choice" in resp.content.decode()
    assert not Proposal.objects.exists()


def test_self_approval_on_the_page_is_refused_with_a_message(client, personas, places, admin2):
    p = _propose(personas["admin"], places["ba"])
    client.force_login(personas["admin"])
    page = client.get(reverse("control:proposal", args=[p.pk])).content.decode()
    assert reverse("control:approve", args=[p.pk]) not in page
    assert "Your own proposal" in page
    resp = client.post(reverse("control:approve", args=[p.pk]), follow=True)
    assert "You proposed this yourself" in resp.content.decode()
    assert not Control.objects.exists()
    client.force_login(admin2)
    client.post(reverse("control:approve", args=[p.pk]))
    assert Control.objects.get().level == "sealed"


def test_staff_cannot_approve_on_the_page(client, personas, places):
    p = _propose(personas["grid_leader"], places["ba"])
    client.force_login(personas["staff"])
    assert client.post(reverse("control:approve", args=[p.pk])).status_code == 403
    assert not Control.objects.exists()


def test_reject_and_withdraw_on_the_page(client, personas, places):
    p1 = _propose(personas["staff"], places["ba"])
    p2 = _propose(personas["staff"], places["bb"])
    client.force_login(personas["admin"])
    client.post(reverse("control:reject", args=[p1.pk]), {"note": "复核阴性"})
    client.force_login(personas["staff"])
    client.post(reverse("control:withdraw", args=[p2.pk]))
    p1.refresh_from_db()
    p2.refresh_from_db()
    assert (p1.status, p2.status) == (ProposalStatus.REJECTED, ProposalStatus.WITHDRAWN)


def test_place_page_shows_level_and_whole_history(client, personas, places):
    p = _propose(personas["staff"], places["ba"])
    services.proposal_approve(actor=personas["admin"], proposal=p)
    client.force_login(personas["staff"])
    html = client.get(reverse("control:place", args=["building", places["ba"].pk])).content.decode()
    assert "Sealed" in html and "两例阳性" in html
    assert "proposed" in html and "approved, in force" in html
    # A household's unit page shows the level through its building.
    html = client.get(reverse("control:place", args=["unit", places["unit_a"].pk])).content.decode()
    assert "through 华美小区 1号楼" in html
    assert client.get(reverse("control:place", args=["street", 1])).status_code == 404


def test_history_filter_and_csv(client, personas, places):
    _propose(personas["staff"], places["ba"])
    _propose(personas["staff"], places["bb"], level="precaution")
    client.force_login(personas["admin"])
    html = client.get(
        reverse("control:history"), {"place": f"building:{places['bb'].pk}"}
    ).content.decode()
    table = html[html.index("<table") :]
    assert "新虹公寓 2号楼" in table and "华美小区 1号楼" not in table
    today = timezone.localdate()
    html = client.get(
        reverse("control:history"), {"date_to": (today - dt.timedelta(days=1)).isoformat()}
    ).content.decode()
    assert "Nothing recorded yet" in html
    resp = client.get(reverse("control:history_csv"))
    assert resp["Content-Type"].startswith("text/csv")
    text = resp.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Time,Event,Place")
    assert "华美小区 1号楼" in text and "新虹公寓 2号楼" in text and "proposed" in text


def test_door_notice_has_no_personal_data(client, personas, ledger, places):
    c = put_under(places["ba"], "sealed", reason="王小明 阳性")
    DirectoryEntry.objects.create(
        community_id=places["ba"].community_id,
        kind="committee",
        name="居委会",
        phone="021-5555 0000",
    )
    client.force_login(personas["staff"])
    html = client.get(reverse("control:notice", args=[c.pk])).content.decode()
    assert "华美小区 1号楼" in html and "华美社区" in html
    assert "nobody leaves their home" in html
    assert "021-5555 0000" in html
    assert "王小明" not in html and not t.shows_number(html, "101")
    client.force_login(personas["outsider"])
    assert client.get(reverse("control:notice", args=[c.pk])).status_code == 404


def test_door_notice_falls_back_to_staff_work_phones(client, personas, places):
    c = put_under(places["compound_a"], "controlled")
    personas["admin"].work_phone = "13800001111"
    personas["admin"].save(update_fields=["work_phone"])
    client.force_login(personas["staff"])
    html = client.get(reverse("control:notice", args=[c.pk])).content.decode()
    assert "13800001111" in html and "leave the compound" in html


def test_household_pages_show_the_level(client, personas, ledger, places):
    put_under(places["ba"], "sealed")
    client.force_login(personas["staff"])
    html = client.get(reverse("registry:household", args=[ledger["h1"].pk])).content.decode()
    assert 'id="control"' in html and "Sealed" in html
    html = client.get(reverse("registry:household", args=[ledger["h3"].pk])).content.decode()
    assert 'id="control"' not in html
    client.logout()
    _link, token = resident_services.link_issue(actor=personas["admin"], household=ledger["h1"])
    assert client.get(f"/h/{token}/").status_code == 302
    html = client.get(f"/my/households/{ledger['h1'].pk}/").content.decode()
    assert "This home is under: Sealed" in html and "Stay at home" in html


def test_index_marks_expired_proposals(client, personas, places):
    now = timezone.now()
    p = _propose(personas["staff"], places["ba"], now=now - dt.timedelta(days=2))
    client.force_login(personas["admin"])
    html = client.get(reverse("control:index")).content.decode()
    assert reverse("control:approve", args=[p.pk]) not in html
    p.refresh_from_db()
    assert p.status == ProposalStatus.EXPIRED
