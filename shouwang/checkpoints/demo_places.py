"""The demo community's gates and checkpoints, availability and this week's roster (built
through the services, as a committee would). Not hooked in: the lead calls
`demo(community, now=..., users=...)`."""

from __future__ import annotations

import datetime as dt
import random

from shouwang.accounts.models import Role, User
from shouwang.checkpoints import places, roster
from shouwang.checkpoints.models import Availability, Checkpoint
from shouwang.registry.models import Compound

GATE_NAMES = ("东门", "西门", "南门", "北门")
# (from, until) windows people give; the last ones run through midnight.
WINDOWS = [
    (dt.time(0), dt.time(0)),
    (dt.time(8), dt.time(20)),
    (dt.time(6), dt.time(14)),
    (dt.time(14), dt.time(22)),
    (dt.time(20), dt.time(6)),
    (dt.time(22), dt.time(8)),
]
# The roster's extra volunteers (no demo login): young residents who answered the call.
VOLUNTEER_NAMES = (
    "刘晓峰", "王丽娟", "张伟", "李娜", "赵强", "孙建国", "周敏", "吴磊",
    "郑红梅", "冯涛", "陈静", "褚明", "卫东", "蒋琳", "沈阳", "韩雪",
)  # fmt: skip
EXTRA_VOLUNTEERS = len(VOLUNTEER_NAMES)


def demo(community, *, now: dt.datetime, users: dict, log=print) -> None:
    """Gates for every compound (two or three each), the main ones merged into three
    checkpoints, the side gates closed; availability for the demo's staff, grid leaders, guard
    and volunteers (and a few more volunteers); a generated roster for this week."""
    if Checkpoint.objects.filter(community=community).exists():
        log(f"{community.code}: checkpoints demo exists, skipped")
        return
    rng = random.Random(2022)
    admin = users.get("admin") or User.objects.get(community=community, username="admin")
    compounds = list(Compound.objects.filter(community=community).order_by("name"))
    merged: list[list] = [[], [], []]
    for i, compound in enumerate(compounds):
        for j, name in enumerate(GATE_NAMES[: 2 + (i % 2)]):
            main = j == 0 or (j == 1 and i % 3 == 0)
            hours = {} if j == 0 else {"opens_at": dt.time(6), "closes_at": dt.time(22)}
            gate = places.gate_save(
                actor=admin,
                community=community,
                compound=compound,
                name=name,
                is_open=main,
                note="" if main else "封闭，设硬隔离",
                **hours,
            )
            if main:
                merged[i % 3].append(gate)
    for n, gates in enumerate(merged, 1):
        if gates:
            places.checkpoint_save(
                actor=admin,
                community=community,
                name=f"{n}号卡口",
                compound=gates[0].compound,
                gates=gates,
                note="帐篷、测温枪、扫码牌",
            )
    people = list(
        User.objects.filter(
            community=community,
            is_active=True,
            role__in=roster.COMMITTEE_ROLES | roster.ROTATION_ROLES,
        )
    )
    for k in range(EXTRA_VOLUNTEERS):
        u = User(
            username=f"{community.code.lower()}-duty{k + 1:02d}",
            role=Role.VOLUNTEER,
            community=community,
            display_name=VOLUNTEER_NAMES[k],
        )
        u.set_unusable_password()
        u.save()
        people.append(u)
    for u in people:
        for wd in rng.sample(range(7), rng.randint(4, 7)):
            s, e = rng.choice(WINDOWS)
            Availability.objects.create(
                community=community, user=u, weekday=wd, starts_at=s, ends_at=e
            )
    today = now.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    monday = today - dt.timedelta(days=today.weekday())
    result = roster.generate(
        actor=admin,
        community=community,
        checkpoints=list(Checkpoint.objects.filter(community=community, is_active=True)),
        start=monday,
        days=7,
    )
    log(
        f"{community.code}: {sum(len(g) for g in merged)} gates merged into "
        f"{sum(1 for g in merged if g)} checkpoints, {result.made} duties, "
        f"{len(result.gaps)} gaps"
    )
