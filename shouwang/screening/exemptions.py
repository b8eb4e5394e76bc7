"""Exemptions: a resident the round does not expect, with a reason and a note, added and removed
by the office or the grid leader (their grid). The ledger's presence (away, in hospital, moved
out) exempts without a row here; see `coverage`."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from shouwang.core.audit import audit
from shouwang.core.errors import Conflict, invalid
from shouwang.registry.models import Presence
from shouwang.screening.models import Exemption, ExemptReason, Round


def exemption_add(*, actor, round: Round, resident, reason: str, note: str = "") -> Exemption:
    if reason not in ExemptReason.values:
        raise invalid("reason", _("Choose a reason."))
    note = (note or "").strip()[:200]
    if reason == ExemptReason.OTHER and not note:
        raise invalid("note", _("Say why in the note."))
    if resident.community_id != round.community_id:
        raise invalid("resident", _("This person is not in the round's community."))
    if round.closed_at is not None:
        raise Conflict("round_closed", _("This round is closed: its exemptions are final."))
    if resident.presence != Presence.PRESENT:
        raise Conflict(
            "already_exempt",
            _("%(name)s is already exempt: the ledger says %(presence)s.")
            % {"name": resident.name, "presence": resident.get_presence_display()},
        )
    try:
        with transaction.atomic():
            e = Exemption.objects.create(
                community_id=round.community_id,
                round=round,
                resident=resident,
                reason=reason,
                note=note,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            audit(
                actor=actor,
                action="screening.exemption.add",
                community=round.community_id,
                target=e,
                summary=f"{round} · {resident.name} (#{resident.pk}): {reason}"
                + (f" — {note}" if note else ""),
            )
    except IntegrityError:
        raise Conflict(
            "already_exempt",
            _("%(name)s is already exempt from this round.") % {"name": resident.name},
        ) from None
    return e


def exemption_remove(*, actor, exemption: Exemption) -> None:
    round = exemption.round
    if round.closed_at is not None:
        raise Conflict("round_closed", _("This round is closed: its exemptions are final."))
    with transaction.atomic():
        audit(
            actor=actor,
            action="screening.exemption.remove",
            community=exemption.community_id,
            target=exemption,
            summary=f"{round} · {exemption.resident.name} (#{exemption.resident_id}): "
            f"{exemption.reason}",
        )
        exemption.delete()
