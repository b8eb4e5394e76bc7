"""The pass decision at the gates: 50 guards scanning passes at once, against a bare Django view
doing one INSERT, both served by the product's granian command, in the same run.

The scenario builds a community of residents with active passes — each with a negative single
tube the day before, some buildings under control, a few retest flags and positives, so the
decision's SELECT has real rows to read — 50 guard accounts and a checkpoint, then starts the
pages server `shouwang serve` runs (the granian command read from the command itself, as
benchmarks/screening_scan.py does: WSGI, 1 worker on SQLite, 2 on PostgreSQL) on config.wsgi —
where the lean front (shouwang/checkpoints/quick.py) answers the decisions
(SHOUWANG_QUICK_PASS=0 in the environment sends them through Django's full stack instead).

Each round, interleaved, every server started with the same granian command:

* baseline: benchmarks/_queue_take_app.py, BENCH_APP=insert — no middleware, one view, one ORM
  INSERT — hit by as many requests, 50 at a time;
* pass: 50 guards, each with its own gate key, scan their share of the residents (in or out,
  a temperature) — at most 50 requests in flight, one per guard, each on its own connection;
  every request decides and logs one passage (one SELECT, one INSERT).

After each burst the database must hold exactly one passage per request, and every answer must
be a decision. Figures: answered requests per second and per server CPU-second (target ≥ 0.5 ×
the baseline), and the p99 latency measured paced — 50 guards each scanning once a second for
PACED_SECONDS — target < 50 ms (the bursts' latency is mostly the wait in the queue).

    .venv/bin/python benchmarks/checkpoint_pass.py --database postgres [--passes 5000]
        [--guards 50] [--rounds 3] [--quick]
"""

from __future__ import annotations

import json
import os
import re
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
    log_metrics,
    machine,
    percentile,
    residents_with_passes,
)

TITLE = "The pass decision: 50 guards scanning passes at once"
DEFAULT_DATABASES = ("postgres", "sqlite")
PASSES = int(os.environ.get("BENCH_PASS_PASSES", "5000"))
GUARDS = int(os.environ.get("BENCH_PASS_GUARDS", "50"))
ROUNDS = int(os.environ.get("BENCH_PASS_ROUNDS", "3"))
RESIDENTS = int(os.environ.get("BENCH_PASS_RESIDENTS", "6000"))
TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0
PACED_SECONDS = int(os.environ.get("BENCH_PASS_PACED_SECONDS", "20"))
PACED_INTERVAL = 1.0
CODE = [
    "config/wsgi.py",
    "shouwang/checkpoints/quick.py",
    "shouwang/checkpoints/decision.py",
    "shouwang/checkpoints/gatekey.py",
    "shouwang/checkpoints/views/guard.py",
    "shouwang/checkpoints/models.py",
    "config/settings.py",
]


