"""Test rounds in the demo community: two sampling points with priority lanes, three finished
mass rounds (nearly everyone sampled into 10-in-1 tubes, results in), an antigen round, today's
mass round running with part of the community sampled, a positive pooled tube yesterday with its
ten people flagged and their door-to-door re-test list, and a list for the bedridden today.

Rounds, points, lanes, lists and the positive result go through the services; the samples and
tubes (tens of thousands of rows) are written in bulk (a demo may do that, the product never
does — the sampling page writes them one scan at a time). Deterministic for a given ledger."""

from __future__ import annotations

import datetime as dt
import random
import uuid

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from shouwang.accounts.models import User
from shouwang.core.errors import DomainError
from shouwang.registry.models import Presence, Resident
from shouwang.screening import results, services, visits
from shouwang.screening.models import Round, Sample, Tube, TubeResult

PAST_ROUNDS = 3
SAMPLED_PAST = 0.96  # share of the expected who came in a finished round
SAMPLED_TODAY = 0.42  # today's round is running
BATCH = 2000


def demo_screening(community, admin, *, today: dt.date | None = None, log=print) -> None:
    """The demo community's test rounds (once per community)."""
    if Round.objects.filter(community=community).exists():
        log(f"{community.code}: screening demo exists, skipped")
        return
    today = today or timezone.localdate()
    rng = random.Random(2022)
    staff = list(User.objects.filter(community=community, username__in=["sampler", "volunteer"]))
    gate = services.point_save(
        actor=admin,
        community=community,
        name="华美小区东门采样点",
        kind="compound",
        place="东门岗亭旁",
        opens_at=dt.time(7),
        closes_at=dt.time(19),
        staff=staff,
    )
    services.lane_add(
        actor=admin,
        point=gate,
        kind="elderly",
        starts_at=dt.time(8),
        ends_at=dt.time(9),
        note="老人专道，旁设长凳",
    )
    street = services.point_save(
        actor=admin,
        community=community,
        name="华漕路街面采样点",
        kind="street",
        place="华漕路口便民亭",
        opens_at=dt.time(7),
        closes_at=dt.time(21),
        staff=staff[:1],
    )
    services.lane_add(
        actor=admin,
        point=street,
        kind="students",
        starts_at=dt.time(11, 30),
        ends_at=dt.time(13),
        note="学生午休专道",
    )
    points = [gate, street]
    people = list(
        Resident.objects.filter(community=community)
        .filter(Q(presence=Presence.PRESENT))
        .order_by("household__building_id", "household_id", "pk")
        .values_list("pk", flat=True)
    )
    sampler = staff[0] if staff else admin

    def round_(number, day, kind="mass"):
        return services.round_save(
            actor=admin,
            community=community,
            kind=kind,
            number=number,
            date=day,
            starts_at=dt.time(7),
            ends_at=dt.time(11, 30),
            pool_size=10,
            points=points,
            note="" if kind == "mass" else "居民自测，网格员汇总",
        )

    rounds = []
    for i in range(PAST_ROUNDS):
        day = today - dt.timedelta(days=PAST_ROUNDS - i)
        r = round_(i + 1, day)
        n = _sample(r, people, SAMPLED_PAST, rng, points, sampler, day, close_all=True)
        Tube.objects.filter(round=r).update(
            result=TubeResult.NEGATIVE, result_at=_at(day, dt.time(20))
        )
        services.round_close(actor=admin, rnd=r)
        rounds.append((r, n))
    round_(1, today - dt.timedelta(days=1), kind="antigen")
    now = timezone.now()
    running = round_(PAST_ROUNDS + 1, today)
    if timezone.localdate() == today and dt.time(7) < timezone.localtime(now).time() < dt.time(
        11, 30
    ):
        until = timezone.localtime(now).time()
    else:
        until = dt.time(9, 30)
    n_today = _sample(
        running, people, SAMPLED_TODAY, rng, points, sampler, today, close_all=False, until=until
    )
    # A pooled tube of yesterday's round came back positive this morning: set through the
    # results service, which flags its people and makes their re-test list (in today's round).
    last = rounds[-1][0]
    tube = Tube.objects.filter(round=last).order_by("pk")[len(people) // 20]
    Tube.objects.filter(pk=tube.pk).update(result=TubeResult.PENDING, result_at=None)
    out = results.result_record(
        actor=admin, tube=tube, result=TubeResult.POSITIVE, ct_value=None, texts=False
    )
    if out.visit_list is not None:
        visits.visit_list_assign(
            actor=admin, visit_list=out.visit_list, team="上门复核一队", assignees=staff
        )
    try:
        visits.visit_list_make(
            actor=admin,
            rnd=running,
            reason="bedridden",
            name="卧床老人上门采样",
            team="上门采样组",
            assignees=staff,
        )
    except DomainError as e:  # a ledger without the tag: no list, said so
        log(f"{community.code}: no bedridden list ({e})")
    log(
        f"{community.code}: {PAST_ROUNDS} finished rounds ({rounds[0][1]} people each or so), "
        f"today's round {n_today} sampled, 1 positive pooled tube ({out.flagged} flagged)"
    )


def _at(day: dt.date, t: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, t))


