"""Volunteers in the demo community: the six teams with their leaders, profiles for the demo's
volunteer login and the roster's volunteers, three older party members without a phone (added by
staff, checked in by their leader), two sign-ups waiting for approval and one paused; a week of
served tasks whose hours are fixed (so the figures can be counted by hand — docs/volunteers.md
gives them), tasks to grab tomorrow and the day after (one full with a waiting list), a task
under way today, and the transport team's three-shift plan for this week.

The served history is written as rows (check-in and check-out times, one no-show, one night-run
close, one correction); what lies ahead goes through the services, as staff would do it."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from shouwang.accounts.models import Role, User
from shouwang.core.errors import DomainError
from shouwang.volunteers import plans, tasks
from shouwang.volunteers.models import (
    Correction,
    Declaration,
    Origin,
    Signup,
    SignupStatus,
    Task,
    TaskKind,
    TeamKind,
    TeamMove,
    Volunteer,
    VolunteerStatus,
)
from shouwang.volunteers.selectors import new_code, teams_for

# Older party members the committee added by hand (no smartphone, no login).
NO_LOGIN = (("老党员 张建国", "13800138001"), ("老党员 钱秀英", "13800138002"),
            ("老党员 孙国庆", "13800138003"))  # fmt: skip
# Huamei recruited two transport teams afresh from young residents who know the compounds; they
# joined this week, so they have no hours yet (the figures below do not change).
RECRUITS = ("何芳", "吕斌", "施雯", "许嘉", "秦勇", "曹宇")
PENDING = (("杨帆", "13900139101", Origin.RESIDENT), ("朱丹", "13900139102", Origin.OUTSIDE))

# The week served, oldest first: (days ago, team kind, what, where, start hour, hours, credited
# minutes per person in the order of the volunteers given). Minutes differ from the planned
# length as real check-outs do (someone stays on, someone leaves early).
SERVED = (
    (7, TeamKind.TESTING, "核酸采样点秩序维护", "华美小区篮球场采样点", 7, 4, [240, 240, 255, 210]),
    (7, TeamKind.DISINFECTION, "封控楼栋消杀", "3号楼、5号楼", 14, 2, [120, 120]),
    (6, TeamKind.SUPPLIES, "保供物资分拣", "社区服务中心", 9, 3, [180, 195, 180]),
    (6, TeamKind.TRANSPORT, "快递分送到楼", "1号卡口快递架", 15, 3, [180, 180, 200]),
    (5, TeamKind.ASSISTANCE, "独居老人送药上门", "华美小区", 10, 2, [120, 90]),
    (5, TeamKind.CHECKPOINT, "卡口协助测温登记", "1号卡口", 8, 4, [240, 240]),
    (4, TeamKind.TESTING, "核酸采样点秩序维护", "华美小区篮球场采样点", 7, 4, [240, 225, 240]),
    (4, TeamKind.DISINFECTION, "采样点周边消杀", "华美小区篮球场采样点", 12, 1, [60, 75]),
    (3, TeamKind.SUPPLIES, "第二批保供物资分发", "各楼栋单元门口", 13, 3, [180, 180, 180, 165]),
    (3, TeamKind.TRANSPORT, "快递分送到楼", "1号卡口快递架", 15, 3, [190, 180]),
    (2, None, "社区大扫除", "华美小区中心花园", 9, 2, [120, 120, 135, 120]),
    (2, TeamKind.ASSISTANCE, "独居老人送药上门", "新虹公寓", 10, 2, [105]),
    (1, TeamKind.TESTING, "核酸采样点秩序维护", "华美小区篮球场采样点", 7, 4, [245, 240, 240]),
    (1, TeamKind.DISINFECTION, "封控楼栋消杀", "3号楼、5号楼", 14, 2, [120, 130]),
)


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def demo(community, *, now: dt.datetime, users: dict, log=print) -> dict:
    """Returns what it made (or {} when the community has volunteers already)."""
    if Volunteer.objects.filter(community=community).exists():
        log(f"{community.code}: volunteers demo exists, skipped")
        return {}
    admin = users["admin"]
    staff = users.get("staff") or admin
    today = timezone.localdate(now)
    teams = {t.kind: t for t in teams_for(community.pk)}
    order = [
        TeamKind.TRANSPORT,
        TeamKind.TESTING,
        TeamKind.SUPPLIES,
        TeamKind.DISINFECTION,
        TeamKind.ASSISTANCE,
        TeamKind.CHECKPOINT,
    ]
    skills_by_team = {
        TeamKind.TRANSPORT: ["driving", "lifting"],
        TeamKind.TESTING: ["data"],
        TeamKind.SUPPLIES: ["lifting"],
        TeamKind.DISINFECTION: ["disinfection"],
        TeamKind.ASSISTANCE: ["elderly", "medical"],
        TeamKind.CHECKPOINT: ["language"],
    }

    def profile(
        name,
        phone,
        team_kind,
        *,
        user=None,
        origin=Origin.RESIDENT,
        status="active",
        organisation="",
    ):
        v = Volunteer.objects.create(
            community=community,
            user=user,
            name=name,
            phone=phone,
            origin=origin,
            organisation=organisation,
            skills=skills_by_team.get(team_kind, []),
            team=teams.get(team_kind),
            status=status,
            joined_at=now - dt.timedelta(days=12),
            approved_at=now - dt.timedelta(days=11) if status != "pending" else None,
            approved_by=admin if status != "pending" else None,
        )
        if v.team_id:
            TeamMove.objects.create(
                community=community, volunteer=v, to_team=v.team, by=admin, at=v.approved_at
            )
        return v

    # The demo login and the roster's volunteers, round the teams.
    people = []
    me = users.get("volunteer")
    if me is not None:
        people.append(
            profile(me.display_name or "陈志愿", "13900139000", TeamKind.TRANSPORT, user=me)
        )
    roster_users = User.objects.filter(
        community=community, role=Role.VOLUNTEER, username__contains="-duty"
    ).order_by("username")
    for i, u in enumerate(roster_users):
        origin = Origin.CADRE if i % 5 == 4 else Origin.RESIDENT
        people.append(
            profile(
                u.display_name,
                f"139001391{i:02d}",
                order[(i + 1) % len(order)],
                user=u,
                origin=origin,
                organisation="市委党校" if origin == Origin.CADRE else "",
            )
        )
    elders = [profile(n, p, TeamKind.CHECKPOINT, origin=Origin.RESIDENT) for n, p in NO_LOGIN]
    recruits = []
    for i, name in enumerate(RECRUITS):
        phone = f"1370013{i:04d}"
        u = User(username=phone, role=Role.VOLUNTEER, community=community, display_name=name)
        u.set_unusable_password()
        u.save()
        recruits.append(profile(name, phone, TeamKind.TRANSPORT, user=u))
    people.extend(elders)
    for name, phone, origin in PENDING:
        u = User(username=phone, role=Role.VOLUNTEER, community=community, display_name=name)
        u.set_unusable_password()
        u.save()
        profile(name, phone, None, user=u, origin=origin, status="pending")
    paused = people[-4]
    paused.status = VolunteerStatus.PAUSED
    paused.note = "家中有人隔离，暂停一周"
    paused.save(update_fields=["status", "note"])
    # One volunteer keeps their hours to themselves.
    people[3].hide_from_board = True
    people[3].save(update_fields=["hide_from_board"])
    members = {k: [v for v in people if v.team_id == teams[k].pk] for k in order}
    for kind in order:
        if members[kind]:
            teams[kind].leader = members[kind][0]
            teams[kind].save(update_fields=["leader"])
    # An emergency move: a checkpoint volunteer lent to disinfection when 5号楼 was sealed.
    lent = members[TeamKind.CHECKPOINT][1]
    TeamMove.objects.create(
        community=community,
        volunteer=lent,
        from_team=teams[TeamKind.CHECKPOINT],
        to_team=teams[TeamKind.DISINFECTION],
        emergency=True,
        reason="5号楼封控，消杀人手不足",
        by=admin,
        at=now - dt.timedelta(days=3),
    )
    lent.team = teams[TeamKind.DISINFECTION]
    lent.save(update_fields=["team"])

    # The week served.
    open_pool = [v for v in people if v.status == VolunteerStatus.ACTIVE]
    served = 0
    for n, (ago, kind, title, place, hour, length, minutes) in enumerate(SERVED):
        day = today - dt.timedelta(days=ago)
        team = teams.get(kind) if kind else None
        pool = [v for v in members[kind] if v.status != VolunteerStatus.LEFT] if kind else open_pool
        pool = [v for v in pool if v.pk != paused.pk or ago > 5]
        start = _local(day, hour)
        task = Task.objects.create(
            community=community,
            kind=TaskKind.TASK,
            title=title,
            place=place,
            team=team,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=length),
            places=len(minutes) + 1,
            taken=len(minutes),
            cancel_until=start - dt.timedelta(hours=2),
            code=new_code(),
            created_by=staff,
            created_at=start - dt.timedelta(days=1),
        )
        chosen = _distinct(pool, open_pool, n, len(minutes) + 1)
        for k, mins in enumerate(minutes):
            v = chosen[k]
            came = start - dt.timedelta(minutes=5 * (k % 3))
            leader = None if v.user_id else admin  # the elders are checked in by hand
            Signup.objects.create(
                community=community,
                task=task,
                volunteer=v,
                status=SignupStatus.TAKEN,
                how="grabbed" if v.user_id else "assigned",
                created_at=task.created_at + dt.timedelta(minutes=k),
                taken_at=task.created_at + dt.timedelta(minutes=k),
                checked_in_at=came,
                checked_in_by=leader,
                checked_out_at=came + dt.timedelta(minutes=mins),
                checked_out_by=leader,
                minutes=mins,
            )
            served += 1
        if n == 5:  # somebody did not come to the checkpoint
            absent = next(
                v
                for v in chosen[len(minutes) :] + open_pool
                if v.user_id and not task.signups.filter(volunteer=v).exists()
            )
            Signup.objects.create(
                community=community,
                task=task,
                volunteer=absent,
                status=SignupStatus.NO_SHOW,
                how="grabbed",
                created_at=task.created_at,
                taken_at=task.created_at,
            )  # fmt: skip  (a no-show gives the place back: `taken` counts taken rows)
    # The night run closed one forgotten check-out; a leader corrected another's hours.
    last = Signup.objects.filter(task__community=community, minutes__isnull=False).order_by(
        "-task__starts_at", "pk"
    )
    night = last[0]
    night.auto_closed = True
    night.checked_out_at = night.task.ends_at
    night.minutes = int((night.checked_out_at - night.checked_in_at).total_seconds() // 60)
    night.save(update_fields=["auto_closed", "checked_out_at", "minutes"])
    fixed = last[1]
    Correction.objects.create(
        community=community,
        signup=fixed,
        before_in=fixed.checked_in_at,
        before_out=fixed.checked_in_at + dt.timedelta(minutes=20),
        before_minutes=20,
        after_in=fixed.checked_in_at,
        after_out=fixed.checked_out_at,
        after_minutes=fixed.minutes,
        reason="手机没电，提前签退失败，组长核实后更正",
        by=admin,
        at=fixed.checked_out_at + dt.timedelta(hours=1),
    )

    # Today: declarations, and a task under way.
    for v in open_pool[:10]:
        Declaration.objects.create(
            community=community, volunteer=v, date=today, temperature="36.5", at=now
        )
    made = {"volunteers": len(people) + len(recruits) + len(PENDING), "served": served}
    ahead = _ahead(
        community,
        now=now,
        staff=staff,
        teams=teams,
        members=members,
        pool=open_pool,
        me=people[0] if me else None,
        recruits=recruits,
    )
    made.update(ahead)
    log(f"{community.code}: volunteers: {made}")
    return made


def _distinct(pool, fallback, offset: int, count: int) -> list:
    """`count` different volunteers: the team's round from `offset`, then anyone active."""
    out = []
    for v in [pool[(offset + k) % len(pool)] for k in range(len(pool))] + fallback:
        if v not in out:
            out.append(v)
        if len(out) == count:
            break
    return out


