"""Scanning at a sampling point: 50 samplers scanning passes into pooled tubes at once, against a
bare Django view doing one INSERT, both served by the product's granian command, in the same run.

The scenario builds a community of residents with active passes, 50 sampler accounts and a
sampling point, then starts the pages server `shouwang serve` runs (the granian command read from
the command itself, as benchmarks/queue_take.py does: WSGI, 1 worker on SQLite, 2 on PostgreSQL)
on config.wsgi — where the lean front (shouwang/screening/quick.py) answers the scans
(SHOUWANG_QUICK_SCAN=0 in the environment sends them through Django's full stack instead).

Each round, interleaved, every server started with the same granian command:

* baseline: benchmarks/_queue_take_app.py, BENCH_APP=insert — no middleware, one view, one ORM
  INSERT — hit by as many requests, 50 at a time;
* scan: a new round of today; 50 samplers, each with its own station key, scan their share of
  the residents (a pass each, 10 to a tube) — at most 50 requests in flight, one per sampler,
  each on its own connection; every scan is a live scan that records a new sample (the steady
  state: one SELECT, one INSERT; the first scan of each tube also opens it).

After each scan burst the database must hold exactly one counted sample per resident scanned and
every answer must be `recorded`. Figures: answered requests per second (first sent → last
answered) and per server CPU-second (the granian process tree; on PostgreSQL its backends' CPU
beside it), target ≥ 0.5 × the baseline; and the scans' p99 latency (request written → answer
read), target < 50 ms.

The bursts keep 50 requests in flight without a pause: they measure throughput, and their latency
is mostly the wait in the queue (50 ÷ the rate), which the baseline's view cannot meet either. A
sampler scans a pass every few seconds at most, so the latency target is also measured paced:
50 samplers each scanning once a second (several times a real table's pace) for PACED_SECONDS,
against the baseline paced the same way.

    .venv/bin/python benchmarks/screening_scan.py --database postgres [--scans 5000]
        [--samplers 50] [--rounds 3] [--profile]
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    Metric,
    Results,
    code_fingerprint,
    database,
    database_version,
    log,
    machine,
    percentile,
)

TITLE = "Scanning: 50 samplers recording swabs at once"
DEFAULT_DATABASES = ("postgres", "sqlite")
SCANS = int(os.environ.get("BENCH_SCAN_SCANS", "5000"))
SAMPLERS = int(os.environ.get("BENCH_SCAN_SAMPLERS", "50"))
ROUNDS = int(os.environ.get("BENCH_SCAN_ROUNDS", "3"))
POOL = 10
TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0
PACED_SECONDS = int(os.environ.get("BENCH_SCAN_PACED_SECONDS", "20"))
PACED_INTERVAL = 1.0
CODE = [
    "config/wsgi.py",
    "shouwang/screening/quick.py",
    "shouwang/screening/scan.py",
    "shouwang/screening/station.py",
    "shouwang/screening/views/scan.py",
    "shouwang/screening/models.py",
    "config/settings.py",
]


def build(n: int, samplers: int):
    """n residents with active passes in households of 3, `samplers` sampler accounts, a point."""
    import datetime as dt

    from shouwang.accounts.models import Role, User
    from shouwang.core import crypto
    from shouwang.core.testing import unique_id
    from shouwang.registry.models import (
        Building,
        Community,
        Compound,
        Dwelling,
        Household,
        Resident,
        Unit,
    )
    from shouwang.residents import tokens
    from shouwang.residents.models import Pass
    from shouwang.screening.models import SamplingPoint

    started = time.perf_counter()
    community = Community.objects.create(code="SB", name="筛查基准社区")
    compound = Compound.objects.create(community=community, name="松林小区")
    buildings = Building.objects.bulk_create(
        [Building(community=community, compound=compound, name=f"{i}号楼") for i in range(1, 31)]
    )
    units = Unit.objects.bulk_create(
        [Unit(community=community, building=b, name="1单元") for b in buildings]
    )
    n_hh = n // 3 + 1
    dwellings = Dwelling.objects.bulk_create(
        [
            Dwelling(
                community=community,
                building=buildings[i % 30],
                unit=units[i % 30],
                door=f"{i // 30 // 4 + 1}{i // 30 % 4 + 1:02d}",
            )
            for i in range(n_hh)
        ],
        batch_size=1000,
    )
    households = Household.objects.bulk_create(
        [Household(community=community, dwelling=d, building_id=d.building_id) for d in dwellings],
        batch_size=1000,
    )
    people = []
    for i in range(n):
        number = unique_id()
        r = Resident(community=community, household=households[i // 3], name=f"王{i}明")
        r.id_number_enc, r.id_number_index, r.id_number_masked, r.id_tail = (
            crypto.encrypt(number),
            crypto.blind_index("id", number),
            number[:3] + "*" * 11 + number[-4:],
            number[-4:],
        )
        people.append(r)
    people = Resident.objects.bulk_create(people, batch_size=1000)
    passes = Pass.objects.bulk_create(
        [Pass(community=community, resident=r, code=tokens.new_code()) for r in people],
        batch_size=1000,
    )
    users = User.objects.bulk_create(
        [
            User(username=f"sampler{j}", role=Role.SAMPLER, community=community)
            for j in range(samplers)
        ]
    )
    point = SamplingPoint.objects.create(
        community=community, name="南门", kind="street", opens_at=dt.time(0), closes_at=dt.time(23)
    )
    log(
        f"  {n:,} residents with passes, {samplers} samplers: {time.perf_counter() - started:.1f} s"
    )
    return community, point, users, [tokens.token_for(p.code) for p in passes]


def new_round(community, number: int):
    import datetime as dt

    from django.utils import timezone

    from shouwang.screening.models import Round

    return Round.objects.create(
        community=community,
        number=number,
        date=timezone.localdate(),
        starts_at=dt.time(0),
        ends_at=dt.time(23, 59),
        pool_size=POOL,
    )


def scan_payloads(port, round_, point, users, passes, label: str) -> list[bytes]:
    """Sampler j scans passes j, j+S, j+2S … into its own tubes of 10; interleaved so that the
    50 requests in flight are 50 samplers'."""
    from django.utils import timezone
    from queue_take import _request_bytes

    from shouwang.screening import station

    keys = [station.issue(u, round_, point, language="en") for u in users]
    at = timezone.now().isoformat()
    out = []
    for i, token in enumerate(passes):
        j = i % len(users)
        k = i // len(users)
        body = json.dumps(
            {
                "uid": str(uuid.uuid4()),
                "at": at,
                "tube": f"{label}-{j}-{k // POOL}",
                "capacity": POOL,
                "pass": token,
                "queued": False,
            }
        ).encode()
        headers = {"Content-Type": "application/json", "X-Shouwang-Station": keys[j]}
        out.append(_request_bytes(port, "POST", "/screening/scan/", headers, body))
    return out


