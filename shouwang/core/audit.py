"""Writing audit rows. Call inside the service's transaction so the row commits with the change."""

from __future__ import annotations

from typing import Any

from shouwang.core.context import current_address
from shouwang.core.models import AuditEvent


def signed_in(actor):
    """The actor as a user to record (who did it), or None when it is not a signed-in user: a
    household on its own page, a command, the system."""
    return actor if getattr(actor, "is_authenticated", False) else None


def audit(
    *,
    actor: Any,
    action: str,
    community: Any = None,
    target: Any = None,
    target_type: str = "",
    target_id: Any = "",
    summary: str = "",
    field: str = "",
    reason: str = "",
    address: str | None = None,
) -> AuditEvent:
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target.pk
    actor = signed_in(actor)
    if address is None:
        address = current_address.get()
    return AuditEvent.objects.create(
        community_id=getattr(community, "pk", community),
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=str(target_id or ""),
        summary=summary[:500],
        field=field,
        reason=reason[:500],
        address=address,
    )
