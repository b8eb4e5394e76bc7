"""10,000 live queue watchers on one stream server: delivery latency after a call, memory per
watcher, server CPU per delivered event and database reads per tick, against a bare ASGI SSE
app holding the same watchers in the same run.

The real server is granian `--interface asgi config.asgi:application`, 1 worker, with the
options `shouwang serve` gives it. The watchers are raw asyncio sockets in several client
processes (the 2 cores are shared by the server and the clients); ten follow each of 500 taken
numbers and a tenth watch without a number, as the board does. Each phase opens all the
streams, counts the server's queries over an idle window, then three times (at random points
of the tick) the bench process calls the next number (`services.call_next`, committed here
against the same database) and every watcher records when the event with the new version
arrived; the delay runs from the commit.

The baseline is `baseline_app` below: every stream waits on one future that a request to /fire
resolves with one pre-rendered event (no database, no polling, no per-number message, no
disconnect handling). Phases alternate (baseline, ours, baseline, ours …) because the machine
is shared and noisy. The first round also serves the same stream through Django's ASGI
handler (`--django-watchers`, 2,000 by default), to show what the lean endpoint saves.

Target (issue 4): 99 % of watchers within 1 s; one database read per process per tick.

    .venv/bin/python benchmarks/bench_sse.py --database sqlite [--watchers 10000] [--clients 4]
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    ROOT,
    Metric,
    Results,
    code_fingerprint,
    database,
    database_version,
    log,
    machine,
    percentile,
)

TITLE = "Live queue streams: 10,000 watchers on one server"
DEFAULT_DATABASES = ("sqlite", "postgres")
WATCHERS = int(os.environ.get("BENCH_SSE_WATCHERS", "10000"))
CLIENTS = int(os.environ.get("BENCH_SSE_CLIENTS", "4"))
ROUNDS = int(os.environ.get("BENCH_SSE_ROUNDS", "2"))
DJANGO_WATCHERS = int(os.environ.get("BENCH_SSE_DJANGO_WATCHERS", "2000"))
CALLS = 3  # calls per phase, a few seconds apart
TICKETS = 500  # numbers taken; watchers follow them (and a tenth watch the board, no number)
TARGET_S = 1.0
IDLE_S = 3.0  # idle window over which reads per tick are counted
CODE = [
    "shouwang/core/events.py",
    "shouwang/queues/stream.py",
    "shouwang/queues/services.py",
    "config/asgi.py",
]
HERE = Path(__file__).resolve().parent


# --- the baseline: a bare ASGI SSE app -------------------------------------------------------

_PAYLOAD = json.dumps(
    {
        "v": 0,
        "serving": [1],
        "next": list(range(2, 10)),
        "issued": TICKETS,
        "total": 2000,
        "left": 1500,
        "waiting": TICKETS - 1,
        "served": 0,
        "spt": 60.0,
        "closed": False,
        "goods": [0, 0],
        "come_when": 10,
        "number": 100,
        "status": "waiting",
        "ahead": 98,
        "eta_min": 98,
        "come_now": False,
    },
    separators=(",", ":"),
)
_fired: dict = {"future": None, "event": None}


def _baseline_event(version: int) -> bytes:
    return f"event: state\nid: {version}\ndata: {_PAYLOAD}\n\n".encode()


async def baseline_app(scope, receive, send):
    """GET /fire?<version> wakes every stream, which sends one event with that id."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    if scope["type"] != "http":
        return
    loop = asyncio.get_running_loop()
    if _fired["future"] is None:
        _fired["future"] = loop.create_future()
    if scope["path"] == "/fire":
        version = int(scope["query_string"] or b"1")
        future, _fired["future"] = _fired["future"], loop.create_future()
        _fired["event"] = _baseline_event(version)  # rendered once, sent to all
        future.set_result(_fired["event"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")],
        }
    )
    await send(
        {
            "type": "http.response.body",
            "body": _fired["event"] or _baseline_event(0),
            "more_body": True,
        }
    )
    while True:
        event = await asyncio.shield(_fired["future"])
        await send({"type": "http.response.body", "body": event, "more_body": True})


# --- client processes: raw sockets ----------------------------------------------------------


