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
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    Results,
    code_fingerprint,
    contest,
    contest_metrics,
    database,
    database_version,
    log,
    machine,
    residents_with_passes,
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
    from shouwang.residents import tokens
    from shouwang.screening.models import SamplingPoint

    started = time.perf_counter()
    community, _compound, _buildings, _people, passes = residents_with_passes(
        "SB", "筛查基准社区", n
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


def run(kind: str, n: int, samplers: int, rounds: int, *, profile: bool) -> Results:
    results = Results("screening_scan", kind, TITLE)
    results.info.update(machine())
    results.info["code"] = code_fingerprint([*CODE, "benchmarks/_queue_take_app.py"])
    with database(kind) as url:
        results.info["database"] = database_version(kind)
        n_paced = samplers * PACED_SECONDS
        community, point, users, passes = build(n * rounds + 700 + n_paced, samplers)

        def warm(port):
            return scan_payloads(port, new_round(community, 100), point, users, passes[-600:], "W")

        def prepare(port, count, r):
            """Round r's scans (r None: the paced run's) and their check."""
            if r is None:
                round_ = new_round(community, 90)
                mine, tag = passes[rounds * n : rounds * n + count], "P"
            else:
                round_ = new_round(community, r + 1)
                mine, tag = passes[r * n : (r + 1) * n], f"R{r}"
            payloads = scan_payloads(port, round_, point, users, mine, tag)
            return payloads, lambda answers: check(round_, answers, count)

        c = contest(
            results,
            kind,
            url,
            label="scan",
            who="samplers",
            clients=samplers,
            rounds=rounds,
            n=n,
            n_paced=n_paced,
            paced_seconds=PACED_SECONDS,
            interval=PACED_INTERVAL,
            warm=warm,
            prepare=prepare,
            statuses=True,
        )
        for b, checked in zip(c.runs["scan"], c.checks, strict=True):
            b.checks = checked
        contest_metrics(
            results,
            kind,
            c,
            noun="scans",
            who="samplers",
            clients=samplers,
            rounds=rounds,
            correct=f"{n:,} counted samples, every answer `recorded`",
            target_ratio=TARGET_RATIO,
            target_p99_ms=TARGET_P99_MS,
            p50=statistics.median,
            paced_note="; request written → answer read, a new connection per request",
        )
        if profile:
            results.sections["scan profile"] = profile_scan(community, point, users, passes)
            log(results.sections["scan profile"])
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
