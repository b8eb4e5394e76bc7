"""The queue's live stream: Server-Sent Events through Django (ASGI and WSGI), the lean ASGI
app, one database read per tick for any number of watchers, and `serve` running both servers.

The stream's database reads happen in the hub's own thread, so these tests use real
transactions (`transaction=True`) and see only committed rows, as the server does.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.db import connection, connections
from django.test import AsyncClient, Client
from django.utils import timezone

from shouwang.core import events
from shouwang.core import testing as t
from shouwang.queues import services
from shouwang.queues import stream as live

pytestmark = pytest.mark.django_db(transaction=True)

STATE_KEYS = {
    "v",
    "serving",
    "next",
    "issued",
    "total",
    "left",
    "waiting",
    "served",
    "spt",
    "closed",
    "goods",
    "come_when",
}
NUMBER_KEYS = {"number", "status", "ahead", "eta_min", "come_now"}


class Live:
    """Short ticks, and on SQLite's in-memory test database a way to share it with the hub.

    There the hub's thread uses the test's own connection, as Django's live-server thread
    does (a second connection to a shared-cache memory database gets "table is locked"
    instead of waiting). One connection also means no isolation: a tick could read a staff
    action half done. So staff actions and the hub's reads take turns on a lock; on
    PostgreSQL each has its own connection and the lock changes nothing."""

    def __init__(self, settings, monkeypatch):
        self.settings = settings
        self.lock = threading.Lock()
        settings.STREAM_TICK_MS = 20
        settings.STREAM_HEARTBEAT_SECONDS = 60
        self.shared = connection.vendor == "sqlite" and connection.is_in_memory_db()
        if self.shared:
            connection.inc_thread_sharing()
            main = connections["default"]
            monkeypatch.setattr(
                events.Hub, "_thread_init", lambda hub: connections.__setitem__("default", main)
            )
        run_job = events.Hub._run

        def run_locked(hub, fn, args):
            with self.lock:
                return run_job(hub, fn, args)

        monkeypatch.setattr(events.Hub, "_run", run_locked)

    async def act(self, fn, *args, **kwargs):
        """A staff action (or any write) from the test, as a sync call in its own turn."""

        def locked():
            with self.lock:
                return fn(*args, **kwargs)

        return await sync_to_async(locked)()

    def close(self):
        if self.shared:
            connection.dec_thread_sharing()


@pytest.fixture
def fast(settings, monkeypatch):
    live_db = Live(settings, monkeypatch)
    yield live_db
    live_db.close()


@pytest.fixture
def day():
    """A sale day with six numbers taken, nobody called yet."""
    now = timezone.now()
    community = t.make_community()
    admin = t.make_user("admin", community)
    point = services.point_save(actor=admin, name="松林超市")
    d = services.day_create(
        actor=admin,
        point=point,
        date=now.date(),
        take_opens_at=now - dt.timedelta(hours=1),
        take_closes_at=now + dt.timedelta(hours=3),
        sale_starts_at=now,
        sale_ends_at=now + dt.timedelta(hours=4),
        tickets_total=50,
        come_when=2,
    )
    building = t.make_building(community)
    for _ in range(6):
        services.ticket_take(day=d, household=t.make_household(community, building=building))
    d.refresh_from_db()
    return d


def take_one(day):
    household = t.make_household(day.community)
    return services.ticket_take(day=day, household=household)


def run(coro_fn, *args):
    """Run an async scenario in a fresh event loop (and close the hubs it made)."""

    async def scenario():
        try:
            return await coro_fn(*args)
        finally:
            await events.shutdown()

    return async_to_sync(scenario)()


# --- reading a stream -------------------------------------------------------------------------


def parse(block: bytes) -> dict | None:
    """One SSE block -> {"event", "id", "data"}; None for comments and `retry:` alone."""
    fields: dict[str, str] = {}
    for line in block.decode().split("\n"):
        if not line or line.startswith(":"):
            continue
        name, _sep, value = line.partition(":")
        fields[name] = value[1:] if value.startswith(" ") else value
    if "data" not in fields:
        return None
    return {
        "event": fields.get("event"),
        "id": fields.get("id"),
        "data": json.loads(fields["data"]),
    }


class Reader:
    """Events and comments out of a stream of byte chunks."""

    def __init__(self, chunks):
        self.chunks = chunks
        self.buffer = b""
        self.retry = None

    async def next_event(self, timeout: float = 1.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            while b"\n\n" in self.buffer:
                block, self.buffer = self.buffer.split(b"\n\n", 1)
                if block.startswith(b"retry:"):
                    self.retry = int(block.split(b":")[1])
                event = parse(block)
                if event is not None:
                    return event
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no event in time")
            self.buffer += await asyncio.wait_for(self.chunks.__anext__(), left)


async def leave(reader: Reader) -> None:
    """The client goes away: Django's ASGI handler then cancels the response while it waits
    for the next chunk (what the test client cannot do by itself)."""
    pending = asyncio.ensure_future(reader.chunks.__anext__())
    await asyncio.sleep(0.05)
    pending.cancel()
    with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
        await pending


# --- (1) through Django's ASGI handler, with the async test client ---------------------------


def test_django_asgi_stream_sends_the_state_then_each_call_within_a_second(fast, day):
    async def scenario():
        response = await AsyncClient().get(f"/q/stream/{day.public_key}/?n=5")
        assert response.status_code == 200
        assert response.streaming
        assert response["Content-Type"] == "text/event-stream"
        assert response["Cache-Control"] == "no-cache"
        assert response["X-Accel-Buffering"] == "no"
        assert response["Access-Control-Allow-Origin"] == "*"
        reader = Reader(aiter(response.streaming_content))
        try:
            first = await reader.next_event()
            assert reader.retry == live.RETRY_MS
            assert first["event"] == "state"
            assert first["id"] == str(day.version)
            assert set(first["data"]) == STATE_KEYS | NUMBER_KEYS
            assert first["data"]["serving"] == []
            assert first["data"]["ahead"] == 4
            assert first["data"]["come_now"] is False

            await fast.act(services.call_next, day=day)
            called = time.monotonic()
            event = await reader.next_event(timeout=1.0)
            assert time.monotonic() - called < 1.0
            assert event["id"] == str(day.version + 1)
            assert event["data"]["v"] == day.version + 1
            assert event["data"]["serving"] == [1]
            assert event["data"]["ahead"] == 3
            assert event["data"]["status"] == "waiting"

            # Serve 1 and call 2: number 5 now has two ahead, the day's "come when 2 away".
            await fast.act(services.call_next, day=day, serve_current=True)
            event = await reader.next_event(timeout=1.0)
            assert event["data"]["serving"] == [2]
            assert event["data"]["ahead"] == 2
            assert event["data"]["come_now"] is True
            assert events.hub(live.KIND).watchers == 1
        finally:
            await leave(reader)
        assert events.hub(live.KIND).watchers == 0

    run(scenario)


def test_django_asgi_stream_unknown_key_is_404(fast, day):
    async def scenario():
        response = await AsyncClient().get("/q/stream/nosuchkey/")
        assert response.status_code == 404

    run(scenario)


# --- (2) the lean ASGI app, driven directly -----------------------------------------------------


class FakeClient:
    """An HTTP client as an ASGI server presents it: one request, then a disconnect."""

    def __init__(self):
        self.messages: asyncio.Queue = asyncio.Queue()
        self.gone = asyncio.Event()
        self.asked = False

    async def receive(self):
        if not self.asked:
            self.asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message):
        await self.messages.put(message)

    async def chunks(self):
        while True:
            message = await self.messages.get()
            if message["type"] == "http.response.body":
                yield message["body"]

    async def start(self) -> dict:
        message = await asyncio.wait_for(self.messages.get(), 2)
        assert message["type"] == "http.response.start"
        return message


def scope(path: str, query: bytes = b"", method: str = "GET") -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


def open_stream(key: str, query: bytes = b""):
    from config.asgi import application

    client = FakeClient()
    task = asyncio.ensure_future(
        application(scope(f"/q/stream/{key}/", query), client.receive, client.send)
    )
    return client, task


def test_lean_app_streams_and_cleans_up_on_disconnect(fast, day):
    async def scenario():
        client, task = open_stream(day.public_key, b"n=6")
        start = await client.start()
        assert start["status"] == 200
        headers = dict(start["headers"])
        assert headers[b"content-type"] == b"text/event-stream"
        assert headers[b"cache-control"] == b"no-cache"
        assert headers[b"x-accel-buffering"] == b"no"
        assert headers[b"access-control-allow-origin"] == b"*"
        reader = Reader(client.chunks())
        first = await reader.next_event()
        assert first["id"] == str(day.version)
        assert first["data"]["number"] == 6 and first["data"]["ahead"] == 5

        # Taking a ticket moves `issued` without a new version: watchers still hear of it.
        await fast.act(take_one, day)
        event = await reader.next_event()
        assert event["id"] == str(day.version)
        assert event["data"]["issued"] == 7 and event["data"]["left"] == 43
        assert event["data"]["ahead"] == 5

        hub = events.hub(live.KIND)
        assert hub.watchers == 1
        client.gone.set()
        await asyncio.wait_for(task, 1)
        assert hub.watchers == 0
        assert hub.topics == {}

    run(scenario)


def test_lean_app_without_or_with_a_bad_number_sends_no_number_keys(fast, day):
    async def scenario():
        for query in (b"", b"n=abc", b"n=0", b"n=999999"):
            client, task = open_stream(day.public_key, query)
            await client.start()
            first = await Reader(client.chunks()).next_event()
            assert set(first["data"]) == STATE_KEYS, query
            client.gone.set()
            await asyncio.wait_for(task, 1)

    run(scenario)


def test_lean_app_unknown_key_is_404_and_watches_nothing(fast, day):
    async def scenario():
        for key in ("nosuchkey", "x" * 40, "a%20b"):
            client, task = open_stream(key)
            await asyncio.wait_for(task, 2)
            start = await client.start()
            assert start["status"] == 404, key
            assert dict(start["headers"])[b"access-control-allow-origin"] == b"*"
        hub = events.hub(live.KIND)
        assert hub.watchers == 0 and hub.topics == {}

    run(scenario)


def test_lean_app_answers_503_when_the_database_fails(fast, day, monkeypatch):
    real = events._sources[live.KIND]
    failures = []
    handler = logging.Handler()
    handler.emit = failures.append
    monkeypatch.setattr(live.logger, "handlers", [handler])
    monkeypatch.setattr(live.logger, "propagate", False)

    def broken(*args):
        raise RuntimeError("database down")

    async def status(key):
        client, task = open_stream(key)
        await asyncio.wait_for(task, 2)
        start = await client.start()
        return start["status"], dict(start["headers"]).get(b"retry-after")

    async def scenario():
        monkeypatch.setitem(
            events._sources,
            live.KIND,
            events.Source(live.KIND, real.load, real.fingerprint, broken),
        )
        assert await status(day.public_key) == (503, b"5")
        monkeypatch.setitem(
            events._sources,
            live.KIND,
            events.Source(live.KIND, broken, real.fingerprint, real.resolve),
        )
        await events.shutdown()  # a fresh hub with the broken loader
        assert await status(day.public_key) == (503, b"5")
        assert events.hub(live.KIND).watchers == 0

    run(scenario)
    assert [r.exc_info[1].args[0] for r in failures] == ["database down"] * 2


def test_lean_app_sends_heartbeats_and_ends_when_the_day_is_deleted(fast, day):
    fast.settings.STREAM_HEARTBEAT_SECONDS = 0  # a comment on every tick

    async def scenario():
        client, task = open_stream(day.public_key)
        await client.start()
        reader = Reader(client.chunks())
        await reader.next_event()
        pings = 0
        while pings < 2:
            chunk = await asyncio.wait_for(reader.chunks.__anext__(), 1)
            assert chunk == b": ping\n\n"
            pings += 1
        await fast.act(day.delete)
        await asyncio.wait_for(task, 1)
        assert events.hub(live.KIND).watchers == 0

    run(scenario)


def test_asgi_application_routes_pages_to_django_and_handles_lifespan(fast, day):
    from config.asgi import application

    async def scenario():
        client = FakeClient()
        await application(scope("/healthz"), client.receive, client.send)
        start = await client.start()
        assert start["status"] == 200

        queue: asyncio.Queue = asyncio.Queue()
        sent = []

        async def send(message):
            sent.append(message["type"])

        life = asyncio.ensure_future(application({"type": "lifespan"}, queue.get, send))
        await queue.put({"type": "lifespan.startup"})
        await queue.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(life, 2)
        assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]

    run(scenario)


# --- (3) one database read per tick, however many watch ----------------------------------------


def test_fifty_watchers_cost_one_read_per_tick(fast, day, monkeypatch):
    per_call = []  # statements run by each finished read, appended when it is done
    real = events._sources[live.KIND]

    def counting_load(ids):
        statements = [0]

        def count(execute, sql, params, many, context):
            statements[0] += 1
            return execute(sql, params, many, context)

        with connections["default"].execute_wrapper(count):
            result = real.load(ids)
        # Counted when the read is done, so a snapshot never sees half a read.
        per_call.append(statements[0])
        return result

    monkeypatch.setitem(
        events._sources,
        live.KIND,
        events.Source(live.KIND, counting_load, real.fingerprint, real.resolve),
    )
    renders = []
    real_render = live.render

    def counting_render(row, number):
        renders.append((row.version, number))
        return real_render(row, number)

    monkeypatch.setattr(live, "render", counting_render)
    numbers = [1 + i % 5 for i in range(50)]  # ten watchers on each of numbers 1..5

    async def scenario():
        clients = [open_stream(day.public_key, f"n={n}".encode()) for n in numbers]
        readers = []
        for client, _task in clients:
            await client.start()
            readers.append(Reader(client.chunks()))
        firsts = [await r.next_event() for r in readers]
        assert [e["data"]["number"] for e in firsts] == numbers
        hub = events.hub(live.KIND)
        assert hub.watchers == 50

        ticks0, done0 = hub.ticks, len(per_call)
        await asyncio.sleep(0.3)
        await fast.act(services.call_next, day=day)
        after = [await r.next_event() for r in readers]
        await asyncio.sleep(0.3)
        ticks = hub.ticks - ticks0
        statements = per_call[done0:]
        calls = len(statements)

        assert all(e["data"]["serving"] == [1] for e in after)
        assert [e["data"]["ahead"] for e in after] == [
            {1: 0, 2: 0, 3: 1, 4: 2, 5: 3}[n] for n in numbers
        ]
        assert ticks >= 10, ticks
        # One SELECT per tick for all fifty, never one per watcher (±1: a read in flight).
        assert statements == [1] * calls and abs(calls - ticks) <= 1, (ticks, calls, statements)
        # One rendering per number and change, shared by its ten watchers.
        new = [n for v, n in renders if v == day.version + 1]
        assert sorted(new) == [1, 2, 3, 4, 5]

        for client, _task in clients:
            client.gone.set()
        await asyncio.wait_for(asyncio.gather(*(task for _c, task in clients)), 2)
        assert hub.watchers == 0

    run(scenario)


# --- (4) under WSGI: one event, then the client comes back -------------------------------------


def test_wsgi_answers_one_event_and_ends(fast, day):
    client = Client()
    response = client.get(f"/q/stream/{day.public_key}/?n=3")
    assert response.status_code == 200
    assert not response.streaming
    assert response["Content-Type"] == "text/event-stream"
    assert response["Access-Control-Allow-Origin"] == "*"
    body = response.content
    assert body.startswith(b"retry: 5000\n\n")
    blocks = [b for b in body.split(b"\n\n") if b]
    assert len(blocks) == 2
    event = parse(blocks[1])
    assert event["event"] == "state" and event["id"] == str(day.version)
    assert event["data"] == services.day_state(day, 3)

    assert client.get("/q/stream/nosuchkey/").status_code == 404
    assert client.post(f"/q/stream/{day.public_key}/").status_code == 405
    plain = parse(client.get(f"/q/stream/{day.public_key}/?n=x").content.split(b"\n\n")[1])
    assert set(plain["data"]) == STATE_KEYS


# --- `shouwang serve` runs the page server and the stream server together ---------------------

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _servers(pid: int) -> tuple[int, int]:
    """The page server's and the stream server's process ids (children of `serve`)."""
    found = {}
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        found[argv[argv.index(b"--interface") + 1]] = int(child)
    return found[b"wsgi"], found[b"asgi"]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@pytest.mark.django_db(transaction=False)
def test_serve_starts_pages_and_streams_and_stops_them_together(tmp_path):
    port, stream_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOUWANG_")}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update({"SHOUWANG_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/s.db"})
    # No migrate: neither the health check nor the stream counters read the database.
    serve = [sys.executable, "-m", "shouwang.cli", "serve", "--port", str(port)]
    serve += ["--stream-port", str(stream_port)]
    proc = subprocess.Popen(
        [*serve, "--no-collectstatic"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                if _get(f"http://127.0.0.1:{stream_port}/q/stream/-/stats")[0] == 200:
                    if _get(f"http://127.0.0.1:{port}/healthz")[0] == 200:
                        break
            if proc.poll() is not None:
                raise AssertionError(proc.stdout.read().decode())
            assert time.monotonic() < deadline, "serve did not start in 60 s"
            time.sleep(0.3)
        pages, streams = _servers(proc.pid)
        environ = Path(f"/proc/{pages}/environ").read_bytes().split(b"\0")
        assert f"SHOUWANG_STREAM_URL=:{stream_port}".encode() in environ
        # SIGTERM to the command alone stops both servers.
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert not Path(f"/proc/{pages}").exists() and not Path(f"/proc/{streams}").exists()
        out = proc.stdout.read().decode()
        assert f"http://127.0.0.1:{port}/" in out
        assert f"http://127.0.0.1:{stream_port}/q/stream/" in out
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def test_serve_stops_the_other_server_when_one_dies():
    from shouwang.core.management.commands.serve import supervise

    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        survivor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        dying = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(3)"])
        started = time.monotonic()
        assert supervise([survivor, dying]) == 3
        assert survivor.returncode == -signal.SIGTERM
        assert time.monotonic() - started < 15
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