def _ahead(community, *, now, staff, teams, members, pool, me, recruits) -> dict:
    """Today's task under way, tasks to grab, and the transport team's shift plan."""
    today = timezone.localdate(now)
    hour = timezone.localtime(now).replace(minute=0, second=0, microsecond=0)
    # Under way: started an hour ago (written as rows: the services refuse a start in the past).
    start = hour - dt.timedelta(hours=1)
    doing = Task.objects.create(
        community=community,
        title="保供物资搬运",
        place="社区服务中心",
        team=teams[TeamKind.SUPPLIES],
        starts_at=start,
        ends_at=start + dt.timedelta(hours=3),
        places=4,
        taken=3,
        cancel_until=start - dt.timedelta(hours=2),
        code=new_code(),
        created_by=staff,
        created_at=start - dt.timedelta(hours=20),
    )
    crew = [v for v in members[TeamKind.SUPPLIES] if v.status == VolunteerStatus.ACTIVE][:3]
    for k, v in enumerate(crew):
        Signup.objects.create(
            community=community,
            task=doing,
            volunteer=v,
            status=SignupStatus.TAKEN,
            how="grabbed",
            created_at=doing.created_at,
            taken_at=doing.created_at,
            checked_in_at=start + dt.timedelta(minutes=2 + k) if k < 2 else None,
        )
    tomorrow = today + dt.timedelta(days=1)
    after = today + dt.timedelta(days=2)

    def publish(day, h, length, title, place, places, team=None, skills=()):
        s = _local(day, h)
        return tasks.publish(
            actor=staff,
            community=community,
            title=title,
            place=place,
            starts_at=s,
            ends_at=s + dt.timedelta(hours=length),
            places=places,
            team=team,
            skills=skills,
            description="请提前10分钟到场，戴好口罩手套。",
        )

    disinfect = publish(
        tomorrow,
        8,
        2,
        "封控楼栋消杀",
        "3号楼、5号楼",
        4,
        teams[TeamKind.DISINFECTION],
        ["disinfection"],
    )
    parcels = publish(tomorrow, 9, 3, "快递分拣", "1号卡口快递架", 6)
    publish(
        tomorrow, 14, 2, "为独居老人送药", "华美小区", 2, teams[TeamKind.ASSISTANCE], ["elderly"]
    )
    testing = publish(after, 7, 4, "核酸采样点秩序维护", "华美小区篮球场采样点", 6)
    grabbed = 0

    def grab(people, task):
        n = 0
        for v in people:
            if not v.user_id:  # grabbing is done on one's own phone
                continue
            try:
                tasks.grab(volunteer=v, task=task, now=now)
                n += 1
            except DomainError:  # a rest rule (a gate duty that day): they leave it to others
                pass
        return n

    grabbed = grab([v for v in members[TeamKind.DISINFECTION] if v.status == "active"], disinfect)
    grabbed += grab(pool[4:8] + ([me] if me else []), parcels)
    # Full within minutes, and more on the waiting list.
    grabbed += grab(pool[1:], testing)
    # The transport team's three shifts a day this week (早中晚, Huamei's parcel teams).
    plan = plans.make_plan(
        actor=staff,
        team=teams[TeamKind.TRANSPORT],
        title="快递运输小队 早中晚三班",
        place="1号卡口快递架",
        first_day=tomorrow,
        last_day=tomorrow + dt.timedelta(days=6),
        shifts=[("07:00", "11:00"), ("11:00", "15:00"), ("15:00", "19:00")],
        places=2,
    )
    shifts = list(plan.tasks.order_by("starts_at"))
    assigned = 0
    # Short of hands one day: the team's leader takes three shifts in a row — the third breaks
    # the daily cap, and is put on the record with the reason.
    if me is not None:
        for shift in shifts[3:6]:
            reason = "" if shift is not shifts[5] else "晚班人手不足，本人同意加班"
            try:
                tasks.assign(actor=staff, task=shift, volunteer=me, override_reason=reason)
                assigned += 1
            except DomainError:  # a gate duty of theirs that day: the cell stays for others
                pass
    # The recruits fill the rest, two a shift, round the team.
    for i, shift in enumerate(shifts):
        for k in range(2):
            v = recruits[(i + k) % len(recruits)]
            try:
                tasks.assign(actor=staff, task=shift, volunteer=v)
                assigned += 1
            except DomainError:  # full, or a rest rule: that cell stays open, as in life
                pass
    return {"grabbed": grabbed, "plan_shifts": len(shifts), "assigned": assigned}