class Watcher(asyncio.Protocol):
    __slots__ = ("request", "transport", "opened", "got", "tail", "client", "done")

    def __init__(self, client, request: bytes, done: asyncio.Future):
        self.client = client
        self.request = request
        self.transport = None
        self.opened = None
        self.got = None
        self.tail = b""
        self.done = done

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data):
        now = time.monotonic()
        if self.opened is None and b"data:" in data:
            self.opened = now
            if not self.done.done():
                self.done.set_result(True)
        target = self.client.target
        if target and self.got is None:
            if target in self.tail + data:
                self.got = now
                self.client.got += 1
                if self.client.got >= self.client.expected and self.client.all_got:
                    self.client.all_got.set()
        self.tail = data[-24:]

    def connection_lost(self, exc):
        if not self.done.done():
            self.done.set_exception(ConnectionError(str(exc)))
        self.client.lost += 1


class Client:
    def __init__(self):
        self.watchers: list[Watcher] = []
        self.target = b""
        self.got = 0
        self.expected = 0
        self.lost = 0
        self.all_got: asyncio.Event | None = None

    async def open_one(self, loop, host, port, path, sem) -> Watcher | None:
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
        async with sem:
            for attempt in range(5):
                done = loop.create_future()
                try:
                    _t, w = await loop.create_connection(
                        lambda d=done: Watcher(self, request, d), host, port
                    )
                    await asyncio.wait_for(done, 30)
                    return w
                except (TimeoutError, OSError, ConnectionError):
                    await asyncio.sleep(0.2 * (attempt + 1))
        return None

    async def open(self, host, port, paths, concurrency) -> dict:
        loop = asyncio.get_running_loop()
        sem = asyncio.Semaphore(concurrency)
        started = time.monotonic()
        found = await asyncio.gather(*(self.open_one(loop, host, port, p, sem) for p in paths))
        self.watchers = [w for w in found if w is not None]
        self.lost = 0
        return {
            "opened": len(self.watchers),
            "failed": len(paths) - len(self.watchers),
            "started": started,
            "ended": max((w.opened for w in self.watchers), default=started),
        }

    def arm(self, target: str) -> dict:
        self.target = target.encode()
        self.got = 0
        self.expected = len(self.watchers)
        self.all_got = asyncio.Event()
        for w in self.watchers:
            w.got = None
        return {"armed": len(self.watchers)}

    async def collect(self, timeout: float) -> dict:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.all_got.wait(), timeout)
        times = [w.got for w in self.watchers if w.got is not None]
        return {"times": times, "missing": len(self.watchers) - len(times), "lost": self.lost}

    def close(self) -> dict:
        n = 0
        for w in self.watchers:
            if w.transport is not None:
                w.transport.close()
                n += 1
        self.watchers = []
        return {"closed": n}


def _raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


def client_main() -> None:
    """`bench_sse.py --client`: JSON commands on stdin, one JSON answer per line on stdout."""
    _raise_nofile()

    async def run():
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue = asyncio.Queue()

        def read_stdin():
            for line in sys.stdin:
                loop.call_soon_threadsafe(lines.put_nowait, line)
            loop.call_soon_threadsafe(lines.put_nowait, "")

        threading.Thread(target=read_stdin, daemon=True).start()
        client = Client()
        while True:
            line = await lines.get()
            if not line:
                return
            cmd = json.loads(line)
            kind = cmd["cmd"]
            if kind == "open":
                out = await client.open(cmd["host"], cmd["port"], cmd["paths"], cmd["concurrency"])
            elif kind == "arm":
                out = client.arm(cmd["target"])
            elif kind == "collect":
                out = await client.collect(cmd["timeout"])
            elif kind == "close":
                out = client.close()
                await asyncio.sleep(0.5)
            else:
                return
            sys.stdout.write(json.dumps(out) + "\n")
            sys.stdout.flush()

    asyncio.run(run())


