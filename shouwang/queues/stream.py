"""The queue's live stream: `/q/stream/<public key>/?n=<number>` as Server-Sent Events.

Every message is

    event: state
    id: <version>
    data: <services.public_state(...) as JSON>

sent at once on connect, then on each change of the day's (version, issued), with `: ping`
comments in between (static/js reads exactly this). The stream process reads all watched sale
days in one query per tick (shouwang.core.events) and renders a watcher's message once per
change and number, so the watchers of one number share one rendering.

`app` is a lean ASGI application for this one address — no Django request, middleware or URL
resolver per stream. Through Django's ASGI handler a stream cost ≈45 KB and opening 5,000 took
13 s (shared/PERFORMANCE.md); config/asgi.py sends /q/stream/ here. views/stream.py serves
the same stream through Django (tests, and a single answer under WSGI).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from urllib.parse import parse_qs

from django.db import connection

from shouwang.core import events
from shouwang.queues.models import SaleDay
from shouwang.queues.services import public_state

logger = logging.getLogger(__name__)

KIND = "queue"
PREFIX = "/q/stream/"
STATS_PATH = PREFIX + "-/stats"
# Keys are short random URL-safe strings; anything else is not one of ours (no query for it).
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
MAX_NUMBER = 100_000
# A client that lost the stream tries again after this long (EventSource `retry:`).
RETRY_MS = 3000
# Under WSGI the one-shot answer asks for the next in this long: polling, in effect.
WSGI_RETRY_MS = 5000
CORS = (b"access-control-allow-origin", b"*")


class LiveDay:
    """One row of the live read. The snapshot JSON is parsed only when the row is rendered,
    i.e. once per change, not on every tick."""

    __slots__ = ("id", "version", "issued", "tickets_total", "come_when", "_raw", "_snapshot")

    def __init__(self, id, version, issued, tickets_total, come_when, snapshot):
        self.id = id
        self.version = version
        self.issued = issued
        self.tickets_total = tickets_total
        self.come_when = come_when
        self._raw = snapshot
        self._snapshot = None

    @property
    def snapshot(self) -> dict:
        if self._snapshot is None:
            raw = self._raw
            self._snapshot = (json.loads(raw) if isinstance(raw, str | bytes) else raw) or {}
        return self._snapshot


def load(ids: list) -> dict:
    """The live rows of these sale days: one query for all of them."""
    if not ids:
        return {}
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as c:
        c.execute(
            "SELECT id, version, issued, tickets_total, come_when, snapshot "
            f"FROM {SaleDay._meta.db_table} WHERE id IN ({marks})",
            list(ids),
        )
        return {row[0]: LiveDay(*row) for row in c.fetchall()}


def fingerprint(row: LiveDay):
    # Taking a ticket moves `issued` without a new version (the hot path writes no snapshot).
    return (row.version, row.issued)


def resolve(key: str):
    """The sale day's id behind a public key, or None."""
    if not KEY_RE.match(key or ""):
        return None
    with connection.cursor() as c:
        c.execute(f"SELECT id FROM {SaleDay._meta.db_table} WHERE public_key = %s", [key])
        row = c.fetchone()
    return row[0] if row else None


events.register(KIND, load=load, fingerprint=fingerprint, resolve=resolve)


def parse_number(raw) -> int | None:
    """`?n=` as a ticket number, or None (then the message has no per-number keys)."""
    try:
        n = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return n if 1 <= n <= MAX_NUMBER else None


def state(row: LiveDay, number: int | None) -> dict:
    return public_state(
        snapshot=row.snapshot,
        issued=row.issued,
        tickets_total=row.tickets_total,
        come_when=row.come_when,
        number=number,
        version=row.version,
    )


def render(row: LiveDay, number: int | None) -> bytes:
    data = json.dumps(state(row, number), separators=(",", ":"))
    return events.sse_message(data, event="state", id=row.version)


async def key_to_id(key: str):
    """The day's id (None: unknown), through the process's hub and its cache."""
    if not KEY_RE.match(key or ""):
        return None
    return await events.hub(KIND).resolve(key)


def chunks(day_id, number: int | None):
    """The stream of one watcher: an async iterator of bytes (see events.Hub.stream)."""
    return events.hub(KIND).stream(day_id, render, number, retry_ms=RETRY_MS)


def one_message(key: str, number: int | None) -> bytes | None:
    """The current state as one message, read now (no hub): the answer under WSGI."""
    day_id = resolve(key)
    row = load([day_id]).get(day_id) if day_id is not None else None
    if row is None:
        return None
    return events.sse_retry(WSGI_RETRY_MS) + render(row, number)


# --- the lean ASGI application ------------------------------------------------------------

STREAM_HEADERS = [*events.HEADERS, CORS]


async def _plain(
    send, status: int, body: bytes, content_type: bytes = b"text/plain", *, retry: bool = False
) -> None:
    headers = [(b"content-type", content_type), CORS]
    if retry:
        headers.append((b"retry-after", b"5"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope, receive, send):
    """ASGI: /q/stream/<key>/?n=<number> (and /q/stream/-/stats, this process's counters)."""
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == STATS_PATH:
        body = json.dumps(events.stats()).encode()
        return await _plain(send, 200, body, b"application/json")
    if scope["method"] not in ("GET", "HEAD"):
        return await _plain(send, 405, b"Method not allowed")
    key = path[len(PREFIX) :].rstrip("/") if path.startswith(PREFIX) else ""
    try:
        day_id = await key_to_id(key)
    except Exception:
        logger.exception("queue stream: looking up %r failed", key)
        return await _plain(send, 503, b"Try again shortly", retry=True)
    if day_id is None:
        return await _plain(send, 404, b"Not found")
    if scope["method"] == "HEAD":
        await send({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS})
        return await send({"type": "http.response.body", "body": b""})
    number = None
    qs = scope.get("query_string", b"")
    if qs:
        values = parse_qs(qs.decode("latin-1")).get("n")
        number = parse_number(values[0]) if values else None
    await _stream(day_id, number, receive, send)


async def _stream(day_id, number, receive, send) -> None:
    me = asyncio.current_task()
    left = False
    while True:  # the request (a GET has no body, but read one if sent)
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        if not message.get("more_body"):
            break

    # Writes to a closed stream do not fail: the client leaving is seen by receive() alone,
    # whose next message can only be the disconnect. A callback on the server's own future
    # (granian's is one) costs less memory per watcher than a task waiting on it.
    pending = asyncio.ensure_future(receive())

    def on_disconnect(_fut):
        nonlocal left
        left = True
        me.cancel()

    pending.add_done_callback(on_disconnect)
    stream = chunks(day_id, number)
    started = False
    try:
        async for chunk in stream:
            if not started:
                await send(
                    {"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS}
                )
                started = True
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        if not started:  # the day was deleted between the key lookup and the first read
            await _plain(send, 404, b"Not found")
        else:
            await send({"type": "http.response.body", "body": b""})
    except Exception:
        logger.exception("queue stream of day %s failed", day_id)
        if not started:
            await _plain(send, 503, b"Try again shortly", retry=True)
    except asyncio.CancelledError:
        if not left:
            raise
        # Our own cancellation on disconnect: the stream's `finally` has unsubscribed.
        me.uncancel()
    finally:
        pending.remove_done_callback(on_disconnect)
        with contextlib.suppress(BaseException):
            pending.cancel()
        with contextlib.suppress(BaseException):
            await stream.aclose()
