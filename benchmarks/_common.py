"""Shared plumbing for benchmark scenarios: a throwaway database, timing, and the result file.

A scenario is a script in benchmarks/ run in its own process (settings are read once per
process). It calls `database(kind)` before importing any model: that points DATABASE_URL and
SHOUWANG_VAR_DIR at throwaway places, runs django.setup() and migrate, and removes everything
on the way out. Figures go to the harness through `Results.save()` (a JSON file).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The server the PostgreSQL runs use; the benchmark creates and drops its own database there.
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def log(*args) -> None:
    print(*args, flush=True)


# --- the throwaway database ----------------------------------------------------------------


def _pg_url(dbname: str) -> str:
    base, _, _old = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{dbname}"


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


@contextlib.contextmanager
def database(kind: str, *, migrate: bool = True):
    """Set up a fresh database of `kind` ("sqlite" or "postgres") and Django on it."""
    tmp = Path(tempfile.mkdtemp(prefix="shouwang_bench_"))
    pg_name = None
    if kind == "sqlite":
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    elif kind == "postgres":
        pg_name = f"shouwang_bench_{os.getpid()}"
        _pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}"')
        _pg_admin(f'CREATE DATABASE "{pg_name}"')
        url = _pg_url(pg_name)
    else:
        raise SystemExit(f"unknown database {kind!r} (sqlite or postgres)")
    os.environ["DATABASE_URL"] = url
    os.environ["SHOUWANG_VAR_DIR"] = str(tmp / "var")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    # Clean up on SIGTERM too (the harness or a user stopping the run), not only on exit.
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        import django

        django.setup()
        if migrate:
            from django.core.management import call_command

            started = time.perf_counter()
            call_command("migrate", verbosity=0, interactive=False)
            log(f"  [{kind}] migrated a fresh database in {time.perf_counter() - started:.1f} s")
        yield url
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if pg_name:
            try:
                _pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            except Exception as e:  # noqa: BLE001 - report, never hide the benchmark's own error
                log(f"  warning: could not drop database {pg_name}: {e}")
        shutil.rmtree(tmp, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)


def database_version(kind: str) -> str:
    from django.db import connection

    with connection.cursor() as cur:
        if kind == "postgres":
            cur.execute("SHOW server_version")
        else:
            cur.execute("SELECT sqlite_version()")
        return f"{'PostgreSQL' if kind == 'postgres' else 'SQLite'} {cur.fetchone()[0]}"


def machine() -> dict:
    info = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    with contextlib.suppress(Exception):
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    with contextlib.suppress(Exception):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(Exception):
        out = subprocess.run(
            ["psql", "--version"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
        info["psql"] = out
    return info


def code_fingerprint(paths: list[str]) -> dict[str, str]:
    """Short hashes of the files under test: other people edit them while benchmarks run."""
    import hashlib

    out = {}
    for rel in paths:
        with contextlib.suppress(OSError):
            out[rel] = hashlib.sha256((ROOT / rel).read_bytes()).hexdigest()[:12]
    return out


# --- timing ------------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def server_cpu() -> float:
    """CPU seconds used so far by this process's PostgreSQL backend (0 for SQLite, or when the
    server is not on this machine): SQLite works inside our process, PostgreSQL does not."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            pid = cur.fetchone()[0]
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime
    except (OSError, IndexError, ValueError):
        return 0.0


@dataclass
class Timed:
    wall: float
    cpu: float  # this process
    server_cpu: float = 0.0  # the PostgreSQL backend serving this process
    value: object = None


def timed(fn, *args, with_server: bool = False, **kwargs) -> Timed:
    server0 = server_cpu() if with_server else 0.0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    value = fn(*args, **kwargs)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    server = server_cpu() - server0 if with_server else 0.0
    return Timed(wall, cpu, server, value)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def latency_summary(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50": statistics.median(ms),
        "p95": percentile(ms, 95),
        "max": max(ms),
    }


# --- results -----------------------------------------------------------------------------


@dataclass
class Metric:
    name: str
    ours: float
    baseline: float | None
    unit: str  # "rows/s" (higher is better) or "ms" (lower is better)
    baseline_name: str = ""
    target: str = ""
    passed: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if not self.baseline:
            return None
        return self.ours / self.baseline


@dataclass
class Results:
    scenario: str
    database: str
    title: str
    metrics: list[Metric] = field(default_factory=list)
    info: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    sections: dict[str, str] = field(default_factory=dict)  # name -> preformatted text

    def add(self, metric: Metric) -> Metric:
        self.metrics.append(metric)
        return metric

    def save(self, path: str | None) -> None:
        if not path:
            return
        data = asdict(self)
        for m, d in zip(self.metrics, data["metrics"], strict=True):
            d["ratio"] = m.ratio
        Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1))


def scenario_args(
    description: str, default_databases: tuple[str, ...], extra=None
) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgres"],
        default=default_databases[0],
        help=f"default {default_databases[0]}",
    )
    parser.add_argument("--result-file", help="where the harness wants the JSON figures")
    parser.add_argument("--profile", action="store_true", help="also profile with pyinstrument")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    if extra is not None:
        extra(parser)
    return parser.parse_args()


