import pytest

from shouwang.core.audit import audit
from shouwang.core.models import AuditEvent
from shouwang.registry.services import resident_reveal


def test_audit_rows_cannot_be_changed_or_deleted(personas, community):
    e = audit(actor=personas["admin"], action="x.test", community=community, summary="s")
    e.summary = "changed"
    with pytest.raises(TypeError):
        e.save()
    with pytest.raises(TypeError):
        e.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=e.pk).update(summary="changed")
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=e.pk).delete()
    assert AuditEvent.objects.get(pk=e.pk).summary == "s"


def test_reveal_is_logged_with_who_whose_field_and_why(personas, ledger):
    r = ledger["r1"]
    value = resident_reveal(
        actor=personas["admin"], resident=r, field="id_number", reason="核对核酸漏检"
    )
    assert value == r.id_number
    e = AuditEvent.objects.get(action="resident.reveal")
    assert (e.actor, e.target_id, e.field, e.reason) == (
        personas["admin"],
        str(r.pk),
        "id_number",
        "核对核酸漏检",
    )
    assert r.id_number not in e.summary and r.id_number[-4:] not in e.summary


def test_reveal_without_reason_or_right_is_refused_and_not_logged(personas, ledger):
    from shouwang.core.errors import DomainError, Forbidden

    with pytest.raises(DomainError) as exc:
        resident_reveal(actor=personas["admin"], resident=ledger["r1"], field="phone", reason=" ")
    assert exc.value.code == "reason_required"
    with pytest.raises(Forbidden):
        resident_reveal(
            actor=personas["staff"], resident=ledger["r1"], field="id_number", reason="想看看"
        )
    assert not AuditEvent.objects.filter(action="resident.reveal").exists()
