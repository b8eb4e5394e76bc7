"""Demo data for the checkpoint desk: visitors and couriers at each checkpoint today (some still
inside, one turned away with a fever), and parcels at every step of the shelf chain. Built through
the services, as a guard would; the lead hooks it into the demo."""

from __future__ import annotations

import datetime as dt
import random

from shouwang.checkpoints import parcels, visitors
from shouwang.checkpoints.models import Checkpoint, Visitor
from shouwang.registry.models import Household

VISITORS = [
    # kind, name, phone, company, purpose, temperature, proof
    ("visitor", "刘护士", "13816620001", "", "上门换药", "36.4", "negative"),
    ("visitor", "孙师傅", "13916620002", "", "水管维修", "36.7", "negative"),
    ("courier", "马快递", "15016620003", "顺丰", "", "36.5", "negative"),
    ("courier", "杨骑手", "18616620004", "美团", "", "36.3", "antigen"),
    ("visitor", "何女士", "13716620005", "", "送药给父母", "37.5", "negative"),  # fever
    ("courier", "钱快递", "13616620006", "京东", "", "36.6", "none"),
]
PARCELS = [("顺丰", "药品"), ("京东", "米面"), ("中通", "日用品"), ("美团", "蔬菜"), ("邮政", "书")]


def demo(community, *, now, users) -> dict:
    """Visitors and parcels at the community's checkpoints (one is made if none exists yet).
    Returns counts, for the demo's summary."""
    rng = random.Random(community.pk * 7 + 1)
    guard = users.get("guard") or users.get("admin")
    volunteer = users.get("volunteer") or guard
    checkpoints = list(Checkpoint.objects.filter(community=community, is_active=True))
    if not checkpoints:
        checkpoints = [Checkpoint.objects.create(community=community, name="东门卡口")]
    households = list(
        Household.objects.filter(community=community)
        .select_related("dwelling", "building__compound")
        .order_by("pk")[:200]
    )
    if not households:
        return {"visitors": 0, "parcels": 0}
    made_v = made_p = 0
    for i, cp in enumerate(checkpoints):
        for j, (kind, name, phone, company, purpose, temp, proof) in enumerate(VISITORS):
            if (i + j) % 2 and j:  # not every visitor at every checkpoint
                continue
            at = now - dt.timedelta(hours=5 - j * 0.7, minutes=rng.randrange(50))
            v = visitors.visitor_register(
                actor=guard,
                checkpoint=cp,
                kind=kind,
                name=name,
                phone=phone,
                company=company,
                purpose=purpose,
                host=rng.choice(households) if kind == Visitor.Kind.VISITOR else None,
                temperature=temp,
                proof=proof,
                now=at,
            )
            made_v += 1
            if j % 3 != 1 and v.decision != "deny":
                visitors.visitor_left(
                    actor=guard, visitor=v, now=at + dt.timedelta(minutes=25 + 5 * j)
                )
        # Parcels: one at each step, plus one fresh on the shelf.
        steps = [[], ["disinfected"], ["disinfected"], ["disinfected", "handed"]]
        steps.append(["disinfected", "handed", "delivered"])
        for k, done in enumerate(steps):
            courier, what = PARCELS[k % len(PARCELS)]
            logged = now - dt.timedelta(hours=6 - k * 0.5 if done else 0.2)
            if len(done) == 1 and k == 1:
                logged = now - dt.timedelta(minutes=40)  # still held
            p = parcels.parcel_log(
                actor=guard,
                checkpoint=cp,
                household=rng.choice(households),
                courier=courier,
                description=what,
                shelf=f"{'ABC'[k % 3]}{k + 1}",
                now=logged,
            )
            made_p += 1
            t = logged
            for step in done:
                t = t + dt.timedelta(minutes=10)
                if step == "handed":
                    t = max(t, p.held_until or t)
                p = parcels.parcel_step(
                    actor=volunteer if step != "disinfected" else guard,
                    parcel=p,
                    step=step,
                    volunteer=volunteer if step == "handed" else None,
                    now=min(t, now),
                )
    return {"visitors": made_v, "parcels": made_p}
