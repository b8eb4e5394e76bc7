"""Resident search at district scale: `shouwang demo --scale 100` (≈750,000 residents), then
`resident_search` for one community's admin, against a bare primary-key lookup in the same run.

Reports how long the demo load took (the issue wants minutes, not hours), p50/p95/max of
`resident_search(user, q=...)` for name prefixes (surname; surname + given name), last four
digits, a full phone and a full ID — each over QUERIES random queries — and the same name
prefixes over the whole table without the community filter, to show what the index does.
EXPLAIN ANALYZE of the name searches tells whether an index answers the LIKE 'prefix%'.

Target: every search under 100 ms (judged on p95). PostgreSQL by default.

    .venv/bin/python benchmarks/search.py --database postgres [--scale 100] [--queries 200]
"""

from __future__ import annotations

import os
import random
import re
import subprocess
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

TITLE = "Resident search at district scale"
DEFAULT_DATABASES = ("postgres",)
SCALE = int(os.environ.get("BENCH_DEMO_SCALE", "100"))
QUERIES = int(os.environ.get("BENCH_SEARCH_QUERIES", "200"))
DISTRICT_QUERIES = 50  # a whole-table scan can be slow: fewer of them
TARGET_MS = 100.0
DEMO_TARGET_S = 15 * 60  # past this, the demo itself is profiled
SEED = 7
CODE = [
    "shouwang/registry/selectors.py",
    "shouwang/registry/models.py",
    "shouwang/registry/demo.py",
    "shouwang/accounts/scope.py",
]