async def _paced(port: int, per_sampler: list[list[bytes]], interval: float):
    """Each sampler sends its requests one after another, one every `interval` seconds (the next
    one waits for the answer), starting at a random offset within the first interval."""
    import asyncio
    import random

    from queue_take import Answer, _OneRequest, _parse

    loop = asyncio.get_running_loop()

    async def one(payload: bytes) -> Answer:
        done = loop.create_future()
        transport, proto = await loop.create_connection(
            lambda: _OneRequest(payload, done), "127.0.0.1", port
        )
        data, _exc = await asyncio.wait_for(done, 30)
        now = time.perf_counter()
        transport.close()
        status, _headers, body = _parse(data)
        return Answer(status, "", body[:300], proto.sent, now)

    async def sampler(payloads: list[bytes]) -> list[Answer]:
        out = []
        await asyncio.sleep(random.random() * interval)
        for p in payloads:
            start = time.perf_counter()
            out.append(await one(p))
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - start)))
        return out

    per = await asyncio.gather(*(sampler(p) for p in per_sampler))
    return [a for answers in per for a in answers]


def paced(server, label: str, payloads: list[bytes], samplers: int) -> list:
    import asyncio

    by_sampler = [payloads[j::samplers] for j in range(samplers)]
    answers = asyncio.run(_paced(server.port, by_sampler, PACED_INTERVAL))
    ms = [(a.done - a.sent) * 1000 for a in answers if a.status]
    statuses: dict = {}
    for a in answers:
        statuses[a.status] = statuses.get(a.status, 0) + 1
    log(
        f"    {label:<34} {len(answers):>5} req paced, p50 {statistics.median(ms):.1f} ms, "
        f"p99 {percentile(ms, 99):.1f} ms  {statuses}"
    )
    return answers


def insert_payloads(port, n: int, r: int) -> list[bytes]:
    from queue_take import _request_bytes

    body = b'{"x": 1}'
    headers = {"Content-Type": "application/json"}
    return [
        _request_bytes(port, "POST", f"/bench/insert/{i}/{r}/", headers, body) for i in range(n)
    ]


