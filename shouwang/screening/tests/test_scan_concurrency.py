"""Scans sent again and again, and at the same instant, from threads with their own database
connections (core.testing.run_at_once, the `db_file` fixture): the rows are the distinct scans,
and a person is counted once, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import random
import threading
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from shouwang.core import crypto
from shouwang.core.testing import make_building, make_household, run_at_once, unique_id
from shouwang.registry.models import Resident
from shouwang.residents import tokens
from shouwang.residents.models import Pass
from shouwang.screening import scan, station
from shouwang.screening.models import Sample, Tube
from shouwang.screening.tests.test_scan import make_point, make_round

SCANS = 1000
POOL = 10


def _residents(community, n: int) -> list[Resident]:
    """n residents in households of 5, quickly (bulk)."""
    building = make_building(community, "松林小区", "8号楼")
    households = [make_household(community, building=building) for _ in range(n // 5)]
    people = []
    for i in range(n):
        number = unique_id()
        r = Resident(
            community=community, household=households[i // 5], name=f"居民{i}", relation="other"
        )
        r.id_number_enc, r.id_number_index, r.id_number_masked, r.id_tail = (
            crypto.encrypt(number),
            crypto.blind_index("id", number),
            number[:3],
            number[-4:],
        )
        people.append(r)
    return Resident.objects.bulk_create(people, batch_size=500)


def _passes(community, residents) -> list[str]:
    rows = Pass.objects.bulk_create(
        [Pass(community=community, resident=r, code=tokens.new_code()) for r in residents],
        batch_size=500,
    )
    return [tokens.token_for(p.code) for p in rows]


@pytest.fixture
def setup(personas, db_file):
    community = personas["admin"].community
    round_ = make_round(community)
    point = make_point(community)
    s = station.verify(station.issue(personas["sampler"], round_, point, language="en"))
    return community, round_, s


def test_a_thousand_scans_each_sent_one_to_five_times_make_a_thousand_rows(setup, db_file):
    community, round_, st = setup
    people = _residents(community, SCANS)
    passes = _passes(community, people)
    rng = random.Random(6)
    at = timezone.now().isoformat()
    scans = []
    for i, token in enumerate(passes):
        scans.append(
            {
                "uid": str(uuid.uuid4()),
                "at": at,
                "tube": f"P{i // POOL:04d}",
                "capacity": POOL,
                "pass": token,
                "queued": rng.random() < 0.3,
            }
        )
    copies = [s for s in scans for _ in range(rng.randint(1, 5))]
    rng.shuffle(copies)
    # 40 scans whose copies are released at the very same instant, on top.
    at_once = scans[:40]

    answers: list[tuple[int, dict]] = []
    lock = threading.Lock()
    todo = list(copies)

    def worker():
        db_file()
        try:
            while True:
                with lock:
                    if not todo:
                        return
                    body = todo.pop()
                out = scan.scan_json(st, dict(body))
                with lock:
                    answers.append(out)
        finally:
            connection.close()

    for body in at_once:
        results, refusals = run_at_once(db_file, lambda b: scan.scan_json(st, dict(b)), [body] * 4)
        assert not refusals
        answers.extend(results)
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not any(t.is_alive() for t in threads)

    assert all(status == 200 for status, _out in answers), [
        out for status, out in answers if status != 200
    ][:5]
    recorded = [out["uid"] for _s, out in answers if out["status"] == "recorded"]
    assert sorted(recorded) == sorted(s["uid"] for s in scans)  # each exactly once
    assert {out["status"] for _s, out in answers} == {"recorded", "replayed"}
    assert len(answers) == len(copies) + 4 * len(at_once)
    # Every copy was told the same person and tube as the first.
    by_uid = {}
    for _s, out in answers:
        first = by_uid.setdefault(out["uid"], out)
        assert (out["person"], out["tube"]["code"]) == (first["person"], first["tube"]["code"])
    assert Sample.objects.count() == SCANS
    assert Sample.objects.filter(counted=True).count() == SCANS
    assert Tube.objects.count() == SCANS // POOL
    assert {t.samples.count() for t in Tube.objects.all()} == {POOL}


@pytest.mark.parametrize("queued", [False, True])
def test_two_devices_scanning_one_person_at_once_count_them_once(setup, db_file, ledger, queued):
    _community, _round, st = setup
    people = [ledger[k] for k in ("r1", "r1b", "r2", "r3")]
    for n, person in enumerate(people):
        bodies = [
            {
                "uid": str(uuid.uuid4()),
                "at": (timezone.now() - dt.timedelta(seconds=d)).isoformat(),
                "tube": f"D{n}-{d}",
                "capacity": POOL,
                "resident": person.pk,
                "queued": queued,
            }
            for d in (1, 2)
        ]
        results, refusals = run_at_once(
            db_file, lambda b: scan.record(st, scan.parse_scan(b)), bodies
        )
        statuses = sorted(r["status"] for r in results)
        if queued:
            assert statuses == ["duplicate_kept", "recorded"] and not refusals
        else:
            assert statuses == ["recorded"]
            assert [e.code for e in refusals] == ["duplicate"]
            assert refusals[0].status == 409
        assert Sample.objects.filter(resident=person, counted=True).count() == 1
        assert Sample.objects.filter(resident=person).count() == (2 if queued else 1)
