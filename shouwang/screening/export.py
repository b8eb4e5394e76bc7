"""A round's call list as .xlsx, for grid leaders: everyone still missing, with the masked phone,
the household's place and the grid leader — the same rows and order as the missing list. A
file that leaves the system is logged like every export."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Border, Font, Side
from openpyxl.utils import get_column_letter

from shouwang.core.audit import audit
from shouwang.registry.models import CareTag


def missing_xlsx(round, rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = _("Call list")[:31]
    ws.append(
        [f"{round} · {round.date:%Y-%m-%d} · " + _("still to be sampled: %(n)d") % {"n": len(rows)}]
    )
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([])
    ws.append(
        [
            _("Grid"),
            _("Building"),
            _("Unit"),
            _("Door"),
            _("Name"),
            _("Phone"),
            _("Care tags"),
            _("Grid leader"),
            _("Called / outcome"),
        ]
    )
    header_row = ws.max_row
    thin = Side(style="thin", color="999999")
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
        cell.border = Border(bottom=thin)
    for m in rows:
        ws.append(
            [
                m.grid,
                m.building,
                m.unit,
                m.door,
                m.name,
                m.phone_masked,
                "、".join(CareTag.names_of(m.tags)),
                m.leader,
                "",
            ]
        )
    for i, width in enumerate([12, 22, 8, 8, 12, 14, 18, 14, 24], start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def missing_export(*, actor, round, rows) -> bytes:
    data = missing_xlsx(round, rows)
    audit(
        actor=actor,
        action="screening.missing.export",
        community=round.community_id,
        target=round,
        summary=f"{round} {round.date}: {len(rows)} rows ({len(data)} bytes)",
    )
    return data
