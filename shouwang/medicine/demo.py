"""Medicine in the demo community: the chronic, heart, psychiatric and chemotherapy medicines of
residents the ledger marks with a chronic illness, at every stage of Xi'an's flow.

Last Friday's hospital run is done and settled; this week's hospital run (the policy's next fixed
day) has its needs bought and waiting to be picked up; today's clinic run is out; new needs wait
to be put into a run. The past is written as rows with each step's event; nothing here is
random.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from shouwang.medicine.models import (
    FLOW,
    Kind,
    Need,
    NeedEvent,
    Payer,
    Policy,
    Run,
    RunStatus,
    Source,
    Stage,
)
from shouwang.registry.models import CareTag, Resident

# (drug, dose, quantity, kind, prescription needed, price in yuan)
DRUGS = (
    ("硝苯地平控释片 30mg", "每日一次，每次一片", "3盒", Kind.CHRONIC, False, "86.40"),
    ("二甲双胍缓释片 0.5g", "每日两次，每次一片", "4盒", Kind.CHRONIC, False, "52.00"),
    ("阿托伐他汀钙片 20mg", "每晚一片", "2盒", Kind.CARDIAC, True, "63.80"),
    ("单硝酸异山梨酯缓释片", "每日一次", "2盒", Kind.CARDIAC, True, "41.20"),
    ("甘精胰岛素注射液", "睡前皮下注射12单位", "2支", Kind.CHRONIC, True, "358.00"),
    ("奥氮平片 5mg", "每晚一片", "2盒", Kind.PSYCHIATRIC, True, "120.50"),
    ("卡培他滨片 0.5g", "按化疗方案", "1疗程", Kind.CHEMOTHERAPY, True, "1260.00"),
    ("缬沙坦胶囊 80mg", "每日一次", "3盒", Kind.CHRONIC, False, "75.60"),
)

# (how many needs, stage reached, run key) — oldest first.
PLAN = (
    (5, Stage.SETTLED, "last_hospital"),
    (2, Stage.DELIVERED, "last_hospital"),
    (4, Stage.BOUGHT, "next_hospital"),
    (3, Stage.PICKED_UP, "clinic_today"),
    (2, Stage.IN_RUN, "pharmacy"),
    (5, Stage.REGISTERED, None),
)


def demo(community, *, now: dt.datetime, users: dict, log=print) -> dict:
    if Need.objects.filter(community=community).exists():
        log(f"{community.code}: medicine demo exists, skipped")
        return {}
    admin = users["admin"]
    staff = users.get("staff") or admin
    volunteer = users.get("volunteer")
    today = timezone.localdate(now)
    policy, _ = Policy.objects.get_or_create(community=community)
    days = policy.days()

    def last_day(weekdays, before):
        d = before - dt.timedelta(days=1)
        while d.isoweekday() not in weekdays:
            d -= dt.timedelta(days=1)
        return d

    def next_day(weekdays, after):
        d = after
        while d.isoweekday() not in weekdays:
            d += dt.timedelta(days=1)
        return d

    runs = {
        "last_hospital": Run.objects.create(
            community=community, source=Source.HOSPITAL, place="市第一人民医院",
            date=last_day(days, today), driver=volunteer, driver_name="陈志愿",
            status=RunStatus.DONE, created_by=staff,
        ),
        "next_hospital": Run.objects.create(
            community=community, source=Source.HOSPITAL, place="市第一人民医院",
            date=next_day(days, today + dt.timedelta(days=1)), driver=volunteer,
            driver_name="陈志愿", status=RunStatus.PLANNED, created_by=staff,
            note="带齐医保卡和病历本",
        ),
        "clinic_today": Run.objects.create(
            community=community, source=Source.CLINIC, place="华漕社区卫生服务中心",
            date=today, driver_name="社区车·王师傅", status=RunStatus.OUT, created_by=staff,
        ),
        "pharmacy": Run.objects.create(
            community=community, source=Source.PHARMACY, place="益丰大药房（华美店）",
            date=today + dt.timedelta(days=1), driver=volunteer, driver_name="陈志愿",
            status=RunStatus.PLANNED, created_by=staff,
        ),
    }  # fmt: skip
    people = list(
        Resident.objects.filter(community=community)
        .living_here()
        .with_tag(CareTag.CHRONIC)
        .exclude(medicines="")
        .order_by("pk")[: sum(n for n, _, _ in PLAN)]
    )
    made = 0
    for count, stage, run_key in PLAN:
        for _ in range(count):
            resident = people[made]
            drug, dose, qty, kind, rx, price = DRUGS[made % len(DRUGS)]
            run = runs.get(run_key)
            source = run.source if run else (Source.CLINIC if made % 2 else Source.PHARMACY)
            start = now - dt.timedelta(days=6 if run_key == "last_hospital" else 2, hours=made)
            need = Need.objects.create(
                community=community,
                resident=resident,
                household_id=resident.household_id,
                drug=drug,
                dose=dose,
                quantity=qty,
                kind=kind,
                prescription_needed=rx,
                source=source,
                place=run.place if run and source == Source.HOSPITAL else "",
                stage=stage,
                run=run,
                amount=Decimal(price) if stage == Stage.SETTLED else None,
                paid_by=(Payer.INSURANCE if rx else Payer.RESIDENT)
                if stage == Stage.SETTLED
                else "",
                reimbursed=stage == Stage.SETTLED and rx,
                created_at=start,
                created_by=staff,
            )
            steps = FLOW[: FLOW.index(stage) + 1]
            NeedEvent.objects.bulk_create(
                [
                    NeedEvent(
                        need=need,
                        stage=s,
                        at=min(start + dt.timedelta(hours=6 * i), now),
                        by=staff
                        if s in (Stage.REGISTERED, Stage.IN_RUN, Stage.SETTLED)
                        else (volunteer or staff),
                        text=f"¥{price}" if s == Stage.SETTLED else "",
                    )
                    for i, s in enumerate(steps)
                ]
            )
            made += 1
    log(f"{community.code}: medicine: {made} needs, {len(runs)} runs")
    return {"needs": made, "runs": len(runs)}
