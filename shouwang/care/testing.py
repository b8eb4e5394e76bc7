"""Test helpers of care for vulnerable residents: a pairing and a follow-up in one line."""

from __future__ import annotations

from django.utils import timezone

from shouwang.care.models import FollowUp, Mode, Outcome, Pairing


def make_pairing(resident, *, carer=None, carer_resident=None, every_days=None) -> Pairing:
    return Pairing.objects.create(
        community_id=resident.community_id,
        resident=resident,
        carer=carer,
        carer_resident=carer_resident,
        every_days=every_days,
        started_at=timezone.now(),
    )


def make_follow_up(
    resident,
    *,
    at=None,
    by=None,
    mode: str = Mode.PHONE,
    outcome: str = Outcome.WELL,
    condition: str = "",
    needs: str = "",
    pairing=None,
) -> FollowUp:
    now = timezone.now()
    return FollowUp.objects.create(
        community_id=resident.community_id,
        resident=resident,
        household_id=resident.household_id,
        pairing=pairing,
        at=at or now,
        mode=mode,
        outcome=outcome,
        condition=condition,
        needs=needs,
        by=by,
        created_at=now,
    )