def check(round_, answers, n: int) -> dict:
    from shouwang.screening.models import Sample

    statuses: dict[str, int] = {}
    for a in answers:
        key = str(a.status)
        m = re.search(rb'"status":"([a-z_]+)"', a.body) or re.search(rb'"code":"([a-z_]+)"', a.body)
        if m:
            key = f"{a.status} {m[1].decode()}"
        statuses[key] = statuses.get(key, 0) + 1
    rows = Sample.objects.filter(round=round_).count()
    counted = Sample.objects.filter(round=round_, counted=True).count()
    ok = rows == counted == n and all(a.status == 200 for a in answers)
    return {"ok": ok, "rows": rows, "counted": counted, "answers": statuses}


def profile_scan(community, point, users, passes) -> str:
    """Queries per scan and a cProfile of scans through the front, in process."""
    import cProfile
    import io
    import pstats

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from shouwang.screening.views.scan import answer

    round_ = new_round(community, 999)
    from shouwang.screening import station

    key = station.issue(users[0], round_, point, language="en")

    def one(i):
        body = {
            "uid": str(uuid.uuid4()),
            "at": "2030-01-01T08:00:00+08:00",
            "tube": f"PR-{i // POOL}",
            "capacity": POOL,
            "pass": passes[i],
        }
        return answer("scan", key, json.dumps(body).encode())

    one(0)
    with CaptureQueriesContext(connection) as ctx:
        one(1)
    lines = [f"queries for a steady-state scan: {len(ctx.captured_queries)}"]
    lines += [f"  {q['sql'][:160]}" for q in ctx.captured_queries]
    started, cpu0 = time.perf_counter(), time.process_time()
    for i in range(2, 302):
        one(i)
    lines.append(
        f"in process: {(time.perf_counter() - started) / 300 * 1000:.2f} ms wall, "
        f"{(time.process_time() - cpu0) / 300 * 1000:.2f} ms CPU per scan"
    )
    prof = cProfile.Profile()
    prof.enable()
    for i in range(302, 602):
        one(i)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(20)
    lines.append(buf.getvalue())
    return "\n".join(lines)


