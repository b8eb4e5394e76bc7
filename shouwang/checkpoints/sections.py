"""The household page's checkpoint section: parcels at the gate for the household.

On the residents' page the household sees each parcel's step (on the shelf, disinfected and held
until …, with the building volunteer, delivered) and confirms "received" once the volunteer has
it; a proxy sees them only with consent for the whole household (a parcel's contents can be
private to one member). On 一户一档, staff at the gate see the household's parcels."""

from __future__ import annotations

from shouwang.accounts.permissions import can
from shouwang.checkpoints import parcels
from shouwang.checkpoints.models import ParcelStatus
from shouwang.core import sections
from shouwang.core.sections import Section


def _resident(request, household, viewer):
    consent = viewer.get("consent") if isinstance(viewer, dict) else None
    if consent is not None and consent.resident_id:
        return None
    rows = parcels.household_parcels(household.pk)
    if not rows:
        return None
    return {"parcels": rows, "handed": ParcelStatus.HANDED}


def _staff(request, household, viewer):
    if not can(request.user, "checkpoints.guard"):
        return None
    rows = parcels.household_parcels(household.pk, days=30)
    if not rows:
        return None
    return {"parcels": rows}


sections.register(
    sections.RESIDENT,
    Section("parcels", "checkpoints/sections/resident.html", _resident, order=25),
)
sections.register(
    sections.STAFF, Section("parcels", "checkpoints/sections/staff.html", _staff, order=45)
)
