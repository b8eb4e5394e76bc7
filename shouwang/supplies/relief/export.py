"""A grid's distribution list as .xlsx: the same rows and order as the printed list, phones
masked. A file that leaves the system is logged like every export."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from shouwang.core.audit import audit


def grid_xlsx(batch, grid_name: str, rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = (grid_name or "list")[:31]
    ws.append([f"{batch.title} · {grid_name}"])
    ws["A1"].font = Font(bold=True, size=14)
    if batch.content_lines:
        ws.append([_("One portion: %(c)s") % {"c": "; ".join(batch.content_lines)}])
    ws.append([])
    head = [
        _("Building"),
        _("Door"),
        _("Head of household"),
        _("Phone"),
        _("People"),
        _("Portions"),
        _("Status"),
        _("Signature"),
    ]
    ws.append(head)
    header_row = ws.max_row
    thin = Side(style="thin", color="999999")
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
        cell.border = Border(bottom=thin)
    total = 0
    for a in rows:
        ws.append(
            [
                f"{a.building.compound.name} {a.building.name}",
                a.door,
                a.head_masked,
                a.phone_masked,
                a.people,
                a.portions,
                str(a.get_status_display()),
                "",
            ]
        )
        total += a.portions
    ws.append([_("Total"), "", "", "", "", total])
    ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
    for i, width in enumerate([22, 14, 14, 14, 8, 8, 12, 20], start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    for row in ws.iter_rows(min_row=header_row + 1):
        row[4].alignment = row[5].alignment = Alignment(horizontal="right")
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def grid_export(*, actor, batch, grid_name: str, rows) -> bytes:
    data = grid_xlsx(batch, grid_name, rows)
    audit(
        actor=actor,
        action="relief.export",
        community=batch.community_id,
        target=batch,
        summary=f"{batch.title} · {grid_name}: {len(rows)} rows ({len(data)} bytes)",
    )
    return data