def log_metrics(results: Results) -> None:
    """One line per metric: ours vs the baseline, the ratio, the target and whether it is met."""
    for m in results.metrics:
        ratio = f" ({m.ratio:.2f}×)" if m.ratio else ""
        base_txt = f" vs {m.baseline:,.1f}" if m.baseline is not None else ""
        log(f"  {m.name}: {m.ours:,.1f}{base_txt} {m.unit}{ratio} {m.target} → {m.passed}")


# --- a community of residents with passes ---------------------------------------------------


def residents_with_passes(code: str, name: str, n: int):
    """A community (`code`, `name`) with a compound of 30 buildings and n residents with active
    passes, in households of 3: (community, compound, buildings, residents, passes)."""
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

    community = Community.objects.create(code=code, name=name)
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
    return community, compound, buildings, people, passes


# --- config.wsgi against a bare INSERT view ---------------------------------------------------
#
# benchmarks/screening_scan.py and checkpoint_pass.py: the pages server `shouwang serve` runs
# (queue_take.Server, granian) on config.wsgi against benchmarks/_queue_take_app.py's one-INSERT
# view, interleaved: bursts of `clients` requests in flight, then the same clients paced.


def median(values):
    """The median of the values that are numbers (NaN left out), NaN when there are none."""
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def latencies_ms(answers) -> list[float]:
    """Request written → answer read, in ms, of the answered requests."""
    return [(a.done - a.sent) * 1000 for a in answers if a.status]


def insert_payloads(port, n: int, r: int) -> list[bytes]:
    """n requests to the baseline's INSERT view (round r)."""
    from queue_take import _request_bytes

    body = b'{"x": 1}'
    headers = {"Content-Type": "application/json"}
    return [
        _request_bytes(port, "POST", f"/bench/insert/{i}/{r}/", headers, body) for i in range(n)
    ]