def build(n: int, guards: int):
    """n residents with passes and a negative test yesterday; buildings under control; guards."""
    import datetime as dt

    from django.utils import timezone

    from shouwang.accounts.models import Role, User
    from shouwang.checkpoints.models import Checkpoint, Policy
    from shouwang.control.testing import put_under
    from shouwang.residents import tokens
    from shouwang.screening.models import Positive, RetestFlag, Round, Sample, Tube

    started = time.perf_counter()
    community, compound, buildings, people, passes = residents_with_passes("KB", "卡口基准社区", n)
    # Yesterday's round: everyone swabbed into pooled tubes of 10, negative.
    yesterday = timezone.now() - dt.timedelta(hours=20)
    rnd = Round.objects.create(
        community=community,
        number=1,
        date=timezone.localdate(yesterday),
        starts_at=dt.time(0),
        ends_at=dt.time(23, 59),
    )
    tubes = Tube.objects.bulk_create(
        [
            Tube(
                community=community,
                round=rnd,
                code=f"Y{k}",
                capacity=10,
                opened_at=yesterday,
                result="negative",
            )
            for k in range(n // 10 + 1)
        ],
        batch_size=1000,
    )
    Sample.objects.bulk_create(
        [
            Sample(
                community=community,
                round=rnd,
                tube=tubes[i // 10],
                resident=r,
                device_at=yesterday,
                server_at=yesterday,
            )
            for i, r in enumerate(people)
        ],
        batch_size=1000,
    )
    RetestFlag.objects.bulk_create(
        [RetestFlag(community=community, resident=r, tube=tubes[0]) for r in people[::97]]
    )
    Positive.objects.bulk_create(
        [
            Positive(community=community, resident=r, source="round", detected_on=yesterday.date())
            for r in people[::211]
        ]
    )
    for b in buildings[:3]:
        put_under(b, "controlled")
    put_under(buildings[3], "sealed")
    put_under(compound, "precaution")
    Policy.objects.create(community=community)
    users = User.objects.bulk_create(
        [User(username=f"guard{j}", role=Role.GUARD, community=community) for j in range(guards)]
    )
    checkpoint = Checkpoint.objects.create(community=community, name="南门", compound=compound)
    log(
        f"  {n:,} residents with passes and tests, {guards} guards: {time.perf_counter() - started:.1f} s"
    )
    return checkpoint, users, [tokens.token_for(p.code) for p in passes]


def pass_payloads(port, checkpoint, users, passes, n: int, offset: int) -> list[bytes]:
    """n decisions: guard j scans passes j, j+G, … (cycling through the residents), in and out
    alternately, interleaved so that the 50 requests in flight are 50 guards'."""
    from queue_take import _request_bytes

    from shouwang.checkpoints import gatekey

    keys = [gatekey.issue(u, checkpoint, language="en") for u in users]
    out = []
    for i in range(n):
        j = i % len(users)
        token = passes[(offset + i) % len(passes)]
        body = json.dumps(
            {
                "uid": str(uuid.uuid4()),
                "direction": "out" if i % 2 else "in",
                "temperature": f"36.{i % 7}",
                "pass": token,
            }
        ).encode()
        headers = {"Content-Type": "application/json", "X-Shouwang-Gate": keys[j]}
        out.append(_request_bytes(port, "POST", "/checkpoints/pass/", headers, body))
    return out


def check(answers, before: int) -> dict:
    from shouwang.checkpoints.models import Passage

    statuses: dict[str, int] = {}
    for a in answers:
        key = str(a.status)
        m = re.search(rb'"decision":"([a-z]+)"', a.body) or re.search(
            rb'"code":"([a-z_]+)"', a.body
        )
        if m:
            key = f"{a.status} {m[1].decode()}"
        statuses[key] = statuses.get(key, 0) + 1
    rows = Passage.objects.count() - before
    ok = rows == len(answers) and all(a.status == 200 for a in answers)
    return {"ok": ok, "rows": rows, "answers": statuses}


def run(kind: str, n: int, guards: int, rounds: int) -> Results:
    results = Results("checkpoint_pass", kind, TITLE)
    results.info.update(machine())
    results.info["code"] = code_fingerprint([*CODE, "benchmarks/_queue_take_app.py"])
    with database(kind) as url:
        results.info["database"] = database_version(kind)
        from shouwang.checkpoints.models import Passage

        checkpoint, users, passes = build(RESIDENTS, guards)

        def warm(port):
            return pass_payloads(port, checkpoint, users, passes, 600, 0)

        def prepare(port, count, r):
            """Round r's decisions (r None: the paced run's) and their check."""
            offset = 7 if r is None else r * n
            payloads = pass_payloads(port, checkpoint, users, passes, count, offset)
            before = Passage.objects.count()
            return payloads, lambda answers: check(answers, before)

        c = contest(
            results,
            kind,
            url,
            label="pass",
            who="guards",
            clients=guards,
            rounds=rounds,
            n=n,
            n_paced=guards * PACED_SECONDS,
            paced_seconds=PACED_SECONDS,
            interval=PACED_INTERVAL,
            warm=warm,
            prepare=prepare,
        )
        contest_metrics(
            results,
            kind,
            c,
            noun="decisions",
            who="guards",
            clients=guards,
            rounds=rounds,
            correct="one passage per request, every answer a decision",
            target_ratio=TARGET_RATIO,
            target_p99_ms=TARGET_P99_MS,
            p50=lambda ms: percentile(ms, 50),
        )
        log_metrics(results)
    return results


def main() -> None:
    global PACED_SECONDS
    from _common import scenario_args

    def extra(parser):
        parser.add_argument("--passes", type=int, default=PASSES)
        parser.add_argument("--guards", type=int, default=GUARDS)
        parser.add_argument("--rounds", type=int, default=ROUNDS)

    args = scenario_args(__doc__.splitlines()[0], DEFAULT_DATABASES, extra)
    n, rounds = args.passes, args.rounds
    if args.quick:
        n, rounds, PACED_SECONDS = min(n, 1500), 1, min(PACED_SECONDS, 8)
    log(f"{TITLE} — {n:,} decisions, {args.guards} guards, {rounds} round(s), on {args.database}")
    results = run(args.database, n, args.guards, rounds)
    results.save(args.result_file)


if __name__ == "__main__":
    main()
