"""The household page's screening section: antigen self-tests, and "stay home" while a pooled
tube of the household's people awaits single-tube re-tests.

Residents (and a proxy with the household's consent) report today's antigen result for each
member; staff with `screening.antigen` see the last days' results on 一户一档."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from shouwang.accounts.permissions import can
from shouwang.core import sections
from shouwang.core.sections import Section
from shouwang.screening import antigen
from shouwang.screening.models import AntigenReport, AntigenResult

STAFF_DAYS = 7


def _resident(request, household, viewer):
    consent = (viewer or {}).get("consent") if isinstance(viewer, dict) else None
    only = consent.resident_id if consent is not None and consent.resident_id else None
    members = antigen.household_day(household, only=only)
    retests = antigen.open_retests(household)
    if only:
        retests = [f for f in retests if f.resident_id == only]
    if not members and not retests:
        return None
    return {
        "today": timezone.localdate(),
        "members": members,
        "retests": retests,
        "results": AntigenResult.choices,
    }


def _staff(request, household, viewer):
    if not can(request.user, "screening.antigen"):
        return None
    since = timezone.localdate() - dt.timedelta(days=STAFF_DAYS - 1)
    reports = list(
        AntigenReport.objects.filter(resident__household=household, date__gte=since)
        .select_related("resident")
        .order_by("-date", "resident_id")
    )
    retests = antigen.open_retests(household)
    if not reports and not retests:
        return None
    return {"reports": reports, "retests": retests}


sections.register(
    sections.RESIDENT,
    Section("screening", "screening/sections/resident.html", _resident, order=15),
)
sections.register(
    sections.STAFF, Section("screening", "screening/sections/staff.html", _staff, order=35)
)
