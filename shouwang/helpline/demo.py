"""The help line in the demo community: a week of the requests ledger and today's desk.

The week before today is written as rows, as it happened (logged, assigned, resolved, called
back), with Xi'an's mix: about a third livelihood (medicine, gas, food), a quarter special needs,
a fifth policy questions, the rest repairs, worries and disputes; nine in ten resolved. Today's
requests go through the intake service as an operator logs them: a dialysis patient who needs a
car now (life-threatening, at the top of every page), a pregnant resident's hospital visit, a
policy question answered from the knowledge base, and two requests from yesterday that are
overdue — one already escalated to the community admin. The knowledge base holds the current
rules (one not checked for ten days, shown as stale).
"""

from __future__ import annotations

import datetime as dt
import random
import secrets

from django.utils import timezone

from shouwang.helpline import intake
from shouwang.helpline.models import (
    Answer,
    Channel,
    EventKind,
    Group,
    Handover,
    HandoverItem,
    HelpRequest,
    RequestEvent,
    Satisfaction,
    Status,
    Urgency,
)
from shouwang.helpline.selectors import categories_for, due_at, policy_for
from shouwang.registry.models import Household

# Requests per day over the week before today, oldest first (Xi'an: 100+ a day at first, fewer
# later; a community of 7,500 sees about a tenth of that).
PER_DAY = (14, 13, 12, 11, 10, 9, 8)
# Of every 20 requests: livelihood 6, special 5, policy 4, repairs 2, psychological 1, dispute
# 1, other 1 (≈ 31 %, 26 %, 21 % as Xi'an reported).
MIX = (
    [Group.LIVELIHOOD] * 6
    + [Group.SPECIAL] * 5
    + [Group.POLICY] * 4
    + [Group.REPAIRS] * 2
    + [Group.PSYCHOLOGICAL, Group.DISPUTE, Group.OTHER]
)

SUMMARIES = {
    Group.LIVELIHOOD: ["降压药快吃完了，需要代购", "燃气卡没气了，需要代充", "家里没菜了，老人不会网购",
                       "大桶水送不上楼", "孩子奶粉只剩两天的量"],
    Group.SPECIAL: ["卧床老人需要上门核酸", "孕妇产检需要出小区", "透析病人周三需要去医院",
                    "独居老人需要陪同就医", "术后换药需要上门"],
    Group.POLICY: ["问今天能不能出小区", "问核酸采样点在哪里、几点开", "问怎么配慢性病的药",
                   "问快递能不能送到楼下"],
    Group.REPAIRS: ["楼道灯坏了", "厨房水管漏水"],
    Group.PSYCHOLOGICAL: ["隔离在家焦虑失眠，想找人聊聊"],
    Group.DISPUTE: ["邻居楼上噪音，双方争吵"],
    Group.OTHER: ["想报名当志愿者"],
}  # fmt: skip
RESOLUTIONS = {
    Group.LIVELIHOOD: "志愿者已代购送到门口",
    Group.SPECIAL: "已安排医护人员上门",
    Group.POLICY: "已按现行政策口径答复",
    Group.REPAIRS: "已联系物业维修完毕",
    Group.PSYCHOLOGICAL: "已由社工电话疏导，约定明天回访",
    Group.DISPUTE: "网格长上门调解，双方已和解",
    Group.OTHER: "已转志愿者招募链接",
}

