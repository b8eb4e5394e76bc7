"""Demo data: a day of passages at the demo checkpoints, decided by the real decision
(`decision.record`), so that the guard page's recent list and the dashboard's "denials by
reason" have something true to show. Called by the lead's demo command; not hooked in here."""

from __future__ import annotations

import datetime as dt
import random
import uuid

from django.utils import timezone

from shouwang.checkpoints import decision
from shouwang.checkpoints.gatekey import GateKey
from shouwang.checkpoints.models import Checkpoint, Passage
from shouwang.registry.models import Resident
from shouwang.residents.models import Pass
from shouwang.residents.tokens import token_for

PER_CHECKPOINT = 60


def demo(community, *, now=None, users: dict, log=print) -> int:
    """A day of passages (06:00 until `now`) at each checkpoint in use; the number made. Runs
    once per community."""
    if Passage.objects.filter(community=community).exists():
        log(f"{community.code}: passages exist, skipped")
        return 0
    now = now or timezone.now()
    rng = random.Random(2022)
    guard = users.get("guard") or users.get("volunteer") or users["admin"]
    checkpoints = list(Checkpoint.objects.filter(community=community, is_active=True))
    if not checkpoints:
        log(f"{community.code}: no checkpoint in use, no passages")
        return 0
    people = list(Resident.objects.filter(community=community).values_list("pk", flat=True)[:400])
    codes = dict(
        Pass.objects.filter(resident_id__in=people, status=Pass.Status.ACTIVE).values_list(
            "resident_id", "code"
        )
    )
    if not people:
        return 0
    start = timezone.localtime(now).replace(hour=6, minute=0, second=0, microsecond=0)
    span = max((now - start).total_seconds(), 3600)
    made = 0
    for cp in checkpoints:
        gate = GateKey(guard.pk, community.pk, cp.pk, "zh-hans")
        times = sorted(
            start + dt.timedelta(seconds=rng.uniform(0, span)) for _ in range(PER_CHECKPOINT)
        )
        for at in times:
            who = rng.choice(people)
            roll = rng.random()
            temperature = (
                None
                if roll < 0.04
                else f"{rng.choice(['37.4', '37.8', '38.1'])}"
                if roll < 0.08
                else f"36.{rng.randint(1, 8)}"
            )
            body = {
                "uid": str(uuid.uuid4()),
                "at": at.isoformat(),
                "direction": rng.choice(["in", "out"]),
                "temperature": temperature,
            }
            if who in codes and rng.random() < 0.85:
                body["pass"] = token_for(codes[who])
            else:
                body["resident"] = who
            decision.record(gate, body, now=at)
            made += 1
    log(f"{community.code}: {made} passages at {len(checkpoints)} checkpoint(s)")
    return made
