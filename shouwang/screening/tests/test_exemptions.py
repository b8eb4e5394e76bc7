"""Exemptions: added with a reason (and an audit row), removed, scoped to the grid leader's grid."""

from __future__ import annotations

import pytest
from django.utils import timezone

from shouwang.core.errors import DomainError
from shouwang.core.models import AuditEvent
from shouwang.registry.models import Presence, Resident
from shouwang.screening import coverage
from shouwang.screening.exemptions import exemption_add, exemption_remove
from shouwang.screening.models import Exemption
from shouwang.screening.tests.test_coverage import make_round


@pytest.fixture
def rnd(ledger):
    return make_round(ledger["h1"].community)


def test_add_and_remove_with_audit(rnd, ledger, personas):
    admin = personas["admin"]
    e = exemption_add(actor=admin, round=rnd, resident=ledger["r2"], reason="hospital", note="住院")
    assert ledger["r2"].pk not in coverage.missing_ids(rnd)
    assert AuditEvent.objects.filter(action="screening.exemption.add", target_id=str(e.pk)).exists()
    exemption_remove(actor=admin, exemption=e)
    assert not Exemption.objects.filter(pk=e.pk).exists()
    assert ledger["r2"].pk in coverage.missing_ids(rnd)
    assert AuditEvent.objects.filter(action="screening.exemption.remove").count() == 1


@pytest.mark.parametrize(
    ("reason", "note", "code"),
    [("", "", "invalid"), ("nonsense", "", "invalid"), ("other", "", "invalid")],
)
def test_reason_is_required(rnd, ledger, personas, reason, note, code):
    with pytest.raises(DomainError) as e:
        exemption_add(
            actor=personas["admin"], round=rnd, resident=ledger["r2"], reason=reason, note=note
        )
    assert e.value.code == code
    assert not Exemption.objects.exists()


def test_twice_and_ledger_exempt_and_closed(rnd, ledger, personas):
    admin = personas["admin"]
    exemption_add(actor=admin, round=rnd, resident=ledger["r2"], reason="away")
    with pytest.raises(DomainError) as e:
        exemption_add(actor=admin, round=rnd, resident=ledger["r2"], reason="away")
    assert e.value.code == "already_exempt"
    Resident.objects.filter(pk=ledger["r3"].pk).update(presence=Presence.HOSPITAL)
    with pytest.raises(DomainError) as e:
        exemption_add(
            actor=admin, round=rnd, resident=Resident.objects.get(pk=ledger["r3"].pk), reason="away"
        )
    assert e.value.code == "already_exempt"
    rnd.closed_at = timezone.now()
    rnd.save(update_fields=["closed_at"])
    with pytest.raises(DomainError) as e:
        exemption_add(actor=admin, round=rnd, resident=ledger["r1"], reason="away")
    assert e.value.code == "round_closed"


def test_other_community_resident_refused(rnd, ledger, personas):
    with pytest.raises(DomainError):
        exemption_add(actor=personas["admin"], round=rnd, resident=ledger["ro"], reason="away")


def test_pages_add_and_remove(client, rnd, ledger, personas):
    client.force_login(personas["grid_leader"])
    url = f"/screening/rounds/{rnd.pk}/exemptions/"
    resp = client.post(url, {"resident": ledger["r2"].pk, "reason": "isolated", "note": "居家"})
    assert resp.status_code == 302
    e = Exemption.objects.get(round=rnd, resident=ledger["r2"])
    assert e.created_by == personas["grid_leader"]
    page = client.get(url).content.decode()
    assert "李四" in page and "居家" in page
    # A resident of grid B is not the grid leader's to exempt.
    client.post(url, {"resident": ledger["r3"].pk, "reason": "away"})
    assert not Exemption.objects.filter(resident=ledger["r3"]).exists()
    resp = client.post(f"/screening/exemptions/{e.pk}/remove/")
    assert resp.status_code == 302
    assert not Exemption.objects.filter(pk=e.pk).exists()


def test_grid_leader_cannot_remove_another_grids_exemption(client, rnd, ledger, personas):
    e = exemption_add(actor=personas["admin"], round=rnd, resident=ledger["r3"], reason="away")
    client.force_login(personas["grid_leader"])
    assert client.post(f"/screening/exemptions/{e.pk}/remove/").status_code == 404
    assert Exemption.objects.filter(pk=e.pk).exists()


def test_api_add_list_remove(client, rnd, ledger, personas):
    client.force_login(personas["staff"])
    base = f"/api/v1/screening/rounds/{rnd.pk}/exemptions"
    resp = client.post(
        base,
        {"resident_id": ledger["r1b"].pk, "reason": "moved_out", "note": "已搬走"},
        content_type="application/json",
    )
    assert resp.status_code == 201, resp.content
    eid = resp.json()["exemption_id"]
    listed = {x["name"]: x for x in client.get(base).json()}
    assert listed["王大明"]["reason"] == "moved_out"
    resp = client.post(
        base, {"resident_id": ledger["r1b"].pk, "reason": "away"}, content_type="application/json"
    )
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "already_exempt"
    assert client.delete(f"/api/v1/screening/exemptions/{eid}").status_code == 204
    assert "王大明" not in {x["name"] for x in client.get(base).json()}
