"""Live things over Server-Sent Events: one database read per tick feeds every watcher.

A live thing (a queue's sale day, later a coverage tile) is a row with a version. An app
registers a *source* for its kind: `load(ids)` reads the rows of all watched things in ONE
query, `fingerprint(row)` says what counts as a change, `resolve(key)` turns the public key in
an address into an id. In each process a `Hub` per kind keeps the watched things (`Topic`s),
and while anyone watches, one poller task reads them every `STREAM_TICK_MS` and wakes the
watchers of what changed; every `STREAM_HEARTBEAT_SECONDS` it wakes everyone for a comment
line, so proxies and phones keep the stream open. 10,000 watchers cost one query per tick, not
10,000 (docs/decisions/0006-queue-streams.md).

The database is only ever touched from the hub's own thread (one per hub, one persistent
connection): the event loop never blocks on it, and Django's async-safety rules hold.

A watcher's messages are cached on the topic per key (e.g. the number a resident follows) until
the next change, so the watchers of one number share one rendering.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

CHANGED, BEAT, GONE = "changed", "beat", "gone"

# --- Server-Sent Events framing -------------------------------------------------------------

PING = b": ping\n\n"
HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
    # nginx buffers proxied responses unless told not to; a buffered stream never arrives.
    (b"x-accel-buffering", b"no"),
]


def sse_message(data: str, *, event: str | None = None, id: Any = None) -> bytes:
    """One event: `event:`, `id:` and `data:` lines and the blank line that ends it."""
    out = []
    if event:
        out.append(f"event: {event}\n")
    if id is not None:
        out.append(f"id: {id}\n")
    for line in data.split("\n"):
        out.append(f"data: {line}\n")
    out.append("\n")
    return "".join(out).encode()


def sse_retry(ms: int) -> bytes:
    """Tells EventSource how long to wait before reconnecting (a block with no data: no event)."""
    return f"retry: {int(ms)}\n\n".encode()


def sse_comment(text: str = "ping") -> bytes:
    return f": {text}\n\n".encode()


# --- sources ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    kind: str
    load: Callable[[list], dict]  # ids -> {id: row}, one query
    fingerprint: Callable[[Any], Hashable]
    resolve: Callable[[str], Any] | None = None  # public key -> id or None, one query


_sources: dict[str, Source] = {}


def register(kind: str, *, load, fingerprint, resolve=None) -> Source:
    """Declare a kind of live thing (an app does this when its stream module is imported)."""
    source = Source(kind, load, fingerprint, resolve)
    _sources[kind] = source
    return source


# --- topics -----------------------------------------------------------------------------------


class Topic:
    """One watched thing in one process: its last row, who waits for it, cached messages."""

    __slots__ = ("id", "row", "state", "cache", "watchers", "gone", "_waiters", "_loop")

    def __init__(self, tid, loop: asyncio.AbstractEventLoop):
        self.id = tid
        self.row = None
        self.state = None
        self.cache: dict = {}
        self.watchers = 0
        self.gone = False
        self._waiters: list[asyncio.Future] = []
        self._loop = loop

    def update(self, row, state) -> None:
        self.row = row
        self.state = state
        self.cache = {}

    def message(self, key, render: Callable[[Any, Any], bytes]) -> bytes:
        """`render(row, key)`, computed once per change and key."""
        m = self.cache.get(key)
        if m is None:
            m = self.cache[key] = render(self.row, key)
        return m

    async def wait(self) -> str:
        """Until the next change, heartbeat or disappearance. A future of its own per waiter:
        cancelling one watcher (its client left) must not cancel the others' wait."""
        fut = self._loop.create_future()
        self._waiters.append(fut)
        return await fut

    def wake(self, reason: str) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(reason)


# --- the hub ----------------------------------------------------------------------------------

NEGATIVE_TTL = 10.0
NEGATIVE_MAX = 4096


