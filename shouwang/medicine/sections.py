"""This app's sections of the household page (一户一档): see shouwang/core/sections.py.

Staff (medicine.register) see every need of the household with its stage; a psychiatric or
chemotherapy drug is named in full only to medicine.manage roles, the others read its kind.
The household itself reads its own needs in full, with the stage in plain words; a proxy acting
on the household's consent reads the kind only for those two kinds (and only the consented
person's needs, when the consent names one)."""

from __future__ import annotations

from shouwang.accounts.permissions import can
from shouwang.core import sections
from shouwang.core.sections import Section
from shouwang.medicine import selectors


def _staff(request, household, viewer):
    if not can(request.user, "medicine.register"):
        return None
    needs = selectors.household_needs(household)
    if not needs:
        return None
    full = can(request.user, "medicine.manage")
    return {
        "needs": [{"need": n, **selectors.shown(n, full)} for n in needs],
        "may_register": True,
    }


def _resident(request, household, viewer):
    consent = viewer.get("consent") if isinstance(viewer, dict) else None
    only = consent.resident_id if consent is not None and consent.resident_id else None
    needs = selectors.household_needs(household, only_resident=only)
    if not needs:
        return None
    full = consent is None
    return {
        "needs": [
            {
                "need": n,
                "plain": selectors.PLAIN_STAGE[n.stage],
                **selectors.shown(n, full),
            }
            for n in needs
        ]
    }


sections.register(
    sections.STAFF, Section("medicine", "medicine/sections/staff.html", _staff, order=55)
)
sections.register(
    sections.RESIDENT,
    Section("medicine", "medicine/sections/resident.html", _resident, order=55),
)
