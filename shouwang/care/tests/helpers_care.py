"""Builders for the care tests (testing.py is the lead's)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from shouwang.care.selectors import local_midnight
from shouwang.registry.models import CareTag


def tag(resident, bits: int = CareTag.AGE_80 | CareTag.LIVING_ALONE):
    resident.tags = int(bits)
    resident.save(update_fields=["tags"])
    return resident


def at_local(day: dt.date, hour: int = 10) -> dt.datetime:
    return local_midnight(day) + dt.timedelta(hours=hour)


def today() -> dt.date:
    return timezone.localdate()