async def _paced(port: int, per_client: list[list[bytes]], interval: float):
    """Each client sends its requests one after another, one every `interval` seconds (the next
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

    async def client(payloads: list[bytes]) -> list[Answer]:
        out = []
        await asyncio.sleep(random.random() * interval)
        for p in payloads:
            start = time.perf_counter()
            out.append(await one(p))
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - start)))
        return out

    per = await asyncio.gather(*(client(p) for p in per_client))
    return [a for answers in per for a in answers]


def paced(
    server, label: str, payloads: list[bytes], clients: int, interval: float, *, statuses: bool
) -> list:
    """The payloads dealt to `clients` clients, each sending one every `interval` seconds; logs
    the p50 and p99 (and, with `statuses`, the count of each status)."""
    import asyncio

    per_client = [payloads[j::clients] for j in range(clients)]
    answers = asyncio.run(_paced(server.port, per_client, interval))
    ms = latencies_ms(answers)
    counts: dict = {}
    for a in answers:
        counts[a.status] = counts.get(a.status, 0) + 1
    log(
        f"    {label:<34} {len(answers):>5} req paced, p50 {statistics.median(ms):.1f} ms, "
        f"p99 {percentile(ms, 99):.1f} ms" + (f"  {counts}" if statuses else "")
    )
    return answers


@dataclass
class Contest:
    """What `contest` measured: the bursts (runs["base"], runs[label]), the checks of ours, and
    the paced answers."""

    label: str
    runs: dict[str, list]
    checks: list[dict]
    all_ok: bool
    paced_ours: list
    paced_base: list


def contest(
    results: Results,
    kind: str,
    url: str,
    *,
    label: str,
    who: str,
    clients: int,
    rounds: int,
    n: int,
    n_paced: int,
    paced_seconds: int,
    interval: float,
    warm,
    prepare,
    statuses: bool = False,
) -> Contest:
    """Start config.wsgi (`label`) and the baseline with the same granian command, warm both up,
    then `rounds` times a burst of n baseline INSERTs and n of ours, `clients` in flight; then
    both paced (n_paced requests, `clients` clients each sending one every `interval` s).

    `warm(port)` gives ours' warm-up payloads; `prepare(port, count, r)` gives round r's (None:
    the paced run's) `count` payloads and a check of their answers (a dict with "ok"), called
    after the burst; the database connections are closed around every burst."""
    from django.db import connections
    from queue_take import Server, burst, create_insert_table, granian_argv

    workers = 1 if kind == "sqlite" else 2
    tmp = Path(tempfile.mkdtemp(prefix=f"shouwang_bench_{label}_"))
    create_insert_table()
    connections.close_all()
    ours = Server(label, "config.wsgi:application", "", workers, url)
    base = Server("insert", "benchmarks._queue_take_app:application", "insert", workers, url)
    runs: dict[str, list] = {"base": [], label: []}
    checks = []
    all_ok = True
    try:
        for s in (ours, base):
            s.start(tmp)
        results.info["server"] = " ".join(
            ["granian", *granian_argv("<target>", ours.port, workers)[1:]]
        )
        log(f"  servers, as `shouwang serve` runs the pages: {results.info['server']}")
        payloads = warm(ours.port)
        connections.close_all()
        burst(ours, f"warm-up {label}", payloads, max_open=clients)
        burst(base, "warm-up insert", insert_payloads(base.port, 600, 0), max_open=clients)
        for r in range(rounds):
            log(f"  round {r + 1}/{rounds}")
            b = burst(
                base, "insert (baseline)", insert_payloads(base.port, n, r + 1), max_open=clients
            )
            runs["base"].append(b)
            payloads, check = prepare(ours.port, n, r)
            connections.close_all()
            b = burst(ours, label, payloads, max_open=clients)
            c = check(b.answers)
            connections.close_all()
            checks.append(c)
            all_ok &= c["ok"]
            log(f"      {'ok' if c['ok'] else 'FAILED'}: {c}")
            runs[label].append(b)
            time.sleep(0.5)
        log(f"  paced: {clients} {who}, one scan a second each, {paced_seconds} s")
        paced_base = paced(
            base,
            "insert (baseline), paced",
            insert_payloads(base.port, n_paced, 90),
            clients,
            interval,
            statuses=statuses,
        )
        payloads, check = prepare(ours.port, n_paced, None)
        connections.close_all()
        paced_ours = paced(ours, f"{label}, paced", payloads, clients, interval, statuses=statuses)
        c = check(paced_ours)
        connections.close_all()
        all_ok &= c["ok"]
        log(f"      {'ok' if c['ok'] else 'FAILED'}: {c}")
    finally:
        for s in (ours, base):
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return Contest(label, runs, checks, all_ok, paced_ours, paced_base)


def contest_metrics(
    results: Results,
    kind: str,
    c: Contest,
    *,
    noun: str,
    who: str,
    clients: int,
    rounds: int,
    correct: str,
    target_ratio: float,
    target_p99_ms: float,
    p50,
    paced_note: str = "",
) -> None:
    """The figures of a contest: correct, requests/s and per server CPU-second against the
    baseline, the paced p99 latency (the target) and the bursts' (no target). `p50(ms)` is the
    median the notes give."""
    mine = c.label

    def med(key, attr):
        return median([getattr(b, attr) for b in c.runs[key]])

    def burst_ms(key, q):
        return median(
            [
                p50(ms) if q == 50 else percentile(ms, q)
                for ms in (latencies_ms(b.answers) for b in c.runs[key])
            ]
        )

    def paced_ms(answers, q):
        ms = latencies_ms(answers)
        return p50(ms) if q == 50 else percentile(ms, q)

    name = "bare Django view, 1 ORM INSERT"
    base_rate, base_cpu = med("base", "rate"), med("base", "per_cpu")
    rate, cpu = med(mine, "rate"), med(mine, "per_cpu")
    results.add(
        Metric(
            f"{noun}: correct",
            float(statistics.mean(x["rows"] for x in c.checks)),
            None,
            "requests",
            target=correct,
            passed=c.all_ok,
            note="; ".join(str(x) for x in c.checks),
        )
    )
    results.add(
        Metric(
            f"{noun}: requests/s",
            rate,
            base_rate,
            "req/s",
            baseline_name=name,
            target="≥ 0.5 × the baseline",
            passed=rate >= target_ratio * base_rate,
            note=f"median of {rounds}; {clients} requests in flight",
        )
    )
    results.add(
        Metric(
            f"{noun}: requests/server CPU-s",
            cpu,
            base_cpu,
            "req/CPU-s",
            baseline_name=name,
            target="≥ 0.5 × the baseline",
            passed=cpu >= target_ratio * base_cpu,
            note=(
                f"with the PostgreSQL backends' CPU: {med(mine, 'per_cpu_with_db'):,.0f} vs "
                f"{med('base', 'per_cpu_with_db'):,.0f}"
                if kind == "postgres"
                else "granian process tree (SQLite works inside it)"
            ),
        )
    )
    results.add(
        Metric(
            f"{noun}: p99 latency, {clients} {who} scanning once a second each",
            paced_ms(c.paced_ours, 99),
            paced_ms(c.paced_base, 99),
            "ms",
            baseline_name=name + " (same pacing)",
            target=f"< {target_p99_ms:.0f} ms",
            passed=paced_ms(c.paced_ours, 99) < target_p99_ms,
            note=f"p50 {paced_ms(c.paced_ours, 50):.1f} ms (baseline "
            f"{paced_ms(c.paced_base, 50):.1f} ms); {len(c.paced_ours)} {noun}{paced_note}",
        )
    )
    results.add(
        Metric(
            f"{noun}: p99 latency in the bursts, {clients} in flight without a pause",
            burst_ms(mine, 99),
            burst_ms("base", 99),
            "ms",
            baseline_name=name + " (same load)",
            target="(throughput test: the wait in the queue, no target)",
            passed=None,
            note=f"p50 {burst_ms(mine, 50):.1f} ms (baseline {burst_ms('base', 50):.1f} ms)",
        )
    )
    results.info["bursts"] = {k: [b.summary() for b in v] for k, v in c.runs.items()}
    if not c.all_ok:
        results.notes.append("A CORRECTNESS CHECK FAILED: see the checks.")