def community_code(scale: int) -> str:
    """HM050 at scale 100: a community in the middle of the table, as the issue asks."""
    n = max(1, min(50, scale // 2))
    return "HM" if n == 1 else f"HM{n:03d}"


def _shouwang_command() -> list[str]:
    script = Path(sys.executable).with_name("shouwang")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from shouwang.cli import main; main()"]


def load_demo(scale: int) -> tuple[float, list[str]]:
    """Run `shouwang demo --scale N` as its own process (what an operator types); its wall
    time and output. Our environment points it at the throwaway database and key."""
    from django.db import connections

    connections.close_all()
    cmd = [*_shouwang_command(), "demo", "--scale", str(scale)]
    log(f"  $ {' '.join(['shouwang', *cmd[-3:]])}")
    started = time.perf_counter()
    lines: list[str] = []
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip()
            lines.append(line)
            built = re.match(r"HM(\d*):", line)
            n = int(built.group(1) or 1) if built else 0
            if n and (n == 1 or n % 10 == 0 or n == scale):
                log(f"    {time.perf_counter() - started:6.0f} s  {line}")
        code = proc.wait()
    elapsed = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"shouwang demo failed ({code}):\n" + "\n".join(lines[-30:]))
    return elapsed, lines


def profile_demo(scale: int = 2) -> str:
    """pyinstrument over demo_build for a few more communities, in this process."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        return "pyinstrument is not installed: .venv/bin/pip install pyinstrument"
    from shouwang.registry.demo import demo_build
    from shouwang.registry.models import Community

    start = Community.objects.count() + 1
    # demo_build numbers communities 1..scale and skips existing codes; build past the end.
    profiler = Profiler(interval=0.001)
    profiler.start()
    demo_build(scale=start + scale - 1, log=lambda *_: None)
    profiler.stop()
    return profiler.output_text(show_all=False)


def _queries(user, rng: random.Random, n: int) -> dict[str, list[str]]:
    """Realistic inputs drawn from the community's own residents."""
    from shouwang.registry.demo import SURNAMES
    from shouwang.registry.models import Resident

    people = list(
        Resident.objects.filter(community_id=user.community_id).values_list(
            "name", "id_tail", "phone_enc", "id_number_enc"
        )
    )
    sample = rng.sample(people, min(n * 2, len(people)))
    with_phone = [p for p in sample if p[2]]

    from shouwang.core import crypto

    def pick(rows, k):
        return [rows[i % len(rows)] for i in range(k)]

    return {
        "surname": [rng.choice(SURNAMES) for _ in range(n)],
        "surname + given name": [p[0] for p in pick(sample, n)],
        "last 4 digits": [p[1] for p in pick(sample, n)],
        "full phone": [crypto.decrypt(p[2]).removeprefix("+86") for p in pick(with_phone, n)],
        "full ID": [crypto.decrypt(p[3]) for p in pick(sample, n)],
    }


def _time(fn) -> tuple[float, int]:
    started = time.perf_counter()
    n = fn()
    return time.perf_counter() - started, n


def _explain(qs) -> str:
    return qs.explain(analyze=True, buffers=True)


def _index_verdict(plan: str) -> str:
    """Does an index seek (not a filter after the fact, nor a walk of the whole index) carry
    the name prefix?"""
    lines = plan.splitlines()
    for i, line in enumerate(lines):
        if "Index Cond" in line and "name" in line:
            scan = next(
                (lines[j] for j in range(i, -1, -1) if "Index Scan" in lines[j]), lines[i - 1]
            )
            m = re.search(r"(?:Index Scan|Index Only Scan)(?: Backward)? using (\S+)", scan)
            index = m.group(1) if m else scan.strip()
            rows = re.search(r"actual time=\S+ rows=(\d+)", scan)
            if "community_id" not in line:
                # A (community, name) index with no condition on community: PostgreSQL checks
                # the prefix on every entry of the index, it cannot seek to it.
                return (
                    f"index {index} is read whole (no condition on its leading column "
                    f"community_id), {rows.group(1) if rows else '?'} rows matched"
                )
            return f"index seek on {index} for the name prefix"
    if "Seq Scan" in plan:
        return "NOT indexed: sequential scan for the name prefix"
    return "NOT indexed: the name prefix is applied as a filter after the scan"


def _plan_times(plan: str) -> dict[str, float]:
    return {
        k.split()[0].lower(): float(v)
        for k, v in re.findall(r"^(Planning Time|Execution Time): ([\d.]+) ms", plan, re.M)
    }


def run(kind: str, scale: int, n: int, *, profile: bool) -> Results:
    results = Results("search", kind, TITLE)
    results.info.update(machine())
    results.info["code"] = code_fingerprint(CODE)
    with database(kind):
        results.info["database"] = database_version(kind)
        demo_s, _out = load_demo(scale)

        from django.db import connection
        from django.db.models import Max, Min

        from shouwang.accounts.models import Role, User
        from shouwang.registry.models import Community, Resident
        from shouwang.registry.selectors import resident_search

        residents = Resident.objects.count()
        communities = Community.objects.count()
        log(f"  demo: {communities} communities, {residents:,} residents in {demo_s:.0f} s")
        results.info["demo"] = {
            "scale": scale,
            "communities": communities,
            "residents": residents,
            "seconds": round(demo_s, 1),
            "residents_per_s": round(residents / demo_s),
        }
        results.add(
            Metric(
                f"load `shouwang demo --scale {scale}`",
                demo_s,
                None,
                "s",
                target=f"minutes (≤ {DEMO_TARGET_S // 60} min)",
                passed=demo_s <= DEMO_TARGET_S,
                note=f"{residents:,} residents, {residents / demo_s:,.0f} residents/s",
            )
        )
        if profile or demo_s > DEMO_TARGET_S:
            log("  profiling demo_build for 2 more communities ...")
            results.sections["demo profile"] = profile_demo(2)

        # A freshly bulk-loaded table has no planner statistics until autovacuum gets to it.
        started = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE" if kind == "postgres" else "ANALYZE")
        log(f"  analyzed in {time.perf_counter() - started:.1f} s")

        community = Community.objects.get(code=community_code(scale))
        results.info["community"] = community.code
        user = User.objects.create(
            username="bench_admin", role=Role.ADMIN, community=community, display_name="基准"
        )
        rng = random.Random(SEED)
        queries = _queries(user, rng, n)
        bounds = Resident.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
        pks = [rng.randint(bounds["lo"], bounds["hi"]) for _ in range(n * (len(queries) + 2))]

        def search(q):
            return lambda: len(list(resident_search(user, q=q)))

        def district(q):
            return lambda: len(list(Resident.objects.filter(name__startswith=q)[:50]))

        def by_pk(pk):
            return lambda: len(list(Resident.objects.filter(pk=pk)))

        cases = [(label, search, qs) for label, qs in queries.items()]
        cases += [
            ("district-wide, surname", district, queries["surname"][:DISTRICT_QUERIES]),
            (
                "district-wide, surname + given name",
                district,
                queries["surname + given name"][:DISTRICT_QUERIES],
            ),
        ]
        # Warm up: plans, connection, caches.
        for _label, make, qs in cases:
            for q in qs[:5]:
                make(q)()
        timings: dict[str, list[float]] = {label: [] for label, *_ in cases}
        hits: dict[str, list[int]] = {label: [] for label, *_ in cases}
        baseline: list[float] = []
        pk_iter = iter(pks)
        # Interleaved: one query of each kind per round, each after a primary-key lookup.
        for i in range(n):
            for label, make, qs in cases:
                if i >= len(qs):
                    continue
                baseline.append(_time(by_pk(next(pk_iter)))[0])
                seconds, found = _time(make(qs[i]))
                timings[label].append(seconds)
                hits[label].append(found)
        base = latency_summary(baseline)
        log(
            f"  baseline: primary-key lookup  p50 {base['p50']:.2f} ms  p95 {base['p95']:.2f} ms"
            f"  max {base['max']:.2f} ms  (n={base['n']})"
        )
        results.info["baseline_pk_lookup_ms"] = base
        for label, *_ in cases:
            s = latency_summary(timings[label])
            found = hits[label]
            district_wide = label.startswith("district")
            log(
                f"  {label:<38} p50 {s['p50']:7.2f} ms  p95 {s['p95']:7.2f} ms  "
                f"max {s['max']:7.2f} ms  rows/query avg {sum(found) / len(found):.1f}"
            )
            results.add(
                Metric(
                    ("" if district_wide else "resident_search, ") + label + ", p95",
                    s["p95"],
                    base["p95"],
                    "ms",
                    baseline_name="primary-key lookup, p95",
                    target="none (shows the index)" if district_wide else f"< {TARGET_MS:.0f} ms",
                    passed=None if district_wide else s["p95"] < TARGET_MS,
                    note=(
                        f"p50 {s['p50']:.1f} ms, max {s['max']:.1f} ms over {s['n']} queries; "
                        f"{sum(found) / len(found):.1f} rows per query"
                    ),
                )
            )

        if kind == "postgres":
            explained = []
            for label, qs in [
                ("resident_search, surname", resident_search(user, q=queries["surname"][0])),
                (
                    "resident_search, surname + given name",
                    resident_search(user, q=queries["surname + given name"][0]),
                ),
                (
                    "district-wide, surname",
                    Resident.objects.filter(name__startswith=queries["surname"][0])[:50],
                ),
                (
                    "district-wide, surname + given name",
                    Resident.objects.filter(name__startswith=queries["surname + given name"][0])[
                        :50
                    ],
                ),
            ]:
                plan = _explain(qs)
                verdict = _index_verdict(plan)
                times = _plan_times(plan)
                results.info.setdefault("index_verdicts", {})[label] = verdict
                results.info.setdefault("explain_ms", {})[label] = times
                log(f"  EXPLAIN {label}: {verdict}; {times}")
                sql = re.sub(r"^SELECT .*? FROM ", "SELECT … FROM ", str(qs.query))
                explained.append(f"-- {label}: {verdict}\n-- {sql}\n{plan}")
            results.sections["EXPLAIN ANALYZE"] = "\n\n".join(explained)
            log(results.sections["EXPLAIN ANALYZE"])
    return results


def main() -> None:
    from _common import scenario_args

    def extra(parser):
        parser.add_argument("--scale", type=int, default=SCALE, help=f"default {SCALE}")
        parser.add_argument("--queries", type=int, default=QUERIES, help=f"default {QUERIES}")

    args = scenario_args(__doc__.splitlines()[0], DEFAULT_DATABASES, extra)
    scale = args.scale
    n = args.queries
    if args.quick:
        scale, n = min(scale, 4), min(n, 50)
    log(f"{TITLE} — demo scale {scale}, {n} queries per kind, on {args.database}")
    results = run(args.database, scale, n, profile=args.profile)
    results.save(args.result_file)


if __name__ == "__main__":
    main()
