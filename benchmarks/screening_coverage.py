"""Screening coverage: `shouwang demo --scale N`, one mass round per community today with ≈85 %
of its residents sampled and a few exemptions, then `coverage.coverage()` and
`coverage.missing()` of the demo community's round (HM, ≈7,500 residents) and
`coverage.rollup()` over every community of the district for the day — against a bare
`COUNT(*)` of HM's residents in the same run.

Targets (issue 6): coverage of a Huamei-sized round under 100 ms; the roll-up over the
750,000-resident demo (`--scale 100`) under 2 s on PostgreSQL. Judged on p95.

    .venv/bin/python benchmarks/screening_coverage.py --database sqlite [--scale 1]
    .venv/bin/python benchmarks/screening_coverage.py --database postgres --scale 100
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    Metric,
    Results,
    code_fingerprint,
    database,
    database_version,
    latency_summary,
    log,
    machine,
)
from search import load_demo  # noqa: E402

TITLE = "Screening coverage"
DEFAULT_DATABASES = ("postgres",)
SCALE = int(os.environ.get("BENCH_DEMO_SCALE", "100"))
ROUNDS = int(os.environ.get("BENCH_COVERAGE_ROUNDS", "20"))
SAMPLED_SHARE = 0.85
CODE = ["shouwang/screening/coverage.py", "shouwang/screening/models.py"]


def _time(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _fill_rounds(kind: str) -> dict:
    """A mass round per community today, one tube each, samples for ≈85 % of the residents (a
    deterministic pick by id) and an exemption for 1 in 200 — in SQL, as a day of scanning
    would leave them."""
    import datetime as dt

    from django.db import connection, transaction
    from django.utils import timezone

    from shouwang.registry.models import Community, Resident
    from shouwang.screening.models import Exemption, Round, Sample, Tube

    today = timezone.localdate()
    now = timezone.now()
    started = time.perf_counter()
    with transaction.atomic():
        rounds = Round.objects.bulk_create(
            [
                Round(
                    community=c,
                    kind="mass",
                    number=900,
                    date=today,
                    starts_at=dt.time(7, 0),
                    ends_at=dt.time(17, 0),
                )
                for c in Community.objects.order_by("pk")
            ]
        )
        Tube.objects.bulk_create(
            [
                Tube(community_id=r.community_id, round=r, code="BENCH", capacity=10, opened_at=now)
                for r in rounds
            ]
        )
        uid = "gen_random_uuid()" if kind == "postgres" else "lower(hex(randomblob(16)))"
        keep = int(SAMPLED_SHARE * 100)
        with connection.cursor() as c:
            c.execute(
                f"INSERT INTO {Sample._meta.db_table} (uid, community_id, round_id, tube_id, "
                "resident_id, via, device_at, server_at, counted, flagged, walk_in_name, "
                "walk_in_id_enc, walk_in_id_index, walk_in_id_masked, walk_in_phone_enc, "
                "walk_in_phone_masked) "
                f"SELECT {uid}, r.community_id, ro.id, t.id, r.id, 'pass', %s, %s, %s, %s, "
                "'', '', '', '', '', '' "
                f"FROM {Resident._meta.db_table} r "
                f"JOIN {Round._meta.db_table} ro ON ro.community_id = r.community_id "
                "AND ro.number = 900 "
                f"JOIN {Tube._meta.db_table} t ON t.round_id = ro.id "
                "WHERE r.presence = 'present' AND (r.id * 7919) %% 100 < %s",
                [now, now, True, False, keep],
            )
            samples = c.rowcount
            c.execute(
                f"INSERT INTO {Exemption._meta.db_table} (community_id, round_id, resident_id, "
                "reason, note, created_at) "
                "SELECT r.community_id, ro.id, r.id, 'other', '', %s "
                f"FROM {Resident._meta.db_table} r "
                f"JOIN {Round._meta.db_table} ro ON ro.community_id = r.community_id "
                "AND ro.number = 900 "
                "WHERE r.id %% 200 = 7",
                [now],
            )
            exemptions = c.rowcount
    return {
        "rounds": len(rounds),
        "samples": samples,
        "exemptions": exemptions,
        "seconds": round(time.perf_counter() - started, 1),
    }


def run(kind: str, scale: int, rounds: int) -> Results:
    results = Results("screening_coverage", kind, TITLE)
    results.info.update(machine())
    results.info["code"] = code_fingerprint(CODE)
    with database(kind):
        results.info["database"] = database_version(kind)
        demo_s, _out = load_demo(scale)

        from django.db import connection

        from shouwang.accounts.models import User
        from shouwang.registry.models import Community, Resident
        from shouwang.screening import coverage
        from shouwang.screening.models import Round

        filled = _fill_rounds(kind)
        log(
            f"  {filled['rounds']} rounds, {filled['samples']:,} samples, "
            f"{filled['exemptions']:,} exemptions in {filled['seconds']} s"
        )
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE" if kind == "postgres" else "ANALYZE")
        community = Community.objects.get(code="HM")
        rnd = Round.objects.get(community=community, number=900)
        residents = Resident.objects.count()
        hm = Resident.objects.filter(community=community).count()
        log(
            f"  demo scale {scale}: {residents:,} residents in the database, {hm:,} in HM, "
            f"loaded in {demo_s:.0f} s"
        )
        results.info["demo"] = {
            "scale": scale,
            "residents_total": residents,
            "hm_residents": hm,
            "seconds": round(demo_s, 1),
            **{f"fill_{k}": v for k, v in filled.items()},
        }
        district = User.objects.get(username="district")
        communities = Community.objects.filter(street__district_id=district.district_id)
        grid_leader = User.objects.filter(community=community, role="grid_leader").first()

        def baseline():
            return Resident.objects.filter(community=community).count()

        cov = coverage.coverage(rnd)
        log(
            f"  HM round: expected {cov.total.expected:,}, sampled {cov.total.sampled:,}, "
            f"missing {cov.total.missing:,}, exempt {cov.total.exempt:,}"
        )
        cases = {
            "coverage of the HM round (by grid, building)": (
                lambda: coverage.coverage(rnd),
                100.0,
            ),
            "missing list of the HM round (names, phones)": (
                lambda: coverage.missing(rnd),
                100.0,
            ),
            "coverage, a grid leader's grid": (
                lambda: coverage.coverage(rnd, grid_leader),
                100.0,
            ),
            f"roll-up of the day, {communities.count()} communities": (
                lambda: coverage.rollup(communities, rnd.date),
                2000.0 if scale >= 100 else 100.0,
            ),
        }
        for fn in [baseline, *(f for f, _t in cases.values())]:
            fn()  # warm up
        base_t: list[float] = []
        times: dict[str, list[float]] = {k: [] for k in cases}
        for _ in range(rounds):
            base_t.append(_time(baseline))
            for label, (fn, _t) in cases.items():
                times[label].append(_time(fn))
        base = latency_summary(base_t)
        log(
            f"  baseline COUNT(*) residents of HM: p50 {base['p50']:.2f} ms p95 {base['p95']:.2f} ms"
        )
        for label, ts in times.items():
            target = cases[label][1]
            s = latency_summary(ts)
            log(
                f"  {label:<48} p50 {s['p50']:8.2f} ms  p95 {s['p95']:8.2f} ms  "
                f"max {s['max']:8.2f} ms  target < {target:.0f} ms  "
                f"{'PASS' if s['p95'] < target else 'FAIL'}"
            )
            results.add(
                Metric(
                    label + ", p95",
                    s["p95"],
                    base["p95"],
                    "ms",
                    baseline_name="COUNT(*) of HM's residents, p95",
                    target=f"< {target:.0f} ms",
                    passed=s["p95"] < target,
                    note=f"p50 {s['p50']:.1f} ms over {s['n']} rounds",
                )
            )
    return results


def main() -> None:
    from _common import scenario_args

    def extra(parser):
        parser.add_argument("--scale", type=int, default=SCALE, help=f"default {SCALE}")
        parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"default {ROUNDS}")

    args = scenario_args(__doc__.splitlines()[0], DEFAULT_DATABASES, extra)
    scale, rounds = args.scale, args.rounds
    if args.quick:
        scale, rounds = 1, min(rounds, 5)
    log(f"{TITLE} — demo scale {scale}, {rounds} rounds, on {args.database}")
    results = run(args.database, scale, rounds)
    results.save(args.result_file)


if __name__ == "__main__":
    main()
