"""The movement history as .xlsx: one row per movement of the filtered list. Recipients are
teams, checkpoints and named helpers (no phones, no ID numbers); the export is audited."""

from __future__ import annotations

import io

from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.core.audit import audit
from shouwang.supplies.materials.models import Movement, RecipientKind

EXPORT_LIMIT = 100_000


def movements_xlsx(qs) -> tuple[bytes, int]:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = _("Movements")
    ws.append(
        [
            _("When"),
            _("Kind"),
            _("Item"),
            _("Unit"),
            _("Quantity"),
            _("From"),
            _("To"),
            _("Issued to"),
            _("Recipient"),
            _("Reference"),
            _("Note"),
            _("By"),
        ]
    )
    for cell in ws[1]:
        cell.font = Font(bold=True)
    kinds, recipients = dict(Movement.Kind.choices), dict(RecipientKind.choices)
    n = 0
    for m in qs[:EXPORT_LIMIT].iterator(chunk_size=2000):
        ws.append(
            [
                timezone.localtime(m.at).replace(tzinfo=None),
                str(kinds.get(m.kind, m.kind)),
                m.item.name,
                m.item.unit,
                m.signed_quantity if m.kind == Movement.Kind.ADJUSTMENT else m.quantity,
                m.from_location.name if m.from_location_id else "",
                m.to_location.name if m.to_location_id else "",
                str(recipients.get(m.recipient_kind, "")),
                m.recipient,
                m.reference,
                m.note,
                m.actor.username if m.actor_id else "",
            ]
        )
        ws.cell(row=ws.max_row, column=1).number_format = "yyyy-mm-dd hh:mm"
        n += 1
    for col, width in zip(
        "ABCDEFGHIJKL", (18, 12, 20, 8, 10, 16, 16, 12, 18, 24, 24, 14), strict=True
    ):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), n


def movements_export(*, actor, community_id: int, qs) -> bytes:
    data, n = movements_xlsx(qs)
    audit(
        actor=actor,
        action="materials.movements.export",
        community=community_id,
        summary=f"{n} movements ({len(data)} bytes)",
    )
    return data
