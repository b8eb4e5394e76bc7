"""Exporting the ledger: masked by default, never a live formula."""

from __future__ import annotations

import csv
import io

from django.db import transaction
from django.utils.translation import gettext as _

from shouwang.accounts.permissions import require
from shouwang.core.audit import audit
from shouwang.core.errors import DomainError
from shouwang.registry.models import CareTag
from shouwang.registry.vocab import FIELD_LABELS

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str:
    """A cell that starts like a formula is prefixed with ' so Excel shows it as text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


EXPORT_COLUMNS = (
    "compound", "building", "unit", "door", "relation", "name", "id_type", "id_number", "phone",
    "sex", "birth_date", "residency", "presence", "tags", "grid", "note",
)  # fmt: skip


def _headers() -> list[str]:
    return [str(FIELD_LABELS[c]) for c in EXPORT_COLUMNS]


def _rows(qs, *, full: bool):
    for r in qs.iterator(chunk_size=2000):
        b = r.household.building
        unit = r.household.dwelling.unit
        if full:
            id_number = r.id_number
            phone = r.phone[3:] if r.phone.startswith("+86") else r.phone
        else:
            id_number, phone = r.id_number_masked, r.phone_masked
        yield [
            b.compound.name,
            b.name,
            unit.name if unit else "",
            r.household.dwelling.door,
            r.get_relation_display(),
            r.name,
            r.get_id_type_display(),
            id_number,
            phone,
            r.get_sex_display() if r.sex else "",
            r.birth_date.isoformat() if r.birth_date else "",
            r.get_residency_display(),
            r.get_presence_display(),
            "、".join(CareTag.names_of(r.tags)),
            b.grid.name if b.grid else "",
            r.note,
        ]


@transaction.atomic
def registry_export(
    *, actor, residents, fmt: str = "xlsx", full: bool = False, reason: str = ""
) -> tuple[bytes, str]:
    """Returns (file bytes, content type). `residents` is an already scoped queryset."""
    require(actor, "ledger.export")
    if fmt not in ("xlsx", "csv"):
        raise DomainError("format_unknown", _("Choose xlsx or csv."))
    if full:
        require(actor, "reveal.id_number")
        if len((reason or "").strip()) < 2:
            raise DomainError(
                "reason_required",
                _("An export with full ID numbers and phones needs a reason."),
                fields={"reason": _("Required.")},
            )
    qs = residents.select_related(
        "household__dwelling__unit", "household__building__compound", "household__building__grid"
    ).order_by(
        "household__building__compound__name",
        "household__building__name",
        "household__dwelling__door",
        "household_id",
        "id",
    )
    count = 0
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(_headers())
        for row in _rows(qs, full=full):
            w.writerow([neutralise(c) for c in row])
            count += 1
        # utf-8 with BOM: what Chinese Excel opens without garbling.
        data = buf.getvalue().encode("utf-8-sig")
        ctype = "text/csv; charset=utf-8"
    else:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell

        wb = Workbook(write_only=True)
        ws = wb.create_sheet(_("Residents"))
        ws.append(_headers())
        for row in _rows(qs, full=full):
            cells = []
            for c in row:
                cell = WriteOnlyCell(ws, value=neutralise(c))
                cell.data_type = "s"  # always text: an ID must never become a number
                cells.append(cell)
            ws.append(cells)
            count += 1
        out = io.BytesIO()
        wb.save(out)
        data = out.getvalue()
        ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    audit(
        actor=actor,
        action="registry.export.full" if full else "registry.export",
        community=actor.community_id,
        target_type="registry.export",
        reason=reason if full else "",
        summary=f"{count} residents, {fmt}{', full values' if full else ', masked'}",
    )
    return data, ctype
