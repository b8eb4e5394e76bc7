"""Pass services: issue, reissue, revoke, resolve and issuing many at once for printing."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from shouwang.core.errors import DomainError
from shouwang.core.models import AuditEvent
from shouwang.residents import services, tokens
from shouwang.residents.models import Pass
from shouwang.residents.services import PassRefused


def token_of(p: Pass) -> str:
    return tokens.token_for(p.code)


def refused_code(raw: str, community_id=None) -> str:
    with pytest.raises(PassRefused) as info:
        services.pass_resolve(raw, community_id=community_id)
    assert info.value.status == 422
    assert "token" in info.value.fields, "the refusal is shown at the token field"
    return info.value.code


@pytest.fixture
def staff(personas):
    return personas["staff"]


# --- issue and reissue ----------------------------------------------------------------------


def test_issue_creates_one_active_pass(staff, ledger):
    r1 = ledger["r1"]
    p = services.pass_issue(actor=staff, resident=r1)
    assert Pass.objects.filter(resident=r1).count() == 1
    p.refresh_from_db()
    assert p.status == Pass.Status.ACTIVE
    assert p.community_id == r1.community_id
    assert p.issued_by == staff
    assert len(p.code) == tokens.CODE_LEN and set(p.code) <= set(tokens.ALPHABET)
    assert services.pass_active(r1.pk) == p
    ev = AuditEvent.objects.get(action="pass.issue")
    assert ev.actor == staff and ev.target_id == str(r1.pk)
    assert ev.community_id == r1.community_id


def test_issued_pass_resolves_to_the_person(staff, ledger, community):
    p = services.pass_issue(actor=staff, resident=ledger["r1"])
    holder = services.pass_resolve(token_of(p), community_id=community.pk)
    assert holder.pass_id == p.pk
    assert holder.resident_id == ledger["r1"].pk
    assert holder.household_id == ledger["h1"].pk
    assert holder.community_id == community.pk


def test_reissue_revokes_the_old_pass_at_once(staff, ledger, community):
    r1 = ledger["r1"]
    old = services.pass_issue(actor=staff, resident=r1)
    old_token = token_of(old)
    assert services.pass_resolve(old_token, community_id=community.pk).pass_id == old.pk

    new = services.pass_issue(actor=staff, resident=r1, reason="card lost")
    assert new.pk != old.pk and new.code != old.code
    old.refresh_from_db()
    assert old.status == Pass.Status.REVOKED
    assert old.revoked_at is not None
    assert old.revoked_by == staff
    assert old.revoke_reason == "card lost"
    assert refused_code(old_token, community.pk) == "pass_revoked"
    assert services.pass_resolve(token_of(new), community_id=community.pk).pass_id == new.pk
    assert Pass.objects.filter(resident=r1, status="active").get() == new
    ev = AuditEvent.objects.get(action="pass.reissue")
    assert old.code in ev.summary and new.code in ev.summary
    assert ev.reason == "card lost"


def test_reissue_without_reason_says_reissued(staff, ledger):
    old = services.pass_issue(actor=staff, resident=ledger["r1"])
    services.pass_issue(actor=staff, resident=ledger["r1"])
    old.refresh_from_db()
    assert old.revoke_reason == "reissued"


def test_revoked_message_names_the_date(staff, ledger):
    p = services.pass_issue(actor=staff, resident=ledger["r1"])
    services.pass_revoke(actor=staff, pass_=p, reason="lost")
    with pytest.raises(PassRefused) as info:
        services.pass_resolve(token_of(p), community_id=None)
    p.refresh_from_db()
    from django.utils import timezone
    from django.utils.formats import date_format

    assert date_format(timezone.localtime(p.revoked_at), "SHORT_DATE_FORMAT") in str(
        info.value.message
    )


# --- revoke ---------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_revoke_requires_a_reason(staff, ledger, reason):
    p = services.pass_issue(actor=staff, resident=ledger["r1"])
    with pytest.raises(DomainError) as info:
        services.pass_revoke(actor=staff, pass_=p, reason=reason)
    assert info.value.code == "reason_required"
    assert "reason" in info.value.fields
    p.refresh_from_db()
    assert p.status == Pass.Status.ACTIVE
    assert not AuditEvent.objects.filter(action="pass.revoke").exists()


def test_revoke_stops_the_pass_and_is_audited(staff, ledger, community):
    p = services.pass_issue(actor=staff, resident=ledger["r1"])
    out = services.pass_revoke(actor=staff, pass_=p, reason="  photo shared in a chat  ")
    assert out.status == Pass.Status.REVOKED
    p.refresh_from_db()
    assert p.status == Pass.Status.REVOKED
    assert p.revoke_reason == "photo shared in a chat"
    assert p.revoked_by == staff and p.revoked_at is not None
    assert refused_code(token_of(p), community.pk) == "pass_revoked"
    assert services.pass_active(ledger["r1"].pk) is None
    ev = AuditEvent.objects.get(action="pass.revoke")
    assert ev.actor == staff
    assert ev.community_id == community.pk
    assert ev.reason == "photo shared in a chat"
    assert ev.target_id == str(ledger["r1"].pk)
    assert p.code in ev.summary


def test_revoke_is_idempotent(staff, ledger, personas):
    p = services.pass_issue(actor=staff, resident=ledger["r1"])
    services.pass_revoke(actor=staff, pass_=p, reason="lost")
    p.refresh_from_db()
    first_at = p.revoked_at
    again = services.pass_revoke(actor=personas["admin"], pass_=p, reason="something else")
    assert again.status == Pass.Status.REVOKED
    p.refresh_from_db()
    assert p.revoked_at == first_at
    assert p.revoke_reason == "lost"
    assert p.revoked_by == staff
    assert AuditEvent.objects.filter(action="pass.revoke").count() == 1


def test_revoke_with_a_stale_object_still_revokes_once(staff, ledger):
    """The service reads the row again: a stale instance (status active in memory) of a pass
    revoked meanwhile changes nothing."""
    p = services.pass_issue(actor=staff, resident=ledger["r1"])
    stale = Pass.objects.get(pk=p.pk)
    services.pass_revoke(actor=staff, pass_=p, reason="lost")
    services.pass_revoke(actor=staff, pass_=stale, reason="again")
    assert AuditEvent.objects.filter(action="pass.revoke").count() == 1


# --- resolve --------------------------------------------------------------------------------


def test_resolve_in_another_community_is_elsewhere(staff, ledger, other_community, community):
    p = services.pass_issue(actor=staff, resident=ledger["r1"])
    assert refused_code(token_of(p), other_community.pk) == "pass_elsewhere"
    # The same pass, at its own community or for internal callers, is fine.
    assert services.pass_resolve(token_of(p), community_id=community.pk).resident_id
    assert services.pass_resolve(token_of(p), community_id=None).resident_id


def test_revoked_pass_of_another_community_is_elsewhere(staff, ledger, other_community):
    p = services.pass_issue(actor=staff, resident=ledger["r1"])
    services.pass_revoke(actor=staff, pass_=p, reason="lost")
    assert refused_code(token_of(p), other_community.pk) == "pass_elsewhere"


def test_resolve_unknown_code_with_a_valid_check(ledger, community):
    code = "ZZZZZZZZ"
    assert not Pass.objects.filter(code=code).exists()
    assert refused_code(tokens.token_for(code), community.pk) == "pass_unknown"


@pytest.mark.parametrize(
    "raw, code",
    [("", "pass_empty"), ("   ", "pass_empty"), ("hello", "pass_unreadable")],
)
def test_resolve_refuses_junk(db, raw, code):
    assert refused_code(raw) == code


def test_resolve_refuses_a_forged_check(staff, ledger):
    p = services.pass_issue(actor=staff, resident=ledger["r1"])
    t = token_of(p)
    forged = t[:-1] + ("0" if t[-1] != "0" else "1")
    assert refused_code(forged) == "pass_forged"


def test_resolve_accepts_what_a_scanner_types(staff, ledger, community):
    p = services.pass_issue(actor=staff, resident=ledger["r1"])
    typed = tokens.grouped(token_of(p)).lower()
    assert services.pass_resolve(typed, community_id=community.pk).pass_id == p.pk


def test_holder_has_a_masked_name_and_the_place(staff, ledger, community):
    r1 = ledger["r1"]
    p = services.pass_issue(actor=staff, resident=r1)
    holder = services.pass_resolve(token_of(p), community_id=community.pk)
    assert holder.name_masked
    assert holder.name_masked != r1.name
    assert r1.name not in holder.name_masked
    assert holder.name_masked.startswith("王")
    assert "小明" not in holder.name_masked
    assert holder.place == "华美小区 1号楼 1单元 101"
    assert holder.presence == "present"
    # Nothing in the holder carries the full name.
    assert r1.name not in repr(holder)


def test_holder_of_a_two_character_name_is_masked(staff, ledger, community):
    p = services.pass_issue(actor=staff, resident=ledger["r2"])
    holder = services.pass_resolve(token_of(p), community_id=community.pk)
    assert holder.name_masked != "李四" and "四" not in holder.name_masked
    assert holder.place == "华美小区 1号楼 1单元 102"


# --- one active pass per person ---------------------------------------------------------------


def test_two_active_passes_for_one_resident_are_impossible(staff, ledger):
    r1 = ledger["r1"]
    services.pass_issue(actor=staff, resident=r1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Pass.objects.create(community_id=r1.community_id, resident=r1, code="ABCDEFGH")
    assert Pass.objects.filter(resident=r1, status="active").count() == 1


def test_many_revoked_passes_are_allowed(staff, ledger):
    r1 = ledger["r1"]
    for code in ("AAAAAAAA", "BBBBBBBB", "CCCCCCCC"):
        Pass.objects.create(community_id=r1.community_id, resident=r1, code=code, status="revoked")
    services.pass_issue(actor=staff, resident=r1)
    assert Pass.objects.filter(resident=r1).count() == 4
    assert Pass.objects.filter(resident=r1, status="active").count() == 1


def test_codes_are_unique(staff, ledger):
    p = services.pass_issue(actor=staff, resident=ledger["r1"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Pass.objects.create(
            community_id=p.community_id, resident=ledger["r2"], code=p.code, status="revoked"
        )


# --- pass_ensure ----------------------------------------------------------------------------


def test_ensure_issues_missing_and_reuses_existing(staff, ledger):
    r1, r1b, r2 = ledger["r1"], ledger["r1b"], ledger["r2"]
    existing = services.pass_issue(actor=staff, resident=r1)
    out = services.pass_ensure(actor=staff, residents=[r1, r1b, r2])
    assert set(out) == {r1.pk, r1b.pk, r2.pk}
    assert out[r1.pk].pk == existing.pk and out[r1.pk].code == existing.code
    assert out[r1b.pk].resident_id == r1b.pk and out[r2.pk].resident_id == r2.pk
    for p in out.values():
        assert p.pk is not None
        assert p.status == Pass.Status.ACTIVE
    assert Pass.objects.filter(resident__in=[r1, r1b, r2]).count() == 3
    assert len({p.code for p in out.values()}) == 3
    ev = AuditEvent.objects.get(action="pass.issue_many")
    assert ev.actor == staff and "2" in ev.summary


def test_ensure_twice_issues_no_new_codes(staff, ledger):
    people = [ledger["r1"], ledger["r1b"], ledger["r2"], ledger["r3"]]
    first = services.pass_ensure(actor=staff, residents=people)
    codes = {rid: p.code for rid, p in first.items()}
    count = Pass.objects.count()
    audits = AuditEvent.objects.filter(action="pass.issue_many").count()
    second = services.pass_ensure(actor=staff, residents=people)
    assert {rid: p.code for rid, p in second.items()} == codes
    assert Pass.objects.count() == count
    assert AuditEvent.objects.filter(action="pass.issue_many").count() == audits


def test_ensure_passes_resolve(staff, ledger, community):
    out = services.pass_ensure(actor=staff, residents=[ledger["r1b"]])
    p = out[ledger["r1b"].pk]
    holder = services.pass_resolve(token_of(p), community_id=community.pk)
    assert holder.resident_id == ledger["r1b"].pk


def test_ensure_of_nobody(staff, db):
    assert services.pass_ensure(actor=staff, residents=[]) == {}
    assert not AuditEvent.objects.filter(action="pass.issue_many").exists()


def test_ensure_then_issue_keeps_one_active(staff, ledger):
    r1 = ledger["r1"]
    services.pass_ensure(actor=staff, residents=[r1])
    new = services.pass_issue(actor=staff, resident=r1)
    assert Pass.objects.get(resident=r1, status="active") == new


def test_ensure_never_issued_only_leaves_revoked_passes_alone(staff, ledger):
    r1, r1b = ledger["r1"], ledger["r1b"]
    p1 = services.pass_issue(actor=staff, resident=r1)
    services.pass_revoke(actor=staff, pass_=p1, reason="lost")
    out = services.pass_ensure(actor=None, residents=[r1, r1b], never_issued_only=True)
    assert set(out) == {r1b.pk}
    assert services.pass_active(r1.pk) is None
    assert out[r1b.pk].issued_by is None
    # Without the flag (printing cards) the revoked person gets a new pass.
    out = services.pass_ensure(actor=staff, residents=[r1, r1b])
    assert set(out) == {r1.pk, r1b.pk}
    assert out[r1.pk].code != p1.code