ANSWERS = (
    ("现在能不能出小区？", "封控区足不出户；管控区人不出区、严禁聚集；防范区可在小区内活动，"
     "就医等特殊情况凭社区开具的出入证明出入。", "出门 外出 出入证明 封控 管控", 1),
    ("核酸采样点在哪里？几点开？", "华美小区篮球场采样点，每天7:00–11:00、14:00–17:00；"
     "行动不便的老人打热线登记上门采样。", "核酸 采样点 上门核酸", 0),
    ("慢性病的药怎么配？", "先找社区卫生服务中心，其次附近药店；需要处方的把医保卡和病历交给网格长，"
     "由社区统一去医院配药，每周二、周五各一次。", "配药 买药 慢性病 处方 医院", 2),
    ("快递能送到楼下吗？", "快递统一放在1号卡口快递架，消杀后由志愿者按楼栋分送，"
     "生鲜当天送达。", "快递 外卖 包裹", 3),
    ("透析、化疗等必须就医的怎么办？", "打爱心热线登记，社区联系120或安排专车，"
     "凭医院预约单和48小时核酸证明出入。", "就医 透析 化疗 急诊 120", 0),
    ("隔离期间情绪不好可以找谁？", "爱心热线可转社区心理疏导志愿者，"
     "也可拨打市心理援助热线12356。", "心理 焦虑 失眠 疏导", 10),
)  # fmt: skip


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def demo(community, *, now: dt.datetime, users: dict, log=print) -> dict:
    """Returns counts of what it made ({} when the community has a ledger already)."""
    if HelpRequest.objects.filter(community=community).exists():
        log(f"{community.code}: help line demo exists, skipped")
        return {}
    rng = random.Random(2022)
    admin = users["admin"]
    operators = [u for u in (users.get("staff"), users.get("admin2"), admin) if u is not None]
    policy_for(community.pk)
    by_group: dict[str, list] = {}
    for c in categories_for(community.pk):
        by_group.setdefault(c.group, []).append(c)
    households = list(
        Household.objects.filter(community=community, size__gt=0)
        .prefetch_related("members")
        .order_by("pk")[:120]
    )
    today = timezone.localdate(now)
    answers = _answers(community, today, admin)

    made = quoted = 0
    for offset, count in enumerate(PER_DAY):
        day = today - dt.timedelta(days=len(PER_DAY) - offset)
        for i in range(count):
            # Spread over the day's requests, so each day has about the week's mix.
            group = MIX[(i * len(MIX) // count + offset) % len(MIX)]
            category = by_group[group][i % len(by_group[group])]
            h = households[(offset * 17 + i * 5) % len(households)]
            member = min(h.members.all(), key=lambda m: m.pk)
            at = _local(day, 8 + (i * 14) // count, (i * 23) % 60)
            urgency = Urgency.HEALTH if group == Group.SPECIAL and i % 3 == 0 else Urgency.NONE
            owner = operators[i % len(operators)]
            # 1 in 14 could not be resolved (referred on); the rest resolved and called back.
            unresolved = (offset * 13 + i) % 14 == 5
            close_minutes = int(category.limit_minutes * rng.uniform(0.1, 0.8))
            resolved_at = at + dt.timedelta(minutes=max(close_minutes, 10))
            req = _history(
                community,
                category=category,
                household=h,
                resident=member,
                summary=SUMMARIES[group][i % len(SUMMARIES[group])],
                at=at,
                urgency=urgency,
                owner=owner,
                operator=operators[(i + 1) % len(operators)],
                status=Status.UNRESOLVED if unresolved else Status.CLOSED,
                resolution=("已转街道协调，暂无法解决" if unresolved else RESOLUTIONS[group]),
                resolved_at=resolved_at,
                answer=answers[0] if group == Group.POLICY else None,
                satisfaction=(
                    Satisfaction.NEUTRAL
                    if unresolved
                    else (Satisfaction.SATISFIED if i % 9 else Satisfaction.UNREACHABLE)
                ),
            )
            made += 1
            quoted += req.answer_id is not None
    Answer.objects.filter(pk=answers[0].pk).update(quoted=quoted)

    live = _today(community, now=now, by_group=by_group, households=households, users=users)
    _handover(community, now=now, users=users)
    log(f"{community.code}: help line: {made} requests this week, {live} on today's desk")
    return {"history": made, "today": live, "answers": len(answers)}


def _answers(community, today: dt.date, admin) -> list[Answer]:
    return [
        Answer.objects.create(
            community=community,
            question=q,
            body=body,
            keywords=keywords,
            group=Group.SPECIAL if "就医" in keywords else Group.POLICY,
            source="街道防控办通知",
            checked_on=today - dt.timedelta(days=days),
            checked_by=admin,
        )
        for q, body, keywords, days in ANSWERS
    ]


def _history(community, *, category, household, resident, summary, at, urgency, owner, operator,
             status, resolution, resolved_at, answer, satisfaction) -> HelpRequest:  # fmt: skip
    req = HelpRequest.objects.create(
        community=community,
        # Unique per community until the row has its number (at most 20 characters).
        reference=f"tmp-{secrets.token_hex(6)}",
        channel=Channel.PHONE if resident.pk % 5 else Channel.WECHAT,
        household=household,
        resident=resident,
        caller_name=resident.name,
        caller_phone_enc=resident.phone_enc,
        caller_phone_index=resident.phone_index,
        caller_phone_masked=resident.phone_masked,
        category=category,
        group=category.group,
        urgency=urgency,
        summary=summary,
        owner=owner,
        status=status,
        due_at=due_at(category, urgency, at),
        resolution=resolution,
        answer=answer,
        resolved_at=resolved_at,
        resolved_by=owner,
        callback_at=resolved_at + dt.timedelta(hours=2),
        callback_by=operator,
        satisfaction=satisfaction,
        intake_seconds=20 + (resident.pk % 25),
        created_at=at,
        created_by=operator,
    )
    req.reference = intake.reference(req)
    HelpRequest.objects.filter(pk=req.pk).update(reference=req.reference)
    RequestEvent.objects.bulk_create(
        [
            RequestEvent(request=req, kind=EventKind.LOGGED, at=at, by=operator,
                         status=Status.OPEN, text=summary),
            RequestEvent(request=req, kind=EventKind.ASSIGNED, at=at, by=operator, to_user=owner),
            RequestEvent(request=req, kind=EventKind.RESOLVED, at=resolved_at, by=owner,
                         status=status, text=resolution),
            RequestEvent(request=req, kind=EventKind.CALLBACK, at=req.callback_at, by=operator,
                         status=status, text=str(satisfaction)),
        ]
    )  # fmt: skip
    return req


def _today(community, *, now, by_group, households, users) -> int:
    """Today's desk through the intake service, as operators log calls."""
    staff = users.get("staff") or users["admin"]
    admin2 = users.get("admin2") or users["admin"]
    h = households

    def person(i):
        return min(h[i].members.all(), key=lambda m: m.pk)

    def cat(group, index=0):
        # The defaults' order (selectors.DEFAULT_CATEGORIES): special needs are test at home,
        # hospital visit, dialysis, pregnancy; livelihood medicine, gas, food.
        return by_group[group][index]

    todays = [
        # (minutes ago, group, category index, urgency, household index, summary, owner)
        (25, Group.SPECIAL, 2, Urgency.LIFE, 3, "透析病人今天必须去医院，需要专车", staff),
        (70, Group.SPECIAL, 3, Urgency.HEALTH, 8, "孕妇37周见红，需要出小区去医院", admin2),
        (40, Group.LIVELIHOOD, 0, Urgency.HARDSHIP, 12, "独居老人硝苯地平只剩一天的量", staff),
        (15, Group.POLICY, 0, Urgency.NONE, 20, "问明天能不能出小区上班", None),
        (5, Group.REPAIRS, 0, Urgency.NONE, 31, "卫生间下水道堵了", None),
    ]
    made = 0
    for minutes, group, part, urgency, hi, summary, owner in todays:
        resident = person(hi)
        intake.log_request(
            staff,
            community_id=community.pk,
            category=cat(group, part),
            summary=summary,
            urgency=urgency,
            household=h[hi],
            resident=resident,
            caller_name=resident.name,
            caller_phone=resident.phone,
            owner=owner,
            intake_seconds=18 + hi,
            at=now - dt.timedelta(minutes=minutes),
        )
        made += 1
    # Two from yesterday evening still open and past their due time; one escalated.
    for n, (hi, summary, escalate) in enumerate(
        ((40, "燃气卡充值后还是打不着火", True), (44, "家里老人不会用手机，菜没买到", False))
    ):
        resident = person(hi)
        at = now - dt.timedelta(hours=30 + n)
        req = intake.log_request(
            staff,
            community_id=community.pk,
            category=by_group[Group.LIVELIHOOD][1 + n],
            summary=summary,
            urgency=Urgency.HARDSHIP,
            household=h[hi],
            resident=resident,
            caller_name=resident.name,
            caller_phone=resident.phone,
            owner=staff,
            at=at,
        )
        HelpRequest.objects.filter(pk=req.pk).update(status=Status.IN_PROGRESS)
        intake.event(req, EventKind.STATUS, staff, at=at + dt.timedelta(hours=1),
                     status=Status.IN_PROGRESS, text="已联系燃气公司" if escalate else "")  # fmt: skip
        if escalate:
            HelpRequest.objects.filter(pk=req.pk).update(
                escalated_at=req.due_at + dt.timedelta(minutes=30), escalated_to=users["admin"]
            )
            intake.event(req, EventKind.ESCALATED, None, at=req.due_at + dt.timedelta(minutes=30),
                         to_user=users["admin"])  # fmt: skip
        made += 1
    return made


def _handover(community, *, now, users) -> None:
    """The last shift's handover, by the operator going off duty to the one coming on."""
    from shouwang.helpline.models import LIVE

    policy = policy_for(community.pk)
    local = timezone.localtime(now)
    starts = sorted(
        timezone.make_aware(dt.datetime.combine(local.date() + dt.timedelta(days=d), t))
        for d in (-1, 0)
        for t in (dt.time.fromisoformat(s) for s in policy.starts())
    )
    ends = [s for s in starts if s <= now]
    if len(ends) < 2:
        return
    end, start = ends[-1], ends[-2]
    staff = users.get("staff") or users["admin"]
    admin2 = users.get("admin2") or users["admin"]
    handover = Handover.objects.create(
        community=community,
        shift_start=start,
        shift_end=end,
        handed_by=admin2,
        received_by=staff,
        note="燃气卡那户已催燃气公司，明早再跟进",
        created_at=end,
        acknowledged_at=end + dt.timedelta(minutes=10),
    )
    for req in HelpRequest.objects.filter(community=community, status__in=LIVE, created_at__lt=end):
        HandoverItem.objects.create(
            handover=handover,
            request=req,
            status=req.status,
            owner_before=req.owner,
            owner_after=req.owner or staff,
            overdue=req.due_at < end,
        )
