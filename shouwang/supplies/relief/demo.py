"""Relief in the demo community: Huamei's second round after the recount — one portion per
household, two from six people — issued to every household, with the first grids' deliveries
recorded (a few not at home or refused, followed up).

The batch is made and issued through the services; the deliveries are written directly (a demo
may do that, the product never does). Deterministic: the same ledger gives the same records."""

from __future__ import annotations

import random

from django.db.models import Q
from django.utils import timezone

from shouwang.supplies.relief import selectors, services
from shouwang.supplies.relief.models import ReliefAllocation

TITLE = "第二批生活物资（按户发放）"
CONTENTS = "大米 5 kg\n食用油 1.8 L\n挂面 2 kg\n鸡蛋 30 枚\n蔬菜包 1 份"
GRIDS_DONE = 4  # the first grids have finished their round
FOLLOW_UPS = ["电话联系，明早再送", "邻居代收，已告知", "本人在外地，暂存居委会"]


def demo_relief(community, admin, *, log=print) -> None:
    """The demo community's relief data: one issued batch with some deliveries recorded."""
    batch = services.batch_save(
        actor=admin,
        community=community,
        title=TITLE,
        contents=CONTENTS,
        portions_available=0,
        per_household=1,
        large_threshold=community.large_household_threshold,
        large_portions=2,
    )
    need = selectors.preview(batch).total.portions
    batch = services.batch_save(
        actor=admin,
        community=community,
        batch=batch,
        title=TITLE,
        contents=CONTENTS,
        portions_available=need,
    )
    result = services.batch_issue(actor=admin, batch=batch)
    rng = random.Random(2022)
    grids = list(
        ReliefAllocation.objects.filter(batch=batch)
        .exclude(grid=None)
        .values_list("grid_id", flat=True)
        .distinct()
        .order_by("grid_id")
    )[:GRIDS_DONE]
    now = timezone.now()
    S = ReliefAllocation.Status
    rows = list(ReliefAllocation.objects.filter(batch=batch, grid_id__in=grids).order_by("pk"))
    for a in rows:
        roll = rng.random()
        a.status = S.DELIVERED if roll < 0.93 else (S.NOT_HOME if roll < 0.98 else S.REFUSED)
        a.recorded_at = now
        a.recorded_by = admin
        if a.status != S.DELIVERED and rng.random() < 0.5:
            a.follow_up = rng.choice(FOLLOW_UPS)
    ReliefAllocation.objects.bulk_update(
        rows, ["status", "recorded_at", "recorded_by", "follow_up"], batch_size=1000
    )
    delivered = sum(a.status == S.DELIVERED for a in rows)
    undelivered = ReliefAllocation.objects.filter(batch=batch).filter(~Q(status=S.DELIVERED))
    log(
        f"  relief: {result.created} households, {result.portions} portions issued; "
        f"{delivered} delivered in {len(grids)} grids, {undelivered.count()} not delivered yet"
    )
