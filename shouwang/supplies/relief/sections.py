"""Relief's sections of the household pages (see shouwang.core.sections): staff see the
household's allocations on 一户一档; the household sees what is coming to its door."""

from __future__ import annotations

from shouwang.accounts.permissions import can
from shouwang.core import sections
from shouwang.core.sections import Section
from shouwang.supplies.relief.models import ReliefAllocation, ReliefBatch

SHOWN = 10


def _staff(request, household, viewer):
    if not can(request.user, "relief.deliver"):
        return None
    allocations = list(
        ReliefAllocation.objects.filter(household=household)
        .select_related("batch")
        .order_by("-created_at", "-pk")[:SHOWN]
    )
    if not allocations:
        return None
    return {"allocations": allocations, "can_open": True}


def _resident(request, household, viewer):
    allocations = list(
        ReliefAllocation.objects.filter(
            household=household, batch__status=ReliefBatch.Status.ISSUED
        )
        .select_related("batch")
        .order_by("-created_at", "-pk")[:SHOWN]
    )
    if not allocations:
        return None
    return {"allocations": allocations}


sections.register(sections.STAFF, Section("relief", "relief/sections/staff.html", _staff, order=40))
sections.register(
    sections.RESIDENT, Section("relief", "relief/sections/resident.html", _resident, order=40)
)
