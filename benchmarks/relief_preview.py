"""Relief preview: `shouwang demo --scale N`, then `selectors.preview()` of a batch for the demo
community (HM, ≈2,969 households) with the Huamei rule, plain and with care-tag extras, against
a bare `COUNT(*)` of the community's households in the same run.

Targets (issue 5): under 100 ms for the Huamei-sized demo; under 2 s with the 750,000-resident
demo (`--scale 100`) on PostgreSQL. Judged on p95. Also reports one `batch_issue` (all
allocation rows in one transaction) for information.

    .venv/bin/python benchmarks/relief_preview.py --database sqlite [--scale 1]
    .venv/bin/python benchmarks/relief_preview.py --database postgres --scale 100
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

TITLE = "Relief preview"
DEFAULT_DATABASES = ("sqlite",)
SCALE = int(os.environ.get("BENCH_DEMO_SCALE", "1"))
ROUNDS = int(os.environ.get("BENCH_RELIEF_ROUNDS", "30"))
CODE = ["shouwang/supplies/relief/selectors.py", "shouwang/supplies/relief/services.py"]


def _time(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run(kind: str, scale: int, rounds: int) -> Results:
    results = Results("relief_preview", kind, TITLE)
    results.info.update(machine())
    results.info["code"] = code_fingerprint(CODE)
    with database(kind):
        results.info["database"] = database_version(kind)
        demo_s, _out = load_demo(scale)

        from django.db import connection

        from shouwang.accounts.models import User
        from shouwang.registry.models import CareTag, Community, Household, Resident
        from shouwang.supplies.relief import selectors, services

        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE" if kind == "postgres" else "ANALYZE")
        community = Community.objects.get(code="HM")
        admin = User.objects.get(community=community, username="admin")
        residents = Resident.objects.count()
        households = Household.objects.filter(community=community).count()
        log(
            f"  demo scale {scale}: {residents:,} residents in the database, "
            f"{households:,} households in HM, loaded in {demo_s:.0f} s"
        )
        results.info["demo"] = {
            "scale": scale,
            "residents_total": residents,
            "hm_households": households,
            "seconds": round(demo_s, 1),
        }
        plain = services.batch_save(
            actor=admin, community=community, title="bench plain", portions_available=3000
        )
        extras = services.batch_save(
            actor=admin,
            community=community,
            title="bench extras",
            portions_available=3000,
            tag_extras={str(CareTag.INFANT.value): 1, str(CareTag.AGE_80.value): 1},
        )

        def baseline():
            return Household.objects.filter(community=community).count()

        cases = {
            "preview, Huamei rule": lambda: selectors.preview(plain),
            "preview, Huamei rule + infant/80+ extras": lambda: selectors.preview(extras),
        }
        for fn in [baseline, *cases.values()]:
            fn()  # warm up
        p = selectors.preview(extras)
        log(
            f"  preview: {p.total.households} households, {p.total.people} people, "
            f"{p.total.portions} portions; short {p.shortfall}, left out {p.left_out_count}"
        )
        base_t: list[float] = []
        times: dict[str, list[float]] = {k: [] for k in cases}
        for _ in range(rounds):
            base_t.append(_time(baseline))
            for label, fn in cases.items():
                times[label].append(_time(fn))
        base = latency_summary(base_t)
        log(
            f"  baseline COUNT(*) households of HM: p50 {base['p50']:.2f} ms p95 {base['p95']:.2f} ms"
        )
        target = 2000.0 if scale >= 100 else 100.0
        for label, ts in times.items():
            s = latency_summary(ts)
            log(
                f"  {label:<44} p50 {s['p50']:7.2f} ms  p95 {s['p95']:7.2f} ms  "
                f"max {s['max']:7.2f} ms   ({s['p95'] / base['p95']:.1f}x baseline)"
            )
            results.add(
                Metric(
                    label + ", p95",
                    s["p95"],
                    base["p95"],
                    "ms",
                    baseline_name="COUNT(*) of the community's households, p95",
                    target=f"< {target:.0f} ms",
                    passed=s["p95"] < target,
                    note=f"p50 {s['p50']:.1f} ms over {s['n']} rounds; {households} households",
                )
            )
        started = time.perf_counter()
        issued = services.batch_issue(actor=admin, batch=extras, partial=True)
        issue_s = time.perf_counter() - started
        log(f"  batch_issue: {issued.created} allocation rows in {issue_s * 1000:.0f} ms")
        results.add(
            Metric(
                "batch_issue (all rows, one transaction)",
                issue_s * 1000,
                None,
                "ms",
                note=f"{issued.created} rows",
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
        scale, rounds = 1, min(rounds, 10)
    log(f"{TITLE} — demo scale {scale}, {rounds} rounds, on {args.database}")
    results = run(args.database, scale, rounds)
    results.save(args.result_file)


if __name__ == "__main__":
    main()
