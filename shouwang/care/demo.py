"""Care in the demo community: the people the ledger's care tags put on the list, each paired with
their grid leader, a committee member or a party member living in the same building, and three
days of follow-ups by visit, phone or video.

Most were reached today or yesterday; some are overdue (not reached for three days), a few
were not reached on the last try, a handful are not paired yet, and one follow-up found a need
that became a help-line request. Nothing here is random: who is overdue follows their position
in the list.
"""

from __future__ import annotations

import datetime as dt

from shouwang.care.models import FollowUp, Mode, Outcome, Pairing, Policy
from shouwang.care.selectors import DEFAULT_TAGS
from shouwang.helpline import intake
from shouwang.helpline.models import Channel, Group, Urgency
from shouwang.helpline.selectors import categories_for
from shouwang.registry.models import CareTag, Resident

# The policy's default tags (the people who cannot manage alone), set explicitly.
TAGS = DEFAULT_TAGS
CONDITIONS = ("精神状态好，饮食正常", "血压偏高，已提醒按时服药", "腿脚不便，需要有人帮忙取快递",
              "睡眠不好，情绪有些低落", "一切正常")  # fmt: skip


def demo(community, *, now: dt.datetime, users: dict, log=print) -> dict:
    if Pairing.objects.filter(community=community).exists():
        log(f"{community.code}: care demo exists, skipped")
        return {}
    Policy.objects.update_or_create(community=community, defaults={"tags": int(TAGS)})
    staff = users.get("staff") or users["admin"]
    office = [u for u in (users.get("staff"), users.get("admin2")) if u is not None]
    leaders = {u.grid_id: u for u in users.values() if getattr(u, "grid_id", None)}
    people = list(
        Resident.objects.filter(community=community)
        .living_here()
        .with_tag(int(TAGS))
        .select_related("household__building")
        .order_by("household__building_id", "pk")
    )
    party = {}
    for r in (
        Resident.objects.filter(community=community)
        .living_here()
        .with_tag(CareTag.PARTY_MEMBER)
        .select_related("household")
        .order_by("pk")
    ):
        party.setdefault(r.household.building_id, r)
    pairings, follow_ups = [], []
    for i, r in enumerate(people):
        if i % 40 == 39:
            continue  # not paired yet
        grid_leader = leaders.get(r.household.building.grid_id)
        member = party.get(r.household.building_id)
        if i % 5 == 0 and member is not None and member.pk != r.pk:
            pairings.append(Pairing(community=community, resident=r, carer_resident=member,
                                    started_at=now - dt.timedelta(days=10)))  # fmt: skip
        else:
            carer = grid_leader if (grid_leader and i % 3) else office[i % len(office)]
            pairings.append(Pairing(community=community, resident=r, carer=carer,
                                    started_at=now - dt.timedelta(days=10)))  # fmt: skip
    Pairing.objects.bulk_create(pairings)
    pairings = list(
        Pairing.objects.filter(community=community).select_related(
            "resident", "carer", "carer_resident"
        )
    )
    for j, p in enumerate(pairings):
        r = p.resident
        # Every 12th not reached for three days (overdue); the rest today or yesterday too.
        last = 3 if j % 12 == 0 else (0 if j % 2 else 1)
        for days_ago in range(3, last - 1, -1):
            at = now - dt.timedelta(days=days_ago, hours=(j % 6) + 1)
            missed = days_ago == last and j % 17 == 0
            follow_ups.append(
                FollowUp(
                    community=community,
                    resident=r,
                    household_id=r.household_id,
                    pairing=p,
                    at=at,
                    mode=(Mode.VISIT, Mode.PHONE, Mode.PHONE, Mode.VIDEO)[(j + days_ago) % 4],
                    outcome=Outcome.MISSED if missed else Outcome.WELL,
                    condition="" if missed else CONDITIONS[(j + days_ago) % len(CONDITIONS)],
                    by=p.carer,
                    by_name="" if p.carer_id else p.carer_resident.name,
                    created_at=at,
                )
            )
    FollowUp.objects.bulk_create(follow_ups)
    # Today's visit to a bedridden resident found a need: it went to the help line.
    bedridden = next(
        (p for p in pairings if p.resident.tags & CareTag.BEDRIDDEN and p.carer_id), None
    )
    if bedridden is not None:
        r = bedridden.resident
        # The first special need of the defaults: a test at home.
        category = categories_for(community.pk).filter(group=Group.SPECIAL).first()
        req = intake.log_request(
            bedridden.carer,
            community_id=community.pk,
            category=category,
            summary="卧床老人需要上门核酸（走访发现）",
            urgency=Urgency.HARDSHIP,
            channel=Channel.FOLLOW_UP,
            household=r.household,
            resident=r,
            owner=staff,
            at=now - dt.timedelta(minutes=50),
        )
        FollowUp.objects.create(
            community=community,
            resident=r,
            household_id=r.household_id,
            pairing=bedridden,
            at=now - dt.timedelta(minutes=55),
            mode=Mode.VISIT,
            outcome=Outcome.CONCERN,
            condition="卧床，精神尚可；家属在外地回不来",
            needs="需要上门核酸，纸尿裤快用完",
            request=req,
            by=bedridden.carer,
            created_at=now - dt.timedelta(minutes=50),
        )
    log(f"{community.code}: care: {len(people)} on the list, {len(pairings)} paired, "
        f"{len(follow_ups)} follow-ups")  # fmt: skip
    return {"people": len(people), "paired": len(pairings), "follow_ups": len(follow_ups)}
