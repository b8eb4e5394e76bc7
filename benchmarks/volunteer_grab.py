"""Grabbing a task (秒抢): 500 volunteers press "grab" within one second for a 10-place task,
against a bare Django view doing one INSERT, both served by the product's granian command, in
the same run.

The scenario builds a community with 500 active volunteers, each with a user, a grab key (what
the list of tasks on their phone holds: shouwang/volunteers/grabkey.py) and an API token, then
starts the pages server `shouwang serve` runs (the granian
command read from the command itself, as benchmarks/checkpoint_pass.py does: WSGI, 1 worker on
SQLite, 2 on PostgreSQL) on config.wsgi, and the baseline (benchmarks/_queue_take_app.py,
BENCH_APP=insert: no middleware, one view, one ORM INSERT) with the same command.

Each round, interleaved: a burst of 500 baseline INSERTs, then a fresh 10-place task (days apart
from the others, so no rest rule meets) and every volunteer's press — POST /volunteers/grab/
{"task": id} with the grab key in a header, the path the phones use (answered by the lean front
shouwang/volunteers/quick.py; `--path api` measures POST /api/v1/volunteers/tasks/<id>/grab
with the Bearer token instead) — all 500 sent at once, each on its own connection, offered
within the first second. After each burst the database must hold exactly 10 places taken
(`taken` = 10 = rows with a place) and 490 on the waiting list, one signup per volunteer, and
every answer a 200 with a signup. Figures: answered grabs per second and per server
CPU-second beside the baseline's INSERTs (target ≥ 0.5 ×), and the p50/p99 latency of both
bursts (mostly the wait in the queue).

    .venv/bin/python benchmarks/volunteer_grab.py --database postgres [--volunteers 500]
        [--places 10] [--rounds 3] [--path quick|api] [--quick]
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    Metric,
    Results,
    code_fingerprint,
    database,
    database_version,
    insert_payloads,
    latencies_ms,
    log,
    log_metrics,
    machine,
    median,
    percentile,
)

TITLE = "Grabbing a task: 500 volunteers press at once for 10 places"
DEFAULT_DATABASES = ("sqlite", "postgres")
VOLUNTEERS = int(os.environ.get("BENCH_GRAB_VOLUNTEERS", "500"))
PLACES = int(os.environ.get("BENCH_GRAB_PLACES", "10"))
ROUNDS = int(os.environ.get("BENCH_GRAB_ROUNDS", "3"))
TARGET_RATIO = 0.5
CODE = [
    "config/wsgi.py",
    "shouwang/volunteers/quick.py",
    "shouwang/volunteers/grabkey.py",
    "shouwang/volunteers/views/grab_quick.py",
    "shouwang/volunteers/tasks.py",
    "shouwang/volunteers/rules.py",
    "shouwang/volunteers/api_tasks.py",
    "shouwang/volunteers/models.py",
    "config/settings.py",
]


def build(n: int):
    """A community with n active volunteers, each with a user and an API token."""
    from django.utils import timezone

    from shouwang.accounts.models import Role, User
    from shouwang.accounts.services import token_create
    from shouwang.registry.models import Community
    from shouwang.volunteers.models import Volunteer

    started = time.perf_counter()
    community = Community.objects.create(code="ZY", name="志愿者基准社区")
    users = User.objects.bulk_create(
        [User(username=f"vol{i}", role=Role.VOLUNTEER, community=community) for i in range(n)]
    )
    staff = User.objects.create(username="bench_staff", role=Role.STAFF, community=community)
    Volunteer.objects.bulk_create(
        [
            Volunteer(
                community=community,
                user=u,
                name=f"志愿者{i}",
                phone=f"139{i:08d}",
                origin="resident",
                status="active",
                approved_at=timezone.now(),
            )
            for i, u in enumerate(users)
        ]
    )
    from shouwang.volunteers import grabkey

    tokens = [token_create(user=u, label="bench") for u in users]
    keys = [
        grabkey.issue(v, language="en")
        for v in Volunteer.objects.filter(community=community).order_by("pk")
    ]
    log(f"  {n:,} volunteers with tokens and grab keys: {time.perf_counter() - started:.1f} s")
    return community, staff, tokens, keys


def new_task(community, staff, places: int, r: int):
    import datetime as dt

    from django.utils import timezone

    from shouwang.volunteers import tasks

    # Days apart: the places of one round make no rest rule for the next.
    start = (timezone.now() + dt.timedelta(days=6 + 3 * r)).replace(second=0, microsecond=0)
    return tasks.publish(
        actor=staff,
        community=community,
        title=f"分发物资 {r}",
        place="3号楼",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        places=places,
    )


def grab_payloads(port: int, task_id: int, tokens: list[str], keys=None) -> list[bytes]:
    """Every volunteer's press: the quick path with their grab key (keys given), else the API
    with their Bearer token."""
    import json

    from queue_take import _request_bytes

    if keys is not None:
        body = json.dumps({"task": task_id}).encode()
        return [
            _request_bytes(
                port,
                "POST",
                "/volunteers/grab/",
                {"X-Shouwang-Grab": k, "Content-Type": "application/json"},
                body,
            )
            for k in keys
        ]
    return [
        _request_bytes(
            port,
            "POST",
            f"/api/v1/volunteers/tasks/{task_id}/grab",
            {"Authorization": f"Bearer {t}", "Content-Type": "application/json"},
            b"",
        )
        for t in tokens
    ]


def check(task_id: int, answers, n: int, places: int) -> dict:
    from shouwang.volunteers.models import Signup, Task

    statuses: dict[str, int] = {}
    said = {"taken": 0, "waiting": 0}
    for a in answers:
        statuses[str(a.status)] = statuses.get(str(a.status), 0) + 1
        m = re.search(rb'"status": ?"(taken|waiting)"', a.body) if a.status == 200 else None
        if m:
            said[m[1].decode()] += 1
    task = Task.objects.get(pk=task_id)
    rows = Signup.objects.filter(task_id=task_id)
    taken = rows.filter(status="taken").count()
    waiting = rows.filter(status="waiting").count()
    per_volunteer = rows.values("volunteer").distinct().count()
    ok = (
        task.taken == taken == places
        and waiting == n - places
        and per_volunteer == rows.count() == n
        and statuses == {"200": n}
    )
    return {
        "ok": ok,
        "rows": rows.count(),
        "taken": taken,
        "taken_counter": task.taken,
        "waiting": waiting,
        "answers": statuses,
        "answered_taken": said["taken"],
    }


def run(kind: str, n: int, places: int, rounds: int, path: str = "quick") -> Results:
    from queue_take import Server, burst, create_insert_table, granian_argv

    results = Results("volunteer_grab", kind, TITLE)
    results.info.update(machine())
    results.info["code"] = code_fingerprint([*CODE, "benchmarks/_queue_take_app.py"])
    with database(kind) as url:
        from django.db import connections

        results.info["database"] = database_version(kind)
        community, staff, tokens, keys = build(n)
        keys = keys if path == "quick" else None
        results.info["path"] = "POST /volunteers/grab/ (grab key)" if keys else "API (Bearer)"
        create_insert_table()
        connections.close_all()
        workers = 1 if kind == "sqlite" else 2
        tmp = Path(tempfile.mkdtemp(prefix="shouwang_bench_grab_"))
        ours = Server("grab", "config.wsgi:application", "", workers, url)
        base = Server("insert", "benchmarks._queue_take_app:application", "insert", workers, url)
        runs: dict[str, list] = {"base": [], "grab": []}
        checks = []
        try:
            for s in (ours, base):
                s.start(tmp)
            results.info["server"] = " ".join(
                ["granian", *granian_argv("<target>", ours.port, workers)[1:]]
            )
            log(f"  servers, as `shouwang serve` runs the pages: {results.info['server']}")
            # Warm up: a task with room for everyone (imports, connections, caches).
            warm = new_task(community, staff, min(n, 1000), -1)
            connections.close_all()
            burst(ours, "warm-up grab", grab_payloads(ours.port, warm.pk, tokens, keys), max_open=n)
            burst(base, "warm-up insert", insert_payloads(base.port, n, 0), max_open=n)
            for r in range(rounds):
                log(f"  round {r + 1}/{rounds}")
                runs["base"].append(
                    burst(
                        base, "insert (baseline)", insert_payloads(base.port, n, r + 1), max_open=n
                    )
                )
                task = new_task(community, staff, places, r)
                payloads = grab_payloads(ours.port, task.pk, tokens, keys)
                connections.close_all()
                b = burst(ours, f"grab, {places} places", payloads, max_open=n)
                runs["grab"].append(b)
                c = check(task.pk, b.answers, n, places)
                connections.close_all()
                checks.append(c)
                log(f"      {'ok' if c['ok'] else 'FAILED'}: {c}")
        finally:
            for s in (ours, base):
                s.stop()

        def med(key, attr):
            return median([getattr(b, attr) for b in runs[key]])

        def lat(key, q):
            return median([percentile(latencies_ms(b.answers), q) for b in runs[key]])

        last = checks[-1]
        log(
            f"  taken == {last['taken']} (counter {last['taken_counter']}), "
            f"waiting == {last['waiting']}"
        )
        name = "bare Django view, 1 ORM INSERT"
        all_ok = all(c["ok"] for c in checks)
        results.add(
            Metric(
                "grab: places given",
                float(median([c["taken"] for c in checks])),
                None,
                "places",
                target=f"exactly {places}, {n - places} waiting, one signup each, all 200",
                passed=all_ok,
                note="; ".join(
                    f"round {i + 1}: taken {c['taken']} (counter {c['taken_counter']}), waiting "
                    f"{c['waiting']}, rows {c['rows']}, answers {c['answers']}"
                    for i, c in enumerate(checks)
                ),
            )
        )
        rate, base_rate = med("grab", "rate"), med("base", "rate")
        cpu, base_cpu = med("grab", "per_cpu"), med("base", "per_cpu")
        results.add(
            Metric(
                "grab: requests/s",
                rate,
                base_rate,
                "req/s",
                baseline_name=name,
                target=f"≥ {TARGET_RATIO} × the baseline",
                passed=rate >= TARGET_RATIO * base_rate,
                note=f"median of {rounds}; {n} requests at once",
            )
        )
        results.add(
            Metric(
                "grab: requests/server CPU-s",
                cpu,
                base_cpu,
                "req/CPU-s",
                baseline_name=name,
                target=f"≥ {TARGET_RATIO} × the baseline",
                passed=cpu >= TARGET_RATIO * base_cpu,
                note=(
                    f"with the PostgreSQL backends' CPU: {med('grab', 'per_cpu_with_db'):,.0f} vs "
                    f"{med('base', 'per_cpu_with_db'):,.0f}"
                    if kind == "postgres"
                    else "granian process tree (SQLite works inside it)"
                ),
            )
        )
        for q in (50, 99):
            results.add(
                Metric(
                    f"grab: p{q} latency (burst)",
                    lat("grab", q),
                    lat("base", q),
                    "ms",
                    baseline_name=name,
                    note="request written → answer read; mostly the wait in the queue",
                )
            )
        results.info["bursts"] = {k: [b.summary() for b in v] for k, v in runs.items()}
        log_metrics(results)
    return results


def main() -> None:
    from _common import scenario_args

    def extra(parser):
        parser.add_argument("--volunteers", type=int, default=VOLUNTEERS)
        parser.add_argument("--places", type=int, default=PLACES)
        parser.add_argument("--rounds", type=int, default=ROUNDS)
        parser.add_argument(
            "--path",
            choices=("quick", "api"),
            default="quick",
            help="quick: POST /volunteers/grab/ with the grab key (the phones' path); api: the "
            "API with a Bearer token",
        )

    args = scenario_args(__doc__.splitlines()[0], DEFAULT_DATABASES, extra)
    n, rounds = args.volunteers, args.rounds
    if args.quick:
        n, rounds = min(n, 200), 1
    log(f"{TITLE} — {n:,} volunteers, {args.places} places, {rounds} round(s), on {args.database}")
    results = run(args.database, n, args.places, rounds, args.path)
    results.save(args.result_file)


if __name__ == "__main__":
    main()