class Hub:
    """The watched things of one kind in one process (one event loop)."""

    _local = threading.local()  # per thread: each hub's own database thread

    def __init__(self, source: Source, loop: asyncio.AbstractEventLoop):
        self.source = source
        self.loop = loop
        self.topics: dict[Any, Topic] = {}
        self._loading: dict[Any, asyncio.Task] = {}
        self._keys: dict[str, Any] = {}
        self._unknown: dict[str, float] = {}
        self._resolving: dict[str, asyncio.Task] = {}
        self._task: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"events-{source.kind}")
        self._closed = False
        # Counters for the stats endpoint, the tests and the benchmark.
        self.ticks = 0
        self.queries = 0
        self.loads = 0
        self.resolves = 0
        self.sent = 0

    # -- the hub's database thread --

    def _thread_init(self) -> None:
        """Runs in the hub's thread before its first job (tests share a connection here)."""

    def _run(self, fn, args):
        if not getattr(self._local, "ready", False):
            self._thread_init()
            self._local.ready = True
        counted = 0

        def count(execute, sql, params, many, context):
            nonlocal counted
            counted += 1
            return execute(sql, params, many, context)

        try:
            with connections["default"].execute_wrapper(count):
                return fn(*args)
        except Exception:
            # A dead connection (database restarted) must not fail every later tick.
            with contextlib.suppress(Exception):
                connections["default"].close()
            raise
        finally:
            self.queries += counted

    async def call(self, fn, *args):
        """Run `fn(*args)` (database work) in the hub's thread."""
        return await self.loop.run_in_executor(self._executor, self._run, fn, args)

    # -- keys --

    async def resolve(self, key: str):
        """The id behind a public key (cached: keys never change; unknown keys briefly).
        A thousand phones opening the same address at once cause one lookup."""
        tid = self._keys.get(key)
        if tid is not None:
            return tid
        if self._unknown.get(key, 0) > time.monotonic():
            return None
        task = self._resolving.get(key)
        if task is None:
            task = self._resolving[key] = self._task_for(self._resolve(key))
        # Shielded: one watcher leaving must not cancel the lookup the others wait for.
        return await asyncio.shield(task)

    async def _resolve(self, key: str):
        try:
            self.resolves += 1
            tid = await self.call(self.source.resolve, key)
        finally:
            del self._resolving[key]
            self._idle_close()
        if tid is None:
            if len(self._unknown) >= NEGATIVE_MAX:
                self._unknown.clear()
            self._unknown[key] = time.monotonic() + NEGATIVE_TTL
        else:
            self._keys[key] = tid
        return tid

    def _task_for(self, coro) -> asyncio.Task:
        task = self.loop.create_task(coro)
        # Its error reaches whoever awaits it; if they have all gone, it is not "unretrieved".
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        return task

    # -- watching --

    async def subscribe(self, tid) -> Topic | None:
        """Watch `tid`; None if it does not exist. The topic's row is current on return."""
        topic = self.topics.get(tid)
        if topic is None:
            task = self._loading.get(tid)
            if task is None:
                task = self._loading[tid] = self._task_for(self._first_load(tid))
            topic = await asyncio.shield(task)
            if topic is None:
                return None
            current = self.topics.get(tid)
            if current is None:  # everyone else left while it loaded
                self.topics[tid] = topic
            elif current is not topic:
                topic = current
        topic.watchers += 1
        self._ensure_poller()
        return topic

    async def _first_load(self, tid) -> Topic | None:
        try:
            self.loads += 1
            rows = await self.call(self.source.load, [tid])
            row = rows.get(tid)
            if row is None:
                return None
            topic = self.topics.get(tid)
            if topic is None:
                topic = self.topics[tid] = Topic(tid, self.loop)
                topic.update(row, self.source.fingerprint(row))
            return topic
        finally:
            del self._loading[tid]
            if tid not in self.topics:
                self._idle_close()

    def unsubscribe(self, topic: Topic) -> None:
        topic.watchers -= 1
        if topic.watchers <= 0 and self.topics.get(topic.id) is topic:
            del self.topics[topic.id]

    @property
    def watchers(self) -> int:
        return sum(t.watchers for t in self.topics.values())

    def _ensure_poller(self) -> None:
        if self._task is None or self._task.done():
            self._task = self.loop.create_task(self._poll(), name=f"events-{self.source.kind}")

    async def _poll(self) -> None:
        last_beat = self.loop.time()
        while self.topics and not self._closed:
            await asyncio.sleep(settings.STREAM_TICK_MS / 1000)
            ids = list(self.topics)
            if not ids:
                break
            self.ticks += 1
            try:
                rows = await self.call(self.source.load, ids)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("events: reading %s failed; trying again", self.source.kind)
                continue
            now = self.loop.time()
            beat = now - last_beat >= settings.STREAM_HEARTBEAT_SECONDS
            if beat:
                last_beat = now
            for tid in ids:
                topic = self.topics.get(tid)
                if topic is None:
                    continue
                if topic.watchers <= 0:  # its watchers left while it was first read
                    del self.topics[tid]
                    continue
                row = rows.get(tid)
                if row is None:
                    topic.gone = True
                    del self.topics[tid]
                    self._forget(tid)
                    topic.wake(GONE)
                    continue
                state = self.source.fingerprint(row)
                if state != topic.state:
                    topic.update(row, state)
                    topic.wake(CHANGED)
                elif beat:
                    topic.wake(BEAT)
        self._task = None
        self._idle_close()

    def _forget(self, tid) -> None:
        for key in [k for k, v in self._keys.items() if v == tid]:
            del self._keys[key]

    def _idle_close(self) -> None:
        """Nothing watched: give the database connection back (it reopens on demand)."""
        if not self.topics and not self._loading and self._task is None and not self._closed:
            self._executor.submit(_close_connections)

    # -- streams --

    async def stream(
        self, tid, render: Callable[[Any, Any], bytes], key=None, *, retry_ms: int = 3000
    ) -> AsyncIterator[bytes]:
        """The chunks of one watcher's stream: the current state at once, then one message per
        change and a comment per heartbeat. Subscribes on first iteration and unsubscribes
        however it ends (client gone: cancellation; the thing deleted: end of stream)."""
        topic = await self.subscribe(tid)
        if topic is None:
            return
        try:
            seen = topic.state
            self.sent += 1
            yield sse_retry(retry_ms) + topic.message(key, render)
            while True:
                # Compare before waiting: a change may have landed while this watcher was busy
                # sending (not waiting), and its wake-up went to the others only.
                if topic.state == seen:
                    reason = await topic.wait()
                    if reason == GONE or topic.gone:
                        return
                    if topic.state == seen:
                        yield PING
                        continue
                seen = topic.state
                self.sent += 1
                yield topic.message(key, render)
        finally:
            self.unsubscribe(topic)

    # -- lifecycle --

    def stats(self) -> dict:
        return {
            "topics": len(self.topics),
            "watchers": self.watchers,
            "ticks": self.ticks,
            "queries": self.queries,
            "loads": self.loads,
            "resolves": self.resolves,
            "sent": self.sent,
        }

    async def close(self) -> None:
        """Stop polling, end every stream, close the connection and the thread."""
        self._closed = True
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for topic in list(self.topics.values()):
            topic.gone = True
            topic.wake(GONE)
        self.topics.clear()
        with contextlib.suppress(Exception):
            await self.loop.run_in_executor(self._executor, _close_connections)
        self._executor.shutdown(wait=False)


def _close_connections() -> None:
    connections.close_all()


# One hub per kind per event loop: a server process has one loop; tests make a loop per call.
_hubs: dict[str, Hub] = {}


def hub(kind: str) -> Hub:
    """The hub for `kind` in the running event loop (created on first use)."""
    loop = asyncio.get_running_loop()
    h = _hubs.get(kind)
    if h is None or h.loop is not loop or h._closed:
        if h is not None and not h._closed:
            # Left behind by a finished loop (tests): release its thread and connection.
            h._closed = True
            h._executor.submit(_close_connections)
            h._executor.shutdown(wait=False)
        source = _sources.get(kind)
        if source is None:
            raise LookupError(f"no live source registered for {kind!r}")
        h = _hubs[kind] = Hub(source, loop)
    return h


def stats() -> dict:
    return {kind: h.stats() for kind, h in _hubs.items() if not h._closed}


async def shutdown() -> None:
    """Close every hub of the running loop (ASGI lifespan shutdown, tests)."""
    loop = asyncio.get_running_loop()
    for kind, h in list(_hubs.items()):
        if h.loop is loop:
            await h.close()
            if _hubs.get(kind) is h:
                del _hubs[kind]
