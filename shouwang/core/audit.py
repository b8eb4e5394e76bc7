"""Writing audit rows. Call inside the service's transaction so the row commits with the change."""

from __future__ import annotations

from typing import Any

from shouwang.core.context import current_address
from shouwang.core.models import AuditEvent


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
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
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
