"""The household page's area-control section: the level of the household's home, if any — on
the residents' own page (what it means for them, until when) and on the staff's 一户一档."""

from __future__ import annotations

from django.utils import timezone

from shouwang.accounts.permissions import can
from shouwang.control import levels
from shouwang.control import places as pl
from shouwang.control.meaning import MEANING
from shouwang.core import sections
from shouwang.core.sections import Section


def _context(household) -> dict | None:
    c = levels.level_of_household(household)
    if c is None:
        return None
    now = timezone.now()
    return {
        "control": c,
        "place": pl.label(c.place),
        "meaning": MEANING.get(c.level, ""),
        "overdue": c.planned_end is not None and c.planned_end <= now,
    }


def _resident(request, household, viewer):
    return _context(household)


def _staff(request, household, viewer):
    if not can(request.user, "control.view"):
        return None
    return _context(household)


sections.register(
    sections.RESIDENT,
    Section("control", "control/sections/resident.html", _resident, order=5),
)
sections.register(
    sections.STAFF, Section("control", "control/sections/staff.html", _staff, order=5)
)
