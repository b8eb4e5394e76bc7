"""Builders for the rounds, results and visits tests: a round, tubes and samples written
directly (the scan service has its own tests)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone

from shouwang.screening import services
from shouwang.screening.models import Sample, Tube


def make_round(admin, *, number=1, kind="mass", date=None, **kw):
    return services.round_save(
        actor=admin,
        community=admin.community,
        kind=kind,
        number=number,
        date=date or timezone.localdate(),
        starts_at=dt.time(7),
        ends_at=dt.time(11),
        **kw,
    )


def make_tube(rnd, code, *, capacity=10):
    return Tube.objects.create(
        community_id=rnd.community_id,
        round=rnd,
        code=code,
        capacity=capacity,
        opened_at=timezone.now(),
    )


def swab(tube, resident, *, counted=True, walk_in_name=""):
    now = timezone.now()
    return Sample.objects.create(
        uid=uuid.uuid4(),
        community_id=tube.community_id,
        round_id=tube.round_id,
        tube=tube,
        resident=resident,
        device_at=now,
        server_at=now,
        counted=counted,
        walk_in_name=walk_in_name,
    )
