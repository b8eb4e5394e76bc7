"""Tests only: put a place under a level without going through four eyes (the rules of which
are tested in control/tests). Other apps' tests use this to set the scene."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from shouwang.control import levels
from shouwang.control.models import Control, PlaceKind, Proposal, ProposalStatus
from shouwang.registry.models import Building, Compound, Unit


def place_fields(place) -> dict:
    if isinstance(place, Compound):
        return {"kind": PlaceKind.COMPOUND, "compound": place}
    if isinstance(place, Building):
        return {"kind": PlaceKind.BUILDING, "building": place}
    if isinstance(place, Unit):
        return {"kind": PlaceKind.UNIT, "unit": place}
    raise TypeError(f"not a place: {place!r}")


def put_under(
    place, level: str, *, starts_at=None, days: int = 14, reason: str = "测试"
) -> Control:
    """Place `place` (a Compound, Building or Unit) under `level` from `starts_at` (default: an
    hour ago) for `days`."""
    starts_at = starts_at or timezone.now() - dt.timedelta(hours=1)
    fields = {"community_id": place.community_id, **place_fields(place)}
    p = Proposal.objects.create(
        **fields,
        level=level,
        reason=reason,
        starts_at=starts_at,
        planned_end=starts_at + dt.timedelta(days=days),
        proposed_at=starts_at,
        expires_at=starts_at + dt.timedelta(days=1),
        status=ProposalStatus.APPROVED,
        decided_at=starts_at,
    )
    c = Control.objects.create(
        **fields,
        level=level,
        reason=reason,
        starts_at=starts_at,
        planned_end=p.planned_end,
        proposal=p,
    )
    levels.changed()
    return c
