"""This app's sections of the household page (一户一档): see shouwang/core/sections.py.

Staff on duty (helpline.take) see every request of the household with its status, owner and
due time, and a button to log a new one for it; health details only to those who may read them
(selectors.may_see_details). The household itself sees its own requests — summary, reference
and status in plain words — and nothing internal (details, notes, owner, resolution); a proxy
with consent for one member sees only that member's."""

from __future__ import annotations

from django.utils import timezone

from shouwang.accounts.permissions import can
from shouwang.core import sections
from shouwang.core.sections import Section
from shouwang.helpline.models import HelpRequest
from shouwang.helpline.selectors import may_see_details

STAFF_LIMIT = 50
RESIDENT_LIMIT = 20


def _staff(request, household, viewer):
    user = request.user
    if not can(user, "helpline.take") or household.community_id != user.community_id:
        return None
    rows = list(
        HelpRequest.objects.filter(household=household)
        .select_related("category", "owner", "resident")
        .order_by("-created_at", "-pk")[:STAFF_LIMIT]
    )
    for r in rows:
        r.show_details = bool(r.details) and may_see_details(user, r)
    return {"requests": rows, "household_id": household.pk, "now": timezone.now()}


def _resident(request, household, viewer):
    consent = viewer.get("consent") if isinstance(viewer, dict) else None
    qs = HelpRequest.objects.filter(household=household)
    if consent is not None and consent.resident_id:
        qs = qs.filter(resident_id=consent.resident_id)
    rows = [
        {
            "reference": r.reference,
            "summary": r.summary,
            "status": r.status,
            "status_label": r.get_status_display(),
            "created_at": r.created_at,
            "for_whom": r.resident.name if r.resident_id else "",
        }
        for r in qs.select_related("resident").order_by("-created_at", "-pk")[:RESIDENT_LIMIT]
    ]
    if not rows:
        return None
    return {"requests": rows}


sections.register(
    sections.STAFF, Section("helpline", "helpline/sections/staff.html", _staff, order=50)
)
sections.register(
    sections.RESIDENT,
    Section("helpline", "helpline/sections/resident.html", _resident, order=50),
)