class Clients:
    """The client processes, driven in lockstep."""

    def __init__(self, n: int):
        self.procs = [
            subprocess.Popen(
                [sys.executable, __file__, "--client"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                bufsize=1,
            )
            for _ in range(n)
        ]

    def ask(self, commands: list[dict]) -> list[dict]:
        for p, cmd in zip(self.procs, commands, strict=True):
            p.stdin.write(json.dumps(cmd) + "\n")
            p.stdin.flush()
        return [json.loads(p.stdout.readline()) for p in self.procs]

    def all(self, cmd: dict) -> list[dict]:
        return self.ask([cmd] * len(self.procs))

    def stop(self) -> None:
        for p in self.procs:
            with contextlib.suppress(Exception):
                p.stdin.close()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


# --- the server under test ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tree(pid: int) -> list[int]:
    out = [pid]
    with contextlib.suppress(OSError):
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            out += _tree(int(child))
    return out


def _rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / _TICK


class Server:
    def __init__(self, target: str, *, cwd: Path, interface: str = "asgi"):
        self.port = _free_port()
        granian = shutil.which("granian", path=os.path.dirname(sys.executable)) or "granian"
        argv = [
            granian,
            "--interface",
            interface,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "1",
            "--backpressure",
            "30000",
            "--backlog",
            "4096",
            "--http1-buffer-size",  # as `shouwang serve` runs the stream server
            "8192",
            "--no-ws",
            "--log-level",
            "warning",
            *os.environ.get("BENCH_SSE_GRANIAN_ARGS", "").split(),
            target,
        ]
        # A session of its own: stopping it stops its worker too, even after a SIGKILL.
        self.proc = subprocess.Popen(argv, cwd=cwd, start_new_session=True)
        self.base = f"http://127.0.0.1:{self.port}"

    def wait(self, path: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + path, timeout=2):
                    return
            except urllib.error.HTTPError:
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise SystemExit("the server under test exited") from None
                time.sleep(0.2)
        raise SystemExit("the server under test did not start")

    @property
    def pids(self) -> list[int]:
        return _tree(self.proc.pid)

    def stop(self) -> None:
        started = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            log("  the server did not stop in 30 s: killed")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.stop_s = time.monotonic() - started


def _stats(server: Server) -> dict:
    with urllib.request.urlopen(server.base + "/q/stream/-/stats", timeout=10) as r:
        return json.loads(r.read())["queue"]


# --- one phase ------------------------------------------------------------------------------


def _split(paths: list[str], n: int) -> list[list[str]]:
    return [paths[i::n] for i in range(n)]


CONCURRENCY = 100  # connects in flight per client process


def phase(name: str, clients: Clients, server: Server, paths, trigger, idle=None) -> dict:
    """Open the streams, then `CALLS` times: arm the clients with the version to wait for,
    trigger the change, collect when each watcher saw it."""
    pids = server.pids
    rss0 = _rss_kb(pids)
    cpu0 = _cpu_s(pids)
    answers = clients.ask(
        [
            {
                "cmd": "open",
                "host": "127.0.0.1",
                "port": server.port,
                "paths": part,
                "concurrency": CONCURRENCY,
            }
            for part in _split(paths, len(clients.procs))
        ]
    )
    opened = sum(a["opened"] for a in answers)
    failed = sum(a["failed"] for a in answers)
    open_s = max(a["ended"] for a in answers) - min(a["started"] for a in answers)
    open_cpu = _cpu_s(pids) - cpu0
    time.sleep(1.0)
    pids = server.pids
    rss1 = _rss_kb(pids)
    out = {
        "opened": opened,
        "failed": failed,
        "open_s": open_s,
        "open_cpu_us": open_cpu / max(opened, 1) * 1e6,
        "rss_before_kb": rss0,
        "rss_after_kb": rss1,
        "kb_per_watcher": (rss1 - rss0) / max(opened, 1),
        "latencies": [],
        "cpu_s": 0.0,
        "delivered": 0,
    }
    log(
        f"  {name}: {opened:,} streams open in {open_s:.2f} s ({failed} failed, "
        f"{out['open_cpu_us']:.0f} µs of server CPU each); "
        f"server RSS {rss0 / 1024:.0f} → {rss1 / 1024:.0f} MB "
        f"({out['kb_per_watcher']:.1f} KB per watcher)"
    )
    if idle is not None:
        idle()
    for i in range(CALLS):
        # A random pause: calls must land at random points of the stream server's tick.
        time.sleep(random.uniform(0.5, 1.5))
        version, fire = trigger()
        clients.all({"cmd": "arm", "target": f"id: {version}\n"})
        cpu0 = _cpu_s(pids)
        t0 = fire()
        results = clients.all({"cmd": "collect", "timeout": 10})
        cpu = _cpu_s(pids) - cpu0
        times = [t for r in results for t in r["times"]]
        missing = sum(r["missing"] for r in results)
        lat = [t - t0 for t in times]
        out["latencies"] += lat
        out["latencies"] += [float("inf")] * missing
        out["cpu_s"] += cpu
        out["delivered"] += len(times)
        within = sum(1 for x in lat if x <= TARGET_S) / max(opened, 1)
        log(
            f"    call {i + 1}: {len(times):,} delivered, {missing} missing; "
            f"p50 {percentile(lat, 50) * 1000:.0f} ms, p99 {percentile(lat, 99) * 1000:.0f} ms, "
            f"max {max(lat, default=0) * 1000:.0f} ms; {within:.1%} within 1 s; "
            f"server CPU {cpu * 1000:.0f} ms"
        )
    clients.all({"cmd": "close"})
    return out


def _merge(runs: list[dict]) -> dict:
    lat = [x for r in runs for x in r["latencies"]]
    finite = [x for x in lat if x != float("inf")]
    watchers = sum(r["opened"] for r in runs) * CALLS
    return {
        "p50_ms": percentile(lat, 50) * 1000,
        "p99_ms": percentile(lat, 99) * 1000,
        "max_ms": max(lat) * 1000 if lat else None,
        "max_finite_ms": max(finite, default=0) * 1000,
        "within_1s": sum(1 for x in finite if x <= TARGET_S) / max(watchers, 1),
        "open_s": max(r["open_s"] for r in runs),
        "open_cpu_us": sum(r["open_cpu_us"] for r in runs) / len(runs),
        "kb_per_watcher": sum(r["kb_per_watcher"] for r in runs) / len(runs),
        "cpu_us_per_event": sum(r["cpu_s"] for r in runs)
        / max(sum(r["delivered"] for r in runs), 1)
        * 1e6,
        "failed": sum(r["failed"] for r in runs),
        "rss_after_mb": max(r["rss_after_kb"] for r in runs) / 1024,
    }


@contextlib.contextmanager
def serving(target: str, cwd: Path, ready_path: str, interface: str = "asgi"):
    server = Server(target, cwd=cwd, interface=interface)
    try:
        server.wait(ready_path)
        yield server
    finally:
        server.stop()
        from django.db import connections

        connections.close_all()


def baseline_trigger(server: Server):
    versions = iter(range(1, 1_000_000))

    def trigger():
        version = next(versions)

        def fire() -> float:
            started = time.monotonic()
            urllib.request.urlopen(f"{server.base}/fire?{version}", timeout=10).read()
            return started

        return version, fire

    return trigger


def call_trigger(day_pk: int):
    """Call the next number (serving the current one), as the counter's button does."""
    from django.db import transaction

    from shouwang.queues import services
    from shouwang.queues.models import SaleDay

    def trigger():
        day = SaleDay.objects.get(pk=day_pk)

        def fire() -> float:
            # The clock starts at the commit (an outer transaction's first on-commit hook),
            # not after call_next's own hooks (the SMS check) have run.
            stamp = {}
            with transaction.atomic():
                transaction.on_commit(lambda: stamp.setdefault("t", time.monotonic()))
                services.call_next(day=day, serve_current=True)
            return stamp["t"]

        return day.version + 1, fire

    return trigger


def count_reads(server: Server) -> dict:
    """The stream server's queries and ticks over an idle window, all watchers connected."""
    before = _stats(server)
    time.sleep(IDLE_S)
    after = _stats(server)
    ticks = after["ticks"] - before["ticks"]
    queries = after["queries"] - before["queries"]
    log(
        f"    idle {IDLE_S:.0f} s with {after['watchers']:,} watchers: {ticks} ticks, "
        f"{queries} queries ({queries / max(ticks, 1):.2f} per tick)"
    )
    return {"ticks": ticks, "queries": queries, "watchers": after["watchers"]}


# --- the scenario ---------------------------------------------------------------------------


def make_day():
    import datetime as dt

    from django.utils import timezone

    from shouwang.core import testing as t
    from shouwang.queues import services
    from shouwang.registry.models import Household

    now = timezone.now()
    community = t.make_community("BENCH", "基准社区")
    admin = t.make_user("admin", community, username="bench_admin")
    point = services.point_save(actor=admin, name="松林超市")
    day = services.day_create(
        actor=admin,
        point=point,
        date=now.date(),
        take_opens_at=now - dt.timedelta(hours=1),
        take_closes_at=now + dt.timedelta(hours=6),
        sale_starts_at=now,
        sale_ends_at=now + dt.timedelta(hours=8),
        tickets_total=2000,
    )
    building = t.make_building(community)
    for _ in range(TICKETS):
        services.ticket_take(day=day, household=t.make_household(community, building=building))
    assert Household.objects.count() == TICKETS
    day.refresh_from_db()
    return day


def run(kind: str, watchers: int, n_clients: int, rounds: int, django_watchers: int) -> Results:
    results = Results("bench_sse", kind, TITLE)
    results.info.update(machine())
    results.info["code"] = code_fingerprint(CODE)
    nofile = _raise_nofile()
    if nofile < watchers + 1000:
        raise SystemExit(f"open files limit {nofile} is too low for {watchers} watchers")
    with database(kind):
        from django.conf import settings
        from django.db import connections

        results.info["database"] = database_version(kind)
        started = time.perf_counter()
        day = make_day()
        log(f"  a sale day with {TICKETS} numbers taken in {time.perf_counter() - started:.1f} s")
        connections.close_all()
        tick_ms = settings.STREAM_TICK_MS
        results.info.update(
            watchers=watchers,
            clients=n_clients,
            rounds=rounds,
            calls_per_phase=CALLS,
            tick_ms=tick_ms,
            tickets=TICKETS,
        )
        # Ten watchers per number on average, and a tenth watching the board (no number).
        ours_paths = [
            f"/q/stream/{day.public_key}/" + ("" if i % 10 == 9 else f"?n={1 + i % TICKETS}")
            for i in range(watchers)
        ]
        base_paths = [f"/sse?n={1 + i % TICKETS}" for i in range(watchers)]
        clients = Clients(n_clients)
        ours_runs, base_runs, django_runs, reads = [], [], [], []
        try:
            for r in range(rounds):
                log(f"  round {r + 1}/{rounds}")
                with serving("bench_sse:baseline_app", HERE, "/fire?0") as server:
                    trigger = baseline_trigger(server)
                    base_runs.append(phase("baseline", clients, server, base_paths, trigger))
                with serving("config.asgi:application", ROOT, "/q/stream/-/stats") as server:
                    ours_runs.append(
                        phase(
                            "ours",
                            clients,
                            server,
                            ours_paths,
                            call_trigger(day.pk),
                            idle=lambda server=server: reads.append(count_reads(server)),
                        )
                    )
                    results.info.setdefault("server_stats", []).append(_stats(server))
                if django_watchers and r == 0:
                    # The same stream through Django's ASGI handler (the view in
                    # queues/views/stream.py): what the lean app saves. Fewer watchers: the
                    # costs per stream are what it shows, and 10,000 take a minute to open
                    # and half a minute to close (a thread hop per stream on each).
                    target = "config.asgi:django_application"
                    with serving(target, ROOT, "/healthz", interface="asginl") as server:
                        paths = ours_paths[:django_watchers]
                        django_runs.append(
                            phase("through Django", clients, server, paths, call_trigger(day.pk))
                        )
        finally:
            clients.stop()

        ours, base = _merge(ours_runs), _merge(base_runs)
        per_tick = sum(x["queries"] for x in reads) / max(sum(x["ticks"] for x in reads), 1)
        results.info["ours"] = ours
        results.info["baseline"] = base
        results.info["reads"] = reads
        log(f"  ours:     {json.dumps(ours)}")
        log(f"  baseline: {json.dumps(base)}")
        bl = "bare ASGI SSE app, same watchers"
        results.add(
            Metric(
                "watchers receiving the call within 1 s",
                ours["within_1s"] * 100,
                base["within_1s"] * 100,
                "%",
                baseline_name=bl,
                target="≥ 99 %",
                passed=ours["within_1s"] >= 0.99,
                note=f"{watchers:,} watchers × {CALLS} calls × {rounds} rounds",
            )
        )
        results.add(
            Metric(
                "delivery latency after the commit, p50",
                ours["p50_ms"],
                base["p50_ms"],
                "ms",
                baseline_name=bl,
                note=f"tick {tick_ms} ms: ours waits for the next read",
            )
        )
        results.add(
            Metric(
                "delivery latency after the commit, p99",
                ours["p99_ms"],
                base["p99_ms"],
                "ms",
                baseline_name=bl,
                target="< 1,000 ms",
                passed=ours["p99_ms"] < 1000,
            )
        )
        results.add(
            Metric("delivery latency, max", ours["max_ms"], base["max_ms"], "ms", baseline_name=bl)
        )
        results.add(
            Metric(
                f"time to open {watchers:,} streams",
                ours["open_s"],
                base["open_s"],
                "s",
                baseline_name=bl,
                note=f"{n_clients} client processes, {CONCURRENCY} connects in flight each",
            )
        )
        results.add(
            Metric(
                "server CPU to open one stream",
                ours["open_cpu_us"],
                base["open_cpu_us"],
                "µs",
                baseline_name=bl,
            )
        )
        results.add(
            Metric(
                "server memory per watcher (RSS)",
                ours["kb_per_watcher"],
                base["kb_per_watcher"],
                "KB",
                baseline_name=bl,
                note=f"server tree RSS with all open: {ours['rss_after_mb']:.0f} MB",
            )
        )
        results.add(
            Metric(
                "server CPU per delivered event",
                ours["cpu_us_per_event"],
                base["cpu_us_per_event"],
                "µs",
                baseline_name=bl,
            )
        )
        results.add(
            Metric(
                "database reads per tick (all watchers, one process)",
                per_tick,
                None,
                "queries",
                target="1 (not one per watcher)",
                passed=abs(per_tick - 1) < 0.05,
                note="; ".join(
                    f"{x['queries']} queries in {x['ticks']} ticks, {x['watchers']:,} watchers"
                    for x in reads
                ),
            )
        )
        if django_runs:
            dj = _merge(django_runs)
            results.info["through_django"] = dj
            log(f"  through Django: {json.dumps(dj)}")
            n_dj = django_runs[0]["opened"]
            via = f"Django's ASGI handler ({n_dj:,})"
            results.notes.append(
                f'"{via}": the same stream served by the Django view through Django\'s ASGI '
                f"handler instead of the lean app, {n_dj:,} watchers, first round only — what "
                "the lean endpoint saves per stream."
            )
            results.add(
                Metric(
                    f"{via}: within 1 s",
                    dj["within_1s"] * 100,
                    base["within_1s"] * 100,
                    "%",
                    baseline_name=bl,
                    note=f"p50 {dj['p50_ms']:.0f} ms, p99 {dj['p99_ms']:.0f} ms",
                )
            )
            results.add(
                Metric(
                    f"{via}: CPU to open a stream",
                    dj["open_cpu_us"],
                    base["open_cpu_us"],
                    "µs",
                    baseline_name=bl,
                    note=f"{dj['open_s']:.1f} s to open them all",
                )
            )
            results.add(
                Metric(
                    f"{via}: memory per watcher",
                    dj["kb_per_watcher"],
                    base["kb_per_watcher"],
                    "KB",
                    baseline_name=bl,
                )
            )
            results.add(
                Metric(
                    f"{via}: CPU per event",
                    dj["cpu_us_per_event"],
                    base["cpu_us_per_event"],
                    "µs",
                    baseline_name=bl,
                )
            )
        if ours["failed"] or base["failed"]:
            results.notes.append(
                f"connections that failed to open: ours {ours['failed']}, baseline {base['failed']}"
            )
    return results


def main() -> None:
    if "--client" in sys.argv:
        return client_main()
    from _common import scenario_args

    def extra(parser):
        parser.add_argument("--watchers", type=int, default=WATCHERS, help=f"default {WATCHERS}")
        parser.add_argument("--clients", type=int, default=CLIENTS, help=f"default {CLIENTS}")
        parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"default {ROUNDS}")
        parser.add_argument(
            "--django-watchers",
            type=int,
            default=DJANGO_WATCHERS,
            help=f"watchers of the phase through Django's ASGI handler, first round only "
            f"(default {DJANGO_WATCHERS}; 0: skip it)",
        )

    args = scenario_args(__doc__.splitlines()[0], DEFAULT_DATABASES, extra)
    watchers, rounds = args.watchers, args.rounds
    if args.quick:
        watchers, rounds = min(watchers, 1000), 1
    log(f"{TITLE} — {watchers:,} watchers, {args.clients} client processes, on {args.database}")
    django_watchers = min(args.django_watchers, watchers)
    results = run(args.database, watchers, args.clients, rounds, django_watchers)
    results.save(args.result_file)


if __name__ == "__main__":
    main()
