"""Test helpers of the medicine pipeline: a need and a run in one line."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from shouwang.medicine.models import Kind, Need, Run, Source

_seq = itertools.count(1)


def make_need(
    resident,
    *,
    drug: str | None = None,
    quantity: str = "2盒",
    kind: str = Kind.CHRONIC,
    source: str = Source.CLINIC,
    prescription_needed: bool = False,
    created_by=None,
    **kw,
) -> Need:
    return Need.objects.create(
        community_id=resident.community_id,
        resident=resident,
        household_id=resident.household_id,
        drug=drug or f"硝苯地平缓释片{next(_seq)}",
        dose=kw.pop("dose", "每日一次，每次一片"),
        quantity=quantity,
        kind=kind,
        source=source,
        prescription_needed=prescription_needed,
        created_at=kw.pop("created_at", None) or timezone.now(),
        created_by=created_by,
        **kw,
    )


def make_run(
    community,
    *,
    source: str = Source.HOSPITAL,
    place: str = "市第一医院",
    date: dt.date | None = None,
    driver=None,
    **kw,
) -> Run:
    return Run.objects.create(
        community=community,
        source=source,
        place=place,
        date=date or timezone.localdate() + dt.timedelta(days=1),
        driver=driver,
        **kw,
    )