def _sample(
    rnd, people, share, rng, points, sampler, day, *, close_all, until=dt.time(11, 30)
) -> int:
    """Write the round's samples in bulk: the chosen people in order, ten to a tube, spread over
    the round's morning (until `until`)."""
    chosen = [p for p in people if rng.random() < share]
    start = _at(day, dt.time(7))
    span = max((_at(day, until) - start).total_seconds(), 60)
    n = len(chosen)
    tubes = []
    per = rnd.pool_size
    for k in range(0, n, per):
        group = chosen[k : k + per]
        point = points[(k // per) % len(points)]
        opened = start + dt.timedelta(seconds=span * k / max(n, 1))
        last = start + dt.timedelta(seconds=span * min(k + len(group), n) / max(n, 1))
        full = len(group) == per
        tubes.append(
            Tube(
                community_id=rnd.community_id,
                round=rnd,
                code=f"HM{rnd.number:03d}{k // per + 1:05d}",
                capacity=per,
                point=point,
                opened_by=sampler,
                opened_at=opened,
                closed_at=last if (full or close_all) else None,
            )
        )
    Tube.objects.bulk_create(tubes, batch_size=BATCH)
    ids = list(Tube.objects.filter(round=rnd).order_by("pk").values_list("pk", "point_id"))
    rows = []
    for i, resident in enumerate(chosen):
        tube_id, point_id = ids[i // per]
        at = start + dt.timedelta(seconds=span * i / max(n, 1))
        rows.append(
            {
                "uid": uuid.UUID(int=rng.getrandbits(128), version=4),
                "round_id": rnd.pk,
                "tube_id": tube_id,
                "resident_id": resident,
                "point_id": point_id,
                "device_at": at,
                "server_at": at + dt.timedelta(seconds=1),
            }
        )
    _insert_samples(rows, community_id=rnd.community_id, sampler_id=sampler.pk)
    return n


def _insert_samples(rows: list[dict], **constant) -> None:
    """INSERT the samples with executemany: the ORM's bulk_create spends seconds preparing
    24,000 rows field by field. Every other column gets its model default, prepared once."""
    fields = [f for f in Sample._meta.concrete_fields if not f.primary_key]
    varying = set(rows[0]) if rows else set()
    fixed = {}
    for f in fields:
        if f.attname in varying:
            continue
        value = constant.get(f.attname, constant.get(f.name, f.get_default()))
        fixed[f.attname] = f.get_db_prep_save(value, connection)
    cols = [f.attname for f in fields]
    adapt_at = connection.ops.adapt_datetimefield_value
    native_uuid = connection.features.has_native_uuid_field
    prep = {
        "uid": (lambda v: v) if native_uuid else (lambda v: v.hex),
        "device_at": adapt_at,
        "server_at": adapt_at,
    }
    qn = connection.ops.quote_name
    sql = (
        f"INSERT INTO {qn(Sample._meta.db_table)} ({', '.join(qn(c) for c in cols)}) "
        f"VALUES ({', '.join(['%s'] * len(cols))})"
    )
    params = []
    for r in rows:
        params.append(
            [(prep[c](r[c]) if c in prep else r[c]) if c in r else fixed[c] for c in cols]
        )
    with connection.cursor() as c:
        for k in range(0, len(params), BATCH * 5):
            c.executemany(sql, params[k : k + BATCH * 5])