def _median(values):
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def run(kind: str, n: int, samplers: int, rounds: int, *, profile: bool) -> Results:
    from queue_take import Server, burst, create_insert_table, granian_argv

    results = Results("screening_scan", kind, TITLE)
    results.info.update(machine())
    results.info["code"] = code_fingerprint([*CODE, "benchmarks/_queue_take_app.py"])
    workers = 1 if kind == "sqlite" else 2
    tmp = Path(tempfile.mkdtemp(prefix="shouwang_bench_scan_"))
    with database(kind) as url:
        results.info["database"] = database_version(kind)
        from django.db import connections

        n_paced = samplers * PACED_SECONDS
        community, point, users, passes = build(n * rounds + 700 + n_paced, samplers)
        create_insert_table()
        connections.close_all()
        ours = Server("scan", "config.wsgi:application", "", workers, url)
        base = Server("insert", "benchmarks._queue_take_app:application", "insert", workers, url)
        runs: dict[str, list] = {"base": [], "scan": []}
        checks = []
        all_ok = True
        try:
            for s in (ours, base):
                s.start(tmp)
            results.info["server"] = " ".join(
                ["granian", *granian_argv("<target>", ours.port, workers)[1:]]
            )
            log(f"  servers, as `shouwang serve` runs the pages: {results.info['server']}")
            # Warm-up: every worker thread, both servers.
            warm = new_round(community, 100)
            connections.close_all()
            burst(
                ours,
                "warm-up scan",
                scan_payloads(ours.port, warm, point, users, passes[-600:], "W"),
                max_open=samplers,
            )
            burst(base, "warm-up insert", insert_payloads(base.port, 600, 0), max_open=samplers)
            for r in range(rounds):
                log(f"  round {r + 1}/{rounds}")
                b = burst(
                    base,
                    "insert (baseline)",
                    insert_payloads(base.port, n, r + 1),
                    max_open=samplers,
                )
                runs["base"].append(b)
                round_ = new_round(community, r + 1)
                mine = passes[r * n : (r + 1) * n]
                payloads = scan_payloads(ours.port, round_, point, users, mine, f"R{r}")
                connections.close_all()
                b = burst(ours, "scan", payloads, max_open=samplers)
                c = check(round_, b.answers, n)
                connections.close_all()
                b.checks = c
                checks.append(c)
                all_ok &= c["ok"]
                log(f"      {'ok' if c['ok'] else 'FAILED'}: {c}")
                runs["scan"].append(b)
                time.sleep(0.5)
            log(f"  paced: {samplers} samplers, one scan a second each, {PACED_SECONDS} s")
            paced_base = paced(
                base, "insert (baseline), paced", insert_payloads(base.port, n_paced, 90), samplers
            )
            round_ = new_round(community, 90)
            mine = passes[rounds * n : rounds * n + n_paced]
            payloads = scan_payloads(ours.port, round_, point, users, mine, "P")
            connections.close_all()
            paced_scan = paced(ours, "scan, paced", payloads, samplers)
            c = check(round_, paced_scan, n_paced)
            connections.close_all()
            all_ok &= c["ok"]
            log(f"      {'ok' if c['ok'] else 'FAILED'}: {c}")
        finally:
            for s in (ours, base):
                s.stop()

        def med(key, attr):
            return _median([getattr(b, attr) for b in runs[key]])

        def p99(key):
            return _median(
                [
                    percentile([(a.done - a.sent) * 1000 for a in b.answers if a.status], 99)
                    for b in runs[key]
                ]
            )

        def p50(key):
            return _median(
                [
                    statistics.median([(a.done - a.sent) * 1000 for a in b.answers if a.status])
                    for b in runs[key]
                ]
            )

        base_rate, base_cpu = med("base", "rate"), med("base", "per_cpu")
        rate, cpu = med("scan", "rate"), med("scan", "per_cpu")
        name = "bare Django view, 1 ORM INSERT"
        results.add(
            Metric(
                "scans: correct",
                float(statistics.mean(c["rows"] for c in checks)),
                None,
                "requests",
                target=f"{n:,} counted samples, every answer `recorded`",
                passed=all_ok,
                note="; ".join(str(c) for c in checks),
            )
        )
        results.add(
            Metric(
                "scans: requests/s",
                rate,
                base_rate,
                "req/s",
                baseline_name=name,
                target="≥ 0.5 × the baseline",
                passed=rate >= TARGET_RATIO * base_rate,
                note=f"median of {rounds}; {samplers} requests in flight",
            )
        )
        results.add(
            Metric(
                "scans: requests/server CPU-s",
                cpu,
                base_cpu,
                "req/CPU-s",
                baseline_name=name,
                target="≥ 0.5 × the baseline",
                passed=cpu >= TARGET_RATIO * base_cpu,
                note=(
                    f"with the PostgreSQL backends' CPU: {med('scan', 'per_cpu_with_db'):,.0f} vs "
                    f"{med('base', 'per_cpu_with_db'):,.0f}"
                    if kind == "postgres"
                    else "granian process tree (SQLite works inside it)"
                ),
            )
        )

        def paced_ms(answers, q):
            ms = [(a.done - a.sent) * 1000 for a in answers if a.status]
            return percentile(ms, q) if q != 50 else statistics.median(ms)

        results.add(
            Metric(
                f"scans: p99 latency, {samplers} samplers scanning once a second each",
                paced_ms(paced_scan, 99),
                paced_ms(paced_base, 99),
                "ms",
                baseline_name=name + " (same pacing)",
                target=f"< {TARGET_P99_MS:.0f} ms",
                passed=paced_ms(paced_scan, 99) < TARGET_P99_MS,
                note=f"p50 {paced_ms(paced_scan, 50):.1f} ms (baseline "
                f"{paced_ms(paced_base, 50):.1f} ms); {len(paced_scan)} scans; request written → "
                "answer read, a new connection per request",
            )
        )
        results.add(
            Metric(
                f"scans: p99 latency in the bursts, {samplers} in flight without a pause",
                p99("scan"),
                p99("base"),
                "ms",
                baseline_name=name + " (same load)",
                target="(throughput test: the wait in the queue, no target)",
                passed=None,
                note=f"p50 {p50('scan'):.1f} ms (baseline {p50('base'):.1f} ms)",
            )
        )
        results.info["bursts"] = {k: [b.summary() for b in v] for k, v in runs.items()}
        if not all_ok:
            results.notes.append("A CORRECTNESS CHECK FAILED: see the checks.")
        if profile:
            results.sections["scan profile"] = profile_scan(community, point, users, passes)
            log(results.sections["scan profile"])
    shutil.rmtree(tmp, ignore_errors=True)
    return results


def main() -> None:
    from _common import scenario_args

    def extra(parser):
        parser.add_argument("--scans", type=int, default=SCANS)
        parser.add_argument("--samplers", type=int, default=SAMPLERS)
        parser.add_argument("--rounds", type=int, default=ROUNDS)

    args = scenario_args(__doc__.splitlines()[0], DEFAULT_DATABASES, extra)
    n, rounds = args.scans, args.rounds
    if args.quick:
        n, rounds = min(n, 1000), 1
    log(f"{TITLE} — {n:,} scans, {args.samplers} samplers, {rounds} round(s), on {args.database}")
    results = run(args.database, n, args.samplers, rounds, profile=args.profile)
    results.save(args.result_file)


if __name__ == "__main__":
    main()
